/*
 * bespoke serve: the HTTP API daemon. Options, the tokens file, and the
 * refusal to listen beyond loopback without authentication; the daemon
 * itself is serve_http.c and serve_routes.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_alloc.h"
#include "serve.h"

static const char usage_text[] =
	"usage: bespoke serve [options]\n\n"
	"Runs the HTTP API (docs/api.md, OpenAPI at /openapi.json) until\n"
	"SIGINT or SIGTERM.\n\n"
	"  --listen ADDR:PORT  numeric address and port (127.0.0.1:8080;\n"
	"                      port 0 picks a free one; [::1]:8080 for IPv6)\n"
	"  --port-file FILE    write the bound port there once listening\n"
	"  --tokens FILE       bearer tokens: \"TOKEN ROLE [ENTITY,...]\" per\n"
	"                      line, ROLE admin, user or agent; required\n"
	"                      unless listening on loopback\n"
	"  --cert FILE --key FILE  serve HTTPS with this PEM certificate\n"
	"  --max-body N        request body limit in bytes (16777216)\n"
	"  --threads N         server threads (the number of cores)\n"
	"  --catalog FILE      persona catalog (default: the shipped one)\n"
	"  --instances FILE    instance catalog (default: the shipped one)\n"
	"  --policy FILE       tiers and policies (the shipped policy.yaml)\n"
	"  --tier NAME         the tier the loop recommends for (medium)\n"
	"  --components FILE   component catalog for image builds (shipped)\n"
	"  --images DIR        OCI layout that builds go into and bases are\n"
	"                      found in by tag (STORE-images)\n"
	"  --no-cloud-init     do not check build user-data with cloud-init\n"
	"  --loop DUR          the learn loop's period (1h; 0 = off): feedback,\n"
	"                      refit on drift or age, new profiles\n"
	"  --retrain-age DUR   refit models older than this (24h)\n"
	"  --webhook URL       POST the loop's scale events (a new recommended\n"
	"                      shape) there as JSON\n"
	"  --webhook-token-file FILE  bearer token for the webhook\n"
	"  --flush DUR         remote-write samples reach the store this\n"
	"                      often (1s)\n";

#define TOKEN_MIN 16

void serve_tokens_free(struct serve_token *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].token);
		for (size_t k = 0; k < t[i].n_entities; k++)
			free(t[i].entities[k]);
		free(t[i].entities);
	}
	free(t);
}

static int token_line(const char *path, size_t line, char *text,
		      struct serve_token *t, struct bsp_error *err)
{
	char *save = NULL, *tok = strtok_r(text, " \t", &save);
	char *role = strtok_r(NULL, " \t", &save);
	char *ents = strtok_r(NULL, " \t", &save);

	if (strtok_r(NULL, " \t", &save))
		return bsp_error_set(err, BSP_EINVAL,
				     "%s:%zu: expected TOKEN ROLE [ENTITY,...]",
				     path, line);
	if (!role)
		return bsp_error_set(err, BSP_EINVAL, "%s:%zu: no role", path,
				     line);
	if (strlen(tok) < TOKEN_MIN)
		return bsp_error_set(err, BSP_EINVAL,
				     "%s:%zu: token shorter than %d characters",
				     path, line, TOKEN_MIN);
	for (const char *p = tok; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			return bsp_error_set(err, BSP_EINVAL,
					     "%s:%zu: token holds a byte that "
					     "cannot travel in a header",
					     path, line);
	if (!strcmp(role, "admin"))
		t->role = SERVE_ROLE_ADMIN;
	else if (!strcmp(role, "user"))
		t->role = SERVE_ROLE_USER;
	else if (!strcmp(role, "agent"))
		t->role = SERVE_ROLE_AGENT;
	else
		return bsp_error_set(err, BSP_EINVAL,
				     "%s:%zu: role '%s' (admin, user or agent)",
				     path, line, role);
	if (t->role == SERVE_ROLE_USER && !ents)
		return bsp_error_set(err, BSP_EINVAL,
				     "%s:%zu: a user token names its entities",
				     path, line);
	if (t->role != SERVE_ROLE_USER && ents)
		return bsp_error_set(err, BSP_EINVAL,
				     "%s:%zu: only user tokens name entities",
				     path, line);
	if (!(t->token = strdup(tok)))
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	for (char *p = ents; p && *p;) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = '\0';
		if (*p) {
			char **e = realloc(t->entities, (t->n_entities + 1) *
								sizeof(*e));
			if (!e || !(e[t->n_entities] = strdup(p))) {
				if (e)
					t->entities = e;
				return bsp_error_set(err, BSP_ENOMEM,
						     "out of memory");
			}
			t->entities = e;
			t->n_entities++;
		}
		p = comma ? comma + 1 : NULL;
	}
	return BSP_OK;
}

bsp_err serve_tokens_load(const char *path, struct serve_token **out,
			  size_t *n, struct bsp_error *err)
{
	FILE *f = fopen(path, "r");
	struct serve_token *t = NULL;
	char *line = NULL;
	size_t cap = 0, count = 0, lineno = 0;
	ssize_t len;
	bsp_err r = BSP_OK;

	*out = NULL;
	*n = 0;
	if (!f)
		return bsp_error_set(err, BSP_EINVAL, "%s: %s", path,
				     strerror(errno));
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		char *p = line + strspn(line, " \t");
		if (!*p || *p == '#')
			continue;
		struct serve_token *g = realloc(t, (count + 1) * sizeof(*g));
		if (!g) {
			r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
			break;
		}
		t = g;
		memset(&t[count], 0, sizeof(t[count]));
		count++;
		if ((r = token_line(path, lineno, p, &t[count - 1], err)))
			break;
		for (size_t i = 0; i + 1 < count; i++)
			if (!strcmp(t[i].token, t[count - 1].token)) {
				r = bsp_error_set(err, BSP_EINVAL,
						  "%s:%zu: the same token as "
						  "an earlier line",
						  path, lineno);
				break;
			}
		if (r)
			break;
	}
	free(line);
	fclose(f);
	if (r == BSP_OK && !count)
		r = bsp_error_set(err, BSP_EINVAL, "%s: no tokens", path);
	if (r != BSP_OK) {
		serve_tokens_free(t, count);
		return r;
	}
	*out = t;
	*n = count;
	return BSP_OK;
}

/* "127.0.0.1:8080", "[::1]:8080" -> host (in buf) and port. */
static int parse_listen(const char *arg, char *host, size_t size,
			unsigned *port)
{
	const char *colon;
	char *end;
	size_t hl;

	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');
		if (!close || close[1] != ':')
			return -1;
		hl = (size_t)(close - arg - 1);
		arg++;
		colon = close + 1;
	} else {
		if (!(colon = strrchr(arg, ':')))
			return -1;
		hl = (size_t)(colon - arg);
	}
	if (!hl || hl >= size)
		return -1;
	memcpy(host, arg, hl);
	host[hl] = '\0';
	errno = 0;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || p > 65535)
		return -1;
	*port = (unsigned)p;
	return 0;
}

static int is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"listen", required_argument, NULL, 'l'},
		{"port-file", required_argument, NULL, 'p'},
		{"tokens", required_argument, NULL, 't'},
		{"cert", required_argument, NULL, 'C'},
		{"key", required_argument, NULL, 'K'},
		{"max-body", required_argument, NULL, 'm'},
		{"threads", required_argument, NULL, 'T'},
		{"catalog", required_argument, NULL, 'c'},
		{"instances", required_argument, NULL, 'I'},
		{"components", required_argument, NULL, 'P'},
		{"policy", required_argument, NULL, 'Y'},
		{"tier", required_argument, NULL, 'E'},
		{"images", required_argument, NULL, 'i'},
		{"no-cloud-init", no_argument, NULL, 'N'},
		{"loop", required_argument, NULL, 'L'},
		{"retrain-age", required_argument, NULL, 'R'},
		{"flush", required_argument, NULL, 'F'},
		{"webhook", required_argument, NULL, 'W'},
		{"webhook-token-file", required_argument, NULL, 'X'},
		{NULL, 0, NULL, 0},
	};
	static struct serve srv; /* large counters: not on the stack */
	struct bsp_persona_catalog *cat = NULL;
	struct cli_alloc alloc = {0};
	struct bsp_component_catalog *comp = NULL;
	char images_buf[PATH_MAX];
	struct bsp_error err = {0};
	const char *listen = "127.0.0.1:8080", *tokens = NULL, *catalog = NULL,
		   *instances = NULL, *components = NULL, *policy = NULL,
		   *tier = NULL;
	char host[256], path[PATH_MAX + 64];
	long long v;
	int c, rc;

	memset(&srv, 0, sizeof(srv));
	srv.cfg.max_body = 16u << 20;
	srv.cfg.loop_every = BSP_HOUR;
	srv.cfg.retrain_age = BSP_DAY;
	srv.cfg.flush_every = BSP_SECOND;
	srv.cfg.check_cloud_init = 1;
	srv.cfg.max_pending = 256u << 20;
	long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	srv.cfg.threads = nproc > 0 ? (unsigned)nproc : 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (cli_common_opt(cli, c, optarg))
			continue;
		switch (c) {
		case 'h':
			cli_usage(stdout, usage_text);
			return EXIT_OK;
		case 'l':
			listen = optarg;
			break;
		case 'p':
			srv.cfg.port_file = optarg;
			break;
		case 't':
			tokens = optarg;
			break;
		case 'C':
			srv.cfg.cert = optarg;
			break;
		case 'K':
			srv.cfg.key = optarg;
			break;
		case 'm':
			if ((rc = cli_size("max-body", optarg, 1024,
					   1LL << 32, &v)))
				return rc;
			srv.cfg.max_body = (size_t)v;
			break;
		case 'T':
			if ((rc = cli_size("threads", optarg, 1, 256, &v)))
				return rc;
			srv.cfg.threads = (unsigned)v;
			break;
		case 'c':
			catalog = optarg;
			break;
		case 'I':
			instances = optarg;
			break;
		case 'P':
			components = optarg;
			break;
		case 'Y':
			policy = optarg;
			break;
		case 'E':
			tier = optarg;
			break;
		case 'i':
			srv.cfg.images = optarg;
			break;
		case 'N':
			srv.cfg.check_cloud_init = 0;
			break;
		case 'L':
			if (!strcmp(optarg, "0"))
				srv.cfg.loop_every = 0;
			else if ((rc = cli_duration("loop", optarg,
						    &srv.cfg.loop_every)))
				return rc;
			break;
		case 'W':
			if (strncmp(optarg, "http://", 7) &&
			    strncmp(optarg, "https://", 8))
				return cli_fail(BSP_EINVAL, "--webhook: '%s' is "
						"not an http(s) URL",
						optarg);
			srv.cfg.webhook = optarg;
			break;
		case 'X': {
			char *tok;
			if ((rc = cli_secret_file("webhook-token-file", optarg,
						  &tok)))
				return rc;
			snprintf(srv.cfg.webhook_auth,
				 sizeof(srv.cfg.webhook_auth),
				 "Authorization: Bearer %s", tok);
			cli_secret_free(tok);
			break;
		}
		case 'F':
			if ((rc = cli_duration("flush", optarg,
					       &srv.cfg.flush_every)))
				return rc;
			if (srv.cfg.flush_every < 10 ||
			    srv.cfg.flush_every > BSP_HOUR)
				return cli_fail(BSP_EINVAL,
						"--flush: from 10ms to 1h");
			break;
		case 'R':
			if ((rc = cli_duration("retrain-age", optarg,
					       &srv.cfg.retrain_age)))
				return rc;
			break;
		default:
			return EXIT_USER;
		}
	}
	if (optind < argc)
		return cli_fail(BSP_EINVAL, "serve: unexpected argument '%s'",
				argv[optind]);
	if (parse_listen(listen, host, sizeof(host), &srv.cfg.port))
		return cli_fail(BSP_EINVAL,
				"--listen: '%s' is not ADDR:PORT (e.g. "
				"127.0.0.1:8080, [::1]:8080)",
				listen);
	if (!!srv.cfg.cert != !!srv.cfg.key)
		return cli_fail(BSP_EINVAL, "--cert and --key go together");
	if (!tokens && !is_loopback(host))
		return cli_fail(BSP_EINVAL,
				"--listen %s is not loopback: give --tokens "
				"FILE so that requests are authenticated",
				host);
	srv.cfg.listen_host = host;
	srv.cfg.db = cli->db;
	if (tokens && serve_tokens_load(tokens, &srv.cfg.tokens,
					&srv.cfg.n_tokens, &err) != BSP_OK)
		return cli_fail_err(&err);
	if (!cli_data_file(catalog, "personas.yaml", path, sizeof(path))) {
		if (bsp_persona_catalog_load(path, &cat, &err) != BSP_OK) {
			serve_tokens_free(srv.cfg.tokens, srv.cfg.n_tokens);
			return cli_fail_err(&err);
		}
		srv.cfg.personas = cat;
	}
	/* The instance catalog and policy: override types are checked
	 * against it, and the loop recommends a shape with them. */
	cli_alloc_init(&alloc);
	alloc.catalog = instances;
	alloc.policy = policy;
	if (tier)
		alloc.tier_name = tier;
	if (cli_alloc_load(&alloc) != EXIT_OK) {
		serve_tokens_free(srv.cfg.tokens, srv.cfg.n_tokens);
		bsp_persona_catalog_free(cat);
		cli_alloc_release(&alloc);
		return EXIT_USER;
	}
	srv.cfg.instances = alloc.cat;
	srv.cfg.policy = alloc.pol;
	srv.cfg.tier = alloc.tier;
	/* The component catalog and the image layout for builds. */
	if (!cli_data_file(components, "components.yaml", path, sizeof(path))) {
		if (bsp_component_catalog_load(path, &comp, &err) != BSP_OK) {
			serve_tokens_free(srv.cfg.tokens, srv.cfg.n_tokens);
			bsp_persona_catalog_free(cat);
			cli_alloc_release(&alloc);
			return cli_fail_err(&err);
		}
		srv.cfg.components = comp;
	}
	if (!srv.cfg.images) {
		snprintf(images_buf, sizeof(images_buf), "%s-images", cli->db);
		srv.cfg.images = images_buf;
	}
	/* Create the store (and its schema) before any request races to. */
	struct bsp_store *st;
	if ((rc = cli_open(cli, BSP_OPEN_CREATE, &st)) == EXIT_OK) {
		bsp_store_close(st);
		if (serve_run(&srv, &err) != BSP_OK)
			rc = cli_fail_err(&err);
	}
	serve_tokens_free(srv.cfg.tokens, srv.cfg.n_tokens);
	bsp_persona_catalog_free(cat);
	cli_alloc_release(&alloc);
	bsp_component_catalog_free(comp);
	return rc;
}
