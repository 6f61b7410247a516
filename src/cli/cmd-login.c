/*
 * cli/cmd-login.c — `cairn login URL`: keep a token for a server, so
 * every command and the Python binding that use the server's URL as their
 * store send it without $CAIRN_TOKEN.  The token is read from the terminal
 * without echo, or as one line of stdin (never from the command line,
 * where other users and the shell history would see it), checked against
 * the server, and kept in a file of mode 0600 (cairn_login_save).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/commands.h"

static const char usage[] =
    "usage: cairn login URL [--no-check]\n\n"
    "Keep a token for the cairn server at URL (http:// or https://), read from the\n"
    "terminal without echo or as one line of stdin:\n"
    "  cairn login https://cairn.example:7460\n"
    "  echo \"$TOKEN\" | cairn login https://cairn.example:7460\n"
    "The token is checked against the server, then kept in\n"
    "$XDG_CONFIG_HOME/cairn/credentials (~/.config/cairn/credentials), mode 0600.\n"
    "$CAIRN_TOKEN, when set, is used instead of any kept token.\n\n"
    "options:\n"
    "      --no-check   keep the token without asking the server\n";

static int read_token(char *out, size_t n)
{
	bool tty = isatty(STDIN_FILENO);
	struct termios old, quiet;
	if (tty) {
		fprintf(stderr, "token: ");
		fflush(stderr);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	char *got = fgets(out, (int)n, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fputc('\n', stderr);
	}
	if (!got)
		return -1;
	size_t l = strlen(out);
	while (l && (out[l - 1] == '\n' || out[l - 1] == '\r' || out[l - 1] == ' '))
		out[--l] = '\0';
	return l ? 0 : -1;
}

int cmd_login(int argc, char **argv)
{
	enum { O_HELP = 1, O_NOCHECK };
	static const cli_opt opts[] = {
	    {"help", 'h', false, O_HELP}, {"no-check", 0, false, O_NOCHECK}, {0}};
	cli_args a;
	bool check = true;
	char token[4200];
	char *path = NULL;
	int o, rc = 0;
	cli_args_init(&a, "login", argc, argv);
	while ((o = cli_next(&a, opts)) > 0) {
		switch (o) {
		case O_HELP: cli_help(usage); goto done;
		case O_NOCHECK: check = false; break;
		}
	}
	if (o < 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	if (a.npos != 1) {
		rc = cli_usage_error("login", "name the server's URL");
		goto done;
	}
	const char *url = a.pos[0];
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
		rc = cli_usage_error("login", "'%s' is not an http:// or https:// URL", url);
		goto done;
	}
	if (read_token(token, sizeof token) != 0) {
		rc = cli_fail("no token given (type it, or pipe it on stdin)");
		goto done;
	}
	if (check && cairn_remote_check(url, token) != 0) {
		rc = cli_fail_lib("the token was not kept");
		goto done;
	}
	if (cairn_login_save(url, token, &path) != 0) {
		rc = cli_fail_lib("cannot keep the token");
		goto done;
	}
	printf("token for %s kept in %s\n", url, path);
done:
	memset(token, 0, sizeof token);
	cairn_free(path);
	cli_args_free(&a);
	return rc;
}
