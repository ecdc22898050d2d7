# qlua - build the qlua binary and the Lua C module qemu.so from the same sources.
# Required flags live in QLUA_CFLAGS so that `make CFLAGS=-O0` still builds.

PREFIX  ?= /usr/local
CC      ?= cc
CFLAGS  ?= -O2 -g
PKG     ?= pkg-config
LUA_PC  ?= lua5.4

QLUA_CFLAGS = -std=gnu11 -D_GNU_SOURCE -fPIC -Wall -Wextra -Wshadow -Wstrict-prototypes \
              -Wmissing-prototypes -Wno-unused-parameter \
              $(shell $(PKG) --cflags $(LUA_PC) jansson) -Isrc -Ibuild
LUA_LIBS    = $(shell $(PKG) --libs $(LUA_PC))
JSON_LIBS   = $(shell $(PKG) --libs jansson)

# Everything but main.c goes into both the binary and the module.
LIB_SRC = $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ = $(patsubst src/%.c,build/%.o,$(LIB_SRC))
LUA_SRC = $(sort $(wildcard lua/qemu/*.lua))

all: qlua qemu.so

build/%.o: src/%.c $(wildcard src/*.h) build/embedded.h | build
	$(CC) $(QLUA_CFLAGS) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# The Lua library in lua/ is compiled into the binary (as source text,
# registered in package.preload) so qlua works from any directory.
build/embedded.h: $(LUA_SRC) scripts/embed.lua | build
	lua5.4 scripts/embed.lua $@ $(LUA_SRC)

build:
	mkdir -p build

qlua: build/main.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LUA_LIBS) $(JSON_LIBS) -lm -ldl -Wl,-E

qemu.so: $(LIB_OBJ)
	$(CC) $(LDFLAGS) -shared -o $@ $^ $(JSON_LIBS)

# Installs the Debian packages the build and the tests need (root only).
deps:
	@scripts/deps.sh

# The test guest (build/guest/): a Debian kernel and a busybox initramfs,
# rebuilt only when its inputs change.
guest:
	scripts/build-guest.sh

# The README's first command: boots the test guest with its console here.
demo: deps
	$(MAKE) all guest
	./qlua examples/hello.lua

check: deps
	$(MAKE) all guest
	scripts/check.sh $(SPEC)

clean:
	rm -rf build qlua qemu.so

.PHONY: all deps guest demo check clean
