/*
 * tmptree.h: temporary directories of the tests, removed when done.
 */
#ifndef WSUSDIAG_TMPTREE_H
#define WSUSDIAG_TMPTREE_H

/* Remove a directory tree; NULL or "" does nothing. */
void rm_tree(const char *dir);

#endif
