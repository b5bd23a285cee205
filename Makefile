# collabd - cross-department collaboration bot for Feishu (and DingTalk).
#
#   make                build build/collabd
#   make test           unit tests (cmocka) and end-to-end tests (pytest, simulator)
#   make test-asan      the same suites against an ASan+UBSan build
#   make demo           run the daemon against the local simulator, scripted
#   make install        PREFIX=/usr/local DESTDIR= honoured
#
# Dependencies come from Debian packages (see README.md); nothing is vendored.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
DESTDIR    ?=
PYTHON     ?= /usr/bin/python3
PKGS       := libwebsockets libcurl jansson sqlite3

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

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))
CFLAGS     ?= $(OPT) -g
CFLAGS     += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
              -Iinclude -DCOLLABD_VERSION=\"$(VERSION)\" -DCOLLABD_DATADIR=\"$(PREFIX)/share/collabd\" \
              $(PKG_CFLAGS) $(SANFLAGS)
LDFLAGS    += $(SANFLAGS)
LDLIBS     += $(PKG_LIBS)

LIB_SRCS   := $(filter-out daemon/main.c,$(wildcard daemon/*.c)) $(wildcard bot-commands/*.c)
LIB_OBJS   := $(patsubst %.c,$(BUILD)/obj/%.o,$(LIB_SRCS))
MAIN_OBJ   := $(BUILD)/obj/daemon/main.o
UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
BENCH_SRCS := $(wildcard tests/bench/bench_*.c)
BENCH_BINS := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.PHONY: all deps test check unit e2e chaos test-asan demo bench install clean

# Debian packages for building, testing and the demo (run as root or with sudo).
DEB_PKGS   := build-essential pkg-config libwebsockets-dev libcurl4-openssl-dev libjansson-dev \
              libsqlite3-dev libcmocka-dev tzdata python3 python3-pytest python3-websockets python3-protobuf
SUDO       := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

all: $(BUILD)/collabd

$(BUILD)/obj/%.o: %.c $(wildcard include/collabd/*.h)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/libcollabd.a: $(LIB_OBJS)
	$(Q)$(AR) rcs $@ $^

$(BUILD)/collabd: $(MAIN_OBJ) $(BUILD)/libcollabd.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcollabd.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcollabd.a $(LDLIBS) -lcmocka

$(BUILD)/bench/%: tests/bench/%.c $(BUILD)/libcollabd.a
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libcollabd.a $(LDLIBS)

unit: $(UNIT_BINS)
	@set -e; for t in $(UNIT_BINS); do echo "== $$t"; $$t; done

e2e: $(BUILD)/collabd
	COLLABD_BIN=$(abspath $(BUILD)/collabd) $(PYTHON) -m pytest -q tests/sim tests/e2e

test: unit e2e

# 10,000 events while the daemon is SIGKILLed 20 times (seeded: CHAOS_SEED=...).
chaos: $(BUILD)/collabd
	COLLABD_BIN=$(abspath $(BUILD)/collabd) $(PYTHON) -m pytest -q -s tests/chaos

test-asan:
	$(MAKE) SAN=1 test

# Everything CI runs: the suites on the normal build and under ASan+UBSan,
# and the crash-safety run.
check: test chaos test-asan

deps:
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $(DEB_PKGS)

bench: $(BUILD)/collabd $(BENCH_BINS)
	@set -e; for b in $(BENCH_BINS); do $$b; done
	COLLABD_BIN=$(abspath $(BUILD)/collabd) $(PYTHON) tests/bench/bench_e2e.py
	COLLABD_BIN=$(abspath $(BUILD)/collabd) $(PYTHON) tests/bench/bench_timers.py

demo: $(BUILD)/collabd
	COLLABD_BIN=$(abspath $(BUILD)/collabd) $(PYTHON) tests/demo.py

install: $(BUILD)/collabd
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/collabd
	install -m 0755 $(BUILD)/collabd $(DESTDIR)$(PREFIX)/bin/collabd
	install -m 0644 deploy/collabd.example.json $(DESTDIR)$(PREFIX)/share/collabd/collabd.example.json
	install -d $(DESTDIR)$(PREFIX)/share/collabd/calendar
	install -m 0644 deploy/calendar/*.json $(DESTDIR)$(PREFIX)/share/collabd/calendar/

clean:
	rm -rf build
