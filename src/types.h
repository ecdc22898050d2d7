/* types.h - what each field type (schema.h's enum ftype) does, in one table
 * with one row per type: start here to add a type or to see how one is
 * checked and read back.
 *
 * Columns (struct field_type):
 *   name   how qemu.describe() and `qlua --describe` name the type
 *   check  a user's Lua value -> the record's struct qval, or raises with the
 *          field's path (check.c's check_value calls it for every field given)
 *   push   the record's qval -> Lua, for dev.field and pairs(dev) (ldev.c):
 *          a value given, or a default applied; NULL: not read back from the
 *          record (it comes from a user value, or is nil)
 *   def    a default's text (field.def, def_alt) -> qval, for check.c's
 *          apply_default and describe()'s `default`; NULL: the type carries
 *          no default
 *   kept   whether a device value keeps the Lua value itself in a user value
 *          (ldev.c sizes its userdata by it): what the record cannot give back
 *          (descriptors, lists, numbers given as text)
 * Every type has a row with a check (check_value calls it without asking).
 * How each type is written to QEMU's command line is render.c's table
 * (`types`: key=value and an option of its own), not a column here:
 * rendering reads records only and knows no Lua. */
#ifndef QLUA_TYPES_H
#define QLUA_TYPES_H

#include <stddef.h>

#include <lua.h>

#include "check.h"
#include "schema.h"

/* struct field_type, its KEEP_* values and the table field_types are
 * declared in check.h: check.c walks records through the table without
 * depending on this file (types.c implements the rows; check.c's
 * check_record is what a section's row calls back). */

/* The enum ftype value that has no row with a check in field_types, or
 * -1 when every type has one (luaopen_qemu refuses to open without: a new
 * type must get its row before any field of it is checked). */
int types_missing(void);

/* How describe() names field f's type ("list-of-strings" for a T_STRS that
 * takes lists only). */
const char *type_name(const struct field *f);

/* Field f's default (f->def) as a Lua value, as a record would hold it;
 * nil when it has none. */
void type_push_default(lua_State *L, const struct field *f);


#endif
