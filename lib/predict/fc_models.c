/*
 * The table of forecasting models. Training backtests every entry that
 * can run on a series (unless it is flagged a baseline) and combines the
 * best; bsp_fc_options.model names one entry to use it alone.
 *
 * To add a model, define its `struct fc_kind` in a file of its own
 * (lib/predict/predict.h says what each slot does) and list it here. The
 * order matters only as a tie-break: earlier entries win equal scores.
 */
#include "predict.h"

const struct fc_kind *const fc_kinds[] = {
	&fc_kind_snaive_day, /* baselines first: they win ties */
	&fc_kind_snaive_week,
	&fc_kind_naive,
	&fc_kind_smedian,
	&fc_kind_smedian3,
	&fc_kind_smedian14,
	&fc_kind_vpa,
	&fc_kind_ets,
	&fc_kind_ets_damped,
	&fc_kind_regress,
};

const size_t fc_n_kinds = BSP_ARRAY_LEN(fc_kinds);

const struct fc_kind *fc_kind_find(const char *name)
{
	size_t i;

	for (i = 0; i < fc_n_kinds; i++)
		if (!strcmp(fc_kinds[i]->name, name))
			return fc_kinds[i];
	return NULL;
}

const char *bsp_fc_model_name(size_t i)
{
	return i < fc_n_kinds ? fc_kinds[i]->name : NULL;
}

const char *bsp_fc_model_help(size_t i)
{
	return i < fc_n_kinds ? fc_kinds[i]->help : NULL;
}
