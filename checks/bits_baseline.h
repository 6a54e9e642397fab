/*
 * bits_baseline.h: the BITS configuration "Repair a corrupted BITS
 * configuration" sets, with the article's typos corrected. The bits
 * check compares against it and repair-bits applies it: one definition,
 * so the two can never disagree.
 */
#ifndef WSUSDIAG_BITS_BASELINE_H
#define WSUSDIAG_BITS_BASELINE_H

#include <stddef.h>

#include "platform/host.h"

#define BITS_BASELINE_RESET_S 86400u

/* SeIncreaseQuotaPrivilege is the article's "SeIncreateQuotaPrivilege". */
extern const char *const bits_baseline_privs[];
extern const size_t bits_baseline_n_privs;

/* Restart after 60 s, then after 120 s. */
extern const struct svc_action bits_baseline_actions[];
extern const size_t bits_baseline_n_actions;

#endif
