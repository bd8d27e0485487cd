/*
 * An archetype's application chain, written as text in its table entry so
 * that a reader sees the habits at a glance:
 *
 *     "first: outlook 6, teams 3",        start of the first session of a day
 *     "later: chrome 3, excel 2",         start of any later session
 *     "job: cron 1",                      start of a session a job opens
 *     "vim -> make 7, git 2, end 1",      after vim: make 7 times in 10 ...
 *
 * Weights are small integers; `end` closes the session. Each line is one
 * row of a first-order Markov chain, the structure the sequence models in
 * predict/ are meant to learn back. Every app that appears must have its own
 * "->" row, so a walk can never get stuck; the unit tests parse every
 * table entry, so a typo fails there and never reaches a user.
 */
#include <stdio.h>

#include "demo_int.h"

static const char *const demo_start_names[DEMO_START_N] = {
	[DEMO_START_FIRST] = "first",
	[DEMO_START_LATER] = "later",
	[DEMO_START_JOB] = "job",
};

static int demo_is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '+';
}

static const char *demo_skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Reads a name at p into buf; returns the end, or NULL if there is none or
 * it does not fit. */
static const char *demo_read_name(const char *p, char *buf, size_t size)
{
	size_t n = 0;

	while (demo_is_name_char(p[n]))
		n++;
	if (n == 0 || n >= size)
		return NULL;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return p + n;
}

/* Index of app `name`, added if new; -1 when the table is full. */
static int demo_app_index(struct demo_chain *c, const char *name)
{
	for (size_t i = 0; i < c->n_apps; i++)
		if (!strcmp(c->apps[i], name))
			return (int)i;
	if (c->n_apps == DEMO_MAX_APPS)
		return -1;
	snprintf(c->apps[c->n_apps], sizeof(c->apps[0]), "%s", name);
	return (int)c->n_apps++;
}

/* Parses "name weight, name weight, ..." into row (n_cols wide; `end`
 * allowed when end_col is not negative). */
static const char *demo_parse_weights(const char *p, struct demo_chain *c,
				      uint16_t *row, int end_col)
{
	char name[sizeof(c->apps[0])];
	unsigned long w;
	char *e;
	int col;

	for (;;) {
		p = demo_skip_space(p);
		if (!(p = demo_read_name(p, name, sizeof(name))))
			return NULL;
		if (!strcmp(name, "end")) {
			if (end_col < 0)
				return NULL;
			col = end_col;
		} else if ((col = demo_app_index(c, name)) < 0) {
			return NULL;
		}
		p = demo_skip_space(p);
		if (*p < '0' || *p > '9')
			return NULL;
		w = strtoul(p, &e, 10);
		if (w == 0 || w > 1000)
			return NULL;
		row[col] = (uint16_t)w;
		p = demo_skip_space(e);
		if (*p == '\0')
			return p;
		if (*p != ',')
			return NULL;
		p++;
	}
}

bsp_err demo_chain_parse(const char *const *text, struct demo_chain *out,
			 struct bsp_error *err)
{
	unsigned char has_row[DEMO_MAX_APPS] = {0};
	char name[sizeof(out->apps[0])];
	size_t line, i;
	const char *p;

	memset(out, 0, sizeof(*out));
	if (!text)
		return bsp_error_set(err, BSP_EINTERNAL, "demo chain: none");
	for (line = 0; text[line]; line++) {
		p = demo_skip_space(text[line]);
		if (!(p = demo_read_name(p, name, sizeof(name))))
			goto bad;
		p = demo_skip_space(p);
		if (*p == ':') {
			for (i = 0; i < DEMO_START_N; i++)
				if (!strcmp(name, demo_start_names[i]))
					break;
			if (i == DEMO_START_N)
				goto bad;
			p = demo_parse_weights(p + 1, out, out->start[i], -1);
		} else if (p[0] == '-' && p[1] == '>') {
			int from = demo_app_index(out, name);
			if (from < 0 || has_row[from])
				goto bad;
			has_row[from] = 1;
			p = demo_parse_weights(p + 2, out, out->next[from],
					       DEMO_APP_END);
		} else {
			goto bad;
		}
		if (!p)
			goto bad;
	}
	for (i = 0; i < out->n_apps; i++)
		if (!has_row[i])
			return bsp_error_set(err, BSP_EINTERNAL,
					     "demo chain: app %s has no row",
					     out->apps[i]);
	return BSP_OK;
bad:
	return bsp_error_set(err, BSP_EINTERNAL,
			     "demo chain: line %zu: cannot parse \"%s\"",
			     line + 1, text[line]);
}
