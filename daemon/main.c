/*
 * main.c: wsusdiagd's command line, start-up and shutdown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/audit.h"
#include "api/internal.h"
#include "common/xalloc.h"
#include "daemon/config.h"
#include "daemon/httpd.h"
#include "daemon/init.h"
#include "daemon/listener.h"
#include "daemon/log.h"
#include "daemon/service.h"
#include "daemon/tls.h"
#include "platform/net.h"
#include "platform/sys.h"

/*
 * The largest request head: the listener answers 431 problem+json over
 * it, and MHD's pool is 8 KiB larger (httpd.c). Not a config key.
 */
#define HEAD_BYTES 16384

struct options {
	const char *config;
	const char *listen;
	const char *host;
	const char *log_level;
	bool check_config;
	bool writeback;
	bool insecure_http;
};

static const char usage[] =
    "usage: wsusdiagd --config FILE [options]\n"
    "       wsusdiagd init --dir DIR\n"
    "       wsusdiagd hash-token < token\n"
    "       wsusdiagd routes\n"
    "       wsusdiagd install --config FILE   (Windows service)\n"
    "       wsusdiagd uninstall\n"
    "\n"
    "options:\n"
    "  --config FILE        the configuration (wsusdiagd init writes one)\n"
    "  --listen ADDR:PORT   override \"listen\" (e.g. 127.0.0.1:8550)\n"
    "  --host sim:FILE|win32\n"
    "                       override \"host\": a simulated host file or the\n"
    "                       real Windows host\n"
    "  --sim-writeback      write a simulated host's changes back to FILE\n"
    "  --insecure-http      serve plain HTTP instead of TLS; only allowed\n"
    "                       on a loopback address\n"
    "  --log-level LEVEL    debug, info (default), warn or error\n"
    "  --check-config       validate the configuration and exit\n"
    "  --version            print the version and exit\n"
    "  --help               print this help and exit\n";

static int
parse_options(int argc, char **argv, struct options *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;

		if (strcmp(a, "--config") == 0)
			slot = &o->config;
		else if (strcmp(a, "--listen") == 0)
			slot = &o->listen;
		else if (strcmp(a, "--host") == 0)
			slot = &o->host;
		else if (strcmp(a, "--log-level") == 0)
			slot = &o->log_level;
		else if (strcmp(a, "--check-config") == 0)
			o->check_config = true;
		else if (strcmp(a, "--sim-writeback") == 0)
			o->writeback = true;
		else if (strcmp(a, "--insecure-http") == 0)
			o->insecure_http = true;
		else {
			fprintf(stderr, "wsusdiagd: unknown option %s\n%s", a,
				usage);
			return -1;
		}
		if (slot != NULL) {
			if (i + 1 >= argc) {
				fprintf(stderr, "wsusdiagd: %s needs a value\n",
					a);
				return -1;
			}
			*slot = argv[++i];
		}
	}
	if (o->config == NULL) {
		fprintf(stderr, "wsusdiagd: --config FILE is required "
				"(wsusdiagd init --dir DIR writes one)\n");
		return -1;
	}
	return 0;
}

static bool
is_loopback(const char *host)
{
	static const uint8_t v6_loopback[16] = {[15] = 1};
	uint8_t a[16];
	bool v4;

	if (!plat_inet_parse(host, a, &v4))
		return false;
	return v4 ? a[12] == 127 : memcmp(a, v6_loopback, 16) == 0;
}

static int
load_config(const struct options *o, struct wsd_config *c)
{
	enum log_level lvl;
	char err[768];

	config_defaults(c);
	if (o->log_level != NULL) {
		if (!log_parse_level(o->log_level, &lvl)) {
			fprintf(stderr, "wsusdiagd: --log-level: expected "
					"debug, info, warn or error\n");
			return -1;
		}
		log_set_level(lvl);
	}
	if (config_load(c, o->config, err, sizeof(err)) != 0)
		goto fail;
	if (o->listen != NULL &&
	    config_parse_listen(o->listen, c->listen_host,
				sizeof(c->listen_host), &c->listen_port) != 0) {
		snprintf(err, sizeof(err),
			 "--listen: expected ADDRESS:PORT, got \"%s\"",
			 o->listen);
		goto fail;
	}
	if (o->host != NULL &&
	    config_parse_host(c, o->host, err, sizeof(err)) != 0)
		goto fail;
	if (config_check_files(c, err, sizeof(err)) != 0)
		goto fail;
	if (o->insecure_http && !is_loopback(c->listen_host)) {
		snprintf(err, sizeof(err),
			 "--insecure-http is only allowed on a loopback "
			 "address (127.0.0.0/8 or ::1), not %s: anyone on the "
			 "network could read the tokens",
			 c->listen_host);
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "wsusdiagd: %s\n", err);
	return -1;
}

struct daemon {
	struct wsd_config cfg;
	struct check_settings settings;
	struct api_ctx api;
	struct host *host;
	struct tls_server *tls;
	struct httpd *httpd;
	struct listener *listener;
};

/* Everything that can fail on bad input, before anything listens. */
static int
open_parts(struct daemon *d, const struct options *o)
{
	char err[768];

	if (d->cfg.host_kind == HOST_SIM)
		d->host = host_sim_open(d->cfg.host_path, o->writeback, err,
					sizeof(err));
	else
		d->host = host_win32_open(err, sizeof(err));
	if (d->host == NULL)
		goto fail;
	if (!o->insecure_http &&
	    (d->tls = tls_server_new(d->cfg.tls_cert, d->cfg.tls_key,
				     d->cfg.tls_client_ca, err, sizeof(err))) ==
		NULL)
		goto fail;
	/* --check-config must not create the audit file. */
	if (o->check_config)
		return 0;
	d->api.audit = audit_open(d->cfg.audit_log);
	if (d->api.audit == NULL) {
		snprintf(err, sizeof(err), "audit_log: %s: cannot open",
			 d->cfg.audit_log);
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "wsusdiagd: %s\n", err);
	return -1;
}

static int
serve(struct daemon *d, bool insecure)
{
	struct httpd_limits hl = {d->cfg.max_connections, d->cfg.idle_timeout_s,
				  d->cfg.body_bytes, HEAD_BYTES};
	struct listener_config lc = {0};
	char err[512];

	d->httpd = httpd_new(&d->api, &hl);
	lc.host = d->cfg.listen_host;
	lc.port = d->cfg.listen_port;
	lc.tls = d->tls;
	lc.httpd = d->httpd;
	lc.auth = &d->cfg.auth;
	lc.max_connections = d->cfg.max_connections;
	lc.per_ip = d->cfg.per_ip;
	lc.handshake_timeout_s = d->cfg.handshake_timeout_s;
	lc.idle_timeout_s = d->cfg.idle_timeout_s;
	d->listener = listener_start(&lc, err, sizeof(err));
	if (d->listener == NULL)
		goto fail;
	log_info("listening on %s://%s%s%s:%u (host: %s%s%s)",
		 insecure ? "http" : "https", strchr(lc.host, ':') ? "[" : "",
		 lc.host, strchr(lc.host, ':') ? "]" : "",
		 (unsigned)listener_port(d->listener), d->host->ops->kind,
		 d->cfg.host_kind == HOST_SIM ? " " : "",
		 d->cfg.host_kind == HOST_SIM ? d->cfg.host_path : "");
	return 0;
fail:
	fprintf(stderr, "wsusdiagd: %s\n", err);
	return -1;
}

/* What open_parts and run_daemon made; each part may be missing. */
static void
close_parts(struct daemon *d)
{
	check_tracker_free(d->api.tracker);
	tls_server_free(d->tls);
	audit_close(d->api.audit);
	action_locks_free(d->api.locks);
	host_close(d->host);
	config_free(&d->cfg);
	free(d);
}

/*
 * Stop what serves, if anything does. False when some thread still uses
 * the parts: they are then left to the process's exit.
 */
static bool
shutdown_daemon(struct daemon *d)
{
	if (d->listener != NULL) {
		if (!listener_stop(d->listener, 10000))
			return false;
		listener_free(d->listener);
		d->listener = NULL;
	}
	httpd_stop(d->httpd);
	d->httpd = NULL;
	/* A check abandoned past its time limit may still be at the host. */
	if (d->api.tracker != NULL &&
	    !check_tracker_drain(d->api.tracker, 10000)) {
		log_warnx("a check is still running at exit; leaving the host "
			  "open");
		return false;
	}
	return true;
}

/* Everything from the configuration to a stop request. */
static int
start_and_wait(struct daemon *d, const struct options *o)
{
	const char *why;

	if (plat_process_init() != 0) {
		fprintf(stderr, "wsusdiagd: cannot initialise the platform\n");
		return 1;
	}
	if (open_parts(d, o) != 0)
		return 1;
	config_wire_api(&d->cfg, &d->settings, &d->api);
	d->api.host = d->host;
	if (o->check_config) {
		printf("%s: configuration OK\n", o->config);
		return 0;
	}
	if (serve(d, o->insecure_http) != 0)
		return 1;
	service_ready();
	why = plat_stop_wait();
	log_info("%s: shutting down", why);
	return 0;
}

/*
 * d is on the heap and freed on every path, so that a part the shutdown
 * forgets to release shows as a leak (LeakSanitizer, valgrind).
 */
static int
run_daemon(int argc, char **argv)
{
	struct daemon *d = xcalloc(1, sizeof(*d));
	struct options o = {0};
	bool served;
	int rc = 2;

	if (parse_options(argc, argv, &o) != 0 || load_config(&o, &d->cfg) != 0)
		goto out;
	rc = start_and_wait(d, &o);
	served = d->listener != NULL;
	if (!shutdown_daemon(d))
		return rc;
	if (served)
		log_info("stopped");
out:
	close_parts(d);
	return rc;
}

static int
print_routes(void)
{
	for (size_t i = 0; i < route_count; i++)
		printf("%s %s %s\n", route_table[i].method,
		       route_table[i].pattern, role_name(route_table[i].role));
	return 0;
}

int
main(int argc, char **argv)
{
	/*
	 * log.c writes each line with one fwrite and expects it out at
	 * once; Microsoft's C runtime buffers stderr when it is a file or a
	 * pipe.
	 */
	setvbuf(stderr, NULL, _IONBF, 0);
	if (argc >= 2 && strcmp(argv[1], "init") == 0) {
		if (argc != 4 || strcmp(argv[2], "--dir") != 0) {
			fprintf(stderr, "usage: wsusdiagd init --dir DIR\n");
			return 2;
		}
		/* On Windows this sets mbedTLS's locks, which seeding needs. */
		if (plat_process_init() != 0) {
			fprintf(stderr, "wsusdiagd: cannot initialise the "
					"platform\n");
			return 1;
		}
		return wsd_init(argv[3], stdout);
	}
	if (argc >= 2 && strcmp(argv[1], "install") == 0) {
		if (argc != 4 || strcmp(argv[2], "--config") != 0) {
			fprintf(stderr,
				"usage: wsusdiagd install --config FILE\n");
			return 2;
		}
		return service_install(argv[3]);
	}
	if (argc == 2 && strcmp(argv[1], "uninstall") == 0)
		return service_uninstall();
	if (argc == 2 && strcmp(argv[1], "hash-token") == 0)
		return wsd_hash_token(stdin, stdout);
	if (argc == 2 && strcmp(argv[1], "routes") == 0)
		return print_routes();
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("wsusdiagd %s (%s build)\n", WSUSDIAG_VERSION,
		       plat_build_name());
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	/* argv[1] becomes the program name: the options follow it. */
	if (argc >= 2 && strcmp(argv[1], "--service") == 0)
		return service_run(run_daemon, argc - 1, argv + 1);
	return run_daemon(argc, argv);
}
