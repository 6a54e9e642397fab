/*
 * test_host_sim.c: the simulated host, operation by operation, on the
 * example hosts and on small documents that isolate one rule each.
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "common/xalloc.h"
#include "fixture.h"
#include "platform/host.h"
#include "platform/host_sim.h"
#include "support/tmptree.h"

#define HR(e) hr_from_win32(e)

static char tmpdir[64];

static void
mk_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/wsd-test-sim-XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void
rm_tmp(void)
{
	rm_tree(tmpdir);
	tmpdir[0] = '\0';
}

TestSuite(sim, .init = mk_tmp, .fini = rm_tmp);

static void
spit(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	cr_assert_not_null(fp, "create %s", path);
	cr_assert_eq(fwrite(data, 1, len, fp), len);
	fclose(fp);
}

static struct host *
open_path(const char *path, bool writeback)
{
	char err[512] = "";
	struct host *h = host_sim_open(path, writeback, err, sizeof(err));

	cr_assert_not_null(h, "host_sim_open(%s): %s", path, err);
	return h;
}

/* Write text as TMP/host.json; return its path (caller frees). */
static char *
put_host(const char *text)
{
	char *path = xasprintf("%s/host.json", tmpdir);

	spit(path, text, strlen(text));
	return path;
}

/* Open a document given as JSON text. */
static struct host *
open_text(const char *text)
{
	char *path = put_host(text);
	struct host *h = open_path(path, false);

	free(path);
	return h;
}

static struct host *
open_doc(const cJSON *doc)
{
	char *text = cJSON_Print(doc);
	struct host *h = open_text(text);

	free(text);
	return h;
}

/* The error of opening text, which must fail. */
static void
open_fails(const char *text, char *err, size_t errlen)
{
	char *path = put_host(text);
	struct host *h = host_sim_open(path, false, err, errlen);

	cr_assert_null(h, "%s loaded, expected an error", text);
	free(path);
}

#define COMPUTER "\"computer\":{\"name\":\"T\",\"os_version\":\"10.0.19045\"}"

/* A document with the computer and one more member. */
static struct host *
open_with(const char *members)
{
	char *text = xasprintf("{" COMPUTER ",%s}", members);
	struct host *h = open_text(text);

	free(text);
	return h;
}

static cJSON *
svc_json(cJSON *snap, const char *name)
{
	return cJSON_GetObjectItem(cJSON_GetObjectItem(snap, "services"), name);
}

static const char *
snap_str(struct host *h, const char *svc, const char *key)
{
	static char buf[256];
	cJSON *snap = host_sim_snapshot(h);
	cJSON *v = cJSON_GetObjectItem(svc_json(snap, svc), key);

	snprintf(buf, sizeof(buf), "%s",
		 cJSON_IsString(v) ? v->valuestring : "(absent)");
	cJSON_Delete(snap);
	return buf;
}

static uint32_t
exit_of(struct host *h, const char *name)
{
	struct svc_status st;

	cr_assert_eq(h->ops->service_status(h, name, &st), HR_OK);
	return st.win32_exit_code;
}

/* ---- the example hosts ------------------------------------------------- */

Test(sim, examples_load_as_sim_hosts)
{
	static const char *const names[] = {"healthy.json", "broken-bits.json"};

	for (size_t i = 0; i < 2; i++) {
		struct host *h = fx_open_example(names[i]);
		struct computer_info c;

		cr_assert_str_eq(h->ops->kind, "sim");
		cr_assert_eq(h->ops->computer(h, &c), HR_OK);
		cr_assert_str_eq(c.name, "PC-0042");
		cr_assert_str_eq(c.os_version, "10.0.19045");
		cr_assert_str_eq(c.machine_guid,
				 "6d1e5a3c-2f4b-4c8d-9e7a-1b0c3d5e7f92");
		computer_info_clear(&c);
		host_close(h);
	}
}

Test(sim, a_utf8_bom_is_skipped)
{
	struct host *h = open_text("\xEF\xBB\xBF{" COMPUTER "}");
	struct computer_info c;

	cr_assert_eq(h->ops->computer(h, &c), HR_OK);
	cr_assert_str_eq(c.os_version, "10.0.19045");
	cr_assert_null(c.machine_guid);
	computer_info_clear(&c);
	host_close(h);
}

Test(sim, machine_guid_falls_back_to_the_registry)
{
	struct host *h = open_with(
	    "\"registry\":{\"HKEY_LOCAL_MACHINE\\\\SOFTWARE\\\\Microsoft\\\\"
	    "Cryptography\":{\"MachineGuid\":\"abc\"}}");
	struct computer_info c;

	cr_assert_eq(h->ops->computer(h, &c), HR_OK);
	cr_assert_str_eq(c.name, "T");
	cr_assert_str_eq(c.machine_guid, "abc");
	computer_info_clear(&c);
	host_close(h);
}

Test(sim, healthy_bits_status_and_config)
{
	struct host *h = fx_open_example("healthy.json");
	struct svc_status st;
	struct svc_config c;

	cr_assert_eq(h->ops->service_status(h, "bits", &st), HR_OK);
	cr_assert_eq(st.type, SVC_TYPE_SHARE_PROCESS);
	cr_assert_eq(st.state, SVC_RUNNING);
	cr_assert_eq(st.controls_accepted, 0x5u); /* STOP | SHUTDOWN */
	cr_assert_eq(st.win32_exit_code, 0);
	cr_assert_eq(st.pid, 2412);
	cr_assert_eq(h->ops->service_config(h, "BITS", &c), HR_OK);
	cr_assert_eq(c.type, SVC_TYPE_SHARE_PROCESS);
	cr_assert_eq(c.start_type, SVC_AUTO_START);
	cr_assert_eq(c.error_control, SVC_ERROR_NORMAL);
	cr_assert_str_eq(c.binary_path,
			 "%SystemRoot%\\System32\\svchost.exe -k netsvcs -p");
	cr_assert_str_eq(c.account, "LocalSystem");
	cr_assert_str_eq(c.display_name,
			 "Background Intelligent Transfer Service");
	cr_assert_eq(c.dependencies.n, 2);
	cr_assert_str_eq(c.dependencies.v[0], "RpcSs");
	cr_assert_str_eq(c.dependencies.v[1], "EventSystem");
	svc_config_clear(&c);
	host_close(h);
}

Test(sim, healthy_bits_config2_levels)
{
	struct host *h = fx_open_example("healthy.json");
	struct svc_failure_actions fa;
	enum svc_sid_type sid;
	struct strlist privs = {0};
	bool delayed = false;

	cr_assert_eq(h->ops->service_delayed_auto(h, "BITS", &delayed), HR_OK);
	cr_assert(delayed);
	cr_assert_eq(h->ops->service_failure_actions(h, "BITS", &fa), HR_OK);
	cr_assert_eq(fa.reset_s, 86400);
	cr_assert_eq(fa.n, 3);
	cr_assert_eq(fa.actions[0].type, SVC_ACTION_RESTART);
	cr_assert_eq(fa.actions[0].delay_ms, 60000);
	cr_assert_eq(fa.actions[1].delay_ms, 120000);
	cr_assert_eq(fa.actions[2].type, SVC_ACTION_NONE);
	svc_failure_actions_clear(&fa);
	cr_assert_eq(h->ops->service_sid_type(h, "BITS", &sid), HR_OK);
	cr_assert_eq(sid, SVC_SID_UNRESTRICTED);
	cr_assert_eq(h->ops->service_privileges(h, "BITS", &privs), HR_OK);
	cr_assert_eq(privs.n, 5);
	cr_assert(strlist_contains_ci(&privs, "SeTcbPrivilege"));
	cr_assert(strlist_contains_ci(&privs, "seimpersonateprivilege"));
	strlist_clear(&privs);
	host_close(h);
}

Test(sim, broken_bits_is_stopped_with_logon_failure)
{
	struct host *h = fx_open_example("broken-bits.json");
	struct svc_status st;
	struct svc_config c;

	cr_assert_eq(h->ops->service_status(h, "BITS", &st), HR_OK);
	cr_assert_eq(st.state, SVC_STOPPED);
	cr_assert_eq(st.win32_exit_code, 1069);
	cr_assert_eq(st.pid, 0);
	cr_assert_eq(st.controls_accepted, 0);
	cr_assert_eq(h->ops->service_config(h, "BITS", &c), HR_OK);
	cr_assert_str_eq(c.account, "NT AUTHORITY\\LocalService");
	svc_config_clear(&c);
	/* Only BITS differs from the healthy machine. */
	cr_assert_eq(fx_service_state(h, "wuauserv"), SVC_RUNNING);
	host_close(h);
}

Test(sim, service_defaults_and_missing_service)
{
	struct host *h = open_with("\"services\":{\"Foo\":{}}");
	struct svc_failure_actions fa;
	struct strlist privs = {0};
	enum svc_sid_type sid;
	struct svc_status st;
	struct svc_config c;
	bool delayed = true;

	cr_assert_eq(h->ops->service_status(h, "foo", &st), HR_OK);
	cr_assert_eq(st.type, SVC_TYPE_SHARE_PROCESS);
	cr_assert_eq(st.state, SVC_STOPPED);
	cr_assert_eq(st.pid, 0);
	cr_assert_eq(h->ops->service_config(h, "FOO", &c), HR_OK);
	cr_assert_eq(c.start_type, SVC_DEMAND_START);
	cr_assert_eq(c.error_control, SVC_ERROR_NORMAL);
	cr_assert_str_eq(c.account, "LocalSystem");
	cr_assert_str_eq(c.display_name, "Foo");
	cr_assert_str_eq(c.binary_path, "");
	cr_assert_eq(c.dependencies.n, 0);
	svc_config_clear(&c);
	cr_assert_eq(h->ops->service_delayed_auto(h, "Foo", &delayed), HR_OK);
	cr_assert(!delayed);
	cr_assert_eq(h->ops->service_failure_actions(h, "Foo", &fa), HR_OK);
	cr_assert_eq(fa.reset_s, 0);
	cr_assert_eq(fa.n, 0);
	svc_failure_actions_clear(&fa);
	cr_assert_eq(h->ops->service_sid_type(h, "Foo", &sid), HR_OK);
	cr_assert_eq(sid, SVC_SID_NONE);
	cr_assert_eq(h->ops->service_privileges(h, "Foo", &privs), HR_OK);
	cr_assert_eq(privs.n, 0);
	cr_assert_eq(h->ops->service_status(h, "Bar", &st), 0x80070424u);
	cr_assert_eq(h->ops->service_config(h, "Bar", &c), 0x80070424u);
	cr_assert_eq(h->ops->service_start(h, "Bar"), 0x80070424u);
	cr_assert_eq(h->ops->service_sid_type(h, "Bar", &sid), 0x80070424u);
	host_close(h);
}

/* ---- start and stop ---------------------------------------------------- */

Test(sim, start_stop_cycle_on_broken_bits)
{
	struct host *h = fx_open_example("broken-bits.json");
	struct svc_status st;

	cr_assert_eq(h->ops->service_start(h, "BITS"), HR_OK);
	cr_assert_eq(h->ops->service_status(h, "BITS", &st), HR_OK);
	cr_assert_eq(st.state, SVC_RUNNING);
	cr_assert_eq(st.win32_exit_code, 0);
	cr_assert_neq(st.pid, 0);
	cr_assert_eq(h->ops->service_start(h, "BITS"),
		     HR(WIN32_SERVICE_ALREADY_RUNNING));
	cr_assert_eq(
	    h->ops->service_control(h, "BITS", SVC_CONTROL_INTERROGATE, &st),
	    HR_OK);
	cr_assert_eq(st.state, SVC_RUNNING);
	cr_assert_eq(h->ops->service_control(h, "BITS", 2, &st),
		     HR(1052)); /* ERROR_INVALID_SERVICE_CONTROL */
	cr_assert_eq(h->ops->service_control(h, "BITS", SVC_CONTROL_STOP, &st),
		     HR_OK);
	cr_assert_eq(st.state, SVC_STOPPED);
	cr_assert_eq(st.pid, 0);
	cr_assert_eq(h->ops->service_control(h, "BITS", SVC_CONTROL_STOP, &st),
		     HR(WIN32_SERVICE_NOT_ACTIVE));
	cr_assert_eq(
	    h->ops->service_control(h, "BITS", SVC_CONTROL_INTERROGATE, &st),
	    HR(WIN32_SERVICE_NOT_ACTIVE));
	cr_assert_eq(host_service_wait(h, "BITS", SVC_STOPPED, 1000, &st),
		     HR_OK);
	host_close(h);
}

Test(sim, start_disabled_is_1058)
{
	struct host *h =
	    open_with("\"services\":{\"S\":{\"start_type\":\"disabled\"}}");

	cr_assert_eq(h->ops->service_start(h, "S"), 0x80070422u);
	cr_assert_eq(fx_service_state(h, "S"), SVC_STOPPED);
	host_close(h);
}

Test(sim, dependency_missing_is_1075)
{
	struct host *h = open_with("\"services\":{\"S\":{\"dependencies\":"
				   "[\"+Group\",\"Gone\"]}}");

	cr_assert_eq(h->ops->service_start(h, "S"),
		     HR(WIN32_SERVICE_DEPENDENCY_DELETED));
	cr_assert_eq(fx_service_state(h, "S"), SVC_STOPPED);
	cr_assert_eq(exit_of(h, "S"), 1075);
	host_close(h);
}

Test(sim, dependency_disabled_is_1068)
{
	struct host *h =
	    open_with("\"services\":{\"S\":{\"dependencies\":[\"d\"]},"
		      "\"D\":{\"start_type\":\"disabled\"}}");

	cr_assert_eq(h->ops->service_start(h, "S"), HR(WIN32_DEPENDENCY_FAIL));
	cr_assert_eq(exit_of(h, "S"), 1068);
	cr_assert_eq(fx_service_state(h, "D"), SVC_STOPPED);
	host_close(h);
}

Test(sim, stopped_dependencies_start_first)
{
	struct host *h = open_with(
	    "\"services\":{\"A\":{\"dependencies\":[\"B\"]},"
	    "\"B\":{\"dependencies\":[\"C\"]},\"C\":{},"
	    "\"X\":{\"dependencies\":[\"F\"]},\"F\":{\"fault\":{\"start\":5}},"
	    "\"L1\":{\"dependencies\":[\"L2\"]},"
	    "\"L2\":{\"dependencies\":[\"L1\"]}}");

	cr_assert_eq(h->ops->service_start(h, "A"), HR_OK);
	cr_assert_eq(fx_service_state(h, "A"), SVC_RUNNING);
	cr_assert_eq(fx_service_state(h, "B"), SVC_RUNNING);
	cr_assert_eq(fx_service_state(h, "C"), SVC_RUNNING);
	/* A dependency that fails to start fails the dependent. */
	cr_assert_eq(h->ops->service_start(h, "X"), HR(WIN32_DEPENDENCY_FAIL));
	cr_assert_eq(fx_service_state(h, "F"), SVC_STOPPED);
	/* A cycle ends (ERROR_CIRCULAR_DEPENDENCY), it does not recurse. */
	cr_assert_eq(h->ops->service_start(h, "L1"), HR(1059));
	cr_assert_eq(fx_service_state(h, "L1"), SVC_STOPPED);
	host_close(h);
}

Test(sim, svchost_service_must_be_in_its_group)
{
	struct host *h = fx_open_example("broken-bits.json");
	struct reg_value v = {0};
	const char *key =
	    "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Svchost";

	v.type = REGT_MULTI_SZ;
	strlist_add(&v.multi, "wuauserv");
	cr_assert_eq(h->ops->reg_set(h, key, "netsvcs", &v), HR_OK);
	reg_value_clear(&v);
	cr_assert_eq(h->ops->service_start(h, "BITS"),
		     HR(WIN32_SERVICE_NOT_IN_EXE));
	cr_assert_eq(exit_of(h, "BITS"), 1083);
	cr_assert_eq(fx_service_state(h, "BITS"), SVC_STOPPED);
	host_close(h);
}

Test(sim, svchost_service_needs_its_service_dll)
{
	struct host *h = fx_open_example("broken-bits.json");

	cr_assert_eq(h->ops->reg_delete_value(
			 h,
			 "HKLM\\SYSTEM\\CurrentControlSet\\Services\\BITS\\"
			 "Parameters",
			 "servicedll"),
		     HR_OK);
	cr_assert_eq(h->ops->service_start(h, "BITS"),
		     HR(WIN32_FILE_NOT_FOUND));
	cr_assert_eq(exit_of(h, "BITS"), 2);
	host_close(h);
}

Test(sim, en_dash_binary_path_is_not_in_exe)
{
	cJSON *doc = fx_load_example("broken-bits.json");
	cJSON *bits = svc_json(doc, "BITS");
	struct host *h;

	cJSON_ReplaceItemInObject(
	    bits, "binary_path",
	    cJSON_CreateString("%systemroot%\\system32\\svchost.exe "
			       "\xe2\x80\x93k netsvcs"));
	h = open_doc(doc);
	cr_assert_eq(h->ops->service_start(h, "BITS"),
		     HR(WIN32_SERVICE_NOT_IN_EXE));
	host_close(h);
	cJSON_Delete(doc);
}

Test(sim, hang_start_times_out_the_wait)
{
	struct host *h =
	    open_with("\"services\":{\"S\":{\"fault\":{\"hang_start\":true}}}");
	struct svc_status st;

	cr_assert_eq(h->ops->service_start(h, "S"), HR_OK);
	cr_assert_eq(host_service_wait(h, "S", SVC_RUNNING, 120, &st),
		     0x8007041Du);
	cr_assert_eq(st.state, SVC_START_PENDING);
	cr_assert_neq(st.pid, 0);
	cr_assert_eq(h->ops->service_start(h, "S"),
		     HR(WIN32_SERVICE_ALREADY_RUNNING));
	cr_assert_eq(h->ops->service_control(h, "S", SVC_CONTROL_STOP, &st),
		     HR(WIN32_SERVICE_CANNOT_ACCEPT_CTRL));
	host_close(h);
}

/* The start succeeds; the service is already gone, with its exit code. */
Test(sim, exit_on_start_stops_with_the_exit_code)
{
	struct host *h = open_with(
	    "\"services\":{\"S\":{\"service_exit_code\":\"0x80004005\","
	    "\"fault\":{\"exit_on_start\":1066}}}");
	struct svc_status st;

	cr_assert_eq(h->ops->service_start(h, "S"), HR_OK);
	cr_assert_eq(h->ops->service_status(h, "S", &st), HR_OK);
	cr_assert_eq(st.state, SVC_STOPPED);
	cr_assert_eq(st.pid, 0);
	cr_assert_eq(st.win32_exit_code, 1066);
	cr_assert_eq(st.service_exit_code, 0x80004005u);
	cr_assert_eq(host_service_wait(h, "S", SVC_RUNNING, 120, &st),
		     0x8007041Du);
	host_close(h);
}

Test(sim, hang_stop_stays_stop_pending)
{
	struct host *h = open_with("\"services\":{\"S\":{\"state\":\"running\","
				   "\"fault\":{\"hang_stop\":true}}}");
	struct svc_status st;

	cr_assert_eq(h->ops->service_control(h, "S", SVC_CONTROL_STOP, &st),
		     HR_OK);
	cr_assert_eq(st.state, SVC_STOP_PENDING);
	cr_assert_eq(host_service_wait(h, "S", SVC_STOPPED, 120, &st),
		     0x8007041Du);
	cr_assert_eq(st.state, SVC_STOP_PENDING);
	host_close(h);
}

/* ---- service faults ---------------------------------------------------- */

Test(sim, service_fault_query_and_config2)
{
	struct host *h =
	    open_with("\"services\":{\"Q\":{\"fault\":{\"query\":5}},"
		      "\"C\":{\"fault\":{\"config2\":124}}}");
	struct svc_failure_actions fa;
	struct strlist privs = {0};
	enum svc_sid_type sid;
	struct svc_status st;
	struct svc_config c;
	bool b;

	cr_assert_eq(h->ops->service_status(h, "Q", &st), 0x80070005u);
	cr_assert_eq(h->ops->service_config(h, "Q", &c), 0x80070005u);
	cr_assert_eq(h->ops->service_delayed_auto(h, "Q", &b), HR_OK);
	cr_assert_eq(h->ops->service_status(h, "C", &st), HR_OK);
	cr_assert_eq(h->ops->service_config(h, "C", &c), HR_OK);
	svc_config_clear(&c);
	cr_assert_eq(h->ops->service_delayed_auto(h, "C", &b), 0x8007007Cu);
	cr_assert_eq(h->ops->service_failure_actions(h, "C", &fa), 0x8007007Cu);
	cr_assert_eq(h->ops->service_sid_type(h, "C", &sid), 0x8007007Cu);
	cr_assert_eq(h->ops->service_privileges(h, "C", &privs), 0x8007007Cu);
	host_close(h);
}

Test(sim, service_fault_start_stop_config)
{
	struct host *h =
	    open_with("\"services\":{\"S\":{\"state\":\"running\",\"fault\":"
		      "{\"start\":1053,\"stop\":1061,\"config\":5}}}");
	struct svc_config_change c = SVC_CONFIG_CHANGE_NONE;
	struct svc_failure_actions fa = {0};
	struct strlist privs = {0};
	struct svc_status st;

	cr_assert_eq(h->ops->service_control(h, "S", SVC_CONTROL_STOP, &st),
		     HR(1061));
	cr_assert_eq(st.state, SVC_RUNNING);
	cr_assert_eq(h->ops->service_start(h, "S"), HR(1053));
	c.start_type = SVC_DISABLED;
	cr_assert_eq(h->ops->service_change_config(h, "S", &c), 0x80070005u);
	cr_assert_eq(h->ops->service_set_delayed_auto(h, "S", true),
		     0x80070005u);
	cr_assert_eq(h->ops->service_set_failure_actions(h, "S", &fa),
		     0x80070005u);
	cr_assert_eq(h->ops->service_set_sid_type(h, "S", SVC_SID_NONE),
		     0x80070005u);
	cr_assert_eq(h->ops->service_set_privileges(h, "S", &privs),
		     0x80070005u);
	cr_assert_str_eq(snap_str(h, "S", "start_type"), "(absent)");
	host_close(h);
}

/* fault.config_ops fails one field, and only the call that sets it. */
Test(sim, service_fault_config_ops)
{
	struct host *h = open_with(
	    "\"services\":{\"S\":{\"fault\":{\"config_ops\":{\"account\":5,"
	    "\"sid_type\":124,\"dependencies\":1051}}}}");
	struct svc_config_change c = SVC_CONFIG_CHANGE_NONE;
	struct strlist deps = {0};
	struct svc_failure_actions fa = {0};

	c.account = "NT AUTHORITY\\LocalService";
	c.start_type = SVC_AUTO_START;
	cr_assert_eq(h->ops->service_change_config(h, "S", &c), 0x80070005u);
	/* Nothing of the failed call was applied. */
	cr_assert_str_eq(snap_str(h, "S", "start_type"), "(absent)");
	cr_assert_str_eq(snap_str(h, "S", "account"), "(absent)");
	c.account = NULL;
	cr_assert_eq(h->ops->service_change_config(h, "S", &c), HR_OK);
	cr_assert_str_eq(snap_str(h, "S", "start_type"), "auto");
	c.start_type = -1;
	c.dependencies = &deps;
	cr_assert_eq(h->ops->service_change_config(h, "S", &c), HR(1051));
	cr_assert_eq(h->ops->service_set_sid_type(h, "S", SVC_SID_UNRESTRICTED),
		     0x8007007Cu);
	cr_assert_str_eq(snap_str(h, "S", "sid_type"), "(absent)");
	cr_assert_eq(h->ops->service_set_delayed_auto(h, "S", true), HR_OK);
	cr_assert_eq(h->ops->service_set_failure_actions(h, "S", &fa), HR_OK);
	host_close(h);
}

/* fault.config wins over config_ops. */
Test(sim, service_fault_config_wins_over_config_ops)
{
	struct host *h =
	    open_with("\"services\":{\"S\":{\"fault\":{\"config\":1072,"
		      "\"config_ops\":{\"sid_type\":124}}}}");

	cr_assert_eq(h->ops->service_set_sid_type(h, "S", SVC_SID_NONE),
		     HR(1072));
	host_close(h);
}

Test(sim, service_and_global_delay)
{
	struct host *h = open_with("\"services\":{\"S\":{\"fault\":"
				   "{\"delay_ms\":60}}},"
				   "\"fault\":{\"delay_ms\":30}");
	struct svc_status st;
	struct strlist g = {0};
	uint64_t t0 = plat_now_ms();

	cr_assert_eq(h->ops->service_status(h, "S", &st), HR_OK);
	cr_assert_geq(plat_now_ms() - t0, 90);
	t0 = plat_now_ms();
	cr_assert_eq(h->ops->applied_gpos(h, &g), HR_OK);
	cr_assert_geq(plat_now_ms() - t0, 30);
	host_close(h);
}

/* ---- configuration changes --------------------------------------------- */

Test(sim, change_config_none_changes_nothing)
{
	struct host *h = fx_open_example("healthy.json");
	struct svc_config_change c = SVC_CONFIG_CHANGE_NONE;
	cJSON *before = host_sim_snapshot(h), *after;

	cr_assert_eq(h->ops->service_change_config(h, "BITS", &c), HR_OK);
	after = host_sim_snapshot(h);
	cr_assert(cJSON_Compare(before, after, 1));
	cJSON_Delete(before);
	cJSON_Delete(after);
	host_close(h);
}

Test(sim, change_config_writes_the_tree)
{
	struct host *h = fx_open_example("broken-bits.json");
	struct svc_config_change c = SVC_CONFIG_CHANGE_NONE;
	struct strlist deps = {0};
	struct svc_config cfg;

	strlist_add(&deps, "RpcSs");
	c.start_type = SVC_DEMAND_START;
	c.error_control = SVC_ERROR_SEVERE;
	c.account = "LocalSystem";
	c.binary_path = "%SystemRoot%\\System32\\svchost.exe -k netsvcs";
	c.dependencies = &deps;
	cr_assert_eq(h->ops->service_change_config(h, "bits", &c), HR_OK);
	strlist_clear(&deps);
	cr_assert_eq(h->ops->service_config(h, "BITS", &cfg), HR_OK);
	cr_assert_eq(cfg.start_type, SVC_DEMAND_START);
	cr_assert_eq(cfg.error_control, SVC_ERROR_SEVERE);
	cr_assert_str_eq(cfg.account, "LocalSystem");
	cr_assert_str_eq(cfg.binary_path,
			 "%SystemRoot%\\System32\\svchost.exe -k netsvcs");
	cr_assert_eq(cfg.dependencies.n, 1);
	cr_assert_eq(cfg.type, SVC_TYPE_SHARE_PROCESS);
	svc_config_clear(&cfg);
	cr_assert_str_eq(snap_str(h, "BITS", "start_type"), "demand");
	cr_assert_str_eq(snap_str(h, "BITS", "error_control"), "severe");
	host_close(h);
}

Test(sim, change_config_type_and_refusals)
{
	struct host *h = open_with("\"services\":{\"S\":{}}");
	struct svc_config_change c = SVC_CONFIG_CHANGE_NONE;
	struct svc_status st;

	c.type = SVC_TYPE_OWN_PROCESS | SVC_TYPE_INTERACTIVE;
	cr_assert_eq(h->ops->service_change_config(h, "S", &c), HR_OK);
	cr_assert_eq(h->ops->service_status(h, "S", &st), HR_OK);
	cr_assert_eq(st.type, 0x110u);
	cr_assert_str_eq(snap_str(h, "S", "type"), "own");
	c.type = -1;
	c.start_type = SVC_BOOT_START; /* drivers only */
	cr_assert_eq(h->ops->service_change_config(h, "S", &c), HR(87));
	c.start_type = 9;
	cr_assert_eq(h->ops->service_change_config(h, "S", &c), HR(87));
	c.start_type = -1;
	c.type = 0x40;
	cr_assert_eq(h->ops->service_change_config(h, "S", &c), HR(87));
	c.type = SVC_TYPE_KERNEL_DRIVER | SVC_TYPE_INTERACTIVE;
	cr_assert_eq(h->ops->service_change_config(h, "S", &c), HR(87));
	c.type = -1;
	c.error_control = 4;
	cr_assert_eq(h->ops->service_change_config(h, "S", &c), HR(87));
	cr_assert_eq(h->ops->service_status(h, "S", &st), HR_OK);
	cr_assert_eq(st.type, 0x110u);
	host_close(h);
}

Test(sim, config2_setters_round_trip)
{
	struct host *h = open_with("\"services\":{\"S\":{}}");
	struct svc_action acts[2] = {{SVC_ACTION_RESTART, 1000},
				     {SVC_ACTION_REBOOT, 5000}};
	struct svc_failure_actions fa = {3600, acts, 2}, got;
	struct svc_action bad = {(enum svc_action_type)7, 0};
	struct svc_failure_actions fa_bad = {0, &bad, 1};
	struct strlist privs = {0}, got_privs = {0};
	enum svc_sid_type sid;
	bool on = false;

	cr_assert_eq(h->ops->service_set_delayed_auto(h, "S", true), HR_OK);
	cr_assert_eq(h->ops->service_delayed_auto(h, "S", &on), HR_OK);
	cr_assert(on);
	cr_assert_eq(h->ops->service_set_failure_actions(h, "S", &fa), HR_OK);
	cr_assert_eq(h->ops->service_failure_actions(h, "S", &got), HR_OK);
	cr_assert_eq(got.reset_s, 3600);
	cr_assert_eq(got.n, 2);
	cr_assert_eq(got.actions[1].type, SVC_ACTION_REBOOT);
	cr_assert_eq(got.actions[1].delay_ms, 5000);
	svc_failure_actions_clear(&got);
	cr_assert_eq(h->ops->service_set_failure_actions(h, "S", &fa_bad),
		     HR(87));
	cr_assert_eq(h->ops->service_set_sid_type(h, "S", SVC_SID_RESTRICTED),
		     HR_OK);
	cr_assert_eq(h->ops->service_sid_type(h, "S", &sid), HR_OK);
	cr_assert_eq(sid, SVC_SID_RESTRICTED);
	cr_assert_eq(h->ops->service_set_sid_type(h, "S", (enum svc_sid_type)2),
		     HR(87));
	cr_assert_str_eq(snap_str(h, "S", "sid_type"), "restricted");
	strlist_add(&privs, "SeTcbPrivilege");
	strlist_add(&privs, "SeImpersonatePrivilege");
	cr_assert_eq(h->ops->service_set_privileges(h, "S", &privs), HR_OK);
	cr_assert_eq(h->ops->service_privileges(h, "S", &got_privs), HR_OK);
	cr_assert_eq(got_privs.n, 2);
	cr_assert_str_eq(got_privs.v[1], "SeImpersonatePrivilege");
	strlist_clear(&privs);
	strlist_clear(&got_privs);
	cr_assert_eq(h->ops->service_set_sid_type(h, "Nope", SVC_SID_NONE),
		     0x80070424u);
	host_close(h);
}

/* ---- registry ---------------------------------------------------------- */

#define WU_KEY "HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\WindowsUpdate"

Test(sim, registry_reads_every_type)
{
	struct host *h = fx_open_example("healthy.json");
	struct reg_value v;

	cr_assert_eq(h->ops->reg_get(h, WU_KEY, "WUServer", &v), HR_OK);
	cr_assert_eq(v.type, REGT_SZ);
	cr_assert_str_eq(v.str, "http://wsus.corp.example:8530");
	reg_value_clear(&v);
	cr_assert_eq(h->ops->reg_get(h, WU_KEY "\\AU", "UseWUServer", &v),
		     HR_OK);
	cr_assert_eq(v.type, REGT_DWORD);
	cr_assert_eq(v.num, 1);
	cr_assert_eq(h->ops->reg_get(h,
				     "HKLM\\SYSTEM\\CurrentControlSet\\"
				     "Services\\BITS\\Parameters",
				     "ServiceDll", &v),
		     HR_OK);
	cr_assert_eq(v.type, REGT_EXPAND_SZ);
	cr_assert_str_eq(v.str, "%SystemRoot%\\System32\\qmgr.dll");
	reg_value_clear(&v);
	cr_assert_eq(h->ops->reg_get(h,
				     "HKLM\\SOFTWARE\\Microsoft\\Windows "
				     "NT\\CurrentVersion\\Svchost",
				     "netsvcs", &v),
		     HR_OK);
	cr_assert_eq(v.type, REGT_MULTI_SZ);
	cr_assert(strlist_contains_ci(&v.multi, "bits"));
	cr_assert(strlist_contains_ci(&v.multi, "wuauserv"));
	reg_value_clear(&v);
	cr_assert_eq(h->ops->reg_get(h,
				     "HKLM\\SOFTWARE\\Microsoft\\Windows\\"
				     "CurrentVersion\\WindowsUpdate",
				     "SusClientIdValidation", &v),
		     HR_OK);
	cr_assert_eq(v.type, REGT_BINARY);
	cr_assert_eq(v.bin_len, 40);
	cr_assert_eq(v.bin[0], 0x06);
	cr_assert_eq(v.bin[2], 0xc8);
	reg_value_clear(&v);
	host_close(h);
}

Test(sim, registry_names_are_case_insensitive)
{
	struct host *h = fx_open_example("healthy.json");
	struct reg_value v;

	cr_assert_eq(h->ops->reg_get(h,
				     "hkey_local_machine\\software\\policies\\"
				     "microsoft\\windows\\windowsupdate\\",
				     "wuserver", &v),
		     HR_OK);
	cr_assert_str_eq(v.str, "http://wsus.corp.example:8530");
	reg_value_clear(&v);
	cr_assert_eq(h->ops->reg_get(h, WU_KEY, "NoSuchValue", &v),
		     0x80070002u);
	cr_assert_eq(h->ops->reg_get(h, WU_KEY "\\Nope", "WUServer", &v),
		     0x80070002u);
	/* An ancestor exists but has no values. */
	cr_assert_eq(h->ops->reg_get(h, "HKLM\\SOFTWARE", "x", &v),
		     0x80070002u);
	cr_assert_eq(h->ops->reg_get(h, "HKXX\\SOFTWARE", "x", &v),
		     0x80070006u);
	host_close(h);
}

static void
set_get(struct host *h, const struct reg_value *in, struct reg_value *out)
{
	cr_assert_eq(h->ops->reg_set(h, "HKCU\\Software\\T", "v", in), HR_OK);
	cr_assert_eq(
	    h->ops->reg_get(h, "HKEY_CURRENT_USER\\software\\t", "V", out),
	    HR_OK);
	cr_assert_eq(out->type, in->type);
}

Test(sim, registry_set_round_trips_every_type)
{
	struct host *h = open_with("\"registry\":{}");
	uint8_t bytes[3] = {0x00, 0xff, 0x10};
	struct reg_value in = {0}, out;

	in.type = REGT_SZ;
	in.str = "hello";
	set_get(h, &in, &out);
	cr_assert_str_eq(out.str, "hello");
	reg_value_clear(&out);
	in.type = REGT_EXPAND_SZ;
	in.str = "%windir%";
	set_get(h, &in, &out);
	cr_assert_str_eq(out.str, "%windir%");
	reg_value_clear(&out);
	in.type = REGT_DWORD;
	in.num = 0xFFFFFFFFu;
	set_get(h, &in, &out);
	cr_assert_eq(out.num, 0xFFFFFFFFu);
	in.type = REGT_QWORD;
	in.num = 0x1234567890ABCDEFull; /* above 2^53 */
	set_get(h, &in, &out);
	cr_assert_eq(out.num, 0x1234567890ABCDEFull);
	in.type = REGT_BINARY;
	in.bin = bytes;
	in.bin_len = 3;
	set_get(h, &in, &out);
	cr_assert_eq(out.bin_len, 3);
	cr_assert_arr_eq(out.bin, bytes, 3);
	reg_value_clear(&out);
	memset(&in, 0, sizeof(in));
	in.type = REGT_MULTI_SZ;
	strlist_add(&in.multi, "a");
	strlist_add(&in.multi, "b");
	set_get(h, &in, &out);
	cr_assert_eq(out.multi.n, 2);
	cr_assert_str_eq(out.multi.v[1], "b");
	reg_value_clear(&out);
	reg_value_clear(&in);
	/* Bad values are refused, the old one stays. */
	in.type = REGT_SZ;
	cr_assert_eq(h->ops->reg_set(h, "HKCU\\Software\\T", "v", &in), HR(87));
	in.type = REGT_NONE;
	cr_assert_eq(h->ops->reg_set(h, "HKCU\\Software\\T", "v", &in), HR(87));
	in.type = REGT_DWORD;
	in.num = 1ull << 32;
	cr_assert_eq(h->ops->reg_set(h, "HKCU\\Software\\T", "v", &in), HR(87));
	cr_assert_eq(h->ops->reg_get(h, "HKCU\\Software\\T", "v", &out), HR_OK);
	cr_assert_eq(out.type, REGT_MULTI_SZ);
	reg_value_clear(&out);
	/* The default value has the empty name. */
	in.type = REGT_SZ;
	in.str = "dflt";
	cr_assert_eq(h->ops->reg_set(h, "HKCU\\Software\\T", NULL, &in), HR_OK);
	cr_assert_eq(h->ops->reg_get(h, "HKCU\\Software\\T", "", &out), HR_OK);
	cr_assert_str_eq(out.str, "dflt");
	reg_value_clear(&out);
	host_close(h);
}

Test(sim, registry_delete_value_and_key)
{
	struct host *h = fx_open_example("healthy.json");
	struct reg_value v;

	cr_assert_eq(h->ops->reg_delete_value(h, WU_KEY, "wustatusserver"),
		     HR_OK);
	cr_assert_eq(h->ops->reg_get(h, WU_KEY, "WUStatusServer", &v),
		     0x80070002u);
	cr_assert_eq(h->ops->reg_delete_value(h, WU_KEY, "WUStatusServer"),
		     0x80070002u);
	cr_assert_eq(h->ops->reg_delete_value(h, WU_KEY "\\X", "a"),
		     0x80070002u);
	/* Only leaves can go: WindowsUpdate has AU below it. */
	cr_assert_eq(h->ops->reg_delete_key(h, WU_KEY), 0x80070005u);
	cr_assert_eq(h->ops->reg_delete_key(h, "HKLM\\SOFTWARE\\Policies"),
		     0x80070005u);
	cr_assert_eq(h->ops->reg_delete_key(h, WU_KEY "\\au"), HR_OK);
	cr_assert_eq(h->ops->reg_get(h, WU_KEY "\\AU", "UseWUServer", &v),
		     0x80070002u);
	cr_assert_eq(h->ops->reg_delete_key(h, WU_KEY "\\AU"), 0x80070002u);
	cr_assert_eq(h->ops->reg_delete_key(h, WU_KEY), HR_OK);
	host_close(h);
}

Test(sim, registry_faults)
{
	struct host *h = open_with("\"registry\":{\"HKLM\\\\K\":{\"v\":1}},"
				   "\"fault\":{\"registry_read\":5,"
				   "\"registry_write\":1021}");
	struct reg_value v = {.type = REGT_DWORD, .num = 2};

	cr_assert_eq(h->ops->reg_get(h, "HKLM\\K", "v", &v), 0x80070005u);
	v.type = REGT_DWORD;
	cr_assert_eq(h->ops->reg_set(h, "HKLM\\K", "v", &v), HR(1021));
	cr_assert_eq(h->ops->reg_delete_value(h, "HKLM\\K", "v"), HR(1021));
	cr_assert_eq(h->ops->reg_delete_key(h, "HKLM\\K"), HR(1021));
	host_close(h);
}

/* registry_write_keys: exactly that key (any spelling) refuses writes. */
Test(sim, registry_write_keys_fault)
{
	struct host *h = open_with(
	    "\"registry\":{\"HKLM\\\\K\":{\"v\":1},\"HKLM\\\\K\\\\Sub\":{}},"
	    "\"fault\":{\"registry_write_keys\":{\"HKEY_LOCAL_MACHINE\\\\k\":"
	    "5}}");
	struct reg_value v = {.type = REGT_DWORD, .num = 2}, got = {0};

	cr_assert_eq(h->ops->reg_set(h, "HKLM\\K", "v", &v), 0x80070005u);
	cr_assert_eq(h->ops->reg_delete_value(h, "HKLM\\K", "v"), 0x80070005u);
	cr_assert_eq(h->ops->reg_get(h, "HKLM\\K", "v", &got), HR_OK);
	cr_assert_eq(got.num, 1);
	cr_assert_eq(h->ops->reg_set(h, "HKLM\\K\\Sub", "v", &v), HR_OK);
	cr_assert_eq(h->ops->reg_delete_key(h, "HKLM\\K\\Sub"), HR_OK);
	cr_assert_eq(h->ops->reg_delete_key(h, "HKLM\\K"), 0x80070005u);
	host_close(h);
}

/* ---- files ------------------------------------------------------------- */

#define SD "C:\\Windows\\SoftwareDistribution"

Test(sim, file_stat_entries_and_implicit_dirs)
{
	struct host *h = fx_open_example("healthy.json");
	struct file_info fi;

	cr_assert_eq(h->ops->file_stat(h, SD, &fi), HR_OK);
	cr_assert(fi.is_dir);
	cr_assert_eq(fi.mtime, 1741939331); /* 2025-03-14T08:02:11Z */
	cr_assert_eq(h->ops->file_stat(h, SD "\\DataStore\\DataStore.edb", &fi),
		     HR_OK);
	cr_assert(!fi.is_dir);
	cr_assert_eq(fi.size, 75497472);
	cr_assert_eq(
	    h->ops->file_stat(h, "c:/windows/system32/WUAUENG.DLL", &fi),
	    HR_OK);
	cr_assert_eq(fi.size, 3342336);
	cr_assert_eq(h->ops->file_stat(h, "C:\\Windows\\", &fi), HR_OK);
	cr_assert(fi.is_dir);
	cr_assert_eq(h->ops->file_stat(h, "C:\\", &fi), HR_OK);
	cr_assert(fi.is_dir);
	cr_assert_eq(
	    h->ops->file_stat(h, "C:\\Windows\\WindowsUpdate.log", &fi), HR_OK);
	cr_assert_eq(fi.size, 750); /* the inline text's length */
	cr_assert_eq(h->ops->file_stat(h, "C:\\Windows\\nope.txt", &fi),
		     0x80070002u);
	cr_assert_eq(h->ops->file_stat(h, "D:\\x", &fi), 0x80070002u);
	host_close(h);
}

static void expect_error(const char *text, const char *want);

/* created is the creation time when given, unknown (0) when not: never
 * mtime's stand-in; a rename keeps it, as on one NTFS volume. */
Test(sim, file_stat_created)
{
	struct host *h = open_with(
	    "\"files\":{\"C:\\\\D\":{\"type\":\"dir\",\"mtime\":"
	    "\"2026-11-21T09:12:05Z\",\"created\":\"2025-03-14T08:02:11Z\"},"
	    "\"C:\\\\D\\\\f\":{\"mtime\":\"2026-11-21T09:12:05Z\"}}");
	struct file_info fi;

	cr_assert_eq(h->ops->file_stat(h, "C:\\D", &fi), HR_OK);
	cr_assert_eq(fi.created, 1741939331); /* 2025-03-14T08:02:11Z */
	cr_assert_eq(fi.mtime, 1795252325);   /* 2026-11-21T09:12:05Z */
	cr_assert_eq(h->ops->file_stat(h, "C:\\D\\f", &fi), HR_OK);
	cr_assert_eq(fi.created, 0);
	cr_assert_eq(fi.mtime, 1795252325);
	cr_assert_eq(h->ops->file_stat(h, "C:\\", &fi), HR_OK);
	cr_assert_eq(fi.created, 0);
	cr_assert_eq(h->ops->file_rename(h, "C:\\D", "C:\\E"), HR_OK);
	cr_assert_eq(h->ops->file_stat(h, "C:\\E", &fi), HR_OK);
	cr_assert_eq(fi.created, 1741939331);
	host_close(h);
	expect_error("{" COMPUTER ",\"files\":{\"C:\\\\x\":{\"created\":"
		     "\"yesterday\"}}}",
		     "files.C:\\x.created: expected an RFC 3339 time "
		     "(\"2026-11-20T10:00:00Z\")");
}

/* The store wuauserv builds when it starts is created now. */
Test(sim, a_rebuilt_store_is_created_now)
{
	struct host *h = fx_open_example("healthy.json");
	struct file_info fi;
	int64_t t0, t1;

	cr_assert_eq(h->ops->file_stat(h, SD, &fi), HR_OK);
	cr_assert_eq(fi.created, 0);
	cr_assert_eq(h->ops->service_control(h, "wuauserv", SVC_CONTROL_STOP,
					     &(struct svc_status){0}),
		     HR_OK);
	cr_assert_eq(h->ops->file_rename(h, SD, SD ".old"), HR_OK);
	t0 = fx_unix_now();
	cr_assert_eq(h->ops->service_start(h, "wuauserv"), HR_OK);
	t1 = fx_unix_now();
	cr_assert_eq(h->ops->file_stat(h, SD, &fi), HR_OK);
	cr_assert(fi.is_dir);
	cr_assert(fi.created >= t0 && fi.created <= t1, "created %lld",
		  (long long)fi.created);
	cr_assert_eq(fi.mtime, fi.created);
	cr_assert_eq(h->ops->file_stat(h, SD "\\DataStore\\DataStore.edb", &fi),
		     HR_OK);
	cr_assert(fi.created >= t0 && fi.created <= t1);
	cr_assert_eq(h->ops->file_stat(h, SD ".old", &fi), HR_OK);
	cr_assert_eq(fi.created, 0);
	host_close(h);
}

Test(sim, file_version)
{
	struct host *h = fx_open_example("healthy.json");
	char *v = NULL;

	cr_assert_eq(
	    h->ops->file_version(h, "C:\\Windows\\System32\\wuaueng.dll", &v),
	    HR_OK);
	cr_assert_str_eq(v, "10.0.19041.3636");
	free(v);
	cr_assert_eq(
	    h->ops->file_version(h, "C:\\Windows\\WindowsUpdate.log", &v),
	    0x80070715u); /* ERROR_RESOURCE_TYPE_NOT_FOUND */
	cr_assert_null(v);
	cr_assert_eq(h->ops->file_version(h, SD, &v), 0x80070715u);
	cr_assert_eq(h->ops->file_version(h, "C:\\nope.dll", &v), 0x80070002u);
	host_close(h);
}

Test(sim, file_rename_moves_the_subtree)
{
	struct host *h = fx_open_example("healthy.json");
	struct file_info fi;

	cr_assert_eq(h->ops->file_rename(h, SD, SD ".bak"), HR_OK);
	cr_assert_eq(h->ops->file_stat(h, SD, &fi), 0x80070002u);
	cr_assert_eq(h->ops->file_stat(h, SD "\\DataStore\\DataStore.edb", &fi),
		     0x80070002u);
	cr_assert_eq(
	    h->ops->file_stat(h, SD ".bak\\DataStore\\DataStore.edb", &fi),
	    HR_OK);
	cr_assert_eq(fi.size, 75497472);
	cr_assert_eq(h->ops->file_stat(h, SD ".bak\\Download", &fi), HR_OK);
	cr_assert(fi.is_dir);
	/* Its neighbours stay. */
	cr_assert_eq(
	    h->ops->file_stat(h, "C:\\Windows\\WindowsUpdate.log", &fi), HR_OK);
	/* Again: the source is gone. */
	cr_assert_eq(h->ops->file_rename(h, SD, SD ".bak2"), 0x80070002u);
	host_close(h);
}

Test(sim, file_rename_refusals)
{
	struct host *h = fx_open_example("healthy.json");
	struct file_info fi;

	cr_assert_eq(h->ops->file_rename(h, SD, "C:\\Windows\\System32"),
		     HR(WIN32_ALREADY_EXISTS));
	cr_assert_eq(h->ops->file_rename(h, SD,
					 "c:\\windows\\system32\\"
					 "WUAUENG.dll"),
		     HR(WIN32_ALREADY_EXISTS));
	cr_assert_eq(h->ops->file_rename(h, SD, "C:\\NoDir\\SD"),
		     HR(WIN32_PATH_NOT_FOUND));
	cr_assert_eq(h->ops->file_rename(h, SD, "D:\\SD"), HR(17));
	cr_assert_eq(h->ops->file_rename(h, SD, SD "\\inner"), HR(87));
	cr_assert_eq(h->ops->file_stat(h, SD, &fi), HR_OK);
	/* A change of case is a rename onto itself, and allowed. */
	cr_assert_eq(
	    h->ops->file_rename(h, SD, "C:\\Windows\\softwaredistribution"),
	    HR_OK);
	cr_assert_eq(h->ops->file_stat(h, SD "\\Download", &fi), HR_OK);
	host_close(h);
}

Test(sim, file_rename_faults)
{
	struct host *h =
	    open_with("\"files\":{\"C:\\\\SD\":{\"type\":\"dir\"},"
		      "\"C:\\\\SD\\\\db.edb\":{\"fault\":{\"rename\":32}},"
		      "\"C:\\\\Other\":{\"type\":\"dir\"}}");
	struct host *g =
	    open_with("\"files\":{\"C:\\\\SD\":{\"type\":\"dir\"}},"
		      "\"fault\":{\"rename\":5}");
	struct file_info fi;

	/* An open file keeps its folder from being renamed. */
	cr_assert_eq(h->ops->file_rename(h, "C:\\SD", "C:\\SD.old"), HR(32));
	cr_assert_eq(h->ops->file_stat(h, "C:\\SD\\db.edb", &fi), HR_OK);
	cr_assert_eq(h->ops->file_rename(h, "C:\\Other", "C:\\Other.old"),
		     HR_OK);
	cr_assert_eq(g->ops->file_rename(g, "C:\\SD", "C:\\SD.old"),
		     0x80070005u);
	host_close(h);
	host_close(g);
}

Test(sim, file_read_text_whole_and_tail)
{
	struct host *h = fx_open_example("healthy.json");
	const char *log = "C:\\Windows\\WindowsUpdate.log";
	char *text = NULL, *tail = NULL;
	size_t len = 0, tlen = 0;

	cr_assert_eq(h->ops->file_read_text(h, log, 1 << 20, &text, &len),
		     HR_OK);
	cr_assert_eq(len, strlen(text));
	cr_assert(strncmp(text, "2026/11/21 09:12:03.4410125", 27) == 0);
	cr_assert_eq(h->ops->file_read_text(h, log, 40, &tail, &tlen), HR_OK);
	cr_assert_eq(tlen, 40);
	cr_assert_str_eq(tail, text + len - 40);
	free(text);
	free(tail);
	cr_assert_eq(h->ops->file_read_text(h, SD, 100, &text, &len),
		     0x80070005u);
	cr_assert_eq(h->ops->file_read_text(h, "C:\\Windows", 100, &text, &len),
		     0x80070005u);
	cr_assert_eq(
	    h->ops->file_read_text(h, "C:\\none.log", 100, &text, &len),
	    0x80070002u);
	cr_assert_null(text);
	host_close(h);
}

Test(sim, file_read_text_from_text_file_utf16_and_faults)
{
	/* "aé😀\n" in UTF-16LE with a BOM. */
	static const unsigned char u16[] = {0xFF, 0xFE, 'a',  0,    0xE9, 0x00,
					    0x3D, 0xD8, 0x00, 0xDE, '\n', 0};
	static const char u8bom[] = "\xEF\xBB\xBFplain \xC3\xA9";
	char *dir = xasprintf("%s/logs", tmpdir), *p, *text;
	struct host *h;
	struct file_info fi;
	size_t len;

	cr_assert_eq(mkdir(dir, 0700), 0);
	p = xasprintf("%s/u16.log", dir);
	spit(p, u16, sizeof(u16));
	free(p);
	p = xasprintf("%s/u8.log", dir);
	spit(p, u8bom, strlen(u8bom));
	free(p);
	h = open_with("\"files\":{\"C:\\\\a.log\":{\"text_file\":"
		      "\"logs/u16.log\"},\"C:\\\\b.log\":{\"text_file\":"
		      "\"logs/u8.log\"},\"C:\\\\c.log\":{\"text\":\"x\","
		      "\"fault\":{\"read\":32}}}");
	cr_assert_eq(h->ops->file_read_text(h, "C:\\a.log", 100, &text, &len),
		     HR_OK);
	cr_assert_str_eq(text, "a\xC3\xA9\xF0\x9F\x98\x80\n");
	cr_assert_eq(len, 8);
	free(text);
	/* The tail never starts inside a character: 5 bytes of "é😀\n"
	 * would cut the emoji, so 5 is 4 + its newline. */
	cr_assert_eq(h->ops->file_read_text(h, "C:\\a.log", 6, &text, &len),
		     HR_OK);
	cr_assert_str_eq(text, "\xF0\x9F\x98\x80\n");
	cr_assert_eq(len, 5);
	free(text);
	cr_assert_eq(h->ops->file_read_text(h, "C:\\b.log", 100, &text, &len),
		     HR_OK);
	cr_assert_str_eq(text, "plain \xC3\xA9");
	free(text);
	/* stat reports the bytes on disk. */
	cr_assert_eq(h->ops->file_stat(h, "C:\\a.log", &fi), HR_OK);
	cr_assert_eq(fi.size, sizeof(u16));
	cr_assert_eq(h->ops->file_read_text(h, "C:\\c.log", 100, &text, &len),
		     HR(32));
	host_close(h);
	free(dir);
}

Test(sim, disk_free)
{
	struct host *h = fx_open_example("healthy.json");
	uint64_t fr = 1, total = 1;

	cr_assert_eq(h->ops->disk_free(h, "c:\\Windows\\SoftwareDistribution",
				       &fr, &total),
		     HR_OK);
	cr_assert_eq(fr, 68719476736ull);
	cr_assert_eq(total, 255369203712ull);
	cr_assert_eq(h->ops->disk_free(h, "D:\\", &fr, &total),
		     HR(WIN32_PATH_NOT_FOUND));
	cr_assert_eq(h->ops->disk_free(h, "\\\\server\\share", &fr, &total),
		     HR(WIN32_PATH_NOT_FOUND));
	host_close(h);
}

/* ---- programs ---------------------------------------------------------- */

Test(sim, run_program_output_and_log)
{
	struct host *h = fx_open_example("healthy.json");
	const char *argv[] = {"gpupdate.exe", "/target:computer", "/force",
			      NULL};
	const char *argv2[] = {"WUAUCLT", "/detectnow", NULL};
	struct prog_result r;
	cJSON *snap, *log, *argv_j;

	cr_assert_eq(h->ops->run_program(h, argv, 5000, &r), HR_OK);
	cr_assert_eq(r.exit_code, 0);
	cr_assert(!r.timed_out);
	cr_assert_not_null(
	    strstr(r.output, "Computer Policy update has completed"));
	prog_result_clear(&r);
	cr_assert_eq(h->ops->run_program(h, argv2, 5000, &r), HR_OK);
	cr_assert_str_eq(r.output, "");
	prog_result_clear(&r);
	snap = host_sim_snapshot(h);
	log = cJSON_GetObjectItem(snap, "program_log");
	cr_assert_eq(cJSON_GetArraySize(log), 2);
	argv_j = cJSON_GetObjectItem(cJSON_GetArrayItem(log, 0), "argv");
	cr_assert_eq(cJSON_GetArraySize(argv_j), 3);
	cr_assert_str_eq(cJSON_GetArrayItem(argv_j, 2)->valuestring, "/force");
	cr_assert(cJSON_IsString(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(log, 1), "time")));
	cJSON_Delete(snap);
	argv[0] = "sc.exe";
	cr_assert_eq(h->ops->run_program(h, argv, 5000, &r), 0x80070002u);
	host_close(h);
}

Test(sim, run_program_timeouts_exit_codes_and_fault)
{
	struct host *h = open_with(
	    "\"programs\":{\"hang.exe\":{\"hang\":true,\"output\":\"x\"},"
	    "\"slow\":{\"delay_ms\":400},\"quick\":{\"delay_ms\":20,"
	    "\"exit_code\":1,\"output\":\"bad\"}}");
	struct host *g = open_with("\"programs\":{\"a.exe\":{}},"
				   "\"fault\":{\"programs\":5}");
	const char *hang[] = {"hang", NULL}, *slow[] = {"slow.exe", NULL},
		   *quick[] = {"quick.exe", NULL}, *a[] = {"a.exe", NULL};
	struct prog_result r;

	cr_assert_eq(h->ops->run_program(h, hang, 50, &r), HR_OK);
	cr_assert(r.timed_out);
	cr_assert_eq(r.exit_code, WIN32_WAIT_TIMEOUT);
	cr_assert_str_eq(r.output, "");
	prog_result_clear(&r);
	cr_assert_eq(h->ops->run_program(h, slow, 50, &r), HR_OK);
	cr_assert(r.timed_out);
	prog_result_clear(&r);
	cr_assert_eq(h->ops->run_program(h, quick, 5000, &r), HR_OK);
	cr_assert(!r.timed_out);
	cr_assert_eq(r.exit_code, 1);
	cr_assert_str_eq(r.output, "bad");
	prog_result_clear(&r);
	cr_assert_eq(g->ops->run_program(g, a, 1000, &r), 0x80070005u);
	host_close(h);
	host_close(g);
}

/* ---- proxies, policy, BITS jobs, events -------------------------------- */

Test(sim, proxies)
{
	struct host *h = fx_open_example("healthy.json");
	struct host *g = open_with(
	    "\"winhttp_proxy\":{\"proxy\":\"proxy.corp.example:8080\","
	    "\"bypass\":\"<local>\"},\"ie_proxy\":{\"auto_detect\":true,"
	    "\"auto_config_url\":\"http://wpad/wpad.dat\",\"proxy\":null}");
	struct host *e = open_with("\"services\":{}");
	struct proxy_config p;

	cr_assert_eq(h->ops->winhttp_proxy(h, &p), HR_OK);
	cr_assert_null(p.proxy);
	cr_assert_null(p.bypass);
	cr_assert(!p.auto_detect);
	cr_assert_eq(h->ops->ie_proxy(h, &p), HR_OK);
	cr_assert_null(p.auto_config_url);
	cr_assert_eq(g->ops->winhttp_proxy(g, &p), HR_OK);
	cr_assert_str_eq(p.proxy, "proxy.corp.example:8080");
	cr_assert_str_eq(p.bypass, "<local>");
	proxy_config_clear(&p);
	cr_assert_eq(g->ops->ie_proxy(g, &p), HR_OK);
	cr_assert(p.auto_detect);
	cr_assert_str_eq(p.auto_config_url, "http://wpad/wpad.dat");
	cr_assert_null(p.proxy);
	proxy_config_clear(&p);
	cr_assert_eq(e->ops->ie_proxy(e, &p), HR_OK);
	cr_assert_null(p.proxy);
	cr_assert(!p.auto_detect);
	host_close(h);
	host_close(g);
	host_close(e);
}

Test(sim, applied_gpos)
{
	struct host *h = fx_open_example("healthy.json");
	struct host *e = open_with("\"services\":{}");
	struct strlist l = {0};

	cr_assert_eq(h->ops->applied_gpos(h, &l), HR_OK);
	cr_assert_eq(l.n, 3);
	cr_assert_str_eq(l.v[0], "Default Domain Policy");
	cr_assert_str_eq(l.v[1], "WSUS");
	cr_assert_str_eq(l.v[2], "Local Group Policy");
	strlist_clear(&l);
	cr_assert_eq(e->ops->applied_gpos(e, &l), HR_OK);
	cr_assert_eq(l.n, 0);
	host_close(h);
	host_close(e);
}

Test(sim, bits_jobs)
{
	struct host *h = fx_open_example("healthy.json");
	struct host *g = open_with(
	    "\"services\":{\"BITS\":{}},\"bits_jobs\":[{\"name\":\"j\","
	    "\"state\":\"error\",\"error\":\"0x80200013\"},{}]");
	struct bits_jobs j;

	cr_assert_eq(h->ops->bits_jobs(h, &j), HR_OK);
	cr_assert_eq(j.n, 1);
	cr_assert_str_eq(j.v[0].id, "{8C2F7E41-5B3A-4D9E-A1C6-0F4B2E7D9A35}");
	cr_assert_str_eq(j.v[0].name, "WU Client Download");
	cr_assert_str_eq(j.v[0].owner, "NT AUTHORITY\\SYSTEM");
	cr_assert_eq(j.v[0].state, BITS_TRANSFERRED);
	cr_assert_eq(j.v[0].error, 0);
	cr_assert_not_null(strstr(j.v[0].url, "wsus.corp.example:8530"));
	bits_jobs_clear(&j);
	cr_assert_eq(g->ops->bits_jobs(g, &j), HR_OK);
	cr_assert_eq(j.n, 2);
	cr_assert_eq(j.v[0].state, BITS_ERROR);
	cr_assert_eq(j.v[0].error, 0x80200013u);
	cr_assert_eq(j.v[1].state, BITS_QUEUED);
	cr_assert_eq(strlen(j.v[1].id), 38); /* a {GUID} */
	cr_assert_str_neq(j.v[0].id, j.v[1].id);
	bits_jobs_clear(&j);
	host_close(h);
	host_close(g);
}

Test(sim, bits_jobs_need_a_startable_bits)
{
	struct host *none = open_with("\"services\":{}");
	struct host *dis =
	    open_with("\"services\":{\"bits\":{\"start_type\":\"disabled\"}}");
	struct host *f = open_with("\"services\":{\"BITS\":{}},"
				   "\"fault\":{\"bits\":1717}");
	struct bits_jobs j;

	cr_assert_eq(none->ops->bits_jobs(none, &j), 0x80040154u);
	cr_assert_eq(j.n, 0);
	cr_assert_eq(dis->ops->bits_jobs(dis, &j), 0x80070422u);
	cr_assert_eq(f->ops->bits_jobs(f, &j), HR(1717));
	host_close(none);
	host_close(dis);
	host_close(f);
}

Test(sim, events_filter_order_and_max)
{
	struct host *h = open_with(
	    "\"events\":["
	    "{\"log\":\"System\",\"id\":1,\"time\":\"2026-11-20T10:00:00Z\"},"
	    "{\"log\":\"Application\",\"id\":2,"
	    "\"time\":\"2026-11-22T10:00:00Z\"},"
	    "{\"log\":\"system\",\"id\":3,\"level\":\"error\",\"code\":"
	    "\"0x80200013\",\"message\":\"m\","
	    "\"time\":\"2026-11-21T10:00:00Z\"},"
	    "{\"log\":\"System\",\"id\":4,\"level\":\"critical\","
	    "\"time\":\"2026-11-21T12:00:00+02:00\"}]");
	struct host *f = open_with("\"events\":[],\"fault\":{\"events\":5}");
	struct event_list e;

	cr_assert_eq(h->ops->events(h, "SYSTEM", 10, &e), HR_OK);
	cr_assert_eq(e.n, 3);
	/* 4 and 3 are the same instant; 4 comes later in the file. */
	cr_assert_eq(e.v[0].id, 4);
	cr_assert_eq(e.v[0].level, EVL_CRITICAL);
	cr_assert_eq(e.v[1].id, 3);
	cr_assert_eq(e.v[1].level, EVL_ERROR);
	cr_assert_eq(e.v[1].code, 0x80200013u);
	cr_assert_eq(e.v[1].time, 1795255200);
	cr_assert_str_eq(e.v[1].message, "m");
	cr_assert_str_eq(e.v[1].log, "system");
	cr_assert_eq(e.v[2].id, 1);
	cr_assert_eq(e.v[2].level, EVL_INFO);
	event_list_clear(&e);
	cr_assert_eq(h->ops->events(h, "System", 2, &e), HR_OK);
	cr_assert_eq(e.n, 2);
	cr_assert_eq(e.v[1].id, 3);
	event_list_clear(&e);
	cr_assert_eq(h->ops->events(h, "Setup", 10, &e), HR_OK);
	cr_assert_eq(e.n, 0);
	cr_assert_null(e.v);
	cr_assert_eq(f->ops->events(f, "System", 10, &e), 0x80070005u);
	host_close(h);
	host_close(f);
}

/* ---- writeback --------------------------------------------------------- */

static char *
copy_example(const char *name)
{
	char *src = fx_example_path(name),
	     *dst = xasprintf("%s/%s", tmpdir, name);
	size_t len;
	char *text = fx_slurp(src, &len);

	spit(dst, text, len);
	free(text);
	free(src);
	return dst;
}

Test(sim, writeback_round_trip)
{
	char *path = copy_example("broken-bits.json");
	struct host *h = open_path(path, true);
	struct reg_value v = {.type = REGT_DWORD, .num = 0};
	struct svc_config_change c = SVC_CONFIG_CHANGE_NONE;
	struct file_info fi;
	struct svc_config cfg;
	char *tmp;

	c.account = "LocalSystem";
	cr_assert_eq(h->ops->service_change_config(h, "BITS", &c), HR_OK);
	cr_assert_eq(h->ops->service_start(h, "BITS"), HR_OK);
	cr_assert_eq(h->ops->reg_set(h, WU_KEY "\\AU", "UseWUServer", &v),
		     HR_OK);
	cr_assert_eq(h->ops->file_rename(h, SD, SD ".old"), HR_OK);
	host_close(h);
	tmp = xasprintf("%s.tmp", path);
	cr_assert_neq(access(tmp, F_OK), 0, "the temporary file is left");
	free(tmp);
	h = open_path(path, false);
	cr_assert_eq(fx_service_state(h, "BITS"), SVC_RUNNING);
	cr_assert_eq(h->ops->service_config(h, "BITS", &cfg), HR_OK);
	cr_assert_str_eq(cfg.account, "LocalSystem");
	svc_config_clear(&cfg);
	cr_assert_eq(h->ops->reg_get(h, WU_KEY "\\AU", "UseWUServer", &v),
		     HR_OK);
	cr_assert_eq(v.type, REGT_DWORD);
	cr_assert_eq(v.num, 0);
	cr_assert_eq(h->ops->file_stat(h, SD ".old\\DataStore", &fi), HR_OK);
	host_close(h);
	free(path);
}

Test(sim, no_writeback_leaves_the_file)
{
	char *path = copy_example("healthy.json"), *before, *after;
	struct host *h = open_path(path, false);
	struct svc_status st;

	before = fx_slurp(path, NULL);
	cr_assert_eq(h->ops->service_control(h, "BITS", SVC_CONTROL_STOP, &st),
		     HR_OK);
	host_close(h);
	after = fx_slurp(path, NULL);
	cr_assert_str_eq(before, after);
	free(before);
	free(after);
	free(path);
}

Test(sim, snapshot_is_a_copy_and_only_for_sim_hosts)
{
	static const struct host_ops other = {.kind = "other"};
	struct host fake = {.ops = &other};
	struct host *h = fx_open_example("healthy.json");
	cJSON *snap = host_sim_snapshot(h);

	cr_assert_null(host_sim_snapshot(&fake));
	cr_assert_null(host_sim_snapshot(NULL));
	cJSON_DeleteItemFromObject(snap, "services");
	cJSON_Delete(snap);
	cr_assert_eq(fx_service_state(h, "BITS"), SVC_RUNNING);
	host_close(h);
}

/* ---- loader errors ----------------------------------------------------- */

/* The error after "PATH: ", where PATH is the host file. */
static void
expect_error(const char *text, const char *want)
{
	char err[512] = "", *prefix = xasprintf("%s/host.json: ", tmpdir);

	open_fails(text, err, sizeof(err));
	cr_assert(strncmp(err, prefix, strlen(prefix)) == 0, "%s", err);
	cr_assert_str_eq(err + strlen(prefix), want);
	free(prefix);
}

Test(sim, loader_errors_name_the_path)
{
	expect_error("{" COMPUTER ",\"foo\":1}", "foo: unknown key");
	expect_error("{" COMPUTER ",\"services\":{\"BITS\":{\"start_type\":"
		     "\"foo\"}}}",
		     "services.BITS.start_type: unknown value \"foo\" "
		     "(expected boot, system, auto, demand, disabled)");
	expect_error("{" COMPUTER ",\"services\":{\"BITS\":{\"dependencies\":"
		     "5}}}",
		     "services.BITS.dependencies: expected an array of "
		     "strings");
	expect_error("{" COMPUTER ",\"services\":{\"BITS\":{\"fault\":"
		     "{\"start\":70000}}}}",
		     "services.BITS.fault.start: expected a Win32 error "
		     "number (0 to 65535)");
	expect_error("{" COMPUTER ",\"services\":{\"BITS\":{\"fault\":"
		     "{\"config_ops\":{\"privileges\":124}}}}}",
		     "services.BITS.fault.config_ops.privileges: unknown key");
	expect_error("{" COMPUTER ",\"fault\":{\"registry_write_keys\":"
		     "{\"HKXY\\\\A\":5}}}",
		     "fault.registry_write_keys.HKXY\\A: a key starts with "
		     "HKLM, HKCU, HKCR, HKU or HKCC (or their HKEY_ names)");
	expect_error("{" COMPUTER ",\"fault\":{\"registry_write_keys\":"
		     "{\"HKLM\\\\A\":\"x\"}}}",
		     "fault.registry_write_keys.HKLM\\A: expected a Win32 "
		     "error number (0 to 65535)");
	expect_error("{" COMPUTER ",\"services\":{\"BITS\":{},\"bits\":{}}}",
		     "services.bits: the same name as \"BITS\" (names are "
		     "case-insensitive)");
	expect_error("{\"services\":{}}", "computer: missing (required)");
	expect_error("[1]", "expected an object");
	expect_error("{" COMPUTER ",\"registry\":{\"HKXY\\\\A\":{}}}",
		     "registry.HKXY\\A: a key starts with HKLM, HKCU, HKCR, "
		     "HKU or HKCC (or their HKEY_ names)");
	expect_error("{" COMPUTER ",\"registry\":{\"HKLM\\\\A\":{\"v\":"
		     "{\"type\":\"REG_BINARY\",\"data\":\"abc\"}}}}",
		     "registry.HKLM\\A.v: data: expected a hex string "
		     "(\"0a1b\")");
	expect_error("{" COMPUTER ",\"registry\":{\"HKLM\\\\A\":{\"v\":-1}}}",
		     "registry.HKLM\\A.v: expected an integer from 0 to "
		     "4294967295 (REG_DWORD)");
	expect_error("{" COMPUTER ",\"files\":{\"C:\\\\x\":{\"text\":\"a\","
		     "\"text_file\":\"b\"}}}",
		     "files.C:\\x: text and text_file are exclusive");
	expect_error("{" COMPUTER ",\"events\":[{\"log\":\"System\","
		     "\"time\":\"yesterday\"}]}",
		     "events[0].time: expected an RFC 3339 time "
		     "(\"2026-11-20T10:00:00Z\")");
	expect_error("{" COMPUTER ",\"bits_jobs\":[{\"error\":\"0xZZ\"}]}",
		     "bits_jobs[0].error: expected an HRESULT "
		     "(\"0x80200013\")");
	expect_error("{" COMPUTER ",\"volumes\":{\"C:\":{\"free_bytes\":2,"
		     "\"total_bytes\":1}}}",
		     "volumes.C:: free_bytes is larger than total_bytes");
}

Test(sim, loader_errors_files_and_json)
{
	char err[512] = "";
	char *missing = xasprintf("%s/none.json", tmpdir);

	expect_error("{\n  \"computer\": {,\n}", "invalid JSON at line 2, "
						 "column 17");
	expect_error("{" COMPUTER "} x", "unexpected text after the document "
					 "at line 1, column 53");
	expect_error("", "invalid JSON at line 1, column 1");
	cr_assert_null(host_sim_open(missing, false, err, sizeof(err)));
	cr_assert_not_null(strstr(err, "none.json: cannot read: No such file"),
			   "%s", err);
	open_fails("{" COMPUTER ",\"files\":{\"C:\\\\x\":{\"text_file\":"
		   "\"logs/none.log\"}}}",
		   err, sizeof(err));
	cr_assert_not_null(strstr(err, "files.C:\\x.text_file: cannot read"),
			   "%s", err);
	free(missing);
}

Test(sim, parse_survives_every_truncation_and_garbage)
{
	char *path = fx_example_path("healthy.json"), err[512];
	size_t len;
	char *text = fx_slurp(path, &len);
	cJSON *doc;

	/* Each prefix is bad JSON; none may crash or pass unnoticed. */
	for (size_t n = 0; n < len - 1; n++) {
		char *cut = xmalloc(n + 1);

		memcpy(cut, text, n);
		err[0] = '\0';
		doc = host_sim_parse(cut, n, "cut", err, sizeof(err));
		cr_assert_null(doc, "prefix of %zu bytes parsed", n);
		cr_assert_neq(err[0], '\0');
		free(cut);
	}
	/* Each byte flipped: either a valid host or an error. */
	for (size_t i = 0; i < len; i += 3) {
		char saved = text[i];

		text[i] = (char)(saved ^ 0x5A);
		err[0] = '\0';
		doc = host_sim_parse(text, len, "flip", err, sizeof(err));
		cr_assert(doc != NULL || err[0] != '\0');
		cJSON_Delete(doc);
		text[i] = saved;
	}
	doc = host_sim_parse(text, len, "whole", err, sizeof(err));
	cr_assert_not_null(doc, "%s", err);
	cJSON_Delete(doc);
	free(text);
	free(path);
}

/* ---- concurrency and the network --------------------------------------- */

struct worker {
	struct host *h;
	int id;
};

static void *
writer(void *arg)
{
	struct worker *w = arg;
	struct reg_value v = {.type = REGT_DWORD};
	struct svc_status st;
	char name[32];

	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "w%d_%d", w->id, i);
		v.num = (uint64_t)i;
		if (w->h->ops->reg_set(w->h, "HKLM\\T", name, &v) != HR_OK)
			return "reg_set failed";
		w->h->ops->service_status(w->h, "BITS", &st);
	}
	return NULL;
}

Test(sim, concurrent_operations_keep_every_change)
{
	struct host *h = fx_open_example("healthy.json");
	struct worker w[4];
	pthread_t t[4];
	struct reg_value v;
	void *rc;

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){h, i};
		cr_assert_eq(pthread_create(&t[i], NULL, writer, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(pthread_join(t[i], &rc), 0);
		cr_assert_null(rc, "%s", (char *)rc);
	}
	for (int i = 0; i < 4; i++) {
		char name[32];

		snprintf(name, sizeof(name), "W%d_99", i);
		cr_assert_eq(h->ops->reg_get(h, "hklm\\t", name, &v), HR_OK);
		cr_assert_eq(v.num, 99);
	}
	host_close(h);
}

Test(sim, http_probe_is_real)
{
	struct host *h = fx_open_example("healthy.json");
	struct probe_request req = {
	    .method = "HEAD", .url = "http://127.0.0.1:1/", .timeout_ms = 3000};
	struct probe_result r = {0};

	/* Nothing listens on port 1: a real refused connection. */
	cr_assert_eq(h->ops->http_probe(h, &req, &r), 0x80072EFDu);
	cr_assert_lt(r.reached, PROBE_CONNECT);
	probe_result_clear(&r);
	host_close(h);
}
