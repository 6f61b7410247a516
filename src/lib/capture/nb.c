/*
 * lib/capture/nb.c — a Jupyter notebook's code cells as one script, so two
 * runs' notebooks can be compared by their code rather than by their JSON
 * (outputs, execution counts and metadata change on every run).
 *
 * The script is the percent format that editors understand: "# %%" before
 * each code cell, cells in order, each ending with a newline.  nbformat 4
 * (cells[].source) and 3 (worksheets[].cells[].input) are read; source is a
 * string or an array of strings.  Input is bounded by the JSON parser's
 * limits.  Stateless and thread-safe.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/capture/capture.h"

static void add_source(buf *b, const json *src)
{
	size_t before = b->len;
	if (src && src->type == JSON_STR) {
		buf_add(b, src->str, src->len);
	} else if (src && src->type == JSON_ARR) {
		for (const json *x = src->child; x; x = x->next)
			if (x->type == JSON_STR)
				buf_add(b, x->str, x->len);
	}
	if (b->len > before && b->ptr[b->len - 1] != '\n')
		buf_putc(b, '\n');
}

static void add_cells(buf *b, const json *cells, const char *field)
{
	if (!cells || cells->type != JSON_ARR)
		return;
	for (const json *c = cells->child; c; c = c->next) {
		const char *type = json_get_str(c, "cell_type");
		if (!type || strcmp(type, "code") != 0)
			continue;
		buf_puts(b, "# %%\n");
		add_source(b, json_get(c, field));
	}
}

int cairn_notebook_code(char **out, const void *ipynb, size_t len)
{
	char err[160];
	*out = NULL;
	if (!ipynb)
		return err_set(CAIRN_EINVALID, "no notebook");
	json_limits lim = {64, NOTEBOOK_MAX};
	json_doc *d = json_parse(ipynb, len, &lim, err, sizeof err);
	if (!d)
		return err_set(CAIRN_EINVALID, "not a notebook: %s", err);
	const json *r = json_root(d);
	const json *cells = json_get(r, "cells");
	const json *ws = json_get(r, "worksheets");
	if (r->type != JSON_OBJ ||
	    (!(cells && cells->type == JSON_ARR) && !(ws && ws->type == JSON_ARR))) {
		json_doc_free(d);
		return err_set(CAIRN_EINVALID, "not a notebook: no cells");
	}
	buf b = BUF_INIT;
	if (cells && cells->type == JSON_ARR)
		add_cells(&b, cells, "source");
	else
		for (const json *w = ws->child; w; w = w->next)
			add_cells(&b, json_get(w, "cells"), "input");
	json_doc_free(d);
	*out = buf_detach(&b);
	return *out ? 0 : err_set(CAIRN_ENOMEM, "out of memory");
}
