/*
 * audit.h: the audit trail of actions, one JSON line per call (dry or
 * real, successful or not), flushed before the response is sent.
 */
#ifndef WSUSDIAG_AUDIT_H
#define WSUSDIAG_AUDIT_H

#include <cjson/cJSON.h>

struct audit;

/* NULL path: lines go to the log only. NULL on open failure (errno). */
struct audit *audit_open(const char *path);
void audit_close(struct audit *a);
/* Append one record (time is added here); 0 or -1. */
int audit_write(struct audit *a, cJSON *record);

#endif
