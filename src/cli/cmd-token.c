/*
 * cli/cmd-token.c — `cairn token create|ls|revoke|audit`: the API tokens a
 * `cairn server` accepts (cairn/auth.h, docs/cli/token.md).  Like `cairn
 * migrate`, these are administration of the store itself: they open the
 * store directly (a directory or postgresql://), never through a server,
 * so whoever can open the store can make tokens.
 *
 * A new token is printed once, alone on stdout (for `$(cairn token create
 * ...)`); what it is goes to stderr.  Nothing else ever prints a token:
 * it is not stored, only its SHA-256.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/commands.h"
#include "util/json.h"

static const char usage[] =
    "usage: cairn token create --scope read|write|admin [--project P] [--expires DURATION]\n"
    "                          [--name NAME]\n"
    "       cairn token ls [--json]\n"
    "       cairn token revoke NAME|ID\n"
    "       cairn token audit [--limit N] [--json]\n\n"
    "Manage the tokens that 'cairn server' accepts (Authorization: Bearer TOKEN).\n"
    "create prints the new token once, on stdout; only its hash is stored.\n\n"
    "options:\n"
    "      --scope S          read (GET), write (also POST/PUT/DELETE) or admin (also\n"
    "                         the audit log and tokens through the API)\n"
    "      --project P        the token sees and changes only runs of project P\n"
    "      --expires D        it stops working after D: a number and a unit, s m h d w\n"
    "                         (30d, 12h, 90s); default never\n"
    "      --name NAME        what its writes are attributed to (letters, digits, ._@-;\n"
    "                         default token-XXXXXXXX)\n"
    "      --limit N          audit: the newest N writes (default 50)\n"
    "      --json             print JSON\n";

/* "30d" -> seconds.  0 or -1. */
static int parse_duration(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v <= 0 || s[0] == '-' || s[0] == '+' || !end[0] || end[1])
		return -1;
	switch (*end) {
	case 's': *out = v; break;
	case 'm': *out = v * 60; break;
	case 'h': *out = v * 3600; break;
	case 'd': *out = v * 86400; break;
	case 'w': *out = v * 7 * 86400; break;
	default: return -1;
	}
	return *out >= 1 && *out <= 100.0 * 365 * 86400 ? 0 : -1;
}

static void fmt_time(char *out, size_t n, double t, const char *none)
{
	if (t <= 0) {
		snprintf(out, n, "%s", none);
		return;
	}
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M:%SZ", &tm);
}

static void json_time(buf *b, double t)
{
	if (t > 0)
		json_num(b, t);
	else
		buf_puts(b, "null");
}

static void token_json(buf *b, const cairn_token *t)
{
	bool f = true;
	buf_putc(b, '{');
	json_key(b, &f, "id");
	json_int(b, t->id);
	json_key(b, &f, "name");
	json_str(b, t->name);
	json_key(b, &f, "scope");
	json_str(b, cairn_scope_name(t->scope));
	json_key(b, &f, "project");
	if (t->project)
		json_str(b, t->project);
	else
		buf_puts(b, "null");
	json_key(b, &f, "created");
	json_time(b, t->created);
	json_key(b, &f, "expires");
	json_time(b, t->expires);
	json_key(b, &f, "last_used");
	json_time(b, t->last_used);
	json_key(b, &f, "revoked");
	json_time(b, t->revoked);
	buf_putc(b, '}');
}

static int token_create(cli_args *a, const cairn_token_options *o)
{
	cairn_store *s = NULL;
	char *secret = NULL;
	cairn_token t = {0};
	int rc = cli_store(&s);
	if (rc)
		return rc;
	if (cairn_token_create(&secret, &t, s, o) != 0)
		return cli_fail_lib("cannot create the token");
	char exp[32];
	fmt_time(exp, sizeof exp, t.expires, "never");
	fprintf(stderr,
	        "created token '%s' (id %lld, scope %s, %s%s, expires %s); it is shown only "
	        "this once\n",
	        t.name, (long long)t.id, cairn_scope_name(t.scope),
	        t.project ? "project " : "every project", t.project ? t.project : "", exp);
	printf("%s\n", secret);
	fflush(stdout);
	cairn_free(secret);
	cairn_token_clear(&t);
	return 0;
}

static int token_ls(bool as_json)
{
	cairn_store *s = NULL;
	cairn_token *v = NULL;
	size_t n = 0;
	int rc = cli_store(&s);
	if (rc)
		return rc;
	if (cairn_token_list(&v, &n, s) != 0)
		return cli_fail_lib("cannot list the tokens");
	if (as_json) {
		buf b = BUF_INIT;
		buf_putc(&b, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				buf_putc(&b, ',');
			token_json(&b, &v[i]);
		}
		buf_puts(&b, "]\n");
		fputs(buf_ok(&b) ? b.ptr : "[]\n", stdout);
		buf_free(&b);
	} else {
		static const char *const head[] = {"ID",      "NAME",    "SCOPE",     "PROJECT",
		                                   "CREATED", "EXPIRES", "LAST USED", "REVOKED"};
		table *t = table_new(8);
		for (int c = 0; c < 8; c++)
			table_header(t, c, head[c]);
		table_align_right(t, 0, true);
		for (size_t i = 0; i < n; i++) {
			char id[24], cr[32], ex[32], lu[32], rv[32];
			snprintf(id, sizeof id, "%lld", (long long)v[i].id);
			fmt_time(cr, sizeof cr, v[i].created, "-");
			fmt_time(ex, sizeof ex, v[i].expires, "never");
			fmt_time(lu, sizeof lu, v[i].last_used, "never");
			fmt_time(rv, sizeof rv, v[i].revoked, "-");
			const char *cells[] = {id,
			                       v[i].name,
			                       cairn_scope_name(v[i].scope),
			                       v[i].project ? v[i].project : "*",
			                       cr,
			                       ex,
			                       lu,
			                       rv};
			table_row(t, cells);
		}
		table_print(t, stdout, cli_isatty(stdout) ? cli_term_width() : 0);
		table_free(t);
	}
	cairn_token_list_free(v, n);
	return 0;
}

static int token_revoke(const char *which)
{
	cairn_store *s = NULL;
	cairn_token t = {0};
	int rc = cli_store(&s);
	if (rc)
		return rc;
	if (cairn_token_revoke(s, which, &t) != 0)
		return cli_fail_lib("cannot revoke the token");
	fprintf(stderr, "revoked token '%s' (id %lld); its sessions have ended\n", t.name,
	        (long long)t.id);
	cairn_token_clear(&t);
	return 0;
}

static int token_audit(int64_t limit, bool as_json)
{
	cairn_store *s = NULL;
	char *out = NULL;
	int rc = cli_store(&s);
	if (rc)
		return rc;
	if (cairn_audit_list_json(&out, s, limit) != 0)
		return cli_fail_lib("cannot read the audit log");
	if (as_json) {
		printf("%s\n", out);
		cairn_free(out);
		return 0;
	}
	char perr[128];
	json_doc *d = json_parse(out, strlen(out), NULL, perr, sizeof perr);
	cairn_free(out);
	if (!d)
		return cli_fail("the audit log came back damaged: %s", perr);
	table *t = table_new(5);
	static const char *const head[] = {"TIME", "TOKEN", "METHOD", "PATH", "STATUS"};
	for (int c = 0; c < 5; c++)
		table_header(t, c, head[c]);
	const json *root = json_root(d);
	for (const json *e = root ? root->child : NULL; e; e = e->next) {
		double ts = 0, st = 0;
		json_get_num(e, "time", &ts);
		json_get_num(e, "status", &st);
		char tm[32], sts[16];
		fmt_time(tm, sizeof tm, ts, "-");
		snprintf(sts, sizeof sts, "%d", (int)st);
		const char *cells[] = {tm, json_get_str(e, "token"), json_get_str(e, "method"),
		                       json_get_str(e, "path"), sts};
		table_row(t, cells);
	}
	table_print(t, stdout, cli_isatty(stdout) ? cli_term_width() : 0);
	table_free(t);
	json_doc_free(d);
	return 0;
}

int cmd_token(int argc, char **argv)
{
	enum { O_HELP = 1, O_SCOPE, O_PROJECT, O_EXPIRES, O_NAME, O_JSON, O_LIMIT };
	static const cli_opt opts[] = {
	    {"help", 'h', false, O_HELP},      {"scope", 's', true, O_SCOPE},
	    {"project", 'p', true, O_PROJECT}, {"expires", 0, true, O_EXPIRES},
	    {"name", 'n', true, O_NAME},       {"json", 0, false, O_JSON},
	    {"limit", 0, true, O_LIMIT},       {0}};
	cli_args a;
	cairn_token_options to = CAIRN_TOKEN_OPTIONS_INIT;
	bool as_json = false, scope_given = false;
	const char *opt_seen = NULL;
	long long limit = 50;
	int o, rc = 0;
	to.scope = CAIRN_SCOPE_NONE;
	cli_args_init(&a, "token", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_SCOPE:
			if (cairn_scope_parse(&to.scope, a.val) != 0) {
				rc = cli_usage_error(
				    "token", "--scope is read, write or admin, not '%s'", a.val);
				goto done;
			}
			scope_given = true;
			opt_seen = "--scope";
			break;
		case O_PROJECT:
			to.project = a.val;
			opt_seen = "--project";
			break;
		case O_EXPIRES:
			if (parse_duration(a.val, &to.expires_in) != 0) {
				rc = cli_usage_error(
				    "token",
				    "--expires needs a number and a unit (s, m, h, d, w; "
				    "from 1s to 100 years), e.g. 30d, not '%s'",
				    a.val);
				goto done;
			}
			opt_seen = "--expires";
			break;
		case O_NAME:
			to.name = a.val;
			opt_seen = "--name";
			break;
		case O_JSON: as_json = true; break;
		case O_LIMIT: {
			char *end;
			errno = 0;
			limit = strtoll(a.val, &end, 10);
			if (errno || *end || end == a.val || limit < 1 || limit > 1000000) {
				rc = cli_usage_error("token",
				                     "--limit needs 1 to 1000000, not '%s'", a.val);
				goto done;
			}
			break;
		}
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	const char *sub = a.npos ? a.pos[0] : NULL;
	if (!sub) {
		rc = cli_usage_error("token", "name what to do: create, ls, revoke or audit");
	} else if (strcmp(sub, "create") == 0) {
		if (a.npos > 1)
			rc = cli_usage_error("token", "unexpected argument '%s'", a.pos[1]);
		else if (!scope_given)
			rc = cli_usage_error("token", "create needs --scope read|write|admin");
		else
			rc = token_create(&a, &to);
	} else if (opt_seen) {
		rc = cli_usage_error("token", "%s is an option of 'token create' only", opt_seen);
	} else if (strcmp(sub, "ls") == 0) {
		rc = a.npos > 1 ? cli_usage_error("token", "unexpected argument '%s'", a.pos[1])
		                : token_ls(as_json);
	} else if (strcmp(sub, "revoke") == 0) {
		rc = a.npos != 2 ? cli_usage_error("token", "revoke needs one token name or id")
		                 : token_revoke(a.pos[1]);
	} else if (strcmp(sub, "audit") == 0) {
		rc = a.npos > 1 ? cli_usage_error("token", "unexpected argument '%s'", a.pos[1])
		                : token_audit(limit, as_json);
	} else {
		rc = cli_usage_error("token", "unknown subcommand '%s' (create, ls, revoke, audit)",
		                     sub);
	}
done:
	cli_args_free(&a);
	return rc;
}
