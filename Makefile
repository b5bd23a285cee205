# collabd - cross-department collaboration bot for Feishu (and DingTalk).
#
#   make                build build/collabd
#   make test           unit tests (cmocka) and end-to-end tests (pytest, simulator)
#   make test-asan      the same suites against an ASan+UBSan build
#   make test-pg        the e2e suite and the cluster tests on a throwaway PostgreSQL
#   make check          everything CI runs (README "Testing")
#   make demo           run the daemon against the local simulator, scripted
#   make install        PREFIX=/usr/local DESTDIR= honoured
#
# Dependencies come from Debian packages (see README.md); nothing is vendored.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
PYTHON     ?= /usr/bin/python3
PKGS       := libwebsockets libcurl jansson sqlite3 libpq

# SAN=1 builds into build/asan with AddressSanitizer and UBSan.
ifeq ($(SAN),1)
BUILD      := build/asan
SANFLAGS   := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
OPT        := -O1
else
BUILD      := build
SANFLAGS   :=
OPT        := -O2
endif

# Quiet by default; `make V=1` shows the full commands.
ifeq ($(V),1)
Q :=
else
Q := @
endif

# The libraries' flags are asked of pkg-config when the first recipe needs them, not
# when this file is read: `make deps demo` on a fresh machine installs the -dev
# packages first (deps runs before any compile, see DEPS_FIRST below), so flags
# computed at parse time would be empty.  Each is computed once per run.
pkgconf    = $(if $(shell pkg-config --exists $(PKGS) && echo ok),$(shell pkg-config $(1) $(PKGS)),$(error \
               pkg-config finds no $(PKGS): install the build dependencies with `make deps`))
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(call pkgconf,--cflags))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(call pkgconf,--libs))$(PKG_LIBS)

# The project's own flags stay apart from the user's CFLAGS/LDFLAGS, so that
# `make CFLAGS=-O0` changes the optimisation and nothing else.  -MMD -MP writes a
# .d file beside each object so edits to any header rebuild what includes it.
CFLAGS     ?= $(OPT) -g
COLLABD_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
              -Iinclude -DCOLLABD_VERSION=\"$(VERSION)\" -DCOLLABD_DATADIR=\"$(PREFIX)/share/collabd\" \
              -MMD -MP $(PKG_CFLAGS)
ALL_CFLAGS  = $(COLLABD_CFLAGS) $(CFLAGS) $(SANFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)
ALL_LDLIBS  = $(PKG_LIBS) $(LDLIBS)

# daemon/ has one folder per layer (daemon/README.md); bot-commands/ the slash commands.
LIB_SRCS   := $(filter-out daemon/core/main.c,$(wildcard daemon/*/*.c)) $(wildcard bot-commands/*.c)
LIB_OBJS   := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
MAIN_OBJ   := $(BUILD)/obj/daemon/core/main.o
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

# `make deps <anything>` in one invocation: every compile waits for deps (also under -j).
DEPS_FIRST := $(if $(filter deps,$(MAKECMDGOALS)),deps)

.PHONY: all deps test test-pg check unit e2e build-test layers chaos valgrind test-asan test-asan-pg demo bench bench-deps bench-flood bench-engines bench-instructions bench-scale install clean

# Debian packages for building, testing and the demo (run as root or with sudo);
# chromium and the CJK fonts are for the web board's browser tests and screenshots.
DEB_PKGS   := build-essential pkg-config libwebsockets-dev libcurl4-openssl-dev libjansson-dev \
              libsqlite3-dev libpq-dev postgresql libcmocka-dev tzdata valgrind clang libclang-rt-14-dev python3 python3-pytest python3-websockets python3-protobuf \
              chromium fonts-noto-cjk python3-jsonschema openssl
SUDO       := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
# A variable so that tests/build can stand in for it (and for SUDO).
APT_GET    ?= apt-get

all: $(BUILD)/collabd

$(BUILD)/obj/%.o: %.c | $(DEPS_FIRST)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libcollabd.a: $(LIB_OBJS)
	@rm -f $@ # a renamed or removed source must not leave its old object in the archive
	$(Q)$(AR) rcs $@ $^

$(BUILD)/collabd: $(MAIN_OBJ) $(BUILD)/libcollabd.a
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(ALL_LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcollabd.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libcollabd.a $(ALL_LDLIBS) -lcmocka

$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libcollabd.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libcollabd.a $(ALL_LDLIBS)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

e2e: $(BUILD)/collabd $(BUILD)/bench/flood_gateway
	COLLABD_BIN=$(abspath $(BUILD)/collabd) COLLABD_SANITIZED=$(SAN) $(PYTHON) -m pytest -q tests/sim tests/e2e

test: unit e2e

# The e2e suite with every daemon on PostgreSQL instead of SQLite: a throwaway
# server (initdb in a temporary directory, its own port on 127.0.0.1, run as an
# unprivileged user when make runs as root; tests/pg/pgcluster.py) and a fresh
# database per daemon.  Then the cluster tests (several instances, one database).
test-pg: $(BUILD)/collabd $(BUILD)/bench/flood_gateway
	COLLABD_BIN=$(abspath $(BUILD)/collabd) COLLABD_SANITIZED=$(SAN) $(PYTHON) tests/pg/pgcluster.py \
	  $(PYTHON) -m pytest -q tests/e2e tests/pg

# The Makefile itself (tests/build): `make deps X` in one invocation, CFLAGS kept
# apart, header tracking.  It runs make in temporary build directories.
build-test: | $(DEPS_FIRST)
	$(PYTHON) -m pytest -q tests/build

# 10,000 events while the daemon is SIGKILLed 20 times (seeded: CHAOS_SEED=...),
# and the power-cut run: SIGKILLs under the power-loss shim (tests/chaos/powerloss_vfs.c).
chaos: $(BUILD)/collabd $(BUILD)/tests/powerloss_vfs.so
	COLLABD_BIN=$(abspath $(BUILD)/collabd) POWERLOSS_VFS=$(abspath $(BUILD)/tests/powerloss_vfs.so) \
	  $(PYTHON) -m pytest -q -s tests/chaos

# TEST ONLY, never linked into collabd: loaded with LD_PRELOAD, it makes
# SIGKILL lose every SQLite write not yet synced, like a power cut.
$(BUILD)/tests/powerloss_vfs.so: tests/chaos/powerloss_vfs.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) -std=c11 -Wall -Wextra -Werror -fPIC -shared $(CFLAGS) $(shell pkg-config --cflags sqlite3) \
	  -o $@ $< $(shell pkg-config --libs sqlite3)

test-asan:
	$(MAKE) SAN=1 test

# The unit tests and the PostgreSQL run (e2e + cluster) under ASan+UBSan: what
# check runs.  The common code and the PostgreSQL engine run there under the
# sanitizers; the SQLite engine under them through its unit tests, and under
# valgrind through the e2e scenarios marked valgrind.
test-asan-pg:
	$(MAKE) SAN=1 unit test-pg

# The daemon under valgrind through the e2e scenarios marked @pytest.mark.valgrind
# (tests/e2e/README.md): any invalid access or definite leak makes it exit 99,
# which fails the test.
VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
            --show-leak-kinds=definite --track-fds=no
valgrind: $(BUILD)/collabd
	COLLABD_BIN=$(abspath $(BUILD)/collabd) COLLABD_WRAPPER="$(VALGRIND)" $(PYTHON) -m pytest -q \
	  -m valgrind tests/e2e

# Everything CI runs: the suites on the normal build (SQLite), on PostgreSQL
# under ASan+UBSan, the valgrind scenarios and the crash-safety run.  The e2e
# suite runs twice (a third run, SQLite under ASan, is `make test-asan`: it
# added ~9 minutes to CI; the SQLite engine stays under the sanitizers in its
# unit tests).
# The fuzz targets get 15 s each here (CHECK_FUZZ_SECONDS);
# `make fuzz` alone runs them FUZZ_SECONDS (60) each.
CHECK_FUZZ_SECONDS ?= 15
# No two source files call each other (tests/build/test_layers.py reads the objects).
layers: $(BUILD)/libcollabd.a
	COLLABD_OBJ_DIR=$(abspath $(BUILD)/obj) $(PYTHON) -m pytest -q tests/build/test_layers.py

check: build-test layers test chaos valgrind test-asan-pg
	$(MAKE) fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)

deps:
	$(SUDO) env DEBIAN_FRONTEND=noninteractive $(APT_GET) update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive $(APT_GET) install -y -q --no-install-recommends $(DEB_PKGS)

bench: $(BUILD)/collabd $(BENCH_BINS)
	@set -e; for b in $(BENCH_BINS); do $$b; done
	COLLABD_BIN=$(abspath $(BUILD)/collabd) $(PYTHON) tests/bench/bench_e2e.py
	COLLABD_BIN=$(abspath $(BUILD)/collabd) $(PYTHON) tests/bench/bench_timers.py
	COLLABD_BIN=$(abspath $(BUILD)/collabd) $(PYTHON) tests/bench/bench_progress.py
	COLLABD_BIN=$(abspath $(BUILD)/collabd) $(PYTHON) tests/bench/bench_ack.py

# The official SDK clients the flood benchmark compares against (npm; not a test
# dependency): pinned versions into build/bench-sdk.
BENCH_SDK_DIR := build/bench-sdk
BENCH_SDKS    := @larksuiteoapi/node-sdk@1.74.0 dingtalk-stream@2.1.5
bench-deps:
	mkdir -p $(BENCH_SDK_DIR)
	[ -f $(BENCH_SDK_DIR)/package.json ] || echo '{"private": true}' > $(BENCH_SDK_DIR)/package.json
	npm install --prefix $(BENCH_SDK_DIR) --no-audit --no-fund --ignore-scripts $(BENCH_SDKS)

# Durable acks per second, ack latency and peak RSS: collabd beside the official SDKs,
# both against the C gateway build/bench/flood_gateway (tests/bench/bench_flood.py).
bench-flood: $(BUILD)/collabd $(BUILD)/bench/flood_gateway
	COLLABD_BIN=$(abspath $(BUILD)/collabd) BENCH_SDK_DIR=$(abspath $(BENCH_SDK_DIR)) $(PYTHON) tests/bench/bench_flood.py

# Durable events/s and ack latency by store: SQLite, PostgreSQL with 1 and 3
# instances (a throwaway server; no SDK needed).
bench-engines: $(BUILD)/collabd $(BUILD)/bench/flood_gateway
	COLLABD_BIN=$(abspath $(BUILD)/collabd) $(PYTHON) tests/bench/bench_flood.py --engines

# Instructions per event under a flood (callgrind; steady on a shared machine):
# INSTR_PLATFORM=dingtalk|feishu, INSTR_EVENTS (20,000) (tests/bench/bench_instructions.py).
bench-instructions: $(BUILD)/collabd $(BUILD)/bench/flood_gateway
	COLLABD_BIN=$(abspath $(BUILD)/collabd) $(PYTHON) tests/bench/bench_instructions.py

# Start-up, RSS and the board's pages with 100,000 archived and 1,000 active requests.
bench-scale: $(BUILD)/collabd
	COLLABD_BIN=$(abspath $(BUILD)/collabd) $(PYTHON) tests/bench/bench_scale.py

demo: $(BUILD)/collabd
	COLLABD_BIN=$(abspath $(BUILD)/collabd) $(PYTHON) tests/demo.py

install: $(BUILD)/collabd
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/collabd
	install -m 0755 $(BUILD)/collabd $(DESTDIR)$(PREFIX)/bin/collabd
	install -m 0644 deploy/collabd.example.json $(DESTDIR)$(PREFIX)/share/collabd/collabd.example.json
	install -m 0644 deploy/directory.example.json $(DESTDIR)$(PREFIX)/share/collabd/directory.example.json
	install -d $(DESTDIR)$(PREFIX)/share/collabd/calendar
	install -m 0644 deploy/calendar/*.json $(DESTDIR)$(PREFIX)/share/collabd/calendar/
	install -d $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 0644 deploy/man/collabd.8 $(DESTDIR)$(PREFIX)/share/man/man8/collabd.8
	sed 's|/usr/bin/collabd|$(PREFIX)/bin/collabd|' deploy/collabd.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/collabd.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/collabd.service

clean:
	rm -rf build

# ---------------------------------------------------------------------------
# Fuzzing (libFuzzer; needs clang and libclang-rt-dev).
#
#   make fuzz-build               build build/fuzz/fuzz_{pbbp2,event,command,config,dingtalk,json_scan,wsframe}
#   make fuzz [FUZZ_SECONDS=60]   build, then run each target (FUZZ_JOBS at a time) for FUZZ_SECONDS over a
#                                 copy of its seeds (tests/fuzz/corpus/<t>/) plus any saved
#                                 crashers (tests/fuzz/regressions/<t>/); fails if any crashes
#
# The daemon's sources are rebuilt with clang into build/fuzz/obj, with the usual
# CFLAGS (-Werror, -I, -D) plus coverage instrumentation, ASan and UBSan.  Crash
# inputs land in build/fuzz/artifacts/<t>/, logs in build/fuzz/<t>.log.
# Seeds are regenerated with: $(PYTHON) tests/fuzz/make_seeds.py
FUZZ_CC       ?= clang
FUZZ_SECONDS  ?= 60
FUZZ_TIMEOUT  ?= 10
# Targets fuzzed side by side (each single-threaded, each still gets FUZZ_SECONDS):
# two cores, two at a time.  Nothing else runs meanwhile in `make check`.
FUZZ_JOBS     ?= 2
FUZZ_DIR      := build/fuzz
FUZZ_TARGETS  := pbbp2 event command config dingtalk json_scan wsframe
FUZZ_SAN      := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS    = $(COLLABD_CFLAGS) -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRCS))
FUZZ_BINS     := $(patsubst %,$(FUZZ_DIR)/fuzz_%,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-build
# Keep the objects (make would delete them as intermediates of the fuzz_% rule).
.PRECIOUS: $(FUZZ_DIR)/obj/%.o

$(FUZZ_DIR)/obj/%.o: %.c | $(DEPS_FIRST)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $<"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $(abspath $<)

$(FUZZ_DIR)/fuzz_%: $(FUZZ_DIR)/obj/tests/fuzz/fuzz_%.o $(FUZZ_LIB_OBJS)
	@echo "  FUZZLD  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $^ $(ALL_LDLIBS)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@run() { t=$$1; corpus=$(FUZZ_DIR)/corpus-$$t; art=$(FUZZ_DIR)/artifacts/$$t/; \
		rm -rf $$corpus $(FUZZ_DIR)/$$t.failed; mkdir -p $$corpus $$art; \
		cp tests/fuzz/corpus/$$t/* $$corpus/; \
		if [ -d tests/fuzz/regressions/$$t ]; then cp tests/fuzz/regressions/$$t/* $$corpus/ 2>/dev/null || true; fi; \
		FUZZ_REPO=$(CURDIR) $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=$(FUZZ_TIMEOUT) \
			-print_final_stats=1 -artifact_prefix=$$art $$corpus >$(FUZZ_DIR)/$$t.log 2>&1 \
			|| touch $(FUZZ_DIR)/$$t.failed; }; \
	failed=; set -- $(FUZZ_TARGETS); while [ $$# -gt 0 ]; do \
		batch=; n=0; while [ $$# -gt 0 ] && [ $$n -lt $(FUZZ_JOBS) ]; do \
			echo "== fuzz_$$1 for $(FUZZ_SECONDS)s (log: $(FUZZ_DIR)/$$1.log)"; \
			run $$1 & batch="$$batch $$1"; n=$$((n + 1)); shift; \
		done; wait; \
		for t in $$batch; do \
			if [ ! -e $(FUZZ_DIR)/$$t.failed ]; then \
				echo "== fuzz_$$t:"; \
				grep -E '^#[0-9]+[[:space:]]+DONE' $(FUZZ_DIR)/$$t.log | tail -n 1; \
				grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' $(FUZZ_DIR)/$$t.log; \
			else \
				tail -n 60 $(FUZZ_DIR)/$$t.log; echo "== fuzz_$$t FAILED; crash inputs in $(FUZZ_DIR)/artifacts/$$t/"; \
				failed="$$failed $$t"; \
			fi; \
		done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashes in:$$failed"; exit 1; fi; echo "fuzz: no crashes"

# Header dependencies written by -MMD (absent on the first build, which compiles everything).
-include $(wildcard $(BUILD)/obj/*/*.d $(BUILD)/obj/*/*/*.d $(BUILD)/tests/*.d $(BUILD)/bench/*.d \
                    $(FUZZ_DIR)/obj/*/*.d $(FUZZ_DIR)/obj/*/*/*.d)
