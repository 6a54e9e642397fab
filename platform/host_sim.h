/*
 * host_sim.h: inspection and test entry points of the simulated host.
 * The file format is described at the top of host_sim.c.
 */
#ifndef WSUSDIAG_HOST_SIM_H
#define WSUSDIAG_HOST_SIM_H

#include <stddef.h>

#include "platform/host.h"

struct cJSON;

/*
 * A deep copy of the simulated host's current document (caller frees it
 * with cJSON_Delete), so tests can compare the state before and after an
 * action. NULL if h is not a simulated host.
 */
struct cJSON *host_sim_snapshot(struct host *h);

/*
 * Parse and validate a simulated host document held in memory, exactly
 * as host_sim_open() does with a file's contents. name prefixes error
 * messages. Returns the document (caller frees) or NULL with err set.
 * This is the loader's whole input surface, for fuzzing.
 */
struct cJSON *host_sim_parse(const char *text, size_t len, const char *name,
			     char *err, size_t errlen);

#endif
