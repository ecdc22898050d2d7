# qlua - build the qlua binary and the Lua C module qemu.so from the same sources.
# Required flags live in QLUA_CFLAGS so that `make CFLAGS=-O0` still builds.

PREFIX  ?= /usr/local
CC      ?= cc
CFLAGS  ?= -O2 -g
PKG     ?= pkg-config
LUA_PC  ?= lua5.4
# Where objects go and the binary's name: make check-asan builds a sanitized
# qlua with BUILD=build/asan QLUA=build/asan/qlua beside the normal one.
BUILD   ?= build
QLUA    ?= qlua

# -fno-semantic-interposition: -fPIC (the objects go into qemu.so too) lets
# GCC assume an exported function may be replaced at load time, so a file
# neither inlines nor directly calls its own exported functions; nobody
# replaces qlua's (a typical argv build: -0.5k instructions, bench/README.md).
QLUA_CFLAGS = -std=gnu11 -D_GNU_SOURCE -fPIC -fno-semantic-interposition -Wall -Wextra -Wshadow -Wstrict-prototypes \
              -Wmissing-prototypes -Wno-unused-parameter \
              $(shell $(PKG) --cflags $(LUA_PC) jansson) -Isrc -I$(BUILD)
LUA_LIBS    = $(shell $(PKG) --libs $(LUA_PC))
JSON_LIBS   = $(shell $(PKG) --libs jansson)

# Everything but main.c goes into both the binary and the module.
LIB_SRC = $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ = $(patsubst src/%.c,$(BUILD)/%.o,$(LIB_SRC))
LUA_SRC = $(sort $(wildcard lua/qemu/*.lua))

all: qlua qemu.so

# qlua's and qemu.so's objects carry no kind tables of fields (pointers
# the dynamic loader would relocate at every start: src/schema.h,
# kind_fields).  The same sources compiled without QLUA_SCHEMA_PACKED
# into $(BUILD)/gen/ make the program that writes the fields as offsets
# into $(BUILD)/schema_packed.inc, which schema_packed.c includes.
# (GCC keeps the tables, unused, at -O0 unless told not to: its flags for
# that where the compiler has them, so that make CFLAGS=-O0 builds the same.)
GEN_OBJ = $(patsubst src/%.c,$(BUILD)/gen/%.o,$(LIB_SRC))
PACK_DROP := $(shell $(CC) -fno-keep-static-consts -ftoplevel-reorder -x c -c -o /dev/null /dev/null \
                     2>/dev/null && echo -fno-keep-static-consts -ftoplevel-reorder)

$(BUILD)/%.o: src/%.c $(wildcard src/*.h) $(BUILD)/embedded.h | $(BUILD)
	$(CC) -DQLUA_SCHEMA_PACKED $(PACK_DROP) $(QLUA_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/schema_packed.o: $(BUILD)/schema_packed.inc

$(BUILD)/gen/%.o: src/%.c $(wildcard src/*.h) $(BUILD)/embedded.h | $(BUILD)/gen
	$(CC) $(QLUA_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/gen/schema_pack.o: src/gen/schema_pack.c $(wildcard src/*.h) | $(BUILD)/gen
	$(CC) $(QLUA_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/gen/schema-pack: $(BUILD)/gen/schema_pack.o $(GEN_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LUA_LIBS) $(JSON_LIBS)

$(BUILD)/schema_packed.inc: $(BUILD)/gen/schema-pack
	$< > $@.tmp
	mv $@.tmp $@

# The Lua library in lua/ is compiled into the binary (as source text,
# registered in package.preload) so qlua works from any directory.
$(BUILD)/embedded.h: $(LUA_SRC) scripts/embed.lua | $(BUILD)
	lua5.4 scripts/embed.lua $@ $(LUA_SRC)

$(BUILD) $(BUILD)/gen:
	mkdir -p $@

# How the binary links, measured on `qlua -n` (bench/README.md, argv):
# a process's start is mostly the dynamic loader's work and first touches
# of pages.  So, like Debian's lua5.4 itself, the binary carries Lua's
# static library when there is one (no liblua to map, no lazy binding of
# each Lua call; jansson's likewise), exporting only the Lua C API for the
# C modules require loads (lfs.so, ...: they are not linked with liblua and
# take the API from the program; -Wl,-E exported all ~540 of qlua's
# symbols).  Without the static library it links liblua, where those
# modules find the API.  It is a PIE, as Debian builds its programs: qlua
# parses what a guest sends (its agent's JSON, its console), so its own
# code, jansson's included, stays at random addresses.  What a PIE costs is
# its pointers in data, relocated at every start, each page of them copied
# on write: the kinds' fields, ~80 KiB of them, are packed at build time for
# that reason (above), which took a dry run from 1.15 to 1.08 - 1.09 times
# lua5.4's start, as fast as the same tree without a PIE.  `make
# QLUA_PIE=-no-pie` still links without (bench/README.md, argv).  qemu.so
# links the shared libraries.
comma      := ,
QLUA_PIE   ?= -pie
LUA_STATIC ?= $(wildcard $(shell $(PKG) --variable=libdir $(LUA_PC))/lib$(LUA_PC).a)
QLUA_LUA    = $(if $(LUA_STATIC),$(LUA_STATIC) -lm '-Wl$(comma)--export-dynamic-symbol=lua_*$(comma)--export-dynamic-symbol=luaL_*$(comma)--export-dynamic-symbol=luaopen_*',$(LUA_LIBS))
JSON_STATIC ?= $(wildcard $(shell $(PKG) --variable=libdir jansson)/libjansson.a)
QLUA_JSON   = $(or $(JSON_STATIC),$(JSON_LIBS))

$(QLUA): $(BUILD)/main.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) $(QLUA_PIE) -o $@ $^ $(QLUA_LUA) $(QLUA_JSON)

qemu.so: $(LIB_OBJ)
	$(CC) $(LDFLAGS) -shared -o $@ $^ $(JSON_LIBS)

# The qmp, qga and values fuzz targets (fuzz/) built with this compiler and
# a main() that replays files (fuzz/replay.c): spec/fuzz_spec.lua replays
# their committed corpora in make check (and in make check-asan, built with
# the sanitizers), so a target cannot go stale between fuzzing sessions.
# The two stream readers are compiled again with the fuzz build's message
# limits (fuzz/Makefile), so an input past a limit replays as it was found.
REPLAY = $(BUILD)/replay/qmp $(BUILD)/replay/qga $(BUILD)/replay/values
REPLAY_LIMITS = -DQMP_MAX_MESSAGE=1000u -DQGA_MAX_MESSAGE=1000u
REPLAY_SRC = src/qmp.c src/qga.c
replay: $(REPLAY)

$(BUILD)/replay/%: fuzz/%.c fuzz/replay.c $(REPLAY_SRC) $(LIB_OBJ) | $(BUILD)/replay
	$(CC) $(QLUA_CFLAGS) -Wno-missing-prototypes -Werror $(REPLAY_LIMITS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) \
		-o $@ fuzz/$*.c fuzz/replay.c $(REPLAY_SRC) \
		$(filter-out $(patsubst src/%.c,$(BUILD)/%.o,$(REPLAY_SRC)),$(LIB_OBJ)) $(LUA_LIBS) $(JSON_LIBS) -lm

$(BUILD)/replay:
	mkdir -p $@

# Installs the Debian packages the build and the tests need (root only).
deps:
	@scripts/deps.sh

# The test guest (build/guest/): a Debian kernel and a busybox initramfs,
# rebuilt only when its inputs change.
guest:
	scripts/build-guest.sh

# A real Debian 12 system image (build/distro/debian-12.qcow2: GRUB on a GPT
# disk, boots by SeaBIOS and OVMF, cloud-init, qemu-guest-agent) and a
# serial-console installer ISO (build/distro/debian-12-installer.iso), each
# rebuilt only when its inputs change (the image needs root and the Debian
# archive; the script installs the packages it needs, deps.sh distro).
# make check builds the image too, in the background while the other specs
# run (about 3 minutes the first time, seconds when up to date), and boots it
# twice (spec/distro_spec.lua, tag distro).
# scripts/distro/README.md; scripts/distro/smoke.sh boots them.
distro-image:
	scripts/build-distro-image.sh

installer-iso:
	scripts/build-installer-iso.sh

# The README's first command: boots the test guest with its console here.
demo: deps
	$(MAKE) all guest
	./qlua examples/hello.lua

# The whole suite but the specs tagged distro_full (make check-distro).
# The Debian image the two distro boots need is built meanwhile, in the
# background (scripts/check.sh; spec/distro_spec.lua runs last and waits).
check: deps
	$(MAKE) all guest replay
	QLUA_DISTRO_BACKGROUND=1 QLUA_DISTRO_WAIT=1 scripts/check.sh --exclude-tags=distro_full $(SPEC)

# The Debian image's long runs (tag distro_full): the firmware x disk bus
# matrix (spec/distro_matrix_spec.lua, README.md's examples/distro-matrix.lua
# as printed) and the installer ISO's boots.
check-distro: deps
	$(MAKE) all distro-image installer-iso
	scripts/check.sh --tags=distro_full spec

# The Slurm spec alone (it is part of check too, about 25 s): a one-node
# cluster started and stopped by the spec (scripts/slurm-local.sh; root).
check-cluster: deps
	$(MAKE) all
	scripts/check.sh spec/cluster_spec.lua

# The whole suite again with qlua built with AddressSanitizer (leaks
# included) and UndefinedBehaviorSanitizer: busted itself runs in that qlua,
# so the specs' in-process qemu module is the sanitized one too.  Any report
# fails it (scripts/check-asan.sh).
ASAN_CFLAGS  = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
ASAN_LDFLAGS = -fsanitize=address,undefined

check-asan: deps
	$(MAKE) all guest
	$(MAKE) BUILD=build/asan QLUA=build/asan/qlua CFLAGS="$(ASAN_CFLAGS)" \
		LDFLAGS="$(ASAN_LDFLAGS)" build/asan/qlua replay
	scripts/check-asan.sh $(SPEC)

# The specs that boot no guest under valgrind's memcheck (leak check on),
# both in busted's own process and in every qlua the specs run.
check-valgrind: deps
	$(MAKE) all
	scripts/check-valgrind.sh $(SPEC)

clean:
	rm -rf build qlua qemu.so

# ---- installing --------------------------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=/tmp/stage]; make uninstall (the
# same variables) removes exactly those files.  The Lua directories are Lua's
# own layout under PREFIX, the ones lua5.4's package.path and package.cpath
# search (/usr/local/lib/lua/5.4, /usr/local/share/lua/5.4; the same under
# /usr).  Not Debian's lua5.4.pc INSTALL_CMOD: that is a multiarch directory
# (lib/x86_64-linux-gnu/lua/5.4) which lua5.4 searches under /usr only.  Each
# directory can be given on its own (the rockspec does).
LUA_V     ?= 5.4
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
LUA_CMOD  ?= $(PREFIX)/lib/lua/$(LUA_V)
LUA_LMOD  ?= $(PREFIX)/share/lua/$(LUA_V)
INSTALL   ?= install

# The installed man page: qlua.1 with its OPTIONS and MATRIX OPTIONS written
# again from the qlua being installed (scripts/gen-docs.sh), so it lists what
# that binary's --help lists even when qlua.1 in the tree is stale.
build/qlua.1: qlua.1 qlua scripts/gen-docs.sh | build
	QLUA=./qlua scripts/gen-docs.sh --man $@

install: qlua qemu.so build/qlua.1
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LUA_CMOD) $(DESTDIR)$(LUA_LMOD)/qemu \
		$(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 755 qlua $(DESTDIR)$(BINDIR)/qlua
	$(INSTALL) -m 755 qemu.so $(DESTDIR)$(LUA_CMOD)/qemu.so
	$(INSTALL) -m 644 $(LUA_SRC) $(DESTDIR)$(LUA_LMOD)/qemu/
	$(INSTALL) -m 644 build/qlua.1 $(DESTDIR)$(MANDIR)/man1/qlua.1

# Removes the files install installs (and their qemu/ directory once empty),
# nothing else.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/qlua $(DESTDIR)$(LUA_CMOD)/qemu.so \
		$(DESTDIR)$(MANDIR)/man1/qlua.1 \
		$(addprefix $(DESTDIR)$(LUA_LMOD)/qemu/,$(notdir $(LUA_SRC)))
	rmdir $(DESTDIR)$(LUA_LMOD)/qemu 2>/dev/null || true

# Every libFuzzer target in fuzz/ for FUZZ_TIME seconds (default 60) each,
# on the committed corpus; fuzz/README.md.  (fuzz-merge: minimize what the
# runs found into fuzz/corpus/.)
FUZZ_TIME ?= 60
fuzz:
	@scripts/deps.sh fuzz
	$(MAKE) -f fuzz/Makefile run FUZZ_TIME=$(FUZZ_TIME)

fuzz-merge:
	@scripts/deps.sh fuzz
	$(MAKE) -f fuzz/Makefile merge

# Every benchmark in bench/ and the results table (also build/bench-results.md);
# BENCH_QUICK=1 make bench: small counts, a few seconds.
bench: all
	@$(MAKE) --no-print-directory -C bench run

# Writes the generated documentation again from ./qlua: docs/api.md (every
# device kind and section), the OPTIONS of qlua.1 and the options table of
# README.md.  spec/install_spec.lua fails while any of them is stale.
docs: qlua
	scripts/gen-docs.sh

.PHONY: all replay deps guest distro-image installer-iso demo fuzz fuzz-merge bench check check-distro check-cluster check-asan check-valgrind clean install uninstall docs
