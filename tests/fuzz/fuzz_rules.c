/*
 * libFuzzer harness for the image rule language and the component
 * catalog. The first byte picks the target: a rule (parsed, then
 * evaluated against a small fixed profile, so evaluation paths run too) or
 * a whole catalog (YAML, whose rules are parsed at their line and column).
 * Whatever the input: no crash, no out-of-bounds read, no leak; errors
 * only fill the error message.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bespoke/image.h"

static const char profile_json[] =
	"{\"format\":\"bespoke-profile\",\"metrics\":{\"cpu_usage\":"
	"{\"forecast\":{\"point\":[1,2],\"quantiles\":{\"p95\":[3,4]}}}},"
	"\"behaviour\":{\"workload\":{\"class\":\"batch\"},"
	"\"personas\":[{\"name\":\"dba\",\"p\":0.5}],"
	"\"apps\":{\"coming_day\":[{\"name\":\"psql\",\"p\":0.9}]}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bsp_image_profile *p;
	struct bsp_error err = {0};
	char *text;

	if (!p && bsp_image_profile_parse(profile_json, sizeof(profile_json) - 1,
					  "fuzz", &p, NULL))
		abort();
	if (size < 1)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	if (data[0] & 1) {
		struct bsp_component_catalog *cat = NULL;
		struct bsp_image_plan *pl = NULL;
		if (bsp_component_catalog_parse(text, size - 1, "fuzz.yaml", &cat,
						&err) == BSP_OK &&
		    bsp_image_plan_make(cat, p, NULL, &pl, &err) == BSP_OK) {
			free(bsp_image_plan_json(pl));
			bsp_image_plan_free(pl);
		}
		bsp_component_catalog_free(cat);
	} else {
		struct bsp_rule *r = NULL;
		if (bsp_rule_parse(text, "fuzz", 1, 1, &r, &err) == BSP_OK) {
			struct bsp_rule_value v;
			char why[128];
			bsp_rule_eval(r, p, &v, why, sizeof(why));
			bsp_rule_eval(r, NULL, &v, NULL, 0);
			bsp_rule_free(r);
		}
	}
	free(text);
	return 0;
}
