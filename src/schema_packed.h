/* schema_packed.h - the kinds' fields as build/schema_packed.inc holds
 * them: numbers and offsets, no pointers, so the dynamic loader has
 * nothing to relocate in them (schema.h, kind_fields).  Written by
 * src/gen/schema_pack.c, read by schema_packed.c. */
#ifndef QLUA_SCHEMA_PACKED_H
#define QLUA_SCHEMA_PACKED_H

#include <stddef.h>

/* One struct field.  Strings are 1 + their offset in packed_str, lists
 * (choices, when's values) 1 + their first entry in packed_lists, whose
 * entries are strings the same way and end at a 0; 0 is NULL. */
struct packed_field {
	unsigned name, key, flag, def, def_alt, doc;
	unsigned choices, def_when, only, req;
	long long min, max;
	short sub;                   /* the section's kind number (schema_kind_at); -1: none */
	unsigned char type, flags, ns;
	signed char opt, def_when_field, only_field, req_field;
};

/* Kind number i (schema_kind_no): its name, to check that qlua numbers its
 * kinds as the generator did, and where its fields are in packed_fields. */
struct packed_kind {
	unsigned name;
	unsigned first;
	int nfields;
};

/* Makes *f from p: strings point into pool, each list is made of pointers
 * (and a NULL) in memory from take, zeroed.  qlua's unpacking, and the
 * generator's check that what it wrote unpacks to the tables it read. */
struct field;
void schema_unpack_field(struct field *f, const struct packed_field *p, const char *pool, const unsigned *lists,
                         void *(*take)(size_t));

#endif
