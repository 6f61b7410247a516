/*
 * lib/status.c — the names of run statuses (cairn/run.h), shared by the
 * run module, the store's readers and the query planner.  It sits beside
 * value.c, below both the store and the run module, so the store does not
 * depend on run/ for a name.  No state; thread-safe.
 */
#include <string.h>

#include "lib/internal.h"

static const char *const status_names[] = {"running", "finished", "failed",
                                           "killed",  "crashed",  "pruned"};

const char *cairn_status_name(cairn_status s)
{
	if ((unsigned)s < sizeof status_names / sizeof status_names[0])
		return status_names[s];
	return "unknown";
}

int cairn_status_parse(cairn_status *out, const char *name)
{
	for (unsigned i = 0; i < sizeof status_names / sizeof status_names[0]; i++) {
		if (name && strcmp(name, status_names[i]) == 0) {
			*out = (cairn_status)i;
			return 0;
		}
	}
	return err_set(
	    CAIRN_EINVALID,
	    "unknown status '%s' (expected running, finished, failed, killed, crashed or pruned)",
	    name ? name : "");
}
