/*
 * Administrator overrides, stored as versioned documents of kind
 * "override" (schema bespoke-override in docs/allocation.md). Nothing is
 * overwritten: a new override, and a --clear, are new versions, so the
 * history of who decided what stays readable. The latest version is the
 * one in force, until its expiry.
 */
#include <math.h>
#include <stdio.h>

#include "alloc_int.h"

json_t *al_override_obj(const struct bsp_alloc_override *o)
{
	json_t *j = json_object();
	char t[40];

	json_object_set_new(j, "format", json_string("bespoke-override"));
	json_object_set_new(j, "version", json_integer(1));
	for (int r = 0; r < BSP_RES_N; r++)
		json_object_set_new(j, bsp_res_name((enum bsp_res)r),
				    isfinite(o->value[r])
					? json_real(o->value[r])
					: json_null());
	json_object_set_new(j, "type",
			    o->type[0] ? json_string(o->type) : json_null());
	json_object_set_new(
	    j, "expires",
	    o->expires == BSP_TIME_NONE
		? json_null()
		: json_string(bsp_time_format(o->expires, t, sizeof(t))));
	json_object_set_new(
	    j, "created",
	    json_string(bsp_time_format(o->created, t, sizeof(t))));
	json_object_set_new(j, "reason", json_string(o->reason));
	json_object_set_new(j, "cleared", json_boolean(o->cleared));
	if (o->version)
		json_object_set_new(j, "override_version",
				    json_integer(o->version));
	return j;
}

bsp_err bsp_alloc_override_json(const struct bsp_alloc_override *o, char **json,
				struct bsp_error *err)
{
	json_t *j = al_override_obj(o);
	json_object_del(j, "override_version");
	*json = json_dumps(j, JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	json_decref(j);
	return *json ? BSP_OK
		     : bsp_error_set(err, BSP_ENOMEM, "alloc: out of memory");
}

static bsp_err al_time_field(json_t *j, const char *key, bsp_time *out,
			     struct bsp_error *err)
{
	json_t *v = json_object_get(j, key);
	const char *s = json_string_value(v);

	*out = BSP_TIME_NONE;
	if (!v || json_is_null(v))
		return BSP_OK;
	if (!s || bsp_time_parse(s, strlen(s), out))
		return bsp_error_set(err, BSP_ECORRUPT,
				     "override: %s is not a time", key);
	return BSP_OK;
}

bsp_err bsp_alloc_override_parse(const char *json, struct bsp_alloc_override *o,
				 struct bsp_error *err)
{
	json_error_t je;
	json_t *j = json_loads(json, JSON_REJECT_DUPLICATES, &je), *v;
	const char *s;
	bsp_err r = BSP_OK;

	memset(o, 0, sizeof(*o));
	for (int k = 0; k < BSP_RES_N; k++)
		o->value[k] = NAN;
	if (!j)
		return bsp_error_set(err, BSP_ECORRUPT, "override: line %d: %s",
				     je.line, je.text);
	s = json_string_value(json_object_get(j, "format"));
	if (!s || strcmp(s, "bespoke-override")) {
		r = bsp_error_set(err, BSP_ECORRUPT,
				  "override: format is not bespoke-override");
		goto out;
	}
	for (int k = 0; k < BSP_RES_N; k++) {
		v = json_object_get(j, bsp_res_name((enum bsp_res)k));
		if (json_is_number(v))
			o->value[k] = json_number_value(v);
	}
	if ((s = json_string_value(json_object_get(j, "type"))))
		snprintf(o->type, sizeof(o->type), "%s", s);
	if ((s = json_string_value(json_object_get(j, "reason"))))
		snprintf(o->reason, sizeof(o->reason), "%s", s);
	o->cleared = json_is_true(json_object_get(j, "cleared"));
	if ((r = al_time_field(j, "expires", &o->expires, err)) ||
	    (r = al_time_field(j, "created", &o->created, err)))
		goto out;
out:
	json_decref(j);
	return r;
}

bsp_err bsp_alloc_override_get(struct bsp_store *st, const char *entity,
			       bsp_time at, struct bsp_alloc_override *o,
			       int *found, struct bsp_error *err)
{
	struct bsp_doc doc;
	bsp_err r;

	*found = 0;
	memset(o, 0, sizeof(*o));
	r = bsp_store_doc_get(st, "override", entity, 0, &doc, err);
	if (r == BSP_ENOTFOUND)
		return BSP_OK;
	if (r)
		return r;
	r = bsp_alloc_override_parse(doc.body, o, err);
	o->version = doc.version;
	if (o->created == BSP_TIME_NONE)
		o->created = doc.created;
	bsp_doc_release(&doc);
	if (r)
		return r;
	*found =
	    !o->cleared && (o->expires == BSP_TIME_NONE || at < o->expires);
	return BSP_OK;
}
