/*
 * Remote-write ingest load: requests shaped like a Prometheus sender's
 * (each series with the next sample of every scrape, many series per
 * request, snappy-compressed protobuf) posted to a running daemon from
 * several connections at once; prints samples/s acknowledged. Bodies are
 * built before the clock starts.
 *
 *   bench_remote_write URL TOKEN [--series N] [--per-request N]
 *                      [--seconds S] [--connections C]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <snappy-c.h>

#include "remote.pb-c.h"

struct conf {
	const char *url, *token;
	size_t series, per_request;
	double seconds;
	int connections;
};

struct worker {
	const struct conf *c;
	int id;
	unsigned long long samples, requests, failed;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One request: series [first, first + n) of the fleet, one sample each at
 * time t (ms). */
static char *build(size_t first, size_t n, int64_t t, size_t *len)
{
	Bespoke__Prompb__WriteRequest wr = BESPOKE__PROMPB__WRITE_REQUEST__INIT;
	Bespoke__Prompb__TimeSeries *ts = calloc(n, sizeof(*ts)), **tsp =
		calloc(n, sizeof(*tsp));
	Bespoke__Prompb__Label *lab = calloc(3 * n, sizeof(*lab)),
			       **labp = calloc(3 * n, sizeof(*labp));
	Bespoke__Prompb__Sample *smp = calloc(n, sizeof(*smp)),
				**smpp = calloc(n, sizeof(*smpp));
	char(*names)[32] = calloc(2 * n, 32);
	static const char *const metrics[] = {
		"node_load1",	"node_memory_MemFree_bytes",
		"node_cpu_seconds_total", "node_network_receive_bytes_total",
		"node_disk_read_bytes_total",
	};
	for (size_t i = 0; i < n; i++) {
		size_t s = first + i;
		bespoke__prompb__time_series__init(&ts[i]);
		for (int k = 0; k < 3; k++) {
			bespoke__prompb__label__init(&lab[3 * i + k]);
			labp[3 * i + k] = &lab[3 * i + k];
		}
		snprintf(names[2 * i], 32, "host%zu:9100", s / 20);
		snprintf(names[2 * i + 1], 32, "%zu", s % 4);
		lab[3 * i].name = "__name__";
		lab[3 * i].value = (char *)metrics[(s / 4) % 5];
		lab[3 * i + 1].name = "instance";
		lab[3 * i + 1].value = names[2 * i];
		lab[3 * i + 2].name = "cpu";
		lab[3 * i + 2].value = names[2 * i + 1];
		bespoke__prompb__sample__init(&smp[i]);
		smp[i].value = (double)(s % 97) + (double)(t % 100000) / 1e5;
		smp[i].timestamp = t;
		smpp[i] = &smp[i];
		ts[i].n_labels = 3;
		ts[i].labels = &labp[3 * i];
		ts[i].n_samples = 1;
		ts[i].samples = &smpp[i];
		tsp[i] = &ts[i];
	}
	wr.n_timeseries = n;
	wr.timeseries = tsp;
	size_t raw_len = bespoke__prompb__write_request__get_packed_size(&wr);
	uint8_t *raw = malloc(raw_len);
	bespoke__prompb__write_request__pack(&wr, raw);
	size_t clen = snappy_max_compressed_length(raw_len);
	char *out = malloc(clen);
	snappy_compress((char *)raw, raw_len, out, &clen);
	*len = clen;
	free(raw);
	free(ts);
	free(tsp);
	free(lab);
	free(labp);
	free(smp);
	free(smpp);
	free(names);
	return out;
}

static size_t discard(char *p, size_t s, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return s * n;
}

/* The bodies a connection sends, built before the clock starts so that
 * the client's protobuf and snappy work is not measured: ROUNDS scrapes of
 * its share of the series, then again from the first (the repeated
 * samples cost the daemon the same decoding and merging). */
#define ROUNDS 40

struct prebuilt {
	char **body;
	size_t *len, *samples, n;
};

static void prebuild(const struct conf *c, int id, struct prebuilt *p)
{
	size_t share = c->series / (size_t)c->connections;
	size_t first = share * (size_t)id;
	size_t per_round = (share + c->per_request - 1) / c->per_request;

	p->n = ROUNDS * per_round;
	p->body = calloc(p->n, sizeof(*p->body));
	p->len = calloc(p->n, sizeof(*p->len));
	p->samples = calloc(p->n, sizeof(*p->samples));
	for (size_t r = 0, k = 0; r < ROUNDS; r++)
		for (size_t off = 0; off < share; off += c->per_request, k++) {
			size_t n = share - off < c->per_request ? share - off
								: c->per_request;
			p->body[k] = build(first + off, n,
					   1767225600000 + (int64_t)id +
						   (int64_t)r * 15000,
					   &p->len[k]);
			p->samples[k] = n;
		}
}

struct job {
	struct worker *w;
	struct prebuilt p;
};

static void *run(void *arg)
{
	struct job *j = arg;
	struct worker *w = j->w;
	const struct conf *c = w->c;
	CURL *h = curl_easy_init();
	struct curl_slist *hdr = NULL;
	char auth[256];
	double end = now_s() + c->seconds;

	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
	hdr = curl_slist_append(hdr, auth);
	hdr = curl_slist_append(hdr, "Content-Encoding: snappy");
	hdr = curl_slist_append(hdr, "Content-Type: application/x-protobuf");
	hdr = curl_slist_append(hdr, "X-Prometheus-Remote-Write-Version: 0.1.0");
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	for (size_t k = 0; now_s() < end; k = (k + 1) % j->p.n) {
		long code = 0;
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, j->p.body[k]);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)j->p.len[k]);
		if (curl_easy_perform(h) == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		if (code == 204) {
			w->samples += j->p.samples[k];
			w->requests++;
		} else {
			w->failed++;
		}
	}
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return NULL;
}

int main(int argc, char **argv)
{
	struct conf c = {0};
	pthread_t th[64];
	struct worker w[64];
	unsigned long long samples = 0, requests = 0, failed = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: bench_remote_write URL TOKEN "
				"[--series N] [--per-request N] [--seconds S] "
				"[--connections C]\n");
		return 1;
	}
	c.url = argv[1];
	c.token = argv[2];
	c.series = 10000;
	c.per_request = 2000; /* Prometheus' max_samples_per_send */
	c.seconds = 10;
	c.connections = 4;
	for (int i = 3; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--series"))
			c.series = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--per-request"))
			c.per_request = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--seconds"))
			c.seconds = strtod(argv[i + 1], NULL);
		else if (!strcmp(argv[i], "--connections"))
			c.connections = (int)strtol(argv[i + 1], NULL, 10);
	}
	if (c.connections < 1 || c.connections > 64 || !c.per_request ||
	    c.series < (size_t)c.connections) {
		fprintf(stderr, "bench_remote_write: bad options\n");
		return 1;
	}
	curl_global_init(CURL_GLOBAL_ALL);
	static struct job jobs[64];
	for (int i = 0; i < c.connections; i++) {
		w[i] = (struct worker){&c, i, 0, 0, 0};
		jobs[i].w = &w[i];
		prebuild(&c, i, &jobs[i].p);
	}
	double t0 = now_s();
	for (int i = 0; i < c.connections; i++)
		pthread_create(&th[i], NULL, run, &jobs[i]);
	for (int i = 0; i < c.connections; i++) {
		pthread_join(th[i], NULL);
		samples += w[i].samples;
		requests += w[i].requests;
		failed += w[i].failed;
	}
	double dt = now_s() - t0;
	printf("remote-write: %zu series, %zu samples per request, %d "
	       "connections: %llu samples in %.1f s = %.0f samples/s "
	       "(%llu requests, %llu failed)\n",
	       c.series, c.per_request, c.connections, samples, dt,
	       (double)samples / dt, requests, failed);
	curl_global_cleanup();
	return failed ? 1 : 0;
}
