# cairn — GNU Makefile (see docs/internals/build.md for why plain make).
#
#   make              developer build in build/: libcairn.a, libcairn.so, cairn
#   make SAN=1        address+undefined sanitizer build in build-san/
#   make test         sanitizer build, then unit, e2e, fuzz-corpus, python and browser tests
#   make bench        benchmarks (release flags), each printing figure beside its floor
#   make install PREFIX=/usr/local

VERSION_MAJOR := 0
VERSION       := 0.1.0
PREFIX        ?= /usr/local
CC            ?= cc

PKGS := sqlite3 libcrypto yaml-0.1 libgit2 libxxhash libmicrohttpd
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -lpthread -ldl -lm

ifeq ($(SAN),1)
B        ?= build-san
OPTFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
LDSAN    := -fsanitize=address,undefined
else ifeq ($(RELEASE),1)
B        ?= build-rel
OPTFLAGS := -O2 -g -DNDEBUG
LDSAN    :=
else
B        ?= build
OPTFLAGS := -O2 -g
LDSAN    :=
endif

WARN   := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Wno-format-truncation
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPTFLAGS) $(WARN) -fPIC -fvisibility=hidden \
              -Iinclude -Isrc $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL := $(LDSAN) $(LDFLAGS)

LIB_SRC := $(sort $(wildcard src/util/*.c src/lib/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c src/server/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(B)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test-*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
BENCH_SRC := $(sort $(wildcard bench/bench-*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(B)/bench/%)
TOOL_SRC := $(sort $(wildcard tests/tools/tool-*.c))
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(B)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/fuzz/%)

SONAME := libcairn.so.$(VERSION_MAJOR)

all: $(B)/libcairn.a $(B)/libcairn.so $(B)/cairn

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(B)/libcairn.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/libcairn.so.$(VERSION): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--no-undefined -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS)

$(B)/libcairn.so: $(B)/libcairn.so.$(VERSION)
	ln -sf libcairn.so.$(VERSION) $(B)/$(SONAME)
	ln -sf libcairn.so.$(VERSION) $@

$(B)/cairn: $(CLI_OBJ) $(B)/libcairn.a
	$(CC) -o $@ $(CLI_OBJ) $(B)/libcairn.a $(LDFLAGS_ALL) $(PKG_LIBS)

$(B)/tests/%: tests/unit/%.c $(B)/libcairn.a tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -Wno-error=unused-function -o $@ $< $(B)/libcairn.a $(LDFLAGS_ALL) $(PKG_LIBS) -lcmocka

$(B)/bench/%: bench/%.c bench/bench.h $(B)/libcairn.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libcairn.a $(LDFLAGS_ALL) $(PKG_LIBS)

$(B)/tests/tool-%: tests/tools/tool-%.c $(B)/libcairn.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(B)/libcairn.a $(LDFLAGS_ALL) $(PKG_LIBS)

# Fuzz targets: with clang they are libFuzzer binaries; the replay driver links
# the same target against tests/fuzz/replay.c so `make test` runs the corpus with gcc.
$(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/replay.c $(B)/libcairn.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -o $@ $< tests/fuzz/replay.c $(B)/libcairn.a $(LDFLAGS_ALL) $(PKG_LIBS)

unit: $(UNIT_BIN) $(TOOL_BIN)
fuzz: $(FUZZ_BIN)
bench-bin: $(BENCH_BIN)

test:
	@scripts/run-tests

bench:
	@$(MAKE) --no-print-directory RELEASE=1 all bench-bin
	@scripts/run-bench

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/cairn
	install -m 755 $(B)/cairn $(DESTDIR)$(PREFIX)/bin/cairn
	install -m 644 $(B)/libcairn.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(B)/libcairn.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libcairn.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	ln -sf libcairn.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libcairn.so
	install -m 644 include/cairn.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 include/cairn/*.h $(DESTDIR)$(PREFIX)/include/cairn/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' cairn.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/cairn.pc

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-rel

.PHONY: all unit fuzz bench-bin test bench install format format-check clean
