/*
 * Saving and loading a fitted forecaster as JSON (jansson), so that
 * models can be stored, versioned and compared:
 *
 *   {"format":"bespoke-forecast","version":1,"step":3600000,
 *    "periods":[24,168],"horizon":24,"nonneg":true,"mean_point":false,
 *    "max_history":0,
 *    "train":{"from":...,"until":...,"points":744,"origins":14,
 *             "mase":0.71,"pinball95":0.12,"coverage95":0.95},
 *    "members":[{"model":"ets","weight":0.6,"mase":0.7,
 *                "season":[24,168],"params":[0.12,...]}, ...],
 *    "calibration":{"horizon":24,"scores":4200,"levels":[0.01,...],
 *                   "rows":[{"from":0,"q":[...]}, ...]}}
 *
 * Doubles are written with 17 significant digits, which reads back to the
 * same bits, so a loaded model predicts exactly what the saved one did.
 * Loading trusts nothing: every field is checked, and each model's
 * parameters are checked by the model itself (fc_kind.check).
 */
#include <jansson.h>

#include "predict.h"

#define FORMAT_NAME "bespoke-forecast"
#define FORMAT_VERSION 1

static json_t *real_array(const double *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_real(v[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *size_array(const size_t *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_integer((json_int_t)v[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* JSON has no infinity: an unusable score is saved as a large number. */
static double finite_or_big(double x)
{
	return isfinite(x) ? x : 1e300;
}

static json_t *members_json(const struct bsp_fc_model *m)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < m->n_members; i++) {
		const struct fc_member *mb = &m->members[i];
		json_t *o = json_pack(
			"{s:s, s:f, s:f, s:o, s:o}", "model",
			mb->fit.kind->name, "weight", mb->weight, "mase",
			finite_or_big(mb->mase), "season",
			size_array(mb->fit.season, BSP_FC_MAX_PERIODS),
			"params", real_array(mb->fit.p, mb->fit.np));
		if (!o || json_array_append_new(a, o)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *calib_json(const struct fc_calib *c)
{
	json_t *rows = json_array();
	size_t r;

	for (r = 0; rows && r < c->n_rows; r++) {
		json_t *o = json_pack("{s:I, s:o}", "from", (json_int_t)c->lo[r],
				      "q", real_array(c->q[r], FC_NQ));
		if (!o || json_array_append_new(rows, o)) {
			json_decref(rows);
			return NULL;
		}
	}
	if (!rows)
		return NULL;
	return json_pack("{s:I, s:I, s:o, s:o}", "horizon",
			 (json_int_t)c->horizon, "scores",
			 (json_int_t)c->n_scores, "levels",
			 real_array(fc_qgrid, FC_NQ), "rows", rows);
}

bsp_err bsp_fc_model_save(const struct bsp_fc_model *m, char **json,
			  struct bsp_error *err)
{
	json_t *root;

	*json = NULL;
	root = json_pack(
		"{s:s, s:i, s:I, s:o, s:I, s:b, s:b, s:I, "
		"s:{s:I, s:I, s:I, s:I, s:f, s:f, s:f}, s:o, s:o}",
		"format", FORMAT_NAME, "version", FORMAT_VERSION, "step",
		(json_int_t)m->step, "periods",
		size_array(m->period, BSP_FC_MAX_PERIODS), "horizon",
		(json_int_t)m->horizon, "nonneg", m->nonneg, "mean_point",
		m->mean_point, "max_history", (json_int_t)m->max_history,
		"train", "from", (json_int_t)m->from, "until",
		(json_int_t)m->until, "points", (json_int_t)m->n_train,
		"origins", (json_int_t)m->n_origins, "mase",
		finite_or_big(m->mase), "pinball95",
		finite_or_big(m->pinball95), "coverage95",
		finite_or_big(m->coverage95), "members", members_json(m),
		"calibration", calib_json(&m->calib));
	if (root)
		*json = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS |
						 JSON_REAL_PRECISION(17));
	json_decref(root);
	if (!*json)
		return bsp_error_set(err, BSP_ENOMEM,
				     "forecast: out of memory saving a model");
	return BSP_OK;
}

/* ---- loading ----------------------------------------------------------- */

static bsp_err bad(struct bsp_error *err, const char *what)
{
	return bsp_error_set(err, BSP_ECORRUPT, "forecast model: %s", what);
}

static int get_size(json_t *v, size_t max, size_t *out)
{
	json_int_t i;

	if (!json_is_integer(v))
		return -1;
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i > (uint64_t)max)
		return -1;
	*out = (size_t)i;
	return 0;
}

static int get_real(json_t *v, double *out)
{
	if (!json_is_number(v))
		return -1;
	*out = json_number_value(v);
	return isfinite(*out) ? 0 : -1;
}

static int get_reals(json_t *a, double *out, size_t max, size_t *n)
{
	size_t i;

	if (!json_is_array(a) || json_array_size(a) > max)
		return -1;
	for (i = 0; i < json_array_size(a); i++)
		if (get_real(json_array_get(a, i), &out[i]))
			return -1;
	*n = json_array_size(a);
	return 0;
}

static int get_sizes(json_t *a, size_t *out, size_t n, size_t max)
{
	size_t i;

	if (!json_is_array(a) || json_array_size(a) != n)
		return -1;
	for (i = 0; i < n; i++)
		if (get_size(json_array_get(a, i), max, &out[i]))
			return -1;
	return 0;
}

static bsp_err load_member(json_t *o, struct fc_member *mb,
			   struct bsp_error *err)
{
	const char *name;
	json_t *params, *season;
	double w, mase;

	if (json_unpack(o, "{s:s, s:F, s:F, s:o, s:o}", "model", &name,
			"weight", &w, "mase", &mase, "season", &season,
			"params", &params))
		return bad(err, "a member lacks model, weight, mase, season "
				"or params");
	mb->fit.kind = fc_kind_find(name);
	if (!mb->fit.kind)
		return bsp_error_set(err, BSP_ECORRUPT,
				     "forecast model: unknown model '%s'", name);
	if (!(w >= 0 && w <= 1) || !isfinite(mase))
		return bad(err, "a member's weight or mase is out of range");
	mb->weight = w;
	mb->mase = mase;
	if (get_sizes(season, mb->fit.season, BSP_FC_MAX_PERIODS, 1 << 24))
		return bad(err, "a member's season is not two periods");
	if (get_reals(params, mb->fit.p, FC_MAX_PARAMS, &mb->fit.np))
		return bad(err, "a member's params are not finite numbers");
	if (mb->fit.kind->check(&mb->fit))
		return bsp_error_set(err, BSP_ECORRUPT,
				     "forecast model: parameters of '%s' do "
				     "not check out",
				     name);
	return BSP_OK;
}

static bsp_err load_calib(json_t *o, struct fc_calib *c, struct bsp_error *err)
{
	json_t *levels, *rows;
	double lv[FC_NQ + 1];
	size_t nl, r, nq;

	levels = json_object_get(o, "levels");
	rows = json_object_get(o, "rows");
	if (get_size(json_object_get(o, "horizon"), (size_t)1 << 22,
		     &c->horizon) ||
	    !c->horizon ||
	    get_size(json_object_get(o, "scores"), SIZE_MAX / 2,
		     &c->n_scores) ||
	    !levels || !rows)
		return bad(err, "calibration lacks horizon, scores, levels "
				"or rows");
	if (get_reals(levels, lv, FC_NQ + 1, &nl) || nl != FC_NQ ||
	    memcmp(lv, fc_qgrid, sizeof(fc_qgrid)))
		return bad(err, "calibration levels differ from this "
				"version's");
	if (!json_is_array(rows) || !json_array_size(rows) ||
	    json_array_size(rows) > FC_MAX_ROWS ||
	    json_array_size(rows) > c->horizon)
		return bad(err, "calibration rows are missing or too many");
	c->n_rows = json_array_size(rows);
	for (r = 0; r < c->n_rows; r++) {
		json_t *row = json_array_get(rows, r);
		if (!json_is_object(row) ||
		    get_size(json_object_get(row, "from"), c->horizon - 1,
			     &c->lo[r]) ||
		    (r == 0 && c->lo[r] != 0) ||
		    (r > 0 && c->lo[r] <= c->lo[r - 1]) ||
		    get_reals(json_object_get(row, "q"), c->q[r], FC_NQ,
			      &nq) ||
		    nq != FC_NQ)
			return bad(err, "a calibration row is malformed");
		for (nq = 1; nq < FC_NQ; nq++)
			if (c->q[r][nq] < c->q[r][nq - 1])
				return bad(err, "calibration quantiles "
						"decrease");
	}
	c->lo[c->n_rows] = c->horizon;
	return BSP_OK;
}

static bsp_err load_root(json_t *root, struct bsp_fc_model *m,
			 struct bsp_error *err)
{
	const char *format;
	json_t *periods, *train, *members, *calib;
	json_int_t version, step, horizon, maxh;
	int nonneg, mean_point;
	double wsum = 0;
	size_t i;
	bsp_err rc;

	if (json_unpack(root, "{s:s, s:I}", "format", &format, "version",
			&version) ||
	    strcmp(format, FORMAT_NAME))
		return bad(err, "not a bespoke forecast model");
	if (version != FORMAT_VERSION)
		return bsp_error_set(err, BSP_ECORRUPT,
				     "forecast model: version %lld, this "
				     "build reads %d",
				     (long long)version, FORMAT_VERSION);
	if (json_unpack(root, "{s:I, s:o, s:I, s:b, s:b, s:I, s:o, s:o, s:o}",
			"step", &step, "periods", &periods, "horizon",
			&horizon, "nonneg", &nonneg, "mean_point", &mean_point,
			"max_history", &maxh, "train", &train, "members",
			&members, "calibration", &calib))
		return bad(err, "a field is missing or of the wrong type");
	if (step <= 0 || horizon <= 0 || horizon > (1 << 22) || maxh < 0)
		return bad(err, "step, horizon or max_history out of range");
	m->step = step;
	m->horizon = (size_t)horizon;
	m->nonneg = nonneg;
	m->mean_point = mean_point;
	m->max_history = (size_t)maxh;
	if (get_sizes(periods, m->period, BSP_FC_MAX_PERIODS, 1 << 24))
		return bad(err, "periods are not two sizes");
	{
		json_int_t from, until, points, origins;
		if (json_unpack(train, "{s:I, s:I, s:I, s:I, s:F, s:F, s:F}",
				"from", &from, "until", &until, "points",
				&points, "origins", &origins, "mase", &m->mase,
				"pinball95", &m->pinball95, "coverage95",
				&m->coverage95) ||
		    points < 0 || origins < 0)
			return bad(err, "train is malformed");
		m->from = from;
		m->until = until;
		m->n_train = (size_t)points;
		m->n_origins = (size_t)origins;
	}
	if (!json_is_array(members) || !json_array_size(members) ||
	    json_array_size(members) > BSP_FC_MAX_MEMBERS)
		return bad(err, "members are missing or too many");
	m->n_members = json_array_size(members);
	for (i = 0; i < m->n_members; i++) {
		rc = load_member(json_array_get(members, i), &m->members[i],
				 err);
		if (rc)
			return rc;
		wsum += m->members[i].weight;
	}
	if (fabs(wsum - 1) > 1e-6)
		return bad(err, "member weights do not sum to 1");
	if (!json_is_object(calib))
		return bad(err, "calibration is missing");
	return load_calib(calib, &m->calib, err);
}

bsp_err bsp_fc_model_load(const char *json, size_t len,
			  struct bsp_fc_model **out, struct bsp_error *err)
{
	struct bsp_fc_model *m;
	json_error_t jerr;
	json_t *root;
	bsp_err rc;

	*out = NULL;
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return bsp_error_set(err, BSP_ECORRUPT,
				     "forecast model: line %d: %s", jerr.line,
				     jerr.text);
	m = calloc(1, sizeof(*m));
	if (!m) {
		json_decref(root);
		return bsp_error_set(err, BSP_ENOMEM, "forecast: out of memory");
	}
	rc = load_root(root, m, err);
	json_decref(root);
	if (rc) {
		free(m);
		return rc;
	}
	*out = m;
	return BSP_OK;
}
