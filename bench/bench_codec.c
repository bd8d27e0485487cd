/*
 * The chunk codec on real traces: size and speed, against plain Gorilla.
 *
 *     bench_codec [-r REPEAT] FILE.csv.gz...
 *
 * Reads Bitbrains GWA-T-12 files (a header line, then `ts; v1; ...; v10`
 * with ts in epoch seconds, stored as milliseconds), sorts each file's
 * rows by time keeping the last of equal times (as the store does), cuts
 * every column into one chunk per UTC day (as the store does), and then,
 * for the adaptive codec and for the Gorilla-only coding (Gorilla's
 * delta-of-delta times, XOR values), encodes every chunk, decodes it
 * back, checks each time and each value bit for bit, and prints bytes
 * per sample overall and per column and the encode and decode rates on
 * one core (best of REPEAT rounds, default 3). "store" adds the chunk
 * row's overhead in SQLite (STORE_ROW_BYTES) to the payload.
 *
 * Build (also built by `make bench-bins`):
 *
 *     gcc -std=c11 -D_GNU_SOURCE -DBSP_BUILDING -Iinclude -Ilib -Wall \
 *         -Wextra -Werror -O2 -g bench/bench_codec.c lib/store/chunk.c \
 *         lib/util/error.c -lz -lm -o /tmp/bench_codec
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "store/chunk_int.h"

#define N_COLS		10
#define STORE_ROW_BYTES 25.0 /* SQLite chunk row without its blob, approx. */

/* The value columns of a Bitbrains row, in file order. */
static const char *const col_names[N_COLS] = {
    "cpu_cores",      /* CPU cores */
    "cpu_cap_mhz",    /* CPU capacity provisioned */
    "cpu_mhz",	      /* CPU usage */
    "cpu_pct",	      /* CPU usage, % */
    "mem_cap_kb",     /* memory capacity provisioned */
    "mem_kb",	      /* memory usage */
    "disk_read_kbs",  /* disk read throughput */
    "disk_write_kbs", /* disk write throughput */
    "net_rx_kbs",     /* network received throughput */
    "net_tx_kbs",     /* network transmitted throughput */
};

struct row {
	bsp_time t;
	size_t seq;
	double v[N_COLS];
};

struct chunk {
	int col;
	size_t n;
	size_t ts_at; /* the day's times start at data.times[ts_at] */
	const bsp_time *ts;
	double *v;
	uint8_t *enc;
	size_t enc_len;
};

struct data {
	bsp_time *times; /* all days' times, back to back */
	size_t n_times, cap_times;
	struct chunk *chunks;
	size_t n_chunks, cap_chunks;
	size_t samples;
	size_t max_n;
};

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_row(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Parses one data line; returns 0 or -1. */
static int parse_line(char *s, struct row *r)
{
	char *end;
	long long t;

	errno = 0;
	t = strtoll(s, &end, 10);
	if (end == s || errno)
		return -1;
	r->t = (bsp_time)t * BSP_SECOND;
	s = end;
	for (int c = 0; c < N_COLS; c++) {
		while (*s == ';' || *s == ' ' || *s == '\t')
			s++;
		r->v[c] = strtod(s, &end);
		if (end == s)
			return -1;
		s = end;
	}
	return 0;
}

static int read_file(const char *path, struct data *d)
{
	gzFile f = gzopen(path, "rb");
	char line[1024];
	struct row *rows = NULL;
	size_t n = 0, cap = 0, lineno = 0;
	int rc = -1;

	if (!f) {
		fprintf(stderr, "bench_codec: cannot open %s\n", path);
		return -1;
	}
	while (gzgets(f, line, sizeof(line))) {
		struct row r;
		if (lineno++ == 0)
			continue; /* header */
		if (parse_line(line, &r) < 0) {
			fprintf(stderr, "bench_codec: %s:%zu: bad line\n", path,
				lineno);
			goto out;
		}
		r.seq = n;
		if (BSP_GROW(rows, cap, n + 1) < 0)
			goto out;
		rows[n++] = r;
	}
	qsort(rows, n, sizeof(*rows), cmp_row);
	/* the last of equal times wins */
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k && rows[k - 1].t == rows[i].t)
			rows[k - 1] = rows[i];
		else
			rows[k++] = rows[i];
	}
	n = k;
	/* one chunk per column per UTC day */
	for (size_t i = 0; i < n;) {
		bsp_time day = bsp_time_floor(rows[i].t, BSP_DAY);
		size_t j = i, first;
		while (j < n && bsp_time_floor(rows[j].t, BSP_DAY) == day)
			j++;
		if (BSP_GROW(d->times, d->cap_times, d->n_times + (j - i)) < 0)
			goto out;
		first = d->n_times;
		for (size_t x = i; x < j; x++)
			d->times[d->n_times++] = rows[x].t;
		for (int c = 0; c < N_COLS; c++) {
			struct chunk *ch;
			if (BSP_GROW(d->chunks, d->cap_chunks,
				     d->n_chunks + 1) < 0)
				goto out;
			ch = &d->chunks[d->n_chunks++];
			memset(ch, 0, sizeof(*ch));
			ch->col = c;
			ch->n = j - i;
			/* times become a pointer once all are read and
			 * the array no longer moves */
			ch->ts_at = first;
			ch->v = malloc(ch->n * sizeof(double));
			if (!ch->v)
				goto out;
			for (size_t x = i; x < j; x++)
				ch->v[x - i] = rows[x].v[c];
			d->samples += ch->n;
		}
		if (j - i > d->max_n)
			d->max_n = j - i;
		i = j;
	}
	rc = 0;
out:
	free(rows);
	gzclose(f);
	return rc;
}

struct result {
	double enc_s, dec_s;
	size_t bytes, col_bytes[N_COLS], col_samples[N_COLS];
	uint64_t ts_bits, val_bits, fix_bits;
	size_t coding[3], lag[3], int_mode[2], fixed;
};

/* Encodes all chunks REPEAT times (best time), then decodes and checks. */
static int run(struct data *d, int gorilla, int repeat, struct result *res)
{
	bsp_time *ts = malloc(d->max_n * sizeof(*ts));
	double *v = malloc(d->max_n * sizeof(*v));
	int rc = -1;

	memset(res, 0, sizeof(*res));
	res->enc_s = res->dec_s = 1e30;
	if (!ts || !v)
		goto out;
	for (int r = 0; r < repeat; r++) {
		double t0 = now_s();
		for (size_t i = 0; i < d->n_chunks; i++) {
			struct chunk *ch = &d->chunks[i];
			bsp_err e;
			free(ch->enc);
			ch->enc = NULL;
			if (gorilla)
				e = chunk_encode_as(ch->ts, ch->v, ch->n,
						    CHUNK_TS_GORILLA,
						    CHUNK_VAL_XOR, &ch->enc,
						    &ch->enc_len, NULL);
			else
				e = chunk_encode(ch->ts, ch->v, ch->n, &ch->enc,
						 &ch->enc_len);
			if (e != BSP_OK) {
				fprintf(stderr, "bench_codec: encode: %s\n",
					bsp_strerror(e));
				goto out;
			}
		}
		double t1 = now_s() - t0;
		if (t1 < res->enc_s)
			res->enc_s = t1;
	}
	for (int r = 0; r < repeat; r++) {
		double t0 = now_s();
		for (size_t i = 0; i < d->n_chunks; i++) {
			struct chunk *ch = &d->chunks[i];
			size_t got;
			if (chunk_decode(ch->enc, ch->enc_len, ts, v, d->max_n,
					 &got) != BSP_OK ||
			    got != ch->n) {
				fprintf(stderr, "bench_codec: decode failed\n");
				goto out;
			}
		}
		double t1 = now_s() - t0;
		if (t1 < res->dec_s)
			res->dec_s = t1;
	}
	/* check every sample, and gather the sizes and what was chosen */
	for (size_t i = 0; i < d->n_chunks; i++) {
		struct chunk *ch = &d->chunks[i];
		struct chunk_enc_info info;
		uint8_t *again;
		size_t got, len;

		chunk_decode(ch->enc, ch->enc_len, ts, v, d->max_n, &got);
		if (memcmp(ts, ch->ts, ch->n * sizeof(*ts)) ||
		    memcmp(v, ch->v, ch->n * sizeof(*v))) {
			fprintf(stderr, "bench_codec: chunk %zu (%s) differs\n",
				i, col_names[ch->col]);
			goto out;
		}
		res->bytes += ch->enc_len;
		res->col_bytes[ch->col] += ch->enc_len;
		res->col_samples[ch->col] += ch->n;
		if (chunk_encode_as(ch->ts, ch->v, ch->n,
				    gorilla ? CHUNK_TS_GORILLA : CHUNK_TS_AUTO,
				    gorilla ? CHUNK_VAL_XOR : CHUNK_VAL_AUTO,
				    &again, &len, &info) != BSP_OK ||
		    len != ch->enc_len) {
			fprintf(stderr, "bench_codec: encoding differs\n");
			goto out;
		}
		free(again);
		res->ts_bits += info.ts_bits;
		res->val_bits += info.val_bits;
		res->fix_bits += info.fix_bits;
		res->fixed += info.n_fixed;
		res->coding[info.val_coding]++;
		if (info.val_coding == CHUNK_VAL_SCALED)
			res->int_mode[info.int_mode]++;
		res->lag[info.ts_lag]++;
	}
	rc = 0;
out:
	free(ts);
	free(v);
	return rc;
}

int main(int argc, char **argv)
{
	struct data d = {0};
	struct result a, g;
	int repeat = 3, first = 1;
	double ns;

	if (argc > 2 && strcmp(argv[1], "-r") == 0) {
		char *end;
		repeat = (int)strtol(argv[2], &end, 10);
		if (*end || repeat < 1) {
			fprintf(stderr, "bench_codec: bad -r\n");
			return 2;
		}
		first = 3;
	}
	if (first >= argc) {
		fprintf(stderr,
			"usage: bench_codec [-r REPEAT] FILE.csv.gz...\n");
		return 2;
	}
	for (int i = first; i < argc; i++)
		if (read_file(argv[i], &d) < 0)
			return 1;
	for (size_t i = 0; i < d.n_chunks; i++)
		d.chunks[i].ts = d.times + d.chunks[i].ts_at;
	if (run(&d, 0, repeat, &a) < 0 || run(&d, 1, repeat, &g) < 0)
		return 1;

	ns = (double)d.samples;
	printf("files %d, chunks %zu, samples %zu (%.1f per chunk)\n\n",
	       argc - first, d.n_chunks, d.samples, ns / (double)d.n_chunks);
	printf("| column | samples | bespoke B/sample | Gorilla B/sample |\n");
	printf("|---|---:|---:|---:|\n");
	for (int c = 0; c < N_COLS; c++)
		printf("| %s | %zu | %.3f | %.3f |\n", col_names[c],
		       a.col_samples[c],
		       (double)a.col_bytes[c] / (double)a.col_samples[c],
		       (double)g.col_bytes[c] / (double)g.col_samples[c]);
	printf("| **all** | %zu | **%.3f** | **%.3f** |\n", d.samples,
	       (double)a.bytes / ns, (double)g.bytes / ns);
	printf("| store (+%.0f B/row) | | %.3f | %.3f |\n\n", STORE_ROW_BYTES,
	       ((double)a.bytes + STORE_ROW_BYTES * (double)d.n_chunks) / ns,
	       ((double)g.bytes + STORE_ROW_BYTES * (double)d.n_chunks) / ns);
	printf("| | bespoke | Gorilla |\n|---|---:|---:|\n");
	printf("| total bytes | %zu | %zu |\n", a.bytes, g.bytes);
	printf("| encode M samples/s | %.1f | %.1f |\n", ns / a.enc_s / 1e6,
	       ns / g.enc_s / 1e6);
	printf("| decode M samples/s | %.1f | %.1f |\n\n", ns / a.dec_s / 1e6,
	       ns / g.dec_s / 1e6);
	printf("bits/sample: bespoke times %.3f, values %.3f, corrections "
	       "%.3f, header and padding %.3f\n",
	       (double)a.ts_bits / ns, (double)a.val_bits / ns,
	       (double)a.fix_bits / ns,
	       ((double)a.bytes * 8 -
		(double)(a.ts_bits + a.val_bits + a.fix_bits)) /
		   ns);
	printf("             Gorilla times %.3f, values %.3f, header and "
	       "padding %.3f\n",
	       (double)g.ts_bits / ns, (double)g.val_bits / ns,
	       ((double)g.bytes * 8 - (double)(g.ts_bits + g.val_bits)) / ns);
	printf("values coded: scaled %zu (deltas %zu, offsets %zu), xor %zu, "
	       "raw %zu; corrected values %zu (%.2f%%)\n",
	       a.coding[0], a.int_mode[0], a.int_mode[1], a.coding[1],
	       a.coding[2], a.fixed, 100.0 * (double)a.fixed / ns);
	printf("time predictor: base %zu, previous %zu, two back %zu\n",
	       a.lag[0], a.lag[1], a.lag[2]);
	printf("all %zu samples decoded bit for bit (both codings)\n",
	       d.samples);

	for (size_t i = 0; i < d.n_chunks; i++) {
		free(d.chunks[i].v);
		free(d.chunks[i].enc);
	}
	free(d.chunks);
	free(d.times);
	return 0;
}
