#!/usr/bin/env bash
# make install puts the binary, libraries, headers and cairn.pc in PREFIX; the C
# example builds against it with pkg-config and logs a run the CLI can read.
source "$(dirname "$0")/lib.sh"
ok "make install PREFIX" make -s -C "$ROOT" install PREFIX="$T/prefix"
ok "binary installed" test -x "$T/prefix/bin/cairn"
ok "versioned soname" test -L "$T/prefix/lib/libcairn.so.0"
ok "the shim of cairn run is installed beside it" test -f "$T/prefix/lib/libcairn-shim.so"
echo x > read-me.txt
"$T/prefix/bin/cairn" run -n installed -- cat read-me.txt >/dev/null
is "and the installed cairn loads it (the file read is an input)" \
	"$("$T/prefix/bin/cairn" ls --format json | json '[r["id"] for r in j if r["name"]=="installed"][0]' | xargs "$T/prefix/bin/cairn" show --json | json '[d["name"] for d in j["datasets"]]')" '["read-me.txt"]'
export PKG_CONFIG_PATH=$T/prefix/lib/pkgconfig
ok "pkg-config knows cairn" pkg-config --exists cairn
like "only public symbols exported" "$(nm -D --defined-only "$T/prefix/lib/libcairn.so" | awk '{print $3}' | grep -vc '^cairn_')" '^0$'
ok "the C example builds against the install" \
	cc "$ROOT/examples/c/train.c" $(pkg-config --cflags --libs cairn) -Wl,-rpath,"$T/prefix/lib" -o train
ok "and runs" ./train 0.2 30
id=$(out)
ok "the run is in the store" $CAIRN show "$id" --json
is "with its params" "$(out | json 'j["params"]')" '{"epochs": 30, "lr": 0.2}'
is "and its loss curve" "$(out | json 'j["metrics"]["loss"]["count"]')" "30"
done_testing
