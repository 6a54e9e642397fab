/*
 * fixture.h: what the unit tests share: the example hosts, simulated
 * hosts made from edited documents, and assertions on check and action
 * results. Every helper asserts (Criterion) instead of returning errors,
 * so a test reads as a list of expectations.
 */
#ifndef WSUSDIAG_TEST_FIXTURE_H
#define WSUSDIAG_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "checks/registry.h"
#include "checks/result.h"
#include "platform/host.h"

/* ---- files ------------------------------------------------------------- */

/* $WSUSDIAG_SOURCE_DIR, the source tree (set by ctest). */
const char *fx_source_dir(void);

/* The whole file, NUL-terminated; its length in *len unless len is NULL. */
char *fx_slurp(const char *path, size_t *len);

/* ---- hosts ------------------------------------------------------------- */

/* examples/hosts/<name> in the source tree. */
char *fx_example_path(const char *name);

/* host_sim_open without writeback; never NULL. */
struct host *fx_open_file(const char *path);
struct host *fx_open_example(const char *name);

/* The example's document, parsed, to be edited and opened with
 * fx_open_doc (caller deletes it). */
cJSON *fx_load_example(const char *name);

/* A simulated host loaded from doc, through a temporary file as the
 * daemon would load it; the file is gone when this returns. */
struct host *fx_open_doc(const cJSON *doc);

/* fx_open_doc, then cJSON_Delete(doc). */
struct host *fx_open_doc_take(cJSON *doc);

/* ---- a host that fails chosen calls ------------------------------------ */

/*
 * Fail the host_ops member op ("service_config") with hr where it names
 * name (the service, registry key, file path, program argv[0], event log
 * or URL; case-insensitive, as on Windows) or anywhere when name is NULL.
 * A table ends with op NULL; the first match wins.
 */
struct fx_fault {
	const char *op;
	const char *name;
	hr_t hr;
};

/*
 * A host that forwards every operation to inner, failing the calls in
 * faults (NULL: none; it must outlive the host), so a test never crashes
 * on a call it did not foresee. It owns inner and closes it.
 */
struct host *fx_fault_host(struct host *inner, const struct fx_fault *faults);

/* Its operations, to replace one where a failure is not the answer
 * wanted, and the host it forwards to, for the replacement to ask. */
struct host_ops *fx_fault_ops(struct host *h);
struct host *fx_fault_inner(struct host *h);

/* ---- editing documents ------------------------------------------------- */

/* doc.services.<name>; asserts it exists. */
cJSON *fx_service_of(cJSON *doc, const char *name);

/* obj.key = v, replacing what was there (v is taken). */
void fx_set_item(cJSON *obj, const char *key, cJSON *v);
void fx_set_str(cJSON *obj, const char *key, const char *v);
void fx_set_num(cJSON *obj, const char *key, double v);

/* obj.key.sub = v, creating obj.key. */
void fx_set_sub(cJSON *obj, const char *key, const char *sub, cJSON *v);

/* ---- the host's state -------------------------------------------------- */

enum svc_state fx_service_state(struct host *h, const char *name);

/* The simulated host's document without its program log, or without the
 * services' process ids: what an action must leave as it was. */
cJSON *fx_snapshot_no_log(struct host *h);
cJSON *fx_snapshot_no_pids(struct host *h);

/* The program log, one entry a line ("|"-separated): the API's name or
 * the argv, space-separated. */
char *fx_program_log(struct host *h);
void fx_assert_program_log(struct host *h, const char *want);

/* before and after are equal; both are deleted. */
void fx_assert_same_doc(cJSON *before, cJSON *after);

/* ---- check results ----------------------------------------------------- */

/* The one finding with this id; asserts there is exactly one. */
const struct finding *fx_find(const struct check_result *r, const char *id);
const cJSON *fx_fact(const struct check_result *r, const char *key);

/* server and proxy probe the real network, so their result depends on
 * this machine's; test_check_server.c and test_check_proxy.c judge them. */
bool fx_is_network_check(const struct check *c);

/*
 * Every check but the network ones on an example: the check id has
 * status want, no other one fails or errs. id NULL: no check may fail.
 */
void fx_assert_only(const char *example, const struct check_settings *s,
		    const char *id, enum status want);

/* ---- running checks and actions ---------------------------------------- */

/* Short waits, so that a hung stop or start times out quickly. */
extern const struct check_settings fx_short_waits;

/* Runs act on h with fx_short_waits (a dry run when dry); a is
 * initialised here and cleared by the caller. */
void fx_run_action(const struct action *act, struct host *h, bool dry,
		   struct action_result *a);

/*
 * Runs check c on h with fx_short_waits and returns its status. With a
 * finding id, asserts the result has that finding and stores its status
 * in *fst.
 */
enum status fx_check_status(const struct check *c, struct host *h,
			    const char *finding, enum status *fst);

/* The example with services.<svc>.fault.<key> = v (v is taken), opened. */
struct host *fx_open_service_fault(const char *example, const char *svc,
				   const char *key, cJSON *v);

/* ---- action results ---------------------------------------------------- */

/* Runs act on h as a dry run and asserts that the host's document is
 * as it was before. a is the caller's to look at and clear. */
void fx_run_dry(const struct action *act, struct host *h,
		struct action_result *a);

/*
 * Runs act on h (a dry run when dry) and asserts that it failed at its
 * first and only step, name, with error, and that the host's document is
 * as it was before. a is the caller's to look at and clear.
 */
void fx_run_failing_first(const struct action *act, struct host *h, bool dry,
			  const char *name, hr_t error,
			  struct action_result *a);

/*
 * Seconds since 1970 on the clock the simulated host stamps files with
 * (CLOCK_REALTIME). time() reads a coarser clock that can lag it across
 * a second, so a stamp taken between two time() calls can be after both.
 */
int64_t fx_unix_now(void);

/* Steps 0 to n-1 are names[0] to names[n-1], each with status want and
 * no error. */
void fx_assert_steps(const struct action_result *a, const char *const *names,
		     size_t n, enum step_status want);

/* Step i is name with status want and error code error. */
void fx_assert_step(const struct action_result *a, size_t i, const char *name,
		    enum step_status want, hr_t error);

/* Step i's detail is want. */
void fx_assert_detail(const struct action_result *a, size_t i,
		      const char *want);

/* Step i has a detail containing part. */
void fx_assert_detail_has(const struct action_result *a, size_t i,
			  const char *part);

#endif
