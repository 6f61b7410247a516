/*
 * lib/store/s3/aws-config.c — the S3 client's endpoint, region and
 * credentials: the AWS_* environment variables, else the profile in
 * ~/.aws/credentials and ~/.aws/config (the AWS CLI's files and names).
 *
 * The files are INI: `[section]` lines, `key = value` lines, `#` and `;`
 * comments.  A profile is `[NAME]` in credentials and `[profile NAME]` (or
 * `[default]`) in config.  The parser reads at most 1 MiB of each file and
 * lines of at most 4 KiB, keeps only the keys it knows, and ignores the
 * rest (sso, credential_process, role_arn: not supported, see store.md).
 * Stateless; thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"
#include "lib/store/s3/s3.h"
#include "util/fs.h"

#define AWS_FILE_MAX ((size_t)1 << 20)
#define AWS_LINE_MAX 4096

static char *env_dup(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? strdup(v) : NULL;
}

static char *trim(char *p, char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*end = '\0';
	return p;
}

/* The value of key in [section] of the INI file at path: malloc'ed, or NULL
 * when the file, the section or the key is missing. */
static char *ini_get(const char *path, const char *section, const char *key)
{
	buf b = BUF_INIT;
	if (!path || read_file(path, AWS_FILE_MAX, &b) != 0) {
		buf_free(&b);
		return NULL;
	}
	char *found = NULL, *line = b.ptr;
	bool in = false;
	while (line && *line && !found) {
		char *nl = strchr(line, '\n');
		char *end = nl ? nl : line + strlen(line);
		if ((size_t)(end - line) <= AWS_LINE_MAX) {
			char *l = trim(line, end);
			if (*l == '[') {
				char *close = strchr(l, ']');
				in = close &&
				     (*close = '\0', strcmp(trim(l + 1, close), section) == 0);
			} else if (in && *l && *l != '#' && *l != ';') {
				char *eq = strchr(l, '=');
				if (eq) {
					char *v = trim(eq + 1, eq + 1 + strlen(eq + 1));
					if (strcmp(trim(l, eq), key) == 0)
						found = strdup(v);
				}
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	buf_free(&b);
	return found;
}

static char *aws_file(const char *env, const char *name)
{
	const char *v = getenv(env);
	if (v && *v)
		return strdup(v);
	const char *home = getenv("HOME");
	if (!home || !*home)
		return NULL;
	char p[4096];
	snprintf(p, sizeof p, "%s/.aws/%s", home, name);
	return strdup(p);
}

int s3_config_load(s3_config *cfg, const char *uri)
{
	memset(cfg, 0, sizeof *cfg);
	const char *profile = getenv("AWS_PROFILE");
	if (!profile || !*profile)
		profile = "default";
	if (strlen(profile) > 200)
		return err_set(CAIRN_EINVALID, "AWS_PROFILE is longer than 200 characters");
	char *cred_file = aws_file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
	char *conf_file = aws_file("AWS_CONFIG_FILE", "config");
	char conf_section[256];
	snprintf(conf_section, sizeof conf_section, "%s%s",
	         strcmp(profile, "default") == 0 ? "" : "profile ", profile);

	cfg->endpoint = env_dup("AWS_ENDPOINT_URL_S3");
	if (!cfg->endpoint)
		cfg->endpoint = env_dup("AWS_ENDPOINT_URL");
	cfg->region = env_dup("AWS_REGION");
	if (!cfg->region)
		cfg->region = env_dup("AWS_DEFAULT_REGION");
	if (!cfg->region)
		cfg->region = ini_get(conf_file, conf_section, "region");
	if (!cfg->region)
		cfg->region = strdup("us-east-1");
	cfg->key_id = env_dup("AWS_ACCESS_KEY_ID");
	if (cfg->key_id) {
		cfg->secret = env_dup("AWS_SECRET_ACCESS_KEY");
		cfg->token = env_dup("AWS_SESSION_TOKEN");
	} else {
		cfg->key_id = ini_get(cred_file, profile, "aws_access_key_id");
		cfg->secret = ini_get(cred_file, profile, "aws_secret_access_key");
		cfg->token = ini_get(cred_file, profile, "aws_session_token");
	}
	free(cred_file);
	free(conf_file);
	if (!cfg->region)
		return err_set(CAIRN_ENOMEM, "out of memory");
	if (strlen(cfg->region) > 60 ||
	    strspn(cfg->region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(cfg->region))
		return err_set(CAIRN_EINVALID, "the AWS region '%.60s' is not a region name",
		               cfg->region);
	if (!cfg->key_id || !cfg->secret || !*cfg->key_id || !*cfg->secret)
		return err_set(CAIRN_EINVALID,
		               "no credentials for %s: set AWS_ACCESS_KEY_ID and "
		               "AWS_SECRET_ACCESS_KEY, or add profile '%s' to ~/.aws/credentials",
		               uri, profile);
	if (strpbrk(cfg->key_id, "\r\n:") || strpbrk(cfg->secret, "\r\n") ||
	    (cfg->token && strpbrk(cfg->token, "\r\n")))
		return err_set(CAIRN_EINVALID, "the AWS credentials hold a line break or a ':'");
	return 0;
}

void s3_config_free(s3_config *cfg)
{
	if (cfg->secret)
		memset(cfg->secret, 0, strlen(cfg->secret));
	free(cfg->key_id);
	free(cfg->secret);
	free(cfg->token);
	free(cfg->region);
	free(cfg->endpoint);
	memset(cfg, 0, sizeof *cfg);
}
