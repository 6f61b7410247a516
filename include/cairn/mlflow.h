/*
 * cairn/mlflow.h — MLflow's search syntax, compiled to cairn's query
 * language (docs/mlflow.md, docs/internals/query.md): the filter of
 * search_runs and its order_by.  There is one query engine: an MLflow
 * filter becomes a cairn query, checked with MLflow's own rules (a
 * conjunction only, typed values, the comparators each kind of key
 * allows) and its messages, then run by cairn_query_*.
 */
#ifndef CAIRN_MLFLOW_H
#define CAIRN_MLFLOW_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The cairn query for an MLflow runs filter ("" or NULL: every run), in
 * *out (cairn_free).  CAIRN_EINVALID with MLflow's message (as its clients
 * and tests match on it) when the filter is not valid MLflow syntax. */
CAIRN_EXTERN(int) cairn_mlflow_filter(char **out, const char *filter);

/* A cairn sort ("-metrics.`m`,params.`p`") for MLflow order_by clauses
 * ("metrics.m DESC", "params.p", "attributes.start_time ASC"), followed by
 * MLflow's tiebreak (start time descending, then run id); n may be 0 (the
 * tiebreak alone).  CAIRN_EINVALID with MLflow's message for a bad clause
 * or a key given twice. */
CAIRN_EXTERN(int) cairn_mlflow_order(char **out, const char *const *clauses, size_t n);

#ifdef __cplusplus
}
#endif
#endif
