# bespoke: hand-written Makefile.
#
#   make                 the library (build/libbespoke.a) and the program (build/bespoke)
#   make demo            install what is missing, build, run `bespoke demo`
#   make test            install what is missing, build, run every test tier
#   make check           the tests without the install step
#   make bench           benchmarks against their references (bench/)
#   make fuzz            every libFuzzer harness, briefly (FUZZ_SECONDS each)
#   make SANITIZE=address,undefined test    the same under sanitizers
#   make DEV=1           warnings are errors (-Wall -Wextra -Werror)
#
# Sources are found by wildcard: a new lib/<stage>/*.c, tests/unit/test_*.c
# or tests/fuzz/fuzz_*.c needs no edit here.

CC ?= cc
PKGS := sqlite3 jansson zlib gsl libcyaml libcurl libcrypto libmicrohttpd libprotobuf-c libarchive
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell pkg-config --libs cmocka 2>/dev/null)

OPT ?= -O2
CFLAGS ?= $(OPT) -g
WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter
ifeq ($(DEV),1)
WARN += -Werror
endif
BSP_CFLAGS = -std=c11 -D_GNU_SOURCE -DBSP_BUILDING -fvisibility=hidden \
	-Iinclude -Ilib -I$(BUILD)/gen $(WARN) $(PKG_CFLAGS) -pthread
LDLIBS := $(PKG_LIBS) -lglpk -lsnappy -lm -pthread

BUILD := build
ifneq ($(SANITIZE),)
BUILD := build-san
CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
endif

LIB_SRC := $(sort $(wildcard lib/*/*.c))
# Protobuf code generated from lib/*/*.proto (protoc-c) joins the library.
PROTO_SRC := $(sort $(wildcard lib/*/*.proto))
PROTO_GEN := $(PROTO_SRC:lib/%.proto=$(BUILD)/gen/%.pb-c.c)
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o) $(PROTO_GEN:.c=.o)
CLI_SRC := $(sort $(wildcard src/*.c))
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BENCH_SRC := $(sort $(wildcard bench/bench_*.c))
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
FUZZ_SECONDS ?= 10

LIBA := $(BUILD)/libbespoke.a
PROG := $(BUILD)/bespoke

.PHONY: all deps demo test check unit cli bench bench-bins fuzz clean format lint

all: $(PROG)

$(BUILD)/%.o: %.c | $(PROTO_GEN)
	@mkdir -p $(@D)
	$(CC) $(BSP_CFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/gen/%.pb-c.c: lib/%.proto
	@mkdir -p $(@D)
	protoc-c --c_out=$(BUILD)/gen/$(dir $*) --proto_path=lib/$(dir $*) $<
	@mkdir -p $(BUILD)/gen
	cp $(@:.c=.h) $(BUILD)/gen/

# Generated code is compiled without the project's warnings.
$(BUILD)/gen/%.pb-c.o: $(BUILD)/gen/%.pb-c.c
	$(CC) -std=c11 $(PKG_CFLAGS) -I$(BUILD)/gen $(CFLAGS) -w -c $< -o $@

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The daemon serves docs/openapi.json as it is in the tree: a C string
# generated from it.
GEN_OBJ := $(BUILD)/gen/openapi.o $(BUILD)/gen/web.o
# The dashboard's files (web/), embedded as a table (scripts/embed-web.sh).
WEB_SRC := $(sort $(wildcard web/*))
$(BUILD)/gen/web.c: $(WEB_SRC) scripts/embed-web.sh
	@mkdir -p $(@D)
	scripts/embed-web.sh $(WEB_SRC) >$@
$(BUILD)/gen/web.o: $(BUILD)/gen/web.c
	$(CC) $(CFLAGS) -c $< -o $@
$(BUILD)/gen/openapi.c: docs/openapi.json
	@mkdir -p $(@D)
	{ echo '/* Generated from docs/openapi.json by the Makefile. */'; \
	  echo 'extern const char serve_openapi_json[];'; \
	  echo 'const char serve_openapi_json[] ='; \
	  sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$$/\\n"/' $<; echo ';'; } >$@
$(BUILD)/gen/openapi.o: $(BUILD)/gen/openapi.c
	$(CC) $(BSP_CFLAGS) $(CFLAGS) -c $< -o $@

$(PROG): $(CLI_OBJ) $(GEN_OBJ) $(LIBA)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(GEN_OBJ) $(LIBA) $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(LIBA) tests/unit/testutil.h
	@mkdir -p $(@D)
	$(CC) $(BSP_CFLAGS) -Itests/unit $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(CMOCKA_LIBS) $(LDLIBS)

$(BUILD)/bench/%: bench/%.c $(LIBA)
	@mkdir -p $(@D)
	$(CC) $(BSP_CFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

deps:
	@scripts/install-deps.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@rm -f demo.db demo.db-wal demo.db-shm
	./$(PROG) --db demo.db demo

test: deps
	@$(MAKE) --no-print-directory check

check: unit cli

unit: $(UNIT_BIN)
	@tests/run-unit.sh $(UNIT_BIN)

cli: $(PROG)
	@BESPOKE=$(abspath $(PROG)) tests/run-cli.sh

bench:
	@BSP_DEPS_BENCH=1 scripts/install-deps.sh
	@$(MAKE) --no-print-directory all bench-bins
	@bench/run.sh

bench-bins: $(BENCH_BIN)

fuzz: $(PROTO_GEN)
	@PKG_CFLAGS="$(PKG_CFLAGS)" PKG_LIBS="$(PKG_LIBS)" tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_SRC)

format:
	clang-format -i include/bespoke/*.h lib/*.h lib/*/*.[ch] src/*.[ch] tests/unit/*.[ch]

lint:
	@scripts/check-banned.sh

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
