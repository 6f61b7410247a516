/*
 * lib/store/remote/map.c — the remote handle's own numbers for runs and
 * keys (remote.h, "Numbers"): a run id or key name gets the next number
 * the first time the handle meets it and keeps it for the handle's life.
 * Arrays by number and an open-addressing table by text (load <= 1/2).
 * Called with the store's lock held.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/store/remote/remote.h"

static uint64_t hash_text(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

/* Grow a table of slots holding numbers into `count` texts; text_of(i)
 * gives the text of number i + 1. */
static int rehash(int64_t **slots, size_t *nslots, size_t count,
                  const char *(*text_of)(void *, size_t), void *ctx)
{
	size_t ncap = *nslots ? *nslots * 2 : 64;
	while (ncap < (count + 1) * 2)
		ncap *= 2;
	int64_t *ns = calloc(ncap, sizeof *ns);
	if (!ns)
		return err_set(CAIRN_ENOMEM, "out of memory");
	for (size_t i = 0; i < count; i++) {
		size_t h = hash_text(text_of(ctx, i)) & (ncap - 1);
		while (ns[h])
			h = (h + 1) & (ncap - 1);
		ns[h] = (int64_t)i + 1;
	}
	free(*slots);
	*slots = ns;
	*nslots = ncap;
	return 0;
}

static const char *run_text(void *ctx, size_t i)
{
	return ((rmap *)ctx)->runs[i].id;
}

static const char *key_text(void *ctx, size_t i)
{
	return ((kmap *)ctx)->names[i];
}

int64_t rmap_rid(rmap *m, const char *id)
{
	if (m->nslots) {
		size_t h = hash_text(id) & (m->nslots - 1);
		while (m->slots[h]) {
			if (strcmp(m->runs[m->slots[h] - 1].id, id) == 0)
				return m->slots[h];
			h = (h + 1) & (m->nslots - 1);
		}
	}
	if (strlen(id) != 32)
		return err_set(CAIRN_ESTORE, "the server named a run '%.40s', which is not an id",
		               id);
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 16;
		rmap_run *nr = realloc(m->runs, nc * sizeof *nr);
		if (!nr)
			return err_set(CAIRN_ENOMEM, "out of memory");
		m->runs = nr;
		m->cap = nc;
	}
	rmap_run *r = &m->runs[m->n++];
	memset(r, 0, sizeof *r);
	memcpy(r->id, id, 33);
	if ((m->n + 1) * 2 > m->nslots) {
		int rc = rehash(&m->slots, &m->nslots, m->n, run_text, m);
		if (rc) {
			m->n--;
			return rc;
		}
	} else {
		size_t h = hash_text(id) & (m->nslots - 1);
		while (m->slots[h])
			h = (h + 1) & (m->nslots - 1);
		m->slots[h] = (int64_t)m->n;
	}
	return (int64_t)m->n;
}

rmap_run *rmap_get(rmap *m, int64_t rid)
{
	return rid >= 1 && (size_t)rid <= m->n ? &m->runs[rid - 1] : NULL;
}

int64_t kmap_kid(kmap *m, const char *name)
{
	if (m->nslots) {
		size_t h = hash_text(name) & (m->nslots - 1);
		while (m->slots[h]) {
			if (strcmp(m->names[m->slots[h] - 1], name) == 0)
				return m->slots[h];
			h = (h + 1) & (m->nslots - 1);
		}
	}
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 16;
		char **nn = realloc(m->names, nc * sizeof *nn);
		if (!nn)
			return err_set(CAIRN_ENOMEM, "out of memory");
		m->names = nn;
		m->cap = nc;
	}
	char *copy = strdup(name);
	if (!copy)
		return err_set(CAIRN_ENOMEM, "out of memory");
	m->names[m->n++] = copy;
	if ((m->n + 1) * 2 > m->nslots) {
		int rc = rehash(&m->slots, &m->nslots, m->n, key_text, m);
		if (rc) {
			free(m->names[--m->n]);
			return rc;
		}
	} else {
		size_t h = hash_text(name) & (m->nslots - 1);
		while (m->slots[h])
			h = (h + 1) & (m->nslots - 1);
		m->slots[h] = (int64_t)m->n;
	}
	return (int64_t)m->n;
}

const char *kmap_name(const kmap *m, int64_t kid)
{
	return kid >= 1 && (size_t)kid <= m->n ? m->names[kid - 1] : NULL;
}

void rmap_free(rmap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->runs[i].name);
		free(m->runs[i].project);
	}
	free(m->runs);
	free(m->slots);
	memset(m, 0, sizeof *m);
}

void kmap_free(kmap *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->names[i]);
	free(m->names);
	free(m->slots);
	memset(m, 0, sizeof *m);
}
