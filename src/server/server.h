/*
 * server/server.h — the HTTP server behind `cairn ui` and `cairn server`:
 * the native JSON API under /api/v1/, room for MLflow's REST API under
 * /api/2.0/mlflow/, and the web UI embedded in the binary.
 *
 * One server serves one open store.  It runs libmicrohttpd's threads; the
 * caller starts it, waits (e.g. for a signal) and stops it.  Only
 * server_start/server_stop touch the server from the caller's thread.
 */
#ifndef CAIRN_SERVER_H
#define CAIRN_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "cairn.h"

#define SERVER_DEFAULT_PORT     7460
#define SERVER_DEFAULT_MAX_BODY ((size_t)16 << 20) /* bytes in one request body */
#define SERVER_DEFAULT_TIMEOUT  30                 /* seconds a connection may idle */

typedef struct server_config {
	const char *host;   /* numeric address or "localhost" (default 127.0.0.1) */
	int port;           /* 0: a free port */
	size_t max_body;    /* 0: SERVER_DEFAULT_MAX_BODY */
	unsigned timeout_s; /* 0: SERVER_DEFAULT_TIMEOUT */
	unsigned threads;   /* 0: 4 */
	int readers;        /* handles in the read pool; 0: one per thread; < 0: none */
	bool quiet;         /* no access log on stderr */
	/* Artifacts whose objects are in a bucket: false, the server sends the
	 * bytes itself (from its object cache); true, it redirects the client
	 * to a presigned URL of the bucket valid for SERVER_PRESIGN_EXPIRES s. */
	bool objects_presign;
	/* Require a token (Authorization: Bearer, or a browser session) on
	 * every route that asks for a scope (server/auth.c).  false only for a
	 * loopback server started with --no-auth (cmd-ui.c decides). */
	bool auth;
	/* HTTPS: the PEM certificate (chain) and private key, in memory; both
	 * NULL: plain HTTP. */
	const char *tls_cert_pem;
	const char *tls_key_pem;
} server_config;

#define SERVER_PRESIGN_EXPIRES 300

typedef struct server server;

/* Start serving `store` (not owned; it must outlive the server).  On failure
 * writes the reason to err and returns -1. */
int server_start(server **out, cairn_store *store, const server_config *cfg, char *err,
                 size_t errsz);
/* The port actually bound (useful with port 0). */
int server_port(const server *srv);
/* Stop accepting, finish in-flight requests, release everything (NULL-safe). */
void server_stop(server *srv);

/* True for 127.0.0.0/8, ::1 and "localhost". */
bool server_host_is_loopback(const char *host);

#endif
