/*
 * cairn.h — the public C API of cairn, the experiment manager.
 *
 * This header is the only surface the CLI, the server and the Python binding
 * use.  See cairn/common.h for the conventions shared by every call.
 */
#ifndef CAIRN_H
#define CAIRN_H

#include "cairn/common.h"
#include "cairn/store.h"
#include "cairn/run.h"
#include "cairn/browse.h"
#include "cairn/capture.h"
#include "cairn/data.h"
#include "cairn/query.h"
#include "cairn/diff.h"
#include "cairn/record.h"
#include "cairn/sweep.h"
#include "cairn/auth.h"
#include "cairn/remote.h"
#include "cairn/project.h"
#include "cairn/mlflow.h"

#endif
