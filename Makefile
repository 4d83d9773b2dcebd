# proberows — one non-recursive GNU Makefile (STYLE.md §3).
#
#   make                     library + CLI in build/release
#   make check               install missing deps, build, run every test
#   make check SAN=asan      the same under ASan+UBSan, in build/asan
#   make check SAN=tsan      the same under TSan, in build/tsan
#   make run                 the main job on examples/ into out/
#   make bench               every benchmark program bench/bench_*.c (bench/README.md)
#   make fuzz                libFuzzer builds of every target, run FUZZ_SECONDS each
#   make python              the Python package into build/python (python/README.md)
#   make install PREFIX=...  library, headers, CLI, proberows.pc
#   make deps                install missing Debian packages (as root)
#   make clean
#
# WERROR=1 turns warnings into errors (CI does this). V=1 prints full compiler command lines.

SAN ?=
VARIANT := $(if $(SAN),$(SAN),release)
BUILD ?= build/$(VARIANT)
PREFIX ?= /usr/local
FUZZ_SECONDS ?= 30

CC ?= cc
# Quiet rules: one "CC file.c" line per object unless V=1.
ifeq ($(V),1)
Q :=
say = @:
else
Q := @
say = @printf '  %-4s %s\n' $(1) $(2)
endif
PKG_CONFIG ?= pkg-config
PKGS := libzstd snappy libbrotlienc libbrotlidec liblz4 libdeflate zlib libmd

# Debian packages the build and tests need (make deps installs the missing ones).
DEB_PKGS := pkg-config libzstd-dev libsnappy-dev libbrotli-dev liblz4-dev libdeflate-dev \
            zlib1g-dev libmd-dev libhighwayhash-dev libbz2-dev bzip2

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wformat=2 \
        -Wundef
ifeq ($(WERROR),1)
WARN += -Werror
endif

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
LIBS = $(PKG_LIBS) -lhighwayhash -lbz2 -lstdc++ -lpthread -lm

ifeq ($(SAN),asan)
OPT := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else ifeq ($(SAN),tsan)
OPT := -O1 -g -fsanitize=thread
else ifeq ($(SAN),debug)
OPT := -O0 -g3 -DPRW_DEBUG=1
else ifeq ($(SAN),)
OPT := -O2 -g
else
$(error SAN must be asan, tsan or debug)
endif

CPPFLAGS_ALL := -Iinclude -Isrc -D_POSIX_C_SOURCE=200809L
CFLAGS_ALL := -std=c17 $(WARN) $(OPT) -fvisibility=hidden -pthread $(PKG_CFLAGS) $(CFLAGS)
LDFLAGS_ALL := $(OPT) -pthread $(LDFLAGS)

# Every folder of src/ but the CLI is part of the library, so a new module needs no edit here.
LIB_SRC := $(sort $(filter-out src/cli/%,$(wildcard src/*/*.c)))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
TEST_SRC := tests/harness.c $(sort $(wildcard tests/unit/*.c))
FUZZ_SRC := $(sort $(filter-out fuzz/fuzz_entry.c,$(wildcard fuzz/fuzz_*.c)))
BENCH_SRC := $(sort $(wildcard bench/*.c))
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(FUZZ_SRC))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIB_OBJ := $(call obj,$(LIB_SRC))
CLI_OBJ := $(call obj,$(CLI_SRC))
TEST_OBJ := $(call obj,$(TEST_SRC))
FUZZ_OBJ := $(call obj,$(FUZZ_SRC))
BENCH_OBJ := $(call obj,$(BENCH_SRC))

LIB := $(BUILD)/libproberows.a
CLI := $(BUILD)/proberows
TESTS := $(BUILD)/prw_tests
BENCH_BINS := $(patsubst bench/%.c,$(BUILD)/%,$(BENCH_SRC))
GEN := $(BUILD)/gen

.PHONY: all lib cli check node-deps run bench fuzz fuzz-build install clean deps format format-check lint \
        check-layers check-sizes check-symbols pic python
.DEFAULT_GOAL := all

all: $(LIB) $(CLI)
lib: $(LIB)
cli: $(CLI)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(call say,AR,$@)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(CLI): $(CLI_OBJ) $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(CLI_OBJ) $(LIB) $(LIBS)

# The test and fuzz lists are generated from the sources, so adding a TEST() or a fuzz target
# needs no edit of a shared file.
$(GEN)/test_list.h: $(TEST_SRC)
	@mkdir -p $(@D)
	$(call say,GEN,$@)
	$(Q)grep -h '^TEST(' $(filter tests/unit/%,$^) /dev/null | sed 's/^TEST(\([A-Za-z0-9_]*\)).*/X(\1)/' > $@.tmp
	$(Q)mv $@.tmp $@

$(GEN)/fuzz_list.h: $(FUZZ_SRC) Makefile
	@mkdir -p $(@D)
	$(call say,GEN,$@)
	$(Q)printf '%s\n' $(foreach n,$(FUZZ_NAMES),'X($(n))') | grep -v '^$$' > $@.tmp || true
	$(Q)mv $@.tmp $@

$(BUILD)/obj/tests/harness.o: tests/harness.c $(GEN)/test_list.h $(GEN)/fuzz_list.h
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS_ALL) -I$(GEN) -Itests -DPRW_CLI_PATH='"$(CLI)"' $(CFLAGS_ALL) -D_GNU_SOURCE \
	    -MMD -MP -c $< -o $@

$(BUILD)/obj/tests/unit/%.o: tests/unit/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS_ALL) -Itests $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/obj/fuzz/%.o: fuzz/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS_ALL) -Ifuzz $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(TESTS): $(TEST_OBJ) $(FUZZ_OBJ) $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(TEST_OBJ) $(FUZZ_OBJ) $(LIB) $(LIBS)

$(BUILD)/obj/bench/%.o: bench/%.c
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS_ALL) -Ibench $(CFLAGS_ALL) -MMD -MP -c $< -o $@

# Each bench/bench_NAME.c is its own program (build/release/bench_NAME).
$(BUILD)/bench_%: $(BUILD)/obj/bench/bench_%.o $(LIB)
	$(call say,LD,$@)
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $< $(LIB) $(LIBS)

check: deps node-deps
	@$(MAKE) --no-print-directory $(TESTS) $(CLI)
	@echo "  RUN  $(TESTS) $(TEST_ARGS)"
	@./$(TESTS) $(TEST_ARGS)

# The interop tests read fixtures through tools/node_modules (apache-arrow, DuckDB): install it
# from tools/package-lock.json when npm is there and it is missing; else say why they SKIP.
node-deps:
	@if [ ! -d tools/node_modules ]; then \
	    if ! command -v npm >/dev/null 2>&1; then \
	        echo "node-deps: npm not found: tests that need tools/node_modules will SKIP"; \
	    else \
	        echo "node-deps: tools/node_modules is missing: npm ci in tools/"; \
	        (cd tools && npm ci --no-audit --no-fund --loglevel=error --fetch-retries=1 \
	            --fetch-timeout=20000) >/dev/null 2>&1 || \
	        { rm -rf tools/node_modules; \
	          echo "node-deps: npm ci failed (offline? no registry?): those tests will SKIP"; }; \
	    fi; \
	fi

run: deps
	@$(MAKE) --no-print-directory $(CLI)
	@sh tools/run_examples.sh $(CLI)

bench: $(BENCH_BINS) $(CLI)
	@set -e; for b in $(BENCH_BINS); do echo "== $$b"; ./$$b $(BENCH_ARGS); done; \
	for s in $(wildcard bench/*.sh); do echo "== $$s"; sh $$s; done

# libFuzzer builds: every library source and one target per binary, under clang. `make
# fuzz-build` only builds them (build/fuzz/fuzz_NAME).
FUZZ_BUILD := build/fuzz
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
# The byte loops of the bzip2 back end (inverse BWT, RLE1, CRC: once per decoded byte) are not
# traced for comparisons: their compares are loop bounds that guide the fuzzer nowhere, and the
# trace calls were over half the CPU of bz_decode and at_reader. Edges are still counted.
ifeq ($(FUZZ_LIB),1)
$(call obj,src/bzip2/bz_bwt.c src/bzip2/bz_crc.c): CFLAGS_ALL += -fno-sanitize-coverage=trace-cmp
endif
fuzz-build:
	@mkdir -p $(FUZZ_BUILD)
	$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD)/lib CC=$(FUZZ_CC) SAN= FUZZ_LIB=1 \
	    CFLAGS="$(FUZZ_FLAGS)" $(FUZZ_BUILD)/lib/libproberows.a
	@set -e; for n in $(FUZZ_NAMES); do \
	    $(FUZZ_CC) $(CPPFLAGS_ALL) -Ifuzz -std=c17 $(FUZZ_FLAGS) -fsanitize=fuzzer $(PKG_CFLAGS) \
	        -DPRW_FUZZ_NAME=$$n fuzz/fuzz_$$n.c fuzz/fuzz_entry.c $(FUZZ_BUILD)/lib/libproberows.a \
	        $(LIBS) -o $(FUZZ_BUILD)/fuzz_$$n; \
	done
fuzz: fuzz-build
	@set -e; for n in $(FUZZ_NAMES); do \
	    mkdir -p $(FUZZ_BUILD)/corpus/$$n $(FUZZ_BUILD)/artifacts/$$n; \
	    echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
	    $(FUZZ_BUILD)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 \
	        -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$n/ $(FUZZ_BUILD)/corpus/$$n fuzz/corpus/$$n; \
	done

# The Python package (python/README.md) links the library built position-independent in
# build/pic (build/pic-asan with SAN=asan); `make python` builds it into build/python.
PYTHON ?= /usr/bin/python3
PIC := build/pic$(if $(SAN),-$(SAN))
pic:
	@$(MAKE) --no-print-directory BUILD=$(PIC) CFLAGS="-fPIC $(CFLAGS)" $(PIC)/libproberows.a
python: pic
	cd python && $(PYTHON) setup.py -q build --build-base ../build/python-tmp \
	    --build-lib ../build/python

deps:
	@missing=""; for p in $(DEB_PKGS); do \
	    dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then \
	        echo "installing:$$missing"; \
	        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	            --no-install-recommends $$missing) >/dev/null || exit 1; \
	    else \
	        echo "missing packages; run:"; \
	        echo "  sudo apt-get install -y$$missing"; exit 1; \
	    fi; \
	fi

install: $(LIB) $(CLI)
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/proberows \
	    $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 644 include/proberows/*.h $(DESTDIR)$(PREFIX)/include/proberows/
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(shell sed -n 's/^#define PRW_VERSION_STRING "\(.*\)"/\1/p' include/proberows/proberows.h)|g' \
	    -e 's|@REQUIRES@|$(PKGS)|g' tools/proberows.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/proberows.pc

# Layering (docs/ARCHITECTURE.md): common <- formats <- build <- {scaleout, verify} <- cli.
check-layers:
	@sh tools/check_layers.sh

# Sizes (docs/ARCHITECTURE.md): no file under src/ over 800 lines, no function over 100.
check-sizes:
	@sh tools/check_sizes.sh

# Every exported symbol of the library starts with prw_.
check-symbols: $(LIB)
	@bad=$$(nm -g --defined-only $(LIB) | awk 'NF==3{print $$3}' | grep -v '^prw_' || true); \
	if [ -n "$$bad" ]; then echo "symbols without the prw_ prefix:"; echo "$$bad"; exit 1; fi; \
	echo "check-symbols: ok"

FORMAT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	clang-format --dry-run -Werror $(FORMAT_SRC)

clean:
	rm -rf build out

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
