/*
 * Evaluating a parsed rule against a Behaviour Profile.
 *
 * Evaluation never fails: an absent profile field takes its documented
 * default (docs/images.md), x / 0 is NaN and every comparison with NaN is
 * false. The evaluator notes each profile value it reads, so a plan can
 * say which numbers made a rule true; `&&` and `||` short-circuit, so the
 * note lists only what decided.
 */
#include <math.h>
#include <stdio.h>

#include "image_int.h"

struct why {
	char *buf;
	size_t size, len;
};

/* Notes `name=value` once. */
static void why_note(struct why *w, const char *name, const char *value)
{
	char item[256];
	int n;

	if (!w->buf || w->size == 0)
		return;
	n = snprintf(item, sizeof(item), "%s=%s", name, value);
	if (n < 0 || (size_t)n >= sizeof(item))
		return;
	/* Already noted? Match whole items only. */
	for (const char *p = w->buf; (p = strstr(p, item)); p++)
		if ((p == w->buf || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
			return;
	if (w->len + (w->len ? 1 : 0) + (size_t)n + 1 > w->size)
		return;
	w->len += (size_t)snprintf(w->buf + w->len, w->size - w->len, "%s%s",
				   w->len ? " " : "", item);
}

static void why_num(struct why *w, const char *name, double v)
{
	char s[40];
	snprintf(s, sizeof(s), "%.6g", v);
	why_note(w, name, s);
}

static void ref_name(const struct rnode *n, char *buf, size_t size)
{
	switch (n->op) {
	case R_METRIC:
		if (n->by_name)
			snprintf(buf, size, "metric[\"%s\"].%s", n->str,
				 n->field);
		else
			snprintf(buf, size, "%s.%s", n->str, n->field);
		break;
	case R_PERSONA:
		snprintf(buf, size, "persona[\"%s\"]", n->str);
		break;
	case R_APP:
		snprintf(buf, size, "apps[\"%s\"].%s", n->str, n->field);
		break;
	default:
		snprintf(buf, size, "?");
	}
}

static void eval(const struct rnode *n, const struct bsp_image_profile *p,
		 struct bsp_rule_value *v, struct why *w)
{
	struct bsp_rule_value a = {0}, b = {0};
	char name[160];

	v->type = n->type;
	v->truth = 0;
	v->num = NAN;
	v->str = NULL;
	switch (n->op) {
	case R_NUM:
		v->num = n->num;
		return;
	case R_STR:
		v->str = n->str;
		return;
	case R_BOOL:
		v->truth = n->num != 0;
		return;
	case R_METRIC: {
		json_t *m = p ? img_profile_metric(p, n->str, n->by_name, NULL)
			      : NULL;
		/* An absent metric reads as 0: a threshold on it is simply
		 * not reached. */
		v->num = m ? img_metric_value(m, n->field) : NAN;
		if (isnan(v->num))
			v->num = 0;
		ref_name(n, name, sizeof(name));
		why_num(w, name, v->num);
		return;
	}
	case R_PERSONA:
		v->num = p ? img_profile_persona(p, n->str) : 0;
		ref_name(n, name, sizeof(name));
		why_num(w, name, v->num);
		return;
	case R_APP: {
		const char *which = !strcmp(n->field, "p_next")   ? "next"
				    : !strcmp(n->field, "p_hour") ? "coming_hour"
								  : "coming_day";
		v->num = p ? img_profile_app(p, n->str, which) : 0;
		ref_name(n, name, sizeof(name));
		why_num(w, name, v->num);
		return;
	}
	case R_PLAN:
		v->num = p ? img_profile_plan_need(p, n->field) : NAN;
		if (isnan(v->num))
			v->num = 0; /* no resource plan: nothing is needed */
		snprintf(name, sizeof(name), "plan.%s", n->field);
		why_num(w, name, v->num);
		return;
	case R_WORKLOAD:
		v->str = p ? img_profile_workload(p) : "unknown";
		why_note(w, "workload", v->str);
		return;
	case R_P_INTER:
		v->num = p ? img_profile_p_interactive(p) : 0.5;
		why_num(w, "workload.p_interactive", v->num);
		return;
	case R_NOT:
		eval(n->a, p, &a, w);
		v->truth = !a.truth;
		return;
	case R_NEG:
		eval(n->a, p, &a, w);
		v->num = -a.num;
		return;
	case R_AND:
		/* Short-circuit, so the reasons list only what decided. */
		eval(n->a, p, &a, w);
		if (a.truth)
			eval(n->b, p, &b, w);
		v->truth = a.truth && b.truth;
		return;
	case R_OR:
		eval(n->a, p, &a, w);
		if (!a.truth)
			eval(n->b, p, &b, w);
		v->truth = a.truth || b.truth;
		return;
	default:
		break;
	}
	eval(n->a, p, &a, w);
	eval(n->b, p, &b, w);
	switch (n->op) {
	case R_EQ:
	case R_NE: {
		int eq = a.type == BSP_RULE_STR	   ? !strcmp(a.str, b.str)
			 : a.type == BSP_RULE_BOOL ? a.truth == b.truth
						   : a.num == b.num;
		v->truth = n->op == R_EQ ? eq : !eq;
		/* NaN equals nothing, and is not unequal either. */
		if (a.type == BSP_RULE_NUM && (isnan(a.num) || isnan(b.num)))
			v->truth = 0;
		return;
	}
	case R_LT:
		v->truth = a.num < b.num;
		return;
	case R_LE:
		v->truth = a.num <= b.num;
		return;
	case R_GT:
		v->truth = a.num > b.num;
		return;
	case R_GE:
		v->truth = a.num >= b.num;
		return;
	case R_ADD:
		v->num = a.num + b.num;
		return;
	case R_SUB:
		v->num = a.num - b.num;
		return;
	case R_MUL:
		v->num = a.num * b.num;
		return;
	case R_DIV:
		v->num = b.num == 0 ? NAN : a.num / b.num;
		return;
	case R_MAX:
		v->num = isnan(a.num) ? b.num : (b.num > a.num ? b.num : a.num);
		return;
	case R_MIN:
		v->num = isnan(a.num) ? b.num : (b.num < a.num ? b.num : a.num);
		return;
	default:
		return;
	}
}

void bsp_rule_eval(const struct bsp_rule *r, const struct bsp_image_profile *p,
		   struct bsp_rule_value *out, char *why, size_t why_size)
{
	struct why w = {why, why_size, 0};

	if (why && why_size)
		why[0] = '\0';
	eval(r->root, p, out, &w);
}
