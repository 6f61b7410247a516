/*
 * lib/store/names.c — generated human run names: adjective-noun-seq, e.g.
 * "brisk-heron-12".  The seq suffix keeps names unique within a project.
 */
#include <stdio.h>

#include "lib/store/store.h"

static const char *const adjectives[] = {
    "amber",  "bold",   "brisk",  "calm",   "clever", "crisp",  "dapper", "eager",
    "fierce", "gentle", "golden", "hardy",  "humble", "jolly",  "keen",   "lively",
    "lucid",  "mellow", "nimble", "noble",  "plucky", "proud",  "quiet",  "rapid",
    "rustic", "serene", "sharp",  "silent", "steady", "sunny",  "swift",  "tidy",
    "vivid",  "warm",   "wise",   "witty",  "zesty",  "breezy", "cosmic", "dusty",
};

static const char *const nouns[] = {
    "badger", "beacon", "birch",  "bison",   "brook",  "cedar",   "comet",  "crane",
    "delta",  "falcon", "fern",   "fjord",   "gecko",  "glacier", "heron",  "ibex",
    "lark",   "lynx",   "maple",  "marmot",  "mesa",   "moss",    "otter",  "owl",
    "pebble", "pine",   "plover", "quartz",  "raven",  "reef",    "ridge",  "sparrow",
    "spruce", "summit", "tern",   "thistle", "tundra", "vole",    "willow", "wren",
};

void name_generate(char *out, size_t outsz, uint32_t rnd, int64_t seq)
{
	size_t na = sizeof adjectives / sizeof adjectives[0];
	size_t nn = sizeof nouns / sizeof nouns[0];
	snprintf(out, outsz, "%s-%s-%lld", adjectives[rnd % na], nouns[(rnd / na) % nn],
	         (long long)seq);
}
