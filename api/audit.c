#include "api/audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/xalloc.h"
#include "platform/host.h"
#include "platform/thread.h"

struct audit {
	FILE *f;
	struct plat_mutex *m;
};

struct audit *
audit_open(const char *path)
{
	struct audit *a;
	FILE *f = NULL;

	if (path != NULL && (f = fopen(path, "a")) == NULL)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	a->f = f;
	a->m = plat_mutex_new();
	return a;
}

void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	if (a->f != NULL)
		fclose(a->f);
	plat_mutex_free(a->m);
	free(a);
}

int
audit_write(struct audit *a, cJSON *record)
{
	char when[32];
	char *line;
	int rc = 0;

	plat_utc_iso(when);
	cJSON_AddStringToObject(record, "time", when);
	line = cJSON_PrintUnformatted(record);
	if (line == NULL)
		abort();
	plat_mutex_lock(a->m);
	fprintf(stderr, "%s AUDIT %s\n", when, line);
	if (a->f != NULL &&
	    (fprintf(a->f, "%s\n", line) < 0 || fflush(a->f) != 0))
		rc = -1;
	plat_mutex_unlock(a->m);
	free(line);
	return rc;
}
