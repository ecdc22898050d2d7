/* schema_packed.c - a kind's fields, made the first time they are asked
 * for from the pointer-free tables src/gen/schema_pack.c wrote at build
 * time (build/schema_packed.inc; why: schema.h, kind_fields).  Each kind
 * is made once, into memory that lives as long as the process: a run
 * writes the fields of the kinds it uses only, ~150 of ~600. */
#include "schema.h"
#include "schema_packed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(const char *pool, unsigned o)
{
	return o ? pool + o - 1 : NULL;
}

static const char *const *list(const char *pool, const unsigned *lists, void *(*take)(size_t), unsigned o)
{
	if (!o)
		return NULL;
	const unsigned *l = lists + o - 1;
	size_t n = 0;
	while (l[n])
		n++;
	const char **made = take((n + 1) * sizeof *made);  /* zeroed: its NULL */
	for (size_t i = 0; i < n; i++)
		made[i] = str(pool, l[i]);
	return made;
}

void schema_unpack_field(struct field *f, const struct packed_field *p, const char *pool, const unsigned *lists,
                         void *(*take)(size_t))
{
	*f = (struct field){
		.name = str(pool, p->name), .type = p->type, .flags = p->flags, .ns = p->ns, .opt = p->opt,
		.key = str(pool, p->key), .flag = str(pool, p->flag), .choices = list(pool, lists, take, p->choices),
		.min = p->min, .max = p->max, .def = str(pool, p->def), .def_alt = str(pool, p->def_alt),
		.def_when = { p->def_when_field, list(pool, lists, take, p->def_when) },
		.sub = p->sub < 0 ? NULL : schema_kind_at(p->sub),
		.only = { p->only_field, list(pool, lists, take, p->only) },
		.req = { p->req_field, list(pool, lists, take, p->req) },
		.doc = str(pool, p->doc),
	};
}

#ifdef QLUA_SCHEMA_PACKED

#include "schema_packed.inc"

const struct field *schema_unpack(const struct kind *k)
{
	if (k->state->fields)
		return k->state->fields;
	int no = schema_kind_no(k);
	if (no < 0 || no >= PACKED_NKINDS || packed_kinds[no].nfields != k->nfields ||
	    strcmp(packed_str + packed_kinds[no].name - 1, k->name)) {
		/* qlua's objects and build/schema_packed.inc disagree: a build
		 * that did not remake one of them */
		fprintf(stderr, "qlua: kind '%s' is not kind %d of build/schema_packed.inc (rebuild qlua)\n", k->name, no);
		abort();
	}
	/* Handed out in the order kinds are first asked for, so that the
	 * fields a run uses share their pages; where a kind's are is kept in
	 * the slot its FIELDS() gave it (k->state), so kind_fields finds them
	 * without a lookup. */
	struct field *fs = schema_take(k->nfields * sizeof *fs);
	for (int i = 0; i < k->nfields; i++)
		schema_unpack_field(&fs[i], &packed_fields[packed_kinds[no].first + i], packed_str, packed_lists, schema_take);
	k->state->fields = fs;
	return fs;
}

#else

/* The generator's objects (src/gen/schema_pack.c) keep their tables:
 * every kind has its fields, and nothing is unpacked. */
const struct field *schema_unpack(const struct kind *k)
{
	fprintf(stderr, "qlua: kind '%s' has no fields in a build without QLUA_SCHEMA_PACKED\n", k->name);
	abort();
}

#endif
