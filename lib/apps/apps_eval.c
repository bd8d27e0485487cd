/*
 * Next-command evaluation on command histories, in the protocol of the
 * Schonlau masquerade data (Schonlau et al., Statistical Science 2001):
 * each user's first `train_first` commands train, every later command is
 * predicted from what came before it and then revealed.
 *
 * Online learning, as a deployed system would do it: after each
 * prediction the user's model and both baselines learn the revealed
 * command; the population model keeps what it learnt from everyone's
 * training part. Blocks that label.txt marks as another user's are
 * skipped entirely (neither scored nor learnt) and the sequence context
 * restarts after them, since the command before a masquerade block says
 * nothing about the one after it.
 *
 * Baselines, computed in the same pass on the same predictions:
 *  - most frequent: the user's commands ranked by count so far;
 *  - first-order Markov: the commands that followed the previous one,
 *    ranked by count, filled up with the most frequent ones.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "apps_int.h"

#define LINE_MAX_LEN 4096
#define LABEL_FILE "label.txt"

struct history {
	char *path;
	int column; /* label column, or -1 */
	uint32_t *ids;
	size_t n, cap;
};

struct labels {
	unsigned char *v; /* rows x cols */
	size_t rows, cols;
};

struct markov1 {
	struct apps_map index; /* (user, prev) -> context */
	struct {
		uint32_t *id;
		double *count;
		size_t n, cap, cap2;
	} *ctx;
	size_t n_ctx, cap_ctx;
};

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static int name_cmp(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

/* Adds path, or the regular files inside it, to *files. */
static bsp_err expand(const char *path, char ***files, size_t *n, size_t *cap,
		      struct bsp_error *err)
{
	struct stat sb;
	DIR *d;
	struct dirent *de;
	size_t first = *n;
	bsp_err r = BSP_OK;

	if (stat(path, &sb))
		return bsp_error_set(err, errno == ENOENT ? BSP_ENOTFOUND : BSP_EIO,
				     "%s: %s", path, strerror(errno));
	if (!S_ISDIR(sb.st_mode)) {
		if (!strcmp(base_name(path), LABEL_FILE))
			return BSP_OK;
		if (BSP_GROW(*files, *cap, *n + 1) ||
		    !((*files)[*n] = bsp_strdup(path)))
			return bsp_error_set(err, BSP_ENOMEM, "out of memory");
		(*n)++;
		return BSP_OK;
	}
	if (!(d = opendir(path)))
		return bsp_error_set(err, BSP_EIO, "%s: %s", path,
				     strerror(errno));
	while ((de = readdir(d))) {
		char buf[4096];
		struct stat fs;
		if (de->d_name[0] == '.' || !strcmp(de->d_name, LABEL_FILE))
			continue;
		if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", path,
				     de->d_name) >= sizeof(buf)) {
			r = bsp_error_set(err, BSP_ELIMIT, "%s: path too long",
					  path);
			break;
		}
		if (stat(buf, &fs) || !S_ISREG(fs.st_mode))
			continue;
		if (BSP_GROW(*files, *cap, *n + 1) ||
		    !((*files)[*n] = bsp_strdup(buf))) {
			r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
			break;
		}
		(*n)++;
	}
	closedir(d);
	if (*n > first)
		qsort(*files + first, *n - first, sizeof(**files), name_cmp);
	return r;
}

static bsp_err read_history(struct history *h, struct apps_vocab *vocab,
			    struct bsp_error *err)
{
	char line[LINE_MAX_LEN];
	FILE *f = fopen(h->path, "r");
	size_t lineno = 0;
	bsp_err r = BSP_OK;

	if (!f)
		return bsp_error_set(err, errno == ENOENT ? BSP_ENOTFOUND : BSP_EIO,
				     "%s: %s", h->path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		char *s = line;
		long id;
		lineno++;
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			r = bsp_error_set(err, BSP_ELIMIT,
					  "%s:%zu: line longer than %d bytes",
					  h->path, lineno, LINE_MAX_LEN - 2);
			goto out;
		}
		while (len && isspace((unsigned char)s[len - 1]))
			s[--len] = '\0';
		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s)
			continue;
		if ((id = apps_vocab_add(vocab, s)) < 0 ||
		    BSP_GROW(h->ids, h->cap, h->n + 1)) {
			r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
			goto out;
		}
		h->ids[h->n++] = (uint32_t)id;
	}
	if (ferror(f))
		r = bsp_error_set(err, BSP_EIO, "%s: read error", h->path);
out:
	fclose(f);
	return r;
}

/* Reads dir/label.txt if present (lab->v stays NULL otherwise). */
static bsp_err read_labels(const char *file, struct labels *lab,
			   struct bsp_error *err)
{
	char path[4096], line[LINE_MAX_LEN];
	const char *b = base_name(file);
	size_t cap = 0, n = 0, lineno = 0;
	FILE *f;
	bsp_err r = BSP_OK;

	if ((size_t)snprintf(path, sizeof(path), "%.*s%s", (int)(b - file),
			     file, LABEL_FILE) >= sizeof(path))
		return BSP_OK;
	if (!(f = fopen(path, "r")))
		return BSP_OK;
	while (fgets(line, sizeof(line), f)) {
		size_t cols = 0;
		char *p = line, *end;
		lineno++;
		for (;;) {
			long v = strtol(p, &end, 10);
			if (end == p)
				break;
			if (v != 0 && v != 1) {
				r = bsp_error_set(err, BSP_EINVAL,
						  "%s:%zu: labels are 0 or 1",
						  path, lineno);
				goto out;
			}
			if (BSP_GROW(lab->v, cap, n + 1)) {
				r = bsp_error_set(err, BSP_ENOMEM,
						  "out of memory");
				goto out;
			}
			lab->v[n++] = (unsigned char)v;
			cols++;
			p = end;
		}
		if (!cols)
			continue;
		if (lab->rows && cols != lab->cols) {
			r = bsp_error_set(err, BSP_EINVAL,
					  "%s:%zu: %zu columns, expected %zu",
					  path, lineno, cols, lab->cols);
			goto out;
		}
		lab->cols = cols;
		lab->rows++;
	}
out:
	fclose(f);
	return r;
}

static int column_of(const char *path, size_t position)
{
	const char *b = base_name(path), *e = b + strlen(b), *d = e;

	while (d > b && isdigit((unsigned char)d[-1]))
		d--;
	if (d < e && e - d < 6) {
		long v = strtol(d, NULL, 10);
		if (v >= 1)
			return (int)(v - 1);
	}
	return (int)position;
}

static bsp_err markov1_learn(struct markov1 *mk, size_t user, uint32_t prev,
			     uint32_t id)
{
	uint32_t ci = apps_map_get(&mk->index, user, prev);

	if (ci == UINT32_MAX) {
		if (BSP_GROW(mk->ctx, mk->cap_ctx, mk->n_ctx + 1) ||
		    apps_map_put(&mk->index, user, prev, (uint32_t)mk->n_ctx))
			return BSP_ENOMEM;
		ci = (uint32_t)mk->n_ctx++;
		memset(&mk->ctx[ci], 0, sizeof(mk->ctx[ci]));
	}
	for (size_t i = 0; i < mk->ctx[ci].n; i++)
		if (mk->ctx[ci].id[i] == id) {
			mk->ctx[ci].count[i]++;
			return BSP_OK;
		}
	if (BSP_GROW(mk->ctx[ci].id, mk->ctx[ci].cap, mk->ctx[ci].n + 1) ||
	    BSP_GROW(mk->ctx[ci].count, mk->ctx[ci].cap2, mk->ctx[ci].n + 1))
		return BSP_ENOMEM;
	mk->ctx[ci].id[mk->ctx[ci].n] = id;
	mk->ctx[ci].count[mk->ctx[ci].n++] = 1;
	return BSP_OK;
}

static void markov1_release(struct markov1 *mk)
{
	for (size_t i = 0; i < mk->n_ctx; i++) {
		free(mk->ctx[i].id);
		free(mk->ctx[i].count);
	}
	free(mk->ctx);
	apps_map_release(&mk->index);
}

/* Inserts (id, score) into the top-5 list; ties keep the earlier. */
static void top5_push(uint32_t *top, double *score, size_t *n, uint32_t id,
		      double s)
{
	size_t j;

	if (*n == 5 && s <= score[4])
		return;
	j = *n < 5 ? (*n)++ : 4;
	while (j > 0 && score[j - 1] < s) {
		top[j] = top[j - 1];
		score[j] = score[j - 1];
		j--;
	}
	top[j] = id;
	score[j] = s;
}

static void score(struct bsp_apps_score *sc, const uint32_t *top, size_t n,
		  uint32_t truth)
{
	sc->n++;
	for (size_t i = 0; i < n && i < 5; i++)
		if (top[i] == truth) {
			sc->hit1 += i == 0;
			sc->hit5++;
			return;
		}
}

struct eval_state {
	struct bsp_apps *m;
	struct apps_vocab vocab;
	struct history *h;
	size_t n;
	double **freq; /* per user, per id */
	size_t *n_freq;
	struct markov1 mk;
};

static bsp_err learn_baselines(struct eval_state *s, size_t u, long prev,
			       uint32_t id)
{
	if (id >= s->n_freq[u]) {
		size_t nn = s->vocab.n;
		double *f = realloc(s->freq[u], nn * sizeof(*f));
		if (!f)
			return BSP_ENOMEM;
		for (size_t i = s->n_freq[u]; i < nn; i++)
			f[i] = 0;
		s->freq[u] = f;
		s->n_freq[u] = nn;
	}
	s->freq[u][id]++;
	if (prev >= 0)
		return markov1_learn(&s->mk, u, (uint32_t)prev, id);
	return BSP_OK;
}

static void predict_baselines(struct eval_state *s, size_t u, long prev,
			      uint32_t truth, struct bsp_apps_eval *out)
{
	uint32_t top[5], mtop[5];
	double sc[5], msc[5];
	size_t n = 0, mn = 0;
	uint32_t ci;

	for (size_t i = 0; i < s->n_freq[u]; i++)
		if (s->freq[u][i] > 0)
			top5_push(top, sc, &n, (uint32_t)i, s->freq[u][i]);
	score(&out->mfc, top, n, truth);
	ci = prev >= 0 ? apps_map_get(&s->mk.index, u, (uint64_t)prev)
		       : UINT32_MAX;
	if (ci != UINT32_MAX)
		for (size_t i = 0; i < s->mk.ctx[ci].n; i++)
			top5_push(mtop, msc, &mn, s->mk.ctx[ci].id[i],
				  s->mk.ctx[ci].count[i]);
	for (size_t i = 0; i < n && mn < 5; i++) {
		size_t j = 0;
		while (j < mn && mtop[j] != top[i])
			j++;
		if (j == mn) {
			mtop[mn] = top[i];
			msc[mn++] = 0;
		}
	}
	score(&out->markov1, mtop, mn, truth);
}

static bsp_err run(struct eval_state *s, size_t train_first,
		   const struct labels *lab, struct bsp_apps_eval *out,
		   struct bsp_error *err)
{
	const unsigned both = BSP_APPS_LEARN_USER | BSP_APPS_LEARN_POPULATION;
	struct bsp_apps_pred pred[5];
	bsp_err r;

	for (size_t u = 0; u < s->n; u++) {
		size_t user;
		long prev = -1;
		if ((r = bsp_apps_user(s->m, s->h[u].path, &user, err)))
			return r;
		for (size_t i = 0; i < s->h[u].n && i < train_first; i++) {
			uint32_t id = s->h[u].ids[i];
			if ((r = bsp_apps_observe(s->m, user,
						  s->vocab.names[id],
						  BSP_TIME_NONE, both, err)))
				return r;
			if (learn_baselines(s, u, prev, id))
				return bsp_error_set(err, BSP_ENOMEM,
						     "out of memory");
			prev = id;
		}
	}
	for (size_t u = 0; u < s->n; u++) {
		const struct history *h = &s->h[u];
		size_t offset = lab->rows * 100 <= h->n ? h->n - lab->rows * 100
							: 0;
		long prev = train_first ? (long)h->ids[train_first - 1] : -1;
		for (size_t i = train_first; i < h->n; i++) {
			uint32_t id = h->ids[i], top[5];
			size_t n = 0;
			if (lab->v && h->column >= 0 &&
			    (size_t)h->column < lab->cols && i >= offset &&
			    (i - offset) / 100 < lab->rows &&
			    lab->v[(i - offset) / 100 * lab->cols +
				   (size_t)h->column]) {
				out->skipped++;
				bsp_apps_break(s->m, u);
				prev = -1;
				continue;
			}
			if ((r = bsp_apps_predict(s->m, u, BSP_TIME_NONE, 5,
						  pred, &n, err)))
				return r;
			for (size_t j = 0; j < n; j++)
				top[j] = (uint32_t)apps_vocab_find(&s->vocab,
								   pred[j].app);
			score(&out->model, top, n, id);
			predict_baselines(s, u, prev, id, out);
			if ((r = bsp_apps_observe(s->m, u, s->vocab.names[id],
						  BSP_TIME_NONE,
						  BSP_APPS_LEARN_USER, err)))
				return r;
			if (learn_baselines(s, u, prev, id))
				return bsp_error_set(err, BSP_ENOMEM,
						     "out of memory");
			prev = id;
		}
	}
	return BSP_OK;
}

bsp_err bsp_apps_evaluate(char *const *paths, size_t n_paths,
			  size_t train_first,
			  const struct bsp_apps_options *opt,
			  struct bsp_apps_eval *out, struct bsp_error *err)
{
	struct eval_state s = {0};
	struct labels lab = {0};
	char **files = NULL;
	size_t n_files = 0, cap = 0;
	bsp_err r;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < n_paths; i++)
		if ((r = expand(paths[i], &files, &n_files, &cap, err)))
			goto out;
	if (!n_files) {
		r = bsp_error_set(err, BSP_EINVAL, "no history files given");
		goto out;
	}
	if ((r = read_labels(files[0], &lab, err)))
		goto out;
	if (!(s.h = calloc(n_files, sizeof(*s.h))) ||
	    !(s.freq = calloc(n_files, sizeof(*s.freq))) ||
	    !(s.n_freq = calloc(n_files, sizeof(*s.n_freq)))) {
		r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	s.n = n_files;
	for (size_t i = 0; i < n_files; i++) {
		s.h[i].path = files[i];
		s.h[i].column = column_of(files[i], i);
		if ((r = read_history(&s.h[i], &s.vocab, err)))
			goto out;
		if (s.h[i].n <= train_first) {
			r = bsp_error_set(err, BSP_EINVAL,
					  "%s: %zu commands, not more than "
					  "the %zu to train on",
					  files[i], s.h[i].n, train_first);
			goto out;
		}
	}
	if ((r = bsp_apps_new(&s.m, opt, err)))
		goto out;
	out->users = n_files;
	out->labels = lab.v != NULL;
	r = run(&s, train_first, &lab, out, err);
out:
	bsp_apps_free(s.m);
	for (size_t i = 0; i < s.n; i++) {
		free(s.h[i].ids);
		free(s.freq[i]);
	}
	free(s.h);
	free(s.freq);
	free(s.n_freq);
	markov1_release(&s.mk);
	apps_vocab_release(&s.vocab);
	for (size_t i = 0; i < n_files; i++)
		free(files[i]);
	free(files);
	free(lab.v);
	return r;
}
