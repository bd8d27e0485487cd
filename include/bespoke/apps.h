/*
 * bespoke: which applications a user will run next, and which software
 * to offer it.
 *
 * Two models live here:
 *
 *  - the next-application model (struct bsp_apps): a variable-order
 *    Markov model per user (contexts of up to BSP_APPS_MAX_ORDER previous
 *    applications) blended with a population model trained on every user
 *    and, for timestamped events, with the user's hour-of-day usage. It
 *    predicts the next application with probabilities; bsp_apps_coming()
 *    predicts what will be used in the coming hour and day (pre-loading);
 *    bsp_apps_evaluate() scores the model on command-history files
 *    (Schonlau's masquerade data) against two baselines.
 *
 *  - software recommendations (struct bsp_cf): item-item collaborative
 *    filtering over the user x application usage matrix, with the
 *    applications and users behind each recommendation, and a hold-out
 *    evaluation (recall@k against a popularity baseline).
 *
 * Ownership: handles from *_new belong to the caller and are released by
 * the matching *_free. Application names returned in prediction arrays
 * point into the model (valid until it is freed); arrays filled through
 * `**out` parameters are malloc'd and belong to the caller (release them
 * with the matching *_release). Handles are not thread-safe.
 */
#ifndef BESPOKE_APPS_H
#define BESPOKE_APPS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "store.h"
#include "time.h"

/* ---- next-application model --------------------------------------------- */

#define BSP_APPS_MAX_ORDER 3

struct bsp_apps_options {
	unsigned order;     /* longest context, 0..BSP_APPS_MAX_ORDER (3) */
	int population;     /* blend in the all-users model (1) */
	int hour_of_day;    /* blend in the user's hour-of-day usage (1) */
	double decay;       /* user counts are multiplied by this at each
			       event (1 = none; 0.999 keeps ~1000 events) */
	size_t hour_window; /* untimestamped: commands standing for "the
			       coming hour" (10) */
	size_t day_window;  /* ... and for "the coming day" (100) */
	size_t recent;      /* untimestamped: how many recent commands the
			       windows are counted over (2000) */
	unsigned days;      /* timestamped: recent days the hour and day
			       frequencies are counted over (28) */
};
BSP_EXTERN void bsp_apps_options_init(struct bsp_apps_options *opt);

struct bsp_apps;

/* One predicted application; `app` points into the model or result. */
struct bsp_apps_pred {
	const char *app;
	double p;
};

BSP_EXTERN bsp_err bsp_apps_new(struct bsp_apps **out,
				const struct bsp_apps_options *opt,
				struct bsp_error *err);
BSP_EXTERN void bsp_apps_free(struct bsp_apps *m);

/* The index of user `name`, created on first use (0, 1, 2, ...). */
BSP_EXTERN bsp_err bsp_apps_user(struct bsp_apps *m, const char *name,
				 size_t *user, struct bsp_error *err);

enum bsp_apps_learn {
	BSP_APPS_LEARN_USER = 1 << 0,       /* the user's own model */
	BSP_APPS_LEARN_POPULATION = 1 << 1, /* the all-users model */
};

/*
 * Appends `app` (at time `ts`, or BSP_TIME_NONE) to the user's sequence:
 * the counts selected by `learn` are updated from the user's current
 * context, which then moves on. learn = 0 only moves the context.
 */
BSP_EXTERN bsp_err bsp_apps_observe(struct bsp_apps *m, size_t user,
				    const char *app, bsp_time ts,
				    unsigned learn, struct bsp_error *err);

/* Forgets the user's current context (a gap in its sequence). */
BSP_EXTERN void bsp_apps_break(struct bsp_apps *m, size_t user);

/*
 * The k most probable next applications of `user` after its current
 * context, at time `at` (BSP_TIME_NONE: no hour-of-day information), in
 * decreasing probability. out must hold k entries; *n receives how many
 * were filled (fewer when fewer applications are known).
 */
BSP_EXTERN bsp_err bsp_apps_predict(struct bsp_apps *m, size_t user,
				    bsp_time at, size_t k,
				    struct bsp_apps_pred *out, size_t *n,
				    struct bsp_error *err);

/* The user's current context, oldest first (up to the model's order);
 * returns how many names were written to ctx (of `cap`). */
BSP_EXTERN size_t bsp_apps_context(const struct bsp_apps *m, size_t user,
				   const char **ctx, size_t cap);

/* What an entity will use soon, from its own events (oldest first). */
struct bsp_apps_coming {
	int timed;          /* 1: hour-of-day frequencies; 0: windows */
	bsp_time now;       /* the reference time (timed) */
	unsigned hour_utc;  /* the coming hour's hour of day (timed) */
	unsigned days;      /* days counted over (timed) */
	size_t hour_window; /* commands per "hour" window (untimed) */
	size_t day_window;
	size_t n_hour, n_day;
	struct bsp_apps_pred *hour; /* by decreasing p; names point into */
	struct bsp_apps_pred *day;  /*   the events passed in */
};

/*
 * For timestamped events, P(app used in the coming hour) is the share of
 * the last `days` days (since the first event) on which the app was used
 * in the same hour of day as `now` (BSP_TIME_NONE: the hour after the
 * last event), and P(used in the coming day) the share of days it was
 * used at all, each with add-half smoothing. Without timestamps, the
 * share of windows of the next hour_window / day_window commands, over
 * the last `recent` commands, that contain the app.
 */
BSP_EXTERN bsp_err bsp_apps_coming(const struct bsp_event *ev, size_t n,
				   bsp_time now,
				   const struct bsp_apps_options *opt,
				   struct bsp_apps_coming *out,
				   struct bsp_error *err);
BSP_EXTERN void bsp_apps_coming_release(struct bsp_apps_coming *c);

/* ---- evaluation on command histories -------------------------------------- */

struct bsp_apps_score {
	uint64_t n;    /* predictions made */
	uint64_t hit1; /* the true next command was ranked first */
	uint64_t hit5; /* ... among the first five */
};

struct bsp_apps_eval {
	size_t users;
	int labels;           /* a label.txt was used */
	uint64_t skipped;     /* commands in masquerade blocks */
	struct bsp_apps_score model;   /* this model */
	struct bsp_apps_score mfc;     /* the user's most frequent commands */
	struct bsp_apps_score markov1; /* the user's first-order Markov */
};

/*
 * One file per user (one command per line; a directory stands for the
 * files in it). The population model learns every user's first
 * `train_first` commands, each user's model its own; then each later
 * command is predicted and revealed (online: the user's model, and the
 * baselines, learn it; the population stays fixed). When a `label.txt`
 * (rows of 0/1 per 100-command block of each user's last rows*100
 * commands, one column per user) sits next to the files, blocks marked 1
 * are skipped (not predicted, not learned). Columns are matched by the
 * number in a name such as "User7", else by the file's position.
 */
BSP_EXTERN bsp_err bsp_apps_evaluate(char *const *paths, size_t n_paths,
				     size_t train_first,
				     const struct bsp_apps_options *opt,
				     struct bsp_apps_eval *out,
				     struct bsp_error *err);

/* ---- software recommendations ------------------------------------------- */

struct bsp_cf;

BSP_EXTERN bsp_err bsp_cf_new(struct bsp_cf **out, struct bsp_error *err);
BSP_EXTERN void bsp_cf_free(struct bsp_cf *cf);

/* Adds `count` uses of `app` by `user`. */
BSP_EXTERN bsp_err bsp_cf_add(struct bsp_cf *cf, const char *user,
			      const char *app, double count,
			      struct bsp_error *err);

#define BSP_CF_REASONS 3

struct bsp_cf_rec {
	const char *app; /* points into the model */
	double score;    /* sum of cosine similarities to the user's apps */
	size_t n_because;
	const char *because[BSP_CF_REASONS]; /* the user's apps behind it */
	double because_sim[BSP_CF_REASONS];
	size_t n_users;
	const char *users[BSP_CF_REASONS];   /* similar users who use it */
	double users_sim[BSP_CF_REASONS];
};

/*
 * Up to k applications `user` does not use, by decreasing score. out
 * must hold k entries. BSP_ENOTFOUND when the user has no usage.
 */
BSP_EXTERN bsp_err bsp_cf_recommend(struct bsp_cf *cf, const char *user,
				    size_t k, struct bsp_cf_rec *out,
				    size_t *n, struct bsp_error *err);

struct bsp_cf_eval {
	size_t users;        /* users evaluated (enough distinct apps) */
	size_t hidden;       /* applications hidden, all users */
	double recall_model; /* mean over users of recall@k */
	double recall_popularity;
};

/*
 * For each user with at least `min_apps` distinct applications, hides
 * round(holdout * apps) of them (at least one; chosen with `seed`),
 * recommends k from everything else, and averages recall@k over users;
 * the baseline recommends the apps most users use.
 */
BSP_EXTERN bsp_err bsp_cf_evaluate(struct bsp_cf *cf, double holdout,
				   uint64_t seed, size_t min_apps, size_t k,
				   struct bsp_cf_eval *out,
				   struct bsp_error *err);

/* |top k of rec ∩ hidden| / |hidden| (0 when nothing is hidden). */
BSP_EXTERN double bsp_apps_recall(const char *const *rec, size_t n_rec,
				  const char *const *hidden, size_t n_hidden,
				  size_t k);

#endif
