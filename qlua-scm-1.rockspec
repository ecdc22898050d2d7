-- qlua-scm-1.rockspec - the qemu module (and the qlua command) as a rock.
--
--   luarocks --lua-version 5.4 make qlua-scm-1.rockspec                 (system tree)
--   luarocks --lua-version 5.4 --tree DIR make qlua-scm-1.rockspec      (any tree)
--
-- The make backend runs the Makefile: `make` builds qemu.so and qlua (which
-- compile the Lua library in), `make install` puts qemu.so in the tree's C
-- module directory, lua/qemu/*.lua in its Lua directory (so require
-- "qemu.recipes" also works without require "qemu" first), qlua in its bin/
-- and the man page in the rock's own directory (man -l .../man/man1/qlua.1).
-- Needs a C compiler, pkg-config, Lua 5.4's and jansson's headers (Debian:
-- gcc make pkg-config liblua5.4-dev libjansson-dev).
rockspec_format = "3.0"
package = "qlua"
version = "scm-1"
source = {
   url = "git+file://.",     -- `luarocks make` builds the tree it runs in
}
description = {
   summary = "QEMU virtual machines described in Lua",
   detailed = [[
A Lua 5.4 C module (qemu) and a command (qlua) that describe QEMU virtual
machines as checked Lua tables, build QEMU's command line through one escaping
emitter and run QEMU with an exact descriptor map; QMP, serial console, recipes,
merging and test matrices included.]],
   labels = { "qemu", "virtualization", "testing" },
}
dependencies = {
   "lua >= 5.4, < 5.5",
}
external_dependencies = {
   JANSSON = { header = "jansson.h" },
}
build = {
   type = "make",
   build_target = "all",
   build_variables = {
      CFLAGS = "$(CFLAGS)",
   },
   install_target = "install",
   install_variables = {
      PREFIX = "$(PREFIX)",
      BINDIR = "$(BINDIR)",
      LUA_CMOD = "$(LIBDIR)",
      LUA_LMOD = "$(LUADIR)",
      MANDIR = "$(PREFIX)/man",
   },
   copy_directories = { "docs", "examples" },
}
