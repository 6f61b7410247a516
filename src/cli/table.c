/*
 * cli/table.c — the tables the CLI prints (cli.h): text width on a terminal
 * (UTF-8, wide characters), fitting a table to the terminal, and CSV.
 *
 * A table owns copies of its headers and cells, made safe for a terminal
 * (cli_safe_dup).  Fitting has two modes.  A table whose columns carry
 * priorities (table_priority, `cairn ls`) is *ranked*: whole columns are
 * taken in priority order while they fit, so a column is left out before
 * any cell is cut, and TABLE_KEEP columns (an id, a name) always show,
 * whole.  Other tables (show, compare) shrink their widest column first.
 * Either way cells are cut, with "…", only when the output is a terminal:
 * into a pipe or a file every cell is whole.  Group labels (table_group) go
 * on one line over the headers, each over its group's consecutive columns,
 * which widen when the label is longer.  One thread per table.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* Decode one UTF-8 code point at *p (advancing it); invalid bytes are one
 * replacement-width column each. */
static uint32_t next_cp(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;
	uint32_t c = s[0];
	int n = c < 0x80 ? 0 : c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
	if (n)
		c &= 0x3F >> n;
	int i = 1;
	for (; i <= n && (s[i] & 0xC0) == 0x80; i++)
		c = (c << 6) | (s[i] & 0x3F);
	*p += i;
	return c;
}

/* Terminal columns of a code point: 2 for East Asian wide and fullwidth
 * forms and emoji, 0 for combining marks, else 1. */
static size_t cp_width(uint32_t c)
{
	if ((c >= 0x0300 && c <= 0x036F) || (c >= 0x200B && c <= 0x200F) || c == 0xFE0F)
		return 0;
	if ((c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF) ||
	    (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
	    (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
	    (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1FAFF) ||
	    (c >= 0x20000 && c <= 0x3FFFD))
		return 2;
	return 1;
}

size_t cli_strwidth(const char *s)
{
	size_t w = 0;
	while (*s)
		w += cp_width(next_cp(&s));
	return w;
}

struct table {
	int ncols;
	char **head;
	bool *right;
	char **cells;     /* nrows * ncols */
	const char **sgr; /* nrows * ncols, NULL: no colour */
	size_t nrows, cap;
	/* fitting by priority (table_priority): */
	bool ranked;
	int *prio;
	char **group, **shorthead; /* table_group; NULL: none */
	bool *shown;               /* after table_print */
	/* streaming (table_measure, table_print_head, table_print_row): */
	size_t *mw; /* widest measured cell per column */
	size_t *w;  /* the layout, set by table_print_head: w[c] + w[n + c] */
	int last;   /* the last shown column */
	bool color; /* cells coloured (set by table_print_head) */
};

table *table_new(int ncols)
{
	table *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->ncols = ncols;
	size_t n = (size_t)(ncols ? ncols : 1);
	t->head = calloc(n, sizeof *t->head);
	t->right = calloc(n, sizeof *t->right);
	t->prio = calloc(n, sizeof *t->prio);
	t->group = calloc(n, sizeof *t->group);
	t->shorthead = calloc(n, sizeof *t->shorthead);
	t->shown = calloc(n, sizeof *t->shown);
	t->mw = calloc(n, sizeof *t->mw);
	t->w = calloc(n * 2, sizeof *t->w);
	if (!t->head || !t->right || !t->prio || !t->group || !t->shorthead || !t->shown ||
	    !t->mw || !t->w) {
		table_free(t);
		return NULL;
	}
	return t;
}

void table_priority(table *t, int col, int prio)
{
	t->ranked = true;
	t->prio[col] = prio;
}

void table_group(table *t, int col, const char *group, const char *short_head)
{
	free(t->group[col]);
	free(t->shorthead[col]);
	t->group[col] = group ? cli_safe_dup(group, 0) : NULL;
	t->shorthead[col] = short_head ? cli_safe_dup(short_head, 0) : NULL;
}

bool table_shown(const table *t, int col)
{
	return t && col >= 0 && col < t->ncols && t->shown[col];
}

void table_header(table *t, int col, const char *text)
{
	free(t->head[col]);
	t->head[col] = cli_safe_dup(text, 0);
}

void table_align_right(table *t, int col, bool right)
{
	t->right[col] = right;
}

void table_row(table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 16;
		char **n = realloc(t->cells, nc * (size_t)t->ncols * sizeof *n);
		if (!n)
			return;
		t->cells = n;
		const char **ns = realloc(t->sgr, nc * (size_t)t->ncols * sizeof *ns);
		if (!ns)
			return;
		t->sgr = ns;
		t->cap = nc;
	}
	for (int c = 0; c < t->ncols; c++) {
		/* single-line and safe for a terminal, whatever the store holds */
		t->cells[t->nrows * (size_t)t->ncols + (size_t)c] = cli_safe_dup(cells[c], 0);
		t->sgr[t->nrows * (size_t)t->ncols + (size_t)c] = NULL;
	}
	t->nrows++;
}

/* Print s padded/truncated to exactly w columns. */
static void put_cell(FILE *f, const char *s, size_t w, bool right)
{
	size_t sw = cli_strwidth(s);
	if (sw <= w) {
		if (right)
			for (size_t i = sw; i < w; i++)
				fputc(' ', f);
		fputs(s, f);
		if (!right)
			for (size_t i = sw; i < w; i++)
				fputc(' ', f);
		return;
	}
	/* truncate to at most w-1 columns and an ellipsis (pad if a wide
	 * character does not fit) */
	size_t used = 0;
	const char *p = s;
	while (*p) {
		const char *q = p;
		size_t cw = cp_width(next_cp(&q));
		if (used + cw > (w ? w - 1 : 0))
			break;
		used += cw;
		p = q;
	}
	if (right)
		for (size_t i = used + 1; i < w; i++)
			fputc(' ', f);
	fwrite(s, 1, (size_t)(p - s), f);
	if (w)
		fputs("…", f);
	if (!right)
		for (size_t i = used + 1; i < w; i++)
			fputc(' ', f);
}

void table_cell_color(table *t, size_t row, int col, const char *sgr)
{
	if (row < t->nrows && col >= 0 && col < t->ncols)
		t->sgr[row * (size_t)t->ncols + (size_t)col] = sgr;
}

size_t table_nrows(const table *t)
{
	return t ? t->nrows : 0;
}

/* The header a column shows in the table form. */
static const char *head_of(const table *t, int c)
{
	if (t->group[c] && t->shorthead[c])
		return t->shorthead[c];
	return t->head[c] ? t->head[c] : "";
}

static bool same_group(const table *t, int a, int b)
{
	return a >= 0 && t->group[a] && t->group[b] && strcmp(t->group[a], t->group[b]) == 0;
}

/* Total width of the shown columns; a group label wider than its columns
 * widens the group's last column (extra[c]). */
static size_t layout_width(const table *t, const size_t *w, const bool *on, size_t *extra)
{
	size_t total = 0, span = 0;
	int prev = -1, first = -1;
	for (int c = 0; c <= t->ncols; c++) {
		bool in = c < t->ncols && on[c];
		if (c < t->ncols)
			extra[c] = 0;
		if (!in && c < t->ncols)
			continue;
		/* close the group run that ends before c */
		if (prev >= 0 && t->group[prev] && (c == t->ncols || !same_group(t, prev, c))) {
			size_t lw = cli_strwidth(t->group[first]);
			if (lw > span) {
				extra[prev] = lw - span;
				total += lw - span;
			}
		}
		if (c == t->ncols)
			break;
		if (!same_group(t, prev, c)) {
			first = c;
			span = 0;
		}
		span += w[c] + (first == c ? 0 : 2);
		total += w[c] + (prev >= 0 ? 2 : 0);
		prev = c;
	}
	return total;
}

/* Ranked fitting: columns are taken in priority order (ties: left first),
 * each whole if it still fits, else left out — so columns are dropped, never
 * cut; a column of TABLE_KEEP is always shown.  A table without kept
 * columns whose first column does not fit shows it anyway, cut to fit on a
 * terminal. */
static void fit_ranked(table *t, size_t *w, size_t *extra, int width, bool cut)
{
	int n = t->ncols;
	bool *tried = calloc((size_t)(n ? n : 1), sizeof *tried);
	if (!tried)
		return;
	bool any = false;
	for (int c = 0; c < n; c++) {
		t->shown[c] = tried[c] = t->prio[c] >= TABLE_KEEP;
		any |= t->shown[c];
	}
	for (;;) {
		int best = -1;
		for (int c = 0; c < n; c++)
			if (!tried[c] && (best < 0 || t->prio[c] > t->prio[best]))
				best = c;
		if (best < 0)
			break;
		tried[best] = t->shown[best] = true;
		if (layout_width(t, w, t->shown, extra) <= (size_t)width) {
			any = true;
		} else if (!any) {
			any = true;
			while (cut && w[best] > 6 &&
			       layout_width(t, w, t->shown, extra) > (size_t)width)
				w[best]--;
		} else {
			t->shown[best] = false;
		}
	}
	free(tried);
	layout_width(t, w, t->shown, extra);
}

/* The old way, for tables without priorities: shrink the widest column
 * first, not below 6, then leave out trailing columns. */
static void fit_shrink(table *t, size_t *w, int width)
{
	int shown = t->ncols;
	for (;;) {
		size_t total = 0;
		for (int c = 0; c < shown; c++)
			total += w[c] + (c ? 2 : 0);
		if (total <= (size_t)width)
			break;
		int widest = 0;
		for (int c = 1; c < shown; c++)
			if (w[c] > w[widest])
				widest = c;
		if (w[widest] <= 6) {
			if (shown > 1) {
				shown--;
				continue;
			}
			break;
		}
		w[widest]--;
	}
	for (int c = 0; c < t->ncols; c++)
		t->shown[c] = c < shown;
}

void table_measure(table *t, const char *const *cells)
{
	for (int c = 0; c < t->ncols; c++) {
		char *safe = cli_safe_dup(cells[c], 0);
		size_t cw = cli_strwidth(safe ? safe : "");
		if (cw > t->mw[c])
			t->mw[c] = cw;
		free(safe);
	}
}

/* One line of cells in the layout, without its newline (sgrs: a colour per
 * cell, or NULL). */
static void put_row(table *t, FILE *f, const char *const *cells, const char *const *sgrs)
{
	size_t *w = t->w, *extra = t->w + t->ncols;
	bool sep = false;
	for (int c = 0; c < t->ncols; c++) {
		if (!t->shown[c])
			continue;
		if (sep)
			fputs("  ", f);
		sep = true;
		const char *cell = cells[c] ? cells[c] : "";
		const char *sgr = t->color && sgrs ? sgrs[c] : NULL;
		size_t cw = w[c] + extra[c];
		if (sgr)
			fprintf(f, "\033[%sm", sgr);
		if (c == t->last && !t->right[c] && cli_strwidth(cell) <= cw)
			fputs(cell, f); /* trailing column: do not pad */
		else
			put_cell(f, cell, cw, t->right[c]);
		if (sgr)
			fputs("\033[0m", f);
	}
}

int table_print_head(table *t, FILE *f, int width)
{
	int n = t->ncols;
	size_t *w = t->w, *extra = t->w + n;
	/* Cells are cut only on a terminal: into a pipe or a file every cell
	 * is whole, and only whole columns are left out (ranked tables, when
	 * $COLUMNS gives a width). */
	bool cut = cli_isatty(f);
	for (int c = 0; c < n; c++) {
		w[c] = cli_strwidth(head_of(t, c));
		if (t->mw[c] > w[c])
			w[c] = t->mw[c];
		for (size_t r = 0; r < t->nrows; r++) {
			size_t cw = cli_strwidth(t->cells[r * (size_t)n + (size_t)c]);
			if (cw > w[c])
				w[c] = cw;
		}
		if (cut && w[c] > 60 && t->prio[c] < TABLE_KEEP)
			w[c] = 60;
		t->shown[c] = true;
	}
	if (width > 0 && t->ranked)
		fit_ranked(t, w, extra, width, cut);
	else if (width > 0 && cut)
		fit_shrink(t, w, width);
	else
		layout_width(t, w, t->shown, extra);
	int hidden = 0;
	bool groups = false;
	t->last = -1;
	for (int c = 0; c < n; c++) {
		if (t->shown[c]) {
			t->last = c;
			groups |= t->group[c] != NULL;
		} else {
			hidden++;
		}
	}
	t->color = cli_color() && f == stdout;
	if (groups) {
		/* one line over the headers: each group's label from its first column */
		size_t x = 0, at = 0;
		int prev = -1;
		if (t->color)
			fputs("\033[1m", f);
		for (int c = 0; c < n; c++) {
			if (!t->shown[c])
				continue;
			if (prev >= 0)
				x += 2;
			if (t->group[c] && !same_group(t, prev, c)) {
				for (; at < x; at++)
					fputc(' ', f);
				fputs(t->group[c], f);
				at += cli_strwidth(t->group[c]);
			}
			x += w[c] + extra[c];
			prev = c;
		}
		if (t->color)
			fputs("\033[0m", f);
		fputc('\n', f);
	}
	const char **heads = calloc((size_t)(n ? n : 1), sizeof *heads);
	if (!heads)
		return hidden;
	for (int c = 0; c < n; c++)
		heads[c] = head_of(t, c);
	if (t->color)
		fputs("\033[1m", f);
	bool color = t->color;
	t->color = false;
	put_row(t, f, heads, NULL);
	t->color = color;
	if (color)
		fputs("\033[0m", f);
	fputc('\n', f);
	free(heads);
	return hidden;
}

void table_print_row(table *t, FILE *f, const char *const *cells, const char *const *sgrs)
{
	char **safe = calloc((size_t)(t->ncols ? t->ncols : 1), sizeof *safe);
	if (!safe)
		return;
	for (int c = 0; c < t->ncols; c++)
		safe[c] = cli_safe_dup(cells[c], 0);
	put_row(t, f, (const char *const *)safe, sgrs);
	fputc('\n', f);
	for (int c = 0; c < t->ncols; c++)
		free(safe[c]);
	free(safe);
}

int table_print(table *t, FILE *f, int width)
{
	int hidden = table_print_head(t, f, width);
	size_t n = (size_t)t->ncols;
	for (size_t r = 0; r < t->nrows; r++) {
		put_row(t, f, (const char *const *)&t->cells[r * n], &t->sgr[r * n]);
		fputc('\n', f);
	}
	return hidden;
}

static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

void table_csv_head(const table *t, FILE *f)
{
	for (int c = 0; c < t->ncols; c++) {
		if (c)
			fputc(',', f);
		csv_field(f, t->head[c] ? t->head[c] : "");
	}
	fputc('\n', f);
}

void table_csv_row(const table *t, FILE *f, const char *const *cells)
{
	for (int c = 0; c < t->ncols; c++) {
		if (c)
			fputc(',', f);
		csv_field(f, cells[c] ? cells[c] : "");
	}
	fputc('\n', f);
}

void table_print_csv(table *t, FILE *f)
{
	table_csv_head(t, f);
	for (size_t r = 0; r < t->nrows; r++)
		table_csv_row(t, f, (const char *const *)&t->cells[r * (size_t)t->ncols]);
}

void table_free(table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows; i++)
		for (int c = 0; c < t->ncols; c++)
			free(t->cells[i * (size_t)t->ncols + (size_t)c]);
	for (int c = 0; t->head && c < t->ncols; c++)
		free(t->head[c]);
	for (int c = 0; c < t->ncols; c++) {
		free(t->group ? t->group[c] : NULL);
		free(t->shorthead ? t->shorthead[c] : NULL);
	}
	free(t->group);
	free(t->shorthead);
	free(t->prio);
	free(t->shown);
	free(t->mw);
	free(t->w);
	free(t->head);
	free(t->right);
	free(t->cells);
	free(t->sgr);
	free(t);
}
