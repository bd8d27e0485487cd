/*
 * Prometheus text exposition format 0.0.4, the body of any /metrics page
 * (node_exporter, cAdvisor, an application), and the OpenMetrics subset of
 * it that scrapes produce (ending in "# EOF", exemplars after " # ").
 *
 *   # HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
 *   # TYPE node_cpu_seconds_total counter
 *   node_cpu_seconds_total{cpu="0",mode="idle"} 3.4e+04 1700000000000
 *
 * Comments (HELP, TYPE, UNIT) carry nothing we store. Label values are
 * unescaped (\\, \", \n; any other escape is an error, as in Prometheus
 * itself). NaN, +Inf and -Inf are real values here (a histogram's
 * le="+Inf", a gauge with no data) and are kept.
 *
 * Mapping: entity = the `instance` label when present and not empty, else
 * --entity, else the file's base name; metric = the metric name; the other
 * labels, canonicalised (bsp_labels_canon), tell series apart. The unit
 * comes from the name's suffix where the naming conventions make it
 * certain (_bytes, _seconds, _percent, also with _total or _sum).
 *
 * Time: an integer timestamp is milliseconds (0.0.4); one with a decimal
 * point or exponent is seconds (OpenMetrics). A sample without one gets
 * the scrape time we know: the file's modification time, or for
 * bsp_ingest_buffer the time of the call.
 */
#include <math.h>

#include "ingest_int.h"
#include "numparse.h"

#define PROM_MAX_LABELS 64

static const struct {
	const char *suffix, *unit;
} prom_units[] = {
	{"_bytes", "bytes"},	    {"_bytes_total", "bytes"},
	{"_bytes_sum", "bytes"},    {"_seconds", "s"},
	{"_seconds_total", "s"},    {"_seconds_sum", "s"},
	{"_percent", "%"},
};

const char *ingest_prom_unit(const char *name, size_t n)
{
	for (size_t i = 0; i < BSP_ARRAY_LEN(prom_units); i++) {
		size_t k = strlen(prom_units[i].suffix);
		if (n > k && !memcmp(name + n - k, prom_units[i].suffix, k))
			return prom_units[i].unit;
	}
	return "";
}

static int is_alpha_(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static size_t skip_blanks(const char *s, size_t i, size_t len)
{
	while (i < len && is_blank(s[i]))
		i++;
	return i;
}

/* Timestamp token → ms: integer ms, or seconds with a fraction/exponent. */
static int prom_time(const char *p, size_t n, bsp_time *out)
{
	size_t i = 0;
	int neg = 0;
	int64_t v = 0;
	double s;

	if (i < n && (p[i] == '-' || p[i] == '+'))
		neg = p[i++] == '-';
	if (i < n && n - i <= 18) {
		for (; i < n && is_digit(p[i]); i++)
			v = v * 10 + (p[i] - '0');
		if (i == n && is_digit(p[n - 1])) {
			*out = neg ? -v : v;
			return 0;
		}
	}
	if (ingest_parse_double(p, n, &s) != INGEST_NUM_OK || !(fabs(s) < 1e13))
		return -1;
	*out = (bsp_time)llround(s * 1000.0);
	return 0;
}

/* Cheap shape check of a sample line for detection. */
static int looks_like_sample(const char *s, size_t len)
{
	size_t i = 0, vs;
	double v;

	if (!is_alpha_(s[0]) && s[0] != ':')
		return 0;
	while (i < len && (is_alpha_(s[i]) || is_digit(s[i]) || s[i] == ':'))
		i++;
	if (i < len && s[i] == '{') {
		int inq = 0;
		for (i++; i < len; i++) {
			if (inq && s[i] == '\\')
				i++;
			else if (s[i] == '"')
				inq = !inq;
			else if (!inq && s[i] == '}')
				break;
		}
		if (i >= len)
			return 0;
		i++;
	}
	i = skip_blanks(s, i, len);
	for (vs = i; i < len && !is_blank(s[i]); i++)
		;
	if (vs == i || ingest_parse_double(s + vs, i - vs, &v) ==
			       INGEST_NUM_SYNTAX)
		return 0;
	i = skip_blanks(s, i, len);
	if (i < len && s[i] != '#') {
		for (vs = i; i < len && !is_blank(s[i]); i++)
			;
		if (!ingest_is_number(s + vs, i - vs))
			return 0;
		i = skip_blanks(s, i, len);
	}
	return i == len || s[i] == '#';
}

static int prom_line_ok(const char *line, size_t n)
{
	if (line[0] == '#')
		return -1;
	return looks_like_sample(line, n);
}

int fmt_prometheus_detect(const char *head, size_t len, const char *path)
{
	struct ingest_head h;
	const char *line;
	size_t n;

	BSP_UNUSED(path);
	ingest_head_init(&h, head, len);
	for (int i = 0; i < INGEST_DETECT_LINES && ingest_head_next(&h, &line, &n);
	     i++)
		if (n >= 7 && (!memcmp(line, "# HELP ", 7) ||
			       !memcmp(line, "# TYPE ", 7)))
			return 100;
	return ingest_detect_lines(head, len, prom_line_ok, 70);
}

/* Per-file buffers, grown to the longest line. */
struct prom_work {
	char *text; /* NUL-terminated metric, label names and values */
	char *canon;
	size_t text_cap, canon_cap;
};

static int work_reserve(struct prom_work *w, size_t len)
{
	size_t need = len + 4 * PROM_MAX_LABELS + 16;
	size_t cneed = 2 * len + 4 * PROM_MAX_LABELS + 8;

	if (need > w->text_cap) {
		char *p = realloc(w->text, need);
		if (!p)
			return -1;
		w->text = p;
		w->text_cap = need;
	}
	if (cneed > w->canon_cap) {
		char *p = realloc(w->canon, cneed);
		if (!p)
			return -1;
		w->canon = p;
		w->canon_cap = cneed;
	}
	return 0;
}

/*
 * Parses one sample line into batch; returns INGEST_OK, INGEST_SKIP (bad
 * line reported), INGEST_STOP (abort) or -2 when out of memory.
 */
static int prom_line(struct ingest_file *f, struct prom_work *w,
		     const char *s, size_t len)
{
	const char *keys[PROM_MAX_LABELS], *vals[PROM_MAX_LABELS];
	const char *metric, *entity = NULL, *unit;
	char *out;
	size_t i = 0, ms, vs, nlab = 0;
	bsp_time t = f->now;
	double v;
	int sid, num;
	bsp_err cr;

#define BAD(...) return ingest_bad(f, __VA_ARGS__) ? INGEST_STOP : INGEST_SKIP

	if (work_reserve(w, len) < 0)
		return -2;
	out = w->text;
	i = skip_blanks(s, 0, len);
	if (i >= len || !(is_alpha_(s[i]) || s[i] == ':'))
		BAD("expected a metric name");
	for (ms = i; i < len && (is_alpha_(s[i]) || is_digit(s[i]) ||
				 s[i] == ':');
	     i++)
		;
	if (i - ms >= INGEST_MAX_NAME)
		BAD("metric name longer than %d bytes", INGEST_MAX_NAME - 1);
	metric = out;
	memcpy(out, s + ms, i - ms);
	out += i - ms;
	*out++ = '\0';
	unit = ingest_prom_unit(s + ms, i - ms);
	i = skip_blanks(s, i, len);
	if (i < len && s[i] == '{') {
		i++;
		for (;;) {
			const char *key, *val;
			i = skip_blanks(s, i, len);
			if (i < len && s[i] == '}') {
				i++;
				break;
			}
			if (i >= len || !is_alpha_(s[i]))
				BAD("expected a label name at byte %zu", i + 1);
			key = out;
			while (i < len && (is_alpha_(s[i]) || is_digit(s[i])))
				*out++ = s[i++];
			*out++ = '\0';
			i = skip_blanks(s, i, len);
			if (i >= len || s[i] != '=')
				BAD("expected '=' after label '%s'", key);
			i = skip_blanks(s, i + 1, len);
			if (i >= len || s[i] != '"')
				BAD("expected '\"' to open the value of label "
				    "'%s'",
				    key);
			val = out;
			for (i++; i < len && s[i] != '"'; i++) {
				if (s[i] != '\\') {
					*out++ = s[i];
					continue;
				}
				if (++i >= len)
					break;
				if (s[i] == 'n')
					*out++ = '\n';
				else if (s[i] == '\\' || s[i] == '"')
					*out++ = s[i];
				else
					BAD("label '%s': invalid escape '\\%c'",
					    key,
					    s[i] > 0x20 && s[i] < 0x7f ? s[i]
								       : '?');
			}
			if (i >= len)
				BAD("label '%s': unterminated value", key);
			i++;
			*out++ = '\0';
			if (!strcmp(key, "instance") && !entity) {
				entity = val;
			} else {
				if (nlab == PROM_MAX_LABELS)
					BAD("more than %d labels",
					    PROM_MAX_LABELS);
				keys[nlab] = key;
				vals[nlab++] = val;
			}
			i = skip_blanks(s, i, len);
			if (i < len && s[i] == ',') {
				i++;
				continue;
			}
			if (i < len && s[i] == '}') {
				i++;
				break;
			}
			BAD("expected ',' or '}' after label '%s'", key);
		}
	}
	i = skip_blanks(s, i, len);
	for (vs = i; i < len && !is_blank(s[i]); i++)
		;
	if (vs == i)
		BAD("no value after '%s'", metric);
	num = ingest_parse_double(s + vs, i - vs, &v);
	if (num == INGEST_NUM_RANGE)
		BAD("value out of range: '%.*s'",
		    (int)(i - vs > 40 ? 40 : i - vs), s + vs);
	if (num != INGEST_NUM_OK && num != INGEST_NUM_NONFINITE)
		BAD("value: not a number: '%.*s'",
		    (int)(i - vs > 40 ? 40 : i - vs), s + vs);
	i = skip_blanks(s, i, len);
	if (i < len && s[i] != '#') {
		for (vs = i; i < len && !is_blank(s[i]); i++)
			;
		if (prom_time(s + vs, i - vs, &t) < 0)
			BAD("timestamp: not a time: '%.*s'",
			    (int)(i - vs > 40 ? 40 : i - vs), s + vs);
		i = skip_blanks(s, i, len);
	}
	if (i < len && s[i] != '#') /* '#': an OpenMetrics exemplar */
		BAD("unexpected text after the timestamp: '%.*s'",
		    (int)(len - i > 40 ? 40 : len - i), s + i);

	if (!entity || !*entity)
		entity = f->opt && f->opt->entity ? f->opt->entity : f->base;
	if (strlen(entity) >= INGEST_MAX_NAME)
		BAD("label 'instance' longer than %d bytes",
		    INGEST_MAX_NAME - 1);
	cr = bsp_labels_canon(keys, vals, nlab, w->canon, w->canon_cap);
	if (cr == BSP_EINVAL)
		BAD("a label appears twice");
	if (cr != BSP_OK)
		BAD("labels too long");
#undef BAD
	sid = bsp_batch_series(f->batch, entity, metric, w->canon, unit);
	if (sid < 0 || bsp_batch_sample(f->batch, sid, t, v) < 0)
		return -2;
	return INGEST_OK;
}

bsp_err fmt_prometheus_parse(struct ingest_file *f)
{
	struct prom_work w = {0};
	const char *line;
	size_t len;
	int eof = 0;
	bsp_err result = BSP_OK;

	while ((line = ingest_next_line(f, &len))) {
		size_t i = skip_blanks(line, 0, len);
		int r;

		if (eof) {
			if (ingest_bad(f, "text after '# EOF'"))
				break;
			continue;
		}
		if (line[i] == '#') {
			size_t e = len;
			ingest_not_data(f);
			while (e > i && is_blank(line[e - 1]))
				e--;
			if (e - i == 5 && !memcmp(line + i, "# EOF", 5))
				eof = 1;
			continue;
		}
		r = prom_line(f, &w, line + i, len - i);
		if (r == -2) {
			result = ingest_fail(f, BSP_ENOMEM, "out of memory");
			break;
		}
		if (r == INGEST_STOP)
			break;
	}
	if (result == BSP_OK && f->aborted)
		result = BSP_EINVAL;
	free(w.text);
	free(w.canon);
	return result;
}
