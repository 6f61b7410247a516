/*
 * lib/query/glob.h — matching text against the query language's patterns:
 * globs (`~`: * ? [a-z] [^…], case-sensitive, whole value) and LIKE
 * patterns (% _, no escape character; ASCII case folded on request).
 *
 * The semantics are SQLite's GLOB and LIKE, character for character (UTF-8
 * aware: ? and _ take one character, [é] is one), so a pattern the type
 * checker evaluates itself (status names) means what the same pattern means
 * when the store evaluates it; tests/unit/test-query-parse.c checks the two
 * against each other.  Stateless; thread-safe.
 */
#ifndef CAIRN_LIB_QUERY_GLOB_H
#define CAIRN_LIB_QUERY_GLOB_H

#include <stdbool.h>

bool glob_match(const char *pattern, const char *text);
bool like_match(const char *pattern, const char *text, bool fold_case);

#endif
