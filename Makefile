# cairn — GNU Makefile (see docs/internals/build.md for why plain make).
#
#   make              developer build in build/: libcairn.a, libcairn.so, cairn
#   make SAN=1        address+undefined sanitizer build in build-san/
#   make test         sanitizer build, then unit, e2e, fuzz-corpus, python and browser tests,
#                     and unit and e2e again on PostgreSQL
#   make test-pg      only the PostgreSQL pass
#   make bench        benchmarks (release flags), each printing figure beside its floor
#   make install PREFIX=/usr/local

comma := ,
VERSION_MAJOR := 0
VERSION       := 0.1.0
PREFIX        ?= /usr/local
CC            ?= cc

# Linked at start-up: what nearly every command uses.  Loaded on first use
# with dlopen (util/dl.h, docs/internals/build.md): libgit2 (code capture),
# libmicrohttpd (the server), libcrypto (SHA-256, md5), libcurl (objects in
# an S3 bucket), libpq (PostgreSQL stores); only their headers
# are needed at build time, and their sonames, read below from the .so the
# linker would have used, so headers and library agree.
PKGS    := sqlite3 yaml-0.1 libxxhash
DL_PKGS := libgit2 libmicrohttpd libcrypto libcurl libpq
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) $(DL_PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS)) -lpthread -ldl -lm

# $(call dl_soname,PKG,NAME): the SONAME of libNAME.so in PKG's libdir, else
# where the compiler finds it.
dl_soname = $(shell f=$$(for d in $$(pkg-config --libs-only-L $(1) | sed 's/-L//g') \
	$$(pkg-config --variable=libdir $(1)); do [ -e "$$d/lib$(2).so" ] && echo "$$d/lib$(2).so" && break; \
	done); [ -n "$$f" ] || f=$$($(CC) -print-file-name=lib$(2).so); \
	objdump -p "$$f" 2>/dev/null | awk '$$1 == "SONAME" { print $$2 }')
SONAME_GIT2   := $(call dl_soname,libgit2,git2)
SONAME_MHD    := $(call dl_soname,libmicrohttpd,microhttpd)
SONAME_CRYPTO := $(call dl_soname,libcrypto,crypto)
SONAME_CURL   := $(call dl_soname,libcurl,curl)
SONAME_PQ     := $(call dl_soname,libpq,pq)
ifeq ($(filter clean format format-check,$(MAKECMDGOALS)),)
$(foreach v,SONAME_GIT2 SONAME_MHD SONAME_CRYPTO SONAME_CURL SONAME_PQ,$(if $($(v)),,$(error cannot read $(v) (objdump -p of the library; are the -dev packages installed?))))
endif
DL_DEFS := -DCAIRN_SONAME_GIT2='"$(SONAME_GIT2)"' -DCAIRN_SONAME_MHD='"$(SONAME_MHD)"' \
           -DCAIRN_SONAME_CRYPTO='"$(SONAME_CRYPTO)"' -DCAIRN_SONAME_CURL='"$(SONAME_CURL)"' \
           -DCAIRN_SONAME_PQ='"$(SONAME_PQ)"'

# The sanitizer build uses clang where it is installed (scripts/install-deps
# installs it): its UBSan has float-cast-overflow, which GCC's lacks.
# FUZZ=1 is the same build with libFuzzer's coverage, for `make fuzz-run`.
ifneq ($(filter 1,$(SAN) $(FUZZ)),)
ifeq ($(origin CC),default)
CC := $(shell command -v clang >/dev/null 2>&1 && echo clang || echo cc)
endif
SANITIZERS := address,undefined$(if $(findstring clang,$(CC)),$(comma)float-cast-overflow)
ifeq ($(FUZZ),1)
B        ?= build-fuzz
SANITIZERS := $(SANITIZERS),fuzzer-no-link
else
B        ?= build-san
endif
# clang leaves the sanitizer runtime to the executable, so its shared library
# has undefined __asan_* symbols by design.
SO_NOUNDEF := $(if $(findstring clang,$(CC)),,-Wl,--no-undefined)
OPTFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZERS) -fno-sanitize-recover=all
LDSAN    := -fsanitize=$(subst $(comma)fuzzer-no-link,,$(SANITIZERS))
else ifeq ($(RELEASE),1)
B        ?= build-rel
OPTFLAGS := -O2 -g -DNDEBUG
LDSAN    :=
else
B        ?= build
OPTFLAGS := -O2 -g
LDSAN    :=
endif

WARN   := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter $(if $(findstring clang,$(CC)),,-Wno-format-truncation)
CFLAGS_ALL := -std=c11 -D_GNU_SOURCE $(OPTFLAGS) $(WARN) -fPIC -fvisibility=hidden \
              -Iinclude -Isrc $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL := $(LDSAN) $(LDFLAGS)

LIB_SRC := $(sort $(wildcard src/util/*.c src/lib/*.c src/lib/*/*.c src/lib/*/*/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c src/server/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
UTIL_SRC := $(sort $(wildcard src/util/*.c))
UTIL_OBJ := $(UTIL_SRC:%.c=$(B)/%.o)
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
SO_NOUNDEF ?= -Wl,--no-undefined

all: $(B)/libcairn.a $(B)/libcairn.so $(B)/cairn $(B)/cairn-so $(B)/libcairn-shim.so

# The LD_PRELOAD shim of `cairn run` (src/shim/shim.c, docs/internals/auto-capture.md):
# loaded into programs that were not built with our flags, so it is always
# built plain (no sanitizer runtime, no fortify wrappers of the functions it
# defines), and links nothing but libc and libdl.
SHIM_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g $(WARN) -fPIC -fvisibility=hidden \
               -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=0 $(CFLAGS)
$(B)/libcairn-shim.so: src/shim/shim.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -shared -Wl,--no-undefined -o $@ $< -ldl

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

# Objects are rebuilt when the compiler or the flags change (SAN=1 moving
# from gcc to clang, say): the stamp is rewritten only when they differ.
FLAGS_STAMP := $(B)/.flags
BUILD_FLAGS := $(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) $(DL_DEFS)
$(FLAGS_STAMP): FORCE
	@mkdir -p $(B)
	@echo '$(BUILD_FLAGS)' | cmp -s - $@ || echo '$(BUILD_FLAGS)' >$@

# Only the loaders need the sonames.
$(B)/src/util/evp.o $(B)/src/lib/capture/lg2.o $(B)/src/server/mhd.o \
    $(B)/src/lib/store/s3/curl.o $(B)/src/lib/store/pg/pq.o: DL_CPPFLAGS := $(DL_DEFS)

$(B)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(DL_CPPFLAGS) -MMD -MP -c $< -o $@

$(B)/libcairn.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/libcairn.so.$(VERSION): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,$(SONAME) $(SO_NOUNDEF) -o $@ $^ $(LDFLAGS_ALL) $(PKG_LIBS)

$(B)/libcairn.so: $(B)/libcairn.so.$(VERSION)
	ln -sf libcairn.so.$(VERSION) $(B)/$(SONAME)
	ln -sf libcairn.so.$(VERSION) $@

# The tool is a client of the public API (curl's pattern): what it shares
# with the library beyond include/cairn*.h is src/util/, which it links from
# its own archive, libcairnx.a, ahead of the library.  cairn is linked with
# libcairn.a (it runs from anywhere, and starts faster: see build.md);
# cairn-so is the same objects against libcairn.so, where only CAIRN_EXTERN
# symbols are visible, so a call into the library's internals fails this
# link.  `make test` runs cairn-so too (tests/e2e/so-tool.t).
$(B)/libcairnx.a: $(UTIL_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/cairn: $(CLI_OBJ) $(B)/libcairnx.a $(B)/libcairn.a
	$(CC) -o $@ $(CLI_OBJ) $(B)/libcairnx.a $(B)/libcairn.a $(LDFLAGS_ALL) $(PKG_LIBS)

$(B)/cairn-so: $(CLI_OBJ) $(B)/libcairnx.a $(B)/libcairn.so
	$(CC) -o $@ $(CLI_OBJ) $(B)/libcairnx.a -L$(B) -lcairn -Wl,-rpath,'$$ORIGIN' \
	    $(LDFLAGS_ALL) -lpthread -ldl -lm

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

# libFuzzer binaries (FUZZ=1 build-fuzz/): build-fuzz/libfuzz/fuzz-X
LIBFUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(B)/libfuzz/%)
$(B)/libfuzz/%: tests/fuzz/%.c $(B)/libcairn.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $< $(B)/libcairn.a $(LDFLAGS_ALL) $(PKG_LIBS)

unit: $(UNIT_BIN) $(TOOL_BIN)
fuzz: $(FUZZ_BIN)
libfuzz: $(LIBFUZZ_BIN)
bench-bin: $(BENCH_BIN)

test:
	@scripts/run-tests

# The unit, end-to-end and Python tests on PostgreSQL only (make test runs them too).
test-pg:
	@PG_ONLY=1 scripts/run-tests

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
	install -m 755 $(B)/libcairn-shim.so $(DESTDIR)$(PREFIX)/lib/
	install -d $(DESTDIR)$(PREFIX)/share/cairn/pyhook
	install -m 644 python/pyhook/*.py $(DESTDIR)$(PREFIX)/share/cairn/pyhook/
	-python3 -m compileall -q -d $(PREFIX)/share/cairn/pyhook $(DESTDIR)$(PREFIX)/share/cairn/pyhook >/dev/null 2>&1
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' cairn.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/cairn.pc

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-rel build-fuzz

.PHONY: FORCE all unit fuzz libfuzz bench-bin test test-pg bench install format format-check clean
