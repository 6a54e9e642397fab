/*
 * fuzz_simhost.c: the simulated-host file. Any bytes go through
 * host_sim_parse (the loader's whole input surface). A document that
 * loads is then opened as a host (from a memfd, as host_sim_open reads
 * a file) and every check and action runs on it, which the loader's
 * validation must make safe; afterwards the changed document must load
 * again, as --sim-writeback promises ("the file is always a loadable
 * host").
 *
 * What would make an input slow or reach outside is taken out first:
 * sleeps (delay_ms, hang*), text_file (a path on this machine), and the
 * server and proxy checks (real network probes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "fuzz/common.h"
#include "platform/host_sim.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_quiet();
	return 0;
}

static void
drop(cJSON *obj, const char *const *keys)
{
	for (size_t i = 0; keys[i] != NULL; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(obj, keys[i]);
}

static void
make_tame(cJSON *doc)
{
	static const char *const delay[] = {"delay_ms", NULL};
	static const char *const svc[] = {"delay_ms", "hang_start", "hang_stop",
					  NULL};
	static const char *const prog[] = {"delay_ms", "hang", NULL};
	static const char *const file[] = {"text_file", NULL};
	cJSON *it;

	drop(cJSON_GetObjectItemCaseSensitive(doc, "fault"), delay);
	cJSON_ArrayForEach(it,
			   cJSON_GetObjectItemCaseSensitive(doc, "services"))
	    drop(cJSON_GetObjectItemCaseSensitive(it, "fault"), svc);
	cJSON_ArrayForEach(it,
			   cJSON_GetObjectItemCaseSensitive(doc, "programs"))
	    drop(it, prog);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(doc, "files"))
	    drop(it, file);
}

/* The document as a file host_sim_open can read: /proc/self/fd/N. */
static struct host *
open_doc(const cJSON *doc, int *fd)
{
	char *text = cJSON_PrintUnformatted(doc), path[64], err[768];
	struct host *h;
	size_t len = strlen(text);

	*fd = memfd_create("fuzz-host", MFD_CLOEXEC);
	if (*fd < 0 || write(*fd, text, len) != (ssize_t)len)
		fuzz_fail("memfd");
	free(text);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", *fd);
	if ((h = host_sim_open(path, false, err, sizeof(err))) == NULL)
		fuzz_fail("a document that loaded does not open: %s", err);
	return h;
}

static void
render(cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);

	if (s == NULL)
		fuzz_fail("a result does not render");
	free(s);
	cJSON_Delete(o);
}

static void
run_checks_on(struct host *h, const struct check_settings *set)
{
	struct check_ctx ctx = {h, set};
	struct check_result r;

	for (size_t i = 0; i < check_count; i++) {
		const struct check *c = check_table[i];

		if (strcmp(c->id, "server") == 0 || strcmp(c->id, "proxy") == 0)
			continue;
		check_run(c, &ctx, &r);
		render(result_to_json(&r));
		result_clear(&r);
	}
}

static void
run_actions_on(struct host *h, const struct check_settings *set, bool dry)
{
	struct action_ctx ctx = {h, set, dry};
	struct action_result ar;

	for (size_t i = 0; i < action_count; i++) {
		action_result_init(&ar, action_table[i]->id, dry);
		action_table[i]->run(&ctx, &ar);
		render(action_result_to_json(&ar));
		action_result_clear(&ar);
	}
}

/* What the actions left must load again, as writeback would save it. */
static void
reload(struct host *h)
{
	cJSON *snap = host_sim_snapshot(h), *doc;
	char *text = cJSON_Print(snap), err[768];

	doc = host_sim_parse(text, strlen(text), "after", err, sizeof(err));
	if (doc == NULL)
		fuzz_fail("the host after the actions does not load: %s", err);
	cJSON_Delete(doc);
	cJSON_Delete(snap);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct check_settings set = {100, 1, NULL};
	char err[768] = "";
	struct host *h;
	cJSON *doc;
	int fd;

	doc =
	    host_sim_parse((const char *)data, size, "fuzz", err, sizeof(err));
	if (doc == NULL) {
		if (err[0] == '\0')
			fuzz_fail("refused without a message");
		return 0;
	}
	make_tame(doc);
	h = open_doc(doc, &fd);
	cJSON_Delete(doc);
	run_checks_on(h, &set);
	run_actions_on(h, &set, true);
	run_actions_on(h, &set, false);
	run_checks_on(h, &set);
	reload(h);
	host_close(h);
	close(fd);
	return 0;
}
