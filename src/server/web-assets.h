/*
 * server/web-assets.h — the web UI's files, embedded in the binary.
 * web-assets.c is generated from web/ by `npm run build` (web/build.mjs) and
 * committed; tests/e2e/web-assets.t checks that it matches the source.
 */
#ifndef CAIRN_SERVER_WEB_ASSETS_H
#define CAIRN_SERVER_WEB_ASSETS_H

#include <stddef.h>

typedef struct web_asset {
	const char *path; /* URL path, "/index.html" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
	const char *etag; /* hex digest of the bytes */
} web_asset;

extern const web_asset web_assets[];
extern const size_t web_nassets;

#endif
