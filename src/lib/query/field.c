/*
 * lib/query/field.c — a field name of the query language, parsed for callers
 * (cairn_field_parse, cairn/record.h): what `cairn ls --columns`, `cairn best`
 * and the web UI use to read a field's value out of a record with
 * cairn_run_record_field.  Built on the parser's qfield_parse and
 * qfield_name, so a field means the same here as in a query.  The struct
 * owns its two strings (cairn_field_free).  Stateless; thread-safe.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"
#include "lib/query/query.h"

_Static_assert((int)QK_ATTR == (int)CAIRN_FIELD_ATTRIBUTE &&
                   (int)QK_TAGS == (int)CAIRN_FIELD_TAGS && (int)QK_FILES == (int)CAIRN_FIELD_FILES,
               "cairn_field_kind follows qkind");
_Static_assert((int)QM_STEP == (int)CAIRN_METRIC_STEP &&
                   (int)QD_BYTES == (int)CAIRN_DATASET_BYTES &&
                   (int)QF_WROTE == (int)CAIRN_FILES_WROTE,
               "field parts follow the parser's");

int cairn_field_parse(cairn_field *f, const char *text, size_t *pos)
{
	qexpr e = {0};
	qfield qf;
	qerror err;
	int rc = 0;
	memset(f, 0, sizeof *f);
	f->part = -1;
	if (pos)
		*pos = 0;
	if (!text)
		return err_set(CAIRN_EINVALID, "no field");
	if (qfield_parse(&qf, &e, text, &err) != 0) {
		if (pos)
			*pos = err.pos;
		rc = qerror_raise(&err, "field", text);
		goto done;
	}
	char name[320];
	qfield_name(name, sizeof name, &qf);
	f->kind = (cairn_field_kind)qf.kind;
	f->name = strdup(name);
	if (qf.kind == QK_ATTR) {
		const char *an = qattr_name((qattr)qf.part);
		const char *dot = strrchr(an, '.');
		f->key = strdup(dot ? dot + 1 : an);
	} else if (qf.kind == QK_FILES) {
		f->key = strdup(name);
	} else {
		f->key = strdup(qf.key ? qf.key : "tags");
	}
	if (qf.kind == QK_METRIC || qf.kind == QK_DATASET || qf.kind == QK_FILES)
		f->part = qf.part;
	if (!f->name || !f->key) {
		cairn_field_free(f);
		rc = err_set(CAIRN_ENOMEM, "out of memory");
	}
done:
	qexpr_free(&e);
	return rc;
}

void cairn_field_free(cairn_field *f)
{
	if (!f)
		return;
	free(f->name);
	free(f->key);
	memset(f, 0, sizeof *f);
	f->part = -1;
}
