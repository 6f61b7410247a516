/*
 * cli/cli.h — what the subcommands share: option parsing, opening the store,
 * error reporting, and table/CSV output.  The CLI uses only the public API
 * (cairn.h) and util/; it is the only part that prints and chooses exit codes:
 * 0 ok, 1 the operation failed, 2 usage error.
 */
#ifndef CAIRN_CLI_H
#define CAIRN_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "cairn.h"
#include "util/buf.h"

#define EXIT_FAIL  1
#define EXIT_USAGE 2

/* Global options, set by main before dispatch. */
extern const char *cli_store_dir; /* --store DIR */

/* The store as a child process names it in CAIRN_DIR (malloc'ed; NULL with
 * errno set): a directory made absolute, or a URI (postgresql://…) as the
 * user gave it, password included, since cairn_store_path shows it
 * without one. */
char *cli_store_location(cairn_store *s);

/* --- option parsing -------------------------------------------------------- */
typedef struct cli_opt {
	const char *name; /* long name without "--" */
	char short_name;  /* 0 for none */
	bool has_arg;
	int id;
} cli_opt;

typedef struct cli_args {
	const char *cmd; /* for messages */
	int id;          /* the option matched by cli_next */
	const char *val; /* its argument */
	char **pos;      /* positionals collected so far */
	int npos;
	char **argv;
	int argc, i;
	bool stop_at_first_pos; /* `cairn run`: everything after the first positional is the command
	                         */
	bool rest;
} cli_args;

/* Iterate: returns an option id (>0), 0 when done, or -1 on a usage error
 * (message printed).  Positionals accumulate in a->pos.  Arguments that look
 * like negative numbers are positionals, so `cairn log metric loss -0.5` works. */
void cli_args_init(cli_args *a, const char *cmd, int argc, char **argv);
int cli_next(cli_args *a, const cli_opt *opts);
void cli_args_free(cli_args *a);

/* --- errors ---------------------------------------------------------------- */
/* Print "error: <fmt>" and return EXIT_FAIL. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "error: <cairn_error_last()>" (with an optional context prefix). */
int cli_fail_lib(const char *context);
/* Print "error: <fmt>" and the usage hint; return EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print a help page for cmd from its usage text. */
void cli_help(const char *usage);

/* The file a command name runs: a path as it is, else looked up in $PATH.
 * 0 and *out (malloc'd), or an error printed (EXIT_FAIL). */
int cli_resolve_command(const char *name, char **out);
/* A size: bytes, or with K/M/G (powers of 1024); -1 when bad. */
int64_t cli_parse_size(const char *v);

/* --- store and runs ----------------------------------------------------------- */
/* What a command needs, from main.c's command table (git's RUN_SETUP).  The
 * store is opened in one place, cli_store(), on the command's first call,
 * after it has parsed its arguments (so `-h` and usage errors need no
 * store), and closed by main when the command returns; a command never
 * closes it. */
#define CLI_STORE 1u /* uses the store (cli_store, cli_store_try) */
#define CLI_RUN   2u /* names an existing run (cli_open_run) */
/* main: the command about to run, and what its table entry says it needs;
 * cli_command_end closes the store if the command opened one. */
void cli_command_begin(const char *name, unsigned needs);
void cli_command_end(void);
/* The store (--store, $CAIRN_DIR, the nearest .cairn/, the per-user store):
 * 0, or EXIT_FAIL with the error printed.  Owned by main. */
int cli_store(cairn_store **out);
/* The store if one can be opened, else NULL (the error cleared): for the
 * commands that work without one, only less well (data hash's cache). */
cairn_store *cli_store_try(void);
/* The run named by --run, else $CAIRN_RUN_ID. */
int cli_open_run(cairn_run **out, cairn_store *s, const char *run_opt);

/* --- output ------------------------------------------------------------------ */
bool cli_isatty(FILE *f);
bool cli_color(void); /* stdout is a terminal and NO_COLOR is unset */
int cli_term_width(void);
/* Number of terminal columns of a UTF-8 string (wide East Asian characters
 * and emoji count 2, combining marks 0). */
size_t cli_strwidth(const char *s);

/* Text from the store made safe to print on a terminal: every control
 * character — C0 (0x00..0x1F), DEL, C1 (U+0080..U+009F, and lone bytes
 * 0x80..0x9F, which an 8-bit terminal reads as C1) — becomes one space, so
 * no stored name, note or path can move the cursor, recolour, retitle or
 * otherwise drive the terminal.  With CLI_TEXT_LINES, newlines and tabs are
 * kept (a note of several lines).  Table cells and headers go through it;
 * so does everything `cairn show` prints.  NULL is "". */
#define CLI_TEXT_LINES 1u
void cli_safe_text(buf *b, const char *text, unsigned flags);
char *cli_safe_dup(const char *text, unsigned flags); /* malloc'd; NULL on OOM */
void cli_fputs_safe(FILE *f, const char *text, unsigned flags);

typedef struct table table;
table *table_new(int ncols);
void table_header(table *t, int col, const char *text);
/* Right-align a numeric column. */
void table_align_right(table *t, int col, bool right);
/* Add a row; cells are copied. */
void table_row(table *t, const char *const *cells);
/* Colour one cell on a terminal (an SGR code such as "32"; static string). */
void table_cell_color(table *t, size_t row, int col, const char *sgr);
size_t table_nrows(const table *t);
/* Fitting by priority: a table where some column has one leaves out whole
 * columns, lowest priority first (ties: the rightmost), before it cuts
 * anything; TABLE_KEEP columns are never left out nor cut.  Default 0. */
#define TABLE_KEEP 1000000
void table_priority(table *t, int col, int prio);
/* Show the column under a group label (one line over the headers, the label
 * over the group's consecutive columns) with short_head as its header; CSV
 * keeps the full header. */
void table_group(table *t, int col, const char *group, const char *short_head);
/* Print fitted to `width` columns (0: no limit).  Cells are cut (with "…",
 * at 60 columns at most) only when f is a terminal; into a pipe every cell
 * is whole.  Without priorities a terminal table shrinks its widest column
 * first, not below 6, then leaves out trailing columns, and a pipe ignores
 * the width.  Returns how many columns were left out; table_shown says
 * which. */
int table_print(table *t, FILE *f, int width);
bool table_shown(const table *t, int col);
void table_print_csv(table *t, FILE *f);
/* Streaming, for more rows than are worth keeping: table_measure every row
 * (nothing is kept), then table_print_head (the layout over the measured
 * and the kept rows; returns what table_print returns), then
 * table_print_row for each row in turn (sgr: a colour per cell, or NULL).
 * CSV needs no measuring: table_csv_head, then table_csv_row. */
void table_measure(table *t, const char *const *cells);
int table_print_head(table *t, FILE *f, int width);
void table_print_row(table *t, FILE *f, const char *const *cells, const char *const *sgr);
void table_csv_head(const table *t, FILE *f);
void table_csv_row(const table *t, FILE *f, const char *const *cells);
void table_free(table *t);

/* Format a double compactly for tables ("0.9312", "1.2e-05", "nan"). */
void cli_fmt_num(char *out, size_t n, double v);

#endif
