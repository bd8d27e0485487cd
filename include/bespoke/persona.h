/*
 * bespoke: personas, who a user is, as a probability distribution.
 *
 * A persona catalog (YAML, schema in docs/personas.md; the default is
 * data/personas.yaml) describes kinds of user: their software stack, data
 * sets, the shape of their day and week, machine size and OS settings.
 * The profiler turns evidence into a posterior over the catalog:
 *
 *   - what a user says when asking for a machine (free text, selected
 *     software, intended data size): a multinomial naive Bayes text model
 *     trained on the catalog's descriptions and software lists;
 *   - what the user does once there is history: the daily and weekly
 *     shape of its CPU use and the applications it launches, each a
 *     likelihood under every persona's profile.
 *
 *   posterior ∝ prior(text) × likelihood(usage)^w_usage × likelihood(apps)^w_apps
 *
 * Ownership: a catalog belongs to the caller of bsp_persona_catalog_load
 * and is freed by bsp_persona_catalog_free; personas and strings in it are
 * read-only and live as long as it does.
 */
#ifndef BESPOKE_PERSONA_H
#define BESPOKE_PERSONA_H

#include <stddef.h>

#include "error.h"
#include "store.h"

struct bsp_persona_dataset {
	char *name;
	double size_gb;
};

struct bsp_persona {
	char *name;        /* identifier, e.g. "data-scientist" */
	char *title;       /* "Data scientist (ML)" */
	char *description; /* free text, also the text model's training data */
	char **software;
	unsigned software_count;
	struct bsp_persona_dataset *datasets;
	unsigned datasets_count;
	double daily[24]; /* relative activity by local hour, 0..1 */
	double weekly[7]; /* relative activity Monday..Sunday, 0..1 */
	unsigned cores;
	double memory_gb;
	char **sysctls; /* "key=value" */
	unsigned sysctls_count;
	char **services; /* systemd units to enable */
	unsigned services_count;
};

struct bsp_persona_catalog {
	unsigned version;
	struct bsp_persona *personas;
	unsigned personas_count;
};

/* Loads and validates a catalog. Errors name FILE:LINE:COLUMN when the
 * YAML or the schema is at fault. */
BSP_EXTERN bsp_err bsp_persona_catalog_load(const char *path,
					    struct bsp_persona_catalog **out,
					    struct bsp_error *err);
BSP_EXTERN void bsp_persona_catalog_free(struct bsp_persona_catalog *cat);
/* Index of a persona by name, or -1. */
BSP_EXTERN int bsp_persona_find(const struct bsp_persona_catalog *cat,
				const char *name);

/* What is known about a user. Every part is optional. */
struct bsp_persona_evidence {
	const char *text;              /* free text; NULL = none */
	const char *const *software;   /* selected software names */
	size_t n_software;
	double data_gb;                /* intended data size; NaN = none */
	/* Observed behaviour (bsp_persona_observe fills these). */
	int has_usage;
	double daily[24];  /* mean CPU by local hour */
	double weekly[7];  /* mean CPU by local weekday, Monday first */
	double days;       /* how many days of history the shapes come from */
	char **apps;       /* launched applications, one per launch */
	size_t n_apps;
	/* Exponents of the behaviour likelihoods (1 = as is). */
	double w_usage, w_apps;
};

/* Empty evidence with default weights. */
BSP_EXTERN void bsp_persona_evidence_init(struct bsp_persona_evidence *ev);
/* Frees what bsp_persona_observe allocated (the apps). */
BSP_EXTERN void bsp_persona_evidence_release(struct bsp_persona_evidence *ev);

/*
 * Adds an entity's observed behaviour to `ev`: its CPU series as hourly
 * means folded into local daily and weekly shapes (local by its
 * tz_offset_hours attribute, else UTC) and its "app" events.
 * BSP_ENOTFOUND for an unknown entity; an entity with neither CPU series
 * nor app events gets no usage (ev->has_usage 0, no apps) and BSP_OK.
 */
BSP_EXTERN bsp_err bsp_persona_observe(struct bsp_store *st,
				       const char *entity,
				       struct bsp_persona_evidence *ev,
				       struct bsp_error *err);
/* The same from what happened before `before` only (BSP_TIME_NONE: all). */
BSP_EXTERN bsp_err bsp_persona_observe_before(struct bsp_store *st,
					      const char *entity,
					      bsp_time before,
					      struct bsp_persona_evidence *ev,
					      struct bsp_error *err);

/* The parts of a posterior, natural-log, per persona (catalog order). */
struct bsp_persona_scores {
	size_t n;
	double *text;  /* log prior from text, software and data size */
	double *usage; /* log likelihood of the usage shapes (weighted) */
	double *apps;  /* log likelihood of the app launches (weighted) */
	double *posterior; /* probabilities, sum 1 */
};
BSP_EXTERN void bsp_persona_scores_release(struct bsp_persona_scores *s);

/*
 * The posterior over the catalog's personas given `ev`. With no evidence at
 * all it is uniform.
 */
BSP_EXTERN bsp_err bsp_persona_infer(const struct bsp_persona_catalog *cat,
				     const struct bsp_persona_evidence *ev,
				     struct bsp_persona_scores *out,
				     struct bsp_error *err);

#endif
