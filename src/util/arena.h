/*
 * util/arena.h — a bump allocator: many small allocations, freed at once.
 *
 * Memory comes from chunks of `chunk` bytes (a bigger request gets a chunk of
 * its own size); arena_free releases every chunk.  Allocations never move;
 * arena_alloc's are aligned to 16 bytes, strings are packed.  A zeroed arena (ARENA_INIT, `= {0}`)
 * is ready to use with ARENA_CHUNK_DEFAULT-byte chunks.  On out-of-memory an allocation returns
 * NULL and sets the sticky `oom` flag, so a caller may allocate several times and check once.  Not
 * thread-safe; one owner at a time.
 *
 * Used by the JSON parser (nodes and strings of one document), the query
 * parser (one tree), the query planner (one query's scans and values) and
 * data manifests (entry paths; workers' arenas are adopted by the result)
 * and batches of run records (lib/store/record.h, 64 KiB chunks).
 */
#ifndef CAIRN_UTIL_ARENA_H
#define CAIRN_UTIL_ARENA_H

#include <stdbool.h>
#include <stddef.h>

#define ARENA_CHUNK_DEFAULT (256u << 10)

typedef struct arena_chunk arena_chunk;

typedef struct arena {
	arena_chunk *head; /* newest chunk first */
	size_t chunk;      /* bytes per chunk; 0: ARENA_CHUNK_DEFAULT */
	bool oom;          /* an allocation failed */
} arena;

#define ARENA_INIT(chunk_bytes)                                                                    \
	{                                                                                          \
		NULL, (chunk_bytes), false                                                         \
	}

/* n bytes, uninitialised, or NULL (out of memory, or n too large). */
void *arena_alloc(arena *a, size_t n);
/* n zeroed bytes, or NULL. */
void *arena_zalloc(arena *a, size_t n);
/* A NUL-terminated copy of s[0..n), or NULL. */
char *arena_strndup(arena *a, const char *s, size_t n);
/* Move every chunk of from into to (from is left empty). */
void arena_adopt(arena *to, arena *from);
/* Release every chunk; the arena is empty and usable again (oom cleared). */
void arena_free(arena *a);

#endif
