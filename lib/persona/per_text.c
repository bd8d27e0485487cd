/*
 * Bags of words for the persona text model: a tokeniser and sorted token
 * counts.
 *
 * Tokens are runs of letters, digits and + # _ (so "c++", "c#" and
 * "pg_dump" stay whole), lowercased, at most 63 bytes. A short stop-word
 * list keeps words that every request contains ("need", "machine") from
 * diluting the evidence; naive Bayes would mostly cancel them, but not in
 * personas with short descriptions.
 */
#include <ctype.h>
#include <stdio.h>

#include "internal.h"
#include "persona_int.h"

#define PER_TOK_MAX 64

static const char *const per_stop[] = {
	"a", "about", "an", "and", "are", "as", "at", "be", "by", "for",
	"from", "has", "have", "i", "in", "is", "it", "its", "like", "machine",
	"me", "my", "need", "of", "on", "or", "our", "run", "some", "that",
	"the", "their", "them", "they", "this", "to", "use", "uses", "using",
	"vm", "want", "we", "who", "with", "work", "works",
};

static int per_is_stop(const char *t)
{
	size_t lo = 0, hi = BSP_ARRAY_LEN(per_stop);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(t, per_stop[mid]);
		if (!c)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

static int per_tok_char(int c)
{
	return isalnum(c) || c == '+' || c == '#' || c == '_';
}

static int per_bag_push(struct per_bag *b, const char *tok, double w)
{
	char *t = strdup(tok);
	if (!t || BSP_GROW(b->v, b->cap, b->n + 1) < 0) {
		free(t);
		return -1;
	}
	b->v[b->n].tok = t;
	b->v[b->n++].n = w;
	b->total += w;
	return 0;
}

int per_bag_add_text(struct per_bag *b, const char *text, double w)
{
	char tok[PER_TOK_MAX];
	const unsigned char *p = (const unsigned char *)text;

	while (*p) {
		size_t n = 0;
		while (*p && !per_tok_char(*p))
			p++;
		while (*p && per_tok_char(*p)) {
			if (n + 1 < sizeof(tok))
				tok[n++] = (char)tolower(*p);
			p++;
		}
		tok[n] = '\0';
		if (n && !per_is_stop(tok) && per_bag_push(b, tok, w) < 0)
			return -1;
	}
	return 0;
}

int per_bag_add_name(struct per_bag *b, const char *name, double w)
{
	char tok[PER_TOK_MAX];
	size_t n = 0;
	for (; name[n] && n + 1 < sizeof(tok); n++)
		tok[n] = (char)tolower((unsigned char)name[n]);
	tok[n] = '\0';
	return n ? per_bag_push(b, tok, w) : 0;
}

static int per_cmp(const void *a, const void *b)
{
	return strcmp(((const struct per_count *)a)->tok,
		      ((const struct per_count *)b)->tok);
}

void per_bag_finish(struct per_bag *b)
{
	size_t m = 0;
	if (!b->n)
		return;
	qsort(b->v, b->n, sizeof(*b->v), per_cmp);
	for (size_t i = 1; i < b->n; i++) {
		if (!strcmp(b->v[i].tok, b->v[m].tok)) {
			b->v[m].n += b->v[i].n;
			free(b->v[i].tok);
		} else {
			b->v[++m] = b->v[i];
		}
	}
	b->n = m + 1;
}

double per_bag_count(const struct per_bag *b, const char *tok)
{
	size_t lo = 0, hi = b->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(tok, b->v[mid].tok);
		if (!c)
			return b->v[mid].n;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

void per_bag_release(struct per_bag *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->v[i].tok);
	free(b->v);
	memset(b, 0, sizeof(*b));
}
