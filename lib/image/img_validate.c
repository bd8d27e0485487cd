/*
 * Validation before an image is tagged for anyone.
 *
 * Functional checks follow the image-spec: every blob's SHA-256 and size
 * match its descriptor, each layer's uncompressed SHA-256 matches the
 * config's rootfs.diff_ids in order, the manifest and config carry the
 * fields the spec requires, and the cloud-init document passes
 * `cloud-init schema` when that program is installed.
 *
 * Security checks apply to the layers bespoke added (those after the
 * base's, from the io.bespoke.base.layers annotation): no setuid or setgid
 * bit, nothing world-writable outside /tmp and /var/tmp, no private key or
 * access token in any file (PEM "PRIVATE KEY" headers and the fixed
 * prefixes providers give their tokens: AWS AKIA, GitHub ghp_/gho_/ghs_/
 * ghu_/ghr_/github_pat_, GitLab glpat-, Slack xox?-, Google AIza, Stripe
 * sk_live_), only paths under the allowed prefixes, no whiteouts, links
 * or devices that reach elsewhere, and sysctl keys the kernel knows
 * (present under /proc/sys, or on the documented list for keys a
 * container does not expose).
 *
 * Each problem names the check and the file; validation collects them all
 * rather than stopping at the first, so one run shows everything to fix.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image_int.h"

extern char **environ;

/* Where components may write. Everything else in the image belongs to
 * the base or to the package manager. */
static const char *const allowed_prefixes[] = {
	"/etc/", "/usr/local/", "/opt/", "/srv/", "/var/lib/", "/var/cache/",
};

/* Under the allowed prefixes, still not ours to change: accounts,
 * privilege, remote login keys, and the global preload list (which would
 * inject a library into every process, setuid ones included). */
static const char *const denied[] = {
	"/etc/passwd",	     "/etc/shadow",    "/etc/group", "/etc/gshadow",
	"/etc/sudoers",	     "/etc/sudoers.d", "/etc/ssh",   "/etc/ld.so.preload",
	"/etc/pam.d",	     "/var/lib/dpkg",  "/etc/apt/sources.list",
	"/etc/apt/sources.list.d", "/etc/apt/trusted.gpg.d",
};

const char *img_path_problem(const char *path)
{
	size_t len = strlen(path);

	if (path[0] != '/')
		return "is not absolute";
	if (len >= 1024)
		return "is too long";
	for (const unsigned char *p = (const unsigned char *)path; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "holds a control character";
	if (strstr(path, "//") || path[len - 1] == '/')
		return "is not normalised (// or a trailing /)";
	for (const char *s = path; s; s = strchr(s + 1, '/'))
		if (!strncmp(s, "/..", 3) && (s[3] == '/' || !s[3]))
			return "climbs out with '..' (path traversal)";
		else if (!strncmp(s, "/.", 2) && (s[2] == '/' || !s[2]))
			return "holds a '.' component";
	for (size_t i = 0; i < BSP_ARRAY_LEN(denied); i++) {
		size_t n = strlen(denied[i]);
		if (!strncmp(path, denied[i], n) &&
		    (path[n] == '\0' || path[n] == '/'))
			return "is a protected system file";
	}
	for (size_t i = 0; i < BSP_ARRAY_LEN(allowed_prefixes); i++)
		if (!strncmp(path, allowed_prefixes[i], strlen(allowed_prefixes[i])))
			return NULL;
	return "is outside the allowed paths (/etc, /usr/local, /opt, /srv, "
	       "/var/lib, /var/cache)";
}

/* A directory may also be an ancestor of an allowed prefix (/usr, /var). */
static const char *dir_problem(const char *path)
{
	char with_slash[1100];
	size_t n = strlen(path);
	if (n + 2 > sizeof(with_slash))
		return "is too long";
	memcpy(with_slash, path, n);
	memcpy(with_slash + n, "/", 2);
	for (size_t i = 0; i < BSP_ARRAY_LEN(allowed_prefixes); i++)
		if (!strncmp(allowed_prefixes[i], with_slash, strlen(with_slash)))
			return NULL;
	return img_path_problem(path);
}

static int run_of(const unsigned char *p, const unsigned char *end,
		  const char *extra)
{
	int n = 0;
	while (p + n < end && (isalnum(p[n]) || (extra && strchr(extra, p[n]))))
		n++;
	return n;
}

const char *img_secret_find(const void *data, size_t len)
{
	const unsigned char *s = data, *end = s + len;
	static const struct {
		const char *prefix;
		int min_run; /* characters after the prefix */
		const char *extra;
		const char *what;
	} tokens[] = {
		{"AKIA", 16, NULL, "an AWS access key id"},
		{"ghp_", 36, NULL, "a GitHub token"},
		{"gho_", 36, NULL, "a GitHub token"},
		{"ghs_", 36, NULL, "a GitHub token"},
		{"ghu_", 36, NULL, "a GitHub token"},
		{"ghr_", 36, NULL, "a GitHub token"},
		{"github_pat_", 22, "_", "a GitHub token"},
		{"glpat-", 20, "-_", "a GitLab token"},
		{"xoxb-", 10, "-", "a Slack token"},
		{"xoxp-", 10, "-", "a Slack token"},
		{"xoxa-", 10, "-", "a Slack token"},
		{"xoxr-", 10, "-", "a Slack token"},
		{"xoxs-", 10, "-", "a Slack token"},
		{"AIza", 35, "-_", "a Google API key"},
		{"sk_live_", 24, NULL, "a Stripe secret key"},
	};

	for (const unsigned char *p = s; p < end; p++) {
		if (*p == '-' && end - p > 11 && !memcmp(p, "-----BEGIN ", 11)) {
			const unsigned char *q = p + 11;
			while (q < end && *q != '\n' && *q != '-')
				q++;
			const char *hdr = (const char *)p + 11;
			size_t hlen = (size_t)(q - (p + 11));
			if (memmem(hdr, hlen, "PRIVATE KEY", 11))
				return "a private key (PEM)";
		}
		for (size_t i = 0; i < BSP_ARRAY_LEN(tokens); i++) {
			size_t pl = strlen(tokens[i].prefix);
			if ((size_t)(end - p) <= pl || *p != tokens[i].prefix[0] ||
			    memcmp(p, tokens[i].prefix, pl))
				continue;
			/* A token starts a word. */
			if (p > s && (isalnum(p[-1]) || p[-1] == '_'))
				continue;
			if (run_of(p + pl, end, tokens[i].extra) >= tokens[i].min_run)
				return tokens[i].what;
		}
	}
	return NULL;
}

/* Keys a standard Debian 12 kernel has but a container's /proc/sys may
 * hide (network namespaces and read-only mounts). */
static const char *const sysctl_list[] = {
	"fs.file-max", "fs.inotify.max_user_instances",
	"fs.inotify.max_user_watches", "kernel.numa_balancing",
	"kernel.sched_autogroup_enabled", "kernel.shmall", "kernel.shmmax",
	"kernel.shmmni", "net.core.default_qdisc", "net.core.netdev_max_backlog",
	"net.core.rmem_default", "net.core.rmem_max", "net.core.somaxconn",
	"net.core.wmem_default", "net.core.wmem_max",
	"net.ipv4.ip_local_port_range", "net.ipv4.tcp_congestion_control",
	"net.ipv4.tcp_fastopen", "net.ipv4.tcp_keepalive_time",
	"net.ipv4.tcp_rmem", "net.ipv4.tcp_slow_start_after_idle",
	"net.ipv4.tcp_wmem", "vm.dirty_background_ratio",
	"vm.dirty_expire_centisecs", "vm.dirty_ratio",
	"vm.dirty_writeback_centisecs", "vm.hugetlb_shm_group",
	"vm.max_map_count", "vm.min_free_kbytes", "vm.nr_hugepages",
	"vm.nr_overcommit_hugepages", "vm.overcommit_memory",
	"vm.overcommit_ratio", "vm.swappiness", "vm.vfs_cache_pressure",
	"vm.zone_reclaim_mode",
};

int img_sysctl_known(const char *key)
{
	char path[512];
	size_t n = strlen(key);

	if (!n || n > 200 || key[0] == '.' || strstr(key, ".."))
		return 0;
	for (const char *p = key; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return 0;
	for (size_t i = 0; i < BSP_ARRAY_LEN(sysctl_list); i++)
		if (!strcmp(sysctl_list[i], key))
			return 1;
	int k = snprintf(path, sizeof(path), "/proc/sys/");
	for (const char *p = key; *p && (size_t)k < sizeof(path) - 1; p++)
		path[k++] = *p == '.' ? '/' : *p;
	path[k] = '\0';
	return access(path, F_OK) == 0;
}

/* ---- the report ----------------------------------------------------------- */

static void issue(struct bsp_image_report *r, const char *check,
		  const char *file, const char *fmt, ...) BSP_PRINTF(4, 5);

static void issue(struct bsp_image_report *r, const char *check,
		  const char *file, const char *fmt, ...)
{
	struct bsp_image_issue *is;
	va_list ap;

	if (r->n >= 1000) /* enough to act on */
		return;
	is = realloc(r->issues, (r->n + 1) * sizeof(*is));
	if (!is)
		return;
	r->issues = is;
	is = &is[r->n];
	is->check = strdup(check);
	is->file = strdup(file);
	va_start(ap, fmt);
	if (vasprintf(&is->detail, fmt, ap) < 0)
		is->detail = NULL;
	va_end(ap);
	if (is->check && is->file && is->detail) {
		r->n++;
		return;
	}
	free(is->check);
	free(is->file);
	free(is->detail);
}

void bsp_image_report_free(struct bsp_image_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->issues[i].check);
		free(r->issues[i].file);
		free(r->issues[i].detail);
	}
	free(r->issues);
	memset(r, 0, sizeof(*r));
}

/* ---- the security rules on one layer ------------------------------------ */

struct walk {
	struct bsp_image_report *r;
	const char *layer;
};

static void check_sysctl_file(struct walk *w, const char *path,
			      const struct img_tar_member *m)
{
	const char *s = (const char *)m->data, *end = s + m->len;
	unsigned line = 0;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		char key[256];
		line++;
		while (s < e && isspace((unsigned char)*s))
			s++;
		if (s < e && *s != '#' && *s != ';') {
			const char *eq = memchr(s, '=', (size_t)(e - s));
			const char *k = s, *ke = eq ? eq : e;
			if (*k == '-')
				k++; /* "-key = v": ignore errors */
			while (ke > k && isspace((unsigned char)ke[-1]))
				ke--;
			snprintf(key, sizeof(key), "%.*s", (int)(ke - k), k);
			for (char *c = key; *c; c++)
				if (*c == '/')
					*c = '.';
			if (!eq || !img_sysctl_known(key))
				issue(w->r, "sysctl", path,
				      "line %u: %s '%s' is not a known kernel "
				      "setting",
				      line, eq ? "key" : "no '=' after", key);
		}
		s = nl ? nl + 1 : end;
	}
}

static int check_member(const struct img_tar_member *m, void *ud)
{
	struct walk *w = ud;
	char path[1100];
	const char *p = m->path;
	size_t len;

	w->r->checked_files++;
	while (!strncmp(p, "./", 2))
		p += 2;
	while (*p == '/')
		p++;
	len = strlen(p);
	snprintf(path, sizeof(path), "/%.*s", (int)(len && p[len - 1] == '/' ? len - 1 : len), p);
	if (!*p || !strcmp(p, "."))
		return 0;
	const char *base = strrchr(path, '/') + 1;
	if (!strncmp(base, ".wh.", 4)) {
		issue(w->r, "path", path, "a whiteout: the personalization may "
					  "add files, not delete the base's");
		return 0;
	}
	const char *why = m->type == '5' ? dir_problem(path) : img_path_problem(path);
	if (why)
		issue(w->r, "path", path, "%s", why);
	if (m->mode & 04000)
		issue(w->r, "setuid", path, "mode %04o sets the setuid bit",
		      m->mode & 07777);
	if (m->mode & 02000)
		issue(w->r, "setgid", path, "mode %04o sets the setgid bit",
		      m->mode & 07777);
	if (m->type != '2' && (m->mode & 0002) && strncmp(path, "/tmp/", 5) &&
	    strncmp(path, "/var/tmp/", 9))
		issue(w->r, "world-writable", path,
		      "mode %04o lets anyone write it", m->mode & 07777);
	switch (m->type) {
	case '0':
	case '7':
	case '5':
		break;
	case '2':
		if (!m->link || (m->link[0] == '/' ? img_path_problem(m->link) != NULL
						    : strstr(m->link, "..") != NULL))
			issue(w->r, "path", path,
			      "symbolic link to '%s' leaves the allowed paths",
			      m->link ? m->link : "");
		break;
	default:
		issue(w->r, "path", path,
		      "entry type '%c' (hard link, device or fifo) is not "
		      "allowed",
		      m->type);
	}
	if (m->type == '0' || m->type == '7') {
		const char *sec = img_secret_find(m->data, m->len);
		if (sec)
			issue(w->r, "secret", path, "holds %s", sec);
		size_t pl = strlen(path);
		if (!strncmp(path, "/etc/sysctl.d/", 14) && pl > 5 &&
		    !strcmp(path + pl - 5, ".conf"))
			check_sysctl_file(w, path, m);
	}
	return 0;
}

/* ---- cloud-init ----------------------------------------------------------- */

/* Runs `PROG schema --config-file PATH`; 1 ran and passed, 0 ran and
 * failed (first line of output in msg), -1 could not run. */
static int run_cloud_init(const char *prog, const char *path, char *msg,
			  size_t size)
{
	int fds[2];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	char *argv[] = {(char *)prog, "schema", "--config-file", (char *)path,
			NULL};
	char out[4096];
	size_t got = 0;
	int status = 0;

	if (pipe2(fds, O_CLOEXEC))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	int rc = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (rc) {
		close(fds[0]);
		return -1;
	}
	for (;;) {
		char chunk[1024];
		ssize_t r = read(fds[0], chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		size_t take = (size_t)r < sizeof(out) - 1 - got ? (size_t)r
								: sizeof(out) - 1 - got;
		memcpy(out + got, chunk, take);
		got += take;
	}
	out[got] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 1;
	/* The most telling line: the first that names an error. */
	char *line = strstr(out, "Error");
	if (!line)
		line = out;
	char *nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	snprintf(msg, size, "%.400s", *line ? line : "schema check failed");
	return 0;
}

/* ---- the image -------------------------------------------------------------- */

static const char *jstr(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A descriptor's digest and size, or an issue. */
static int desc_ok(struct bsp_image_report *r, json_t *d, const char *what,
		   const char **digest, int64_t *size)
{
	*digest = jstr(d, "digest");
	json_t *s = json_object_get(d, "size");
	if (!json_is_object(d) || !*digest || !json_is_integer(s) ||
	    !jstr(d, "mediaType")) {
		issue(r, "manifest", what,
		      "descriptor lacks mediaType, digest or size");
		return -1;
	}
	*size = (int64_t)json_integer_value(s);
	return 0;
}

/* Reads a blob; a mismatch becomes a digest or size issue. */
static int blob(struct bsp_image_report *r, const char *dir,
		const char *digest, int64_t size, size_t limit,
		struct img_buf *out)
{
	struct bsp_error e = {0};
	r->checked_blobs++;
	if (img_blob_get(dir, digest, size, limit, out, &e) == 0)
		return 0;
	issue(r, strstr(e.msg, "bytes, the descriptor") ? "size" : "digest",
	      digest, "%s", e.msg);
	return -1;
}

static json_t *json_blob(struct bsp_image_report *r, const char *dir,
			 const char *digest, int64_t size, const char *check)
{
	struct img_buf b = {0};
	json_error_t je;
	json_t *j = NULL;

	if (blob(r, dir, digest, size, IMG_JSON_MAX, &b) == 0) {
		j = json_loadb((const char *)b.p, b.len, 0, &je);
		if (!j || !json_is_object(j)) {
			issue(r, check, digest, "not a JSON object: %s", je.text);
			json_decref(j);
			j = NULL;
		}
	}
	img_buf_release(&b);
	return j;
}

/* Checks one layer: digest, size, diff_id (when `deep`), and the security
 * rules when it is one of ours. */
static void check_layer(struct bsp_image_report *r, const char *dir,
			json_t *d, json_t *diff_id, int ours, int deep)
{
	const char *digest, *mt;
	int64_t size;
	struct img_buf gz = {0}, tar = {0};
	struct bsp_error e = {0};

	if (desc_ok(r, d, "layer", &digest, &size))
		return;
	mt = jstr(d, "mediaType");
	int gzip = !strcmp(mt, IMG_MT_LAYER_GZ) ||
		   !strcmp(mt, "application/vnd.docker.image.rootfs.diff.tar.gzip");
	int plain = !strcmp(mt, IMG_MT_LAYER);
	if (!deep && !ours) {
		/* The base's layers were checked when it was built or
		 * imported: existence and size suffice here. */
		char path[4200];
		FILE *f;
		r->checked_blobs++;
		if (img_blob_path(dir, digest, path, sizeof(path)) ||
		    !(f = fopen(path, "rb"))) {
			issue(r, "digest", digest, "layer blob is missing");
			return;
		}
		fseek(f, 0, SEEK_END);
		if (ftell(f) != (long)size)
			issue(r, "size", digest, "layer blob is %ld bytes, the "
						 "descriptor says %lld",
			      ftell(f), (long long)size);
		fclose(f);
		return;
	}
	if (blob(r, dir, digest, size, IMG_LAYER_MAX, &gz))
		goto out;
	if (!gzip && !plain) {
		if (ours)
			issue(r, "manifest", digest,
			      "layer media type %s cannot be inspected", mt);
		goto out;
	}
	if (gzip && img_gunzip(gz.p, gz.len, IMG_LAYER_MAX, &tar, &e)) {
		issue(r, "diff_id", digest, "%s", e.msg);
		goto out;
	}
	const struct img_buf *raw = gzip ? &tar : &gz;
	char got[72];
	img_sha256(raw->p, raw->len, got);
	if (!json_is_string(diff_id) || strcmp(got, json_string_value(diff_id)))
		issue(r, "diff_id", digest,
		      "uncompressed content hashes to %s, the config says %s",
		      got, json_is_string(diff_id) ? json_string_value(diff_id)
						   : "nothing");
	if (ours) {
		struct walk w = {r, digest};
		if (img_tar_each(raw->p, raw->len, check_member, &w, &e))
			issue(r, "path", digest, "%s", e.msg);
	}
out:
	img_buf_release(&gz);
	img_buf_release(&tar);
}

/* The whole check of the manifest `desc` points at; `deep` = decompress
 * the base's layers too. */
void img_validate_desc(const char *dir, json_t *desc, const char *user_data,
		       const char *cloud_init, int deep,
		       struct bsp_image_report *r)
{
	json_t *man = NULL, *cfg = NULL;
	const char *digest;
	int64_t size;

	if (desc_ok(r, desc, "index.json", &digest, &size))
		goto out;
	if (strcmp(jstr(desc, "mediaType"), IMG_MT_MANIFEST))
		issue(r, "manifest", "index.json", "the tag points at %s, not an "
						   "image manifest",
		      jstr(desc, "mediaType"));
	man = json_blob(r, dir, digest, size, "manifest");
	if (!man)
		goto out;
	json_t *sv = json_object_get(man, "schemaVersion");
	if (!json_is_integer(sv) || json_integer_value(sv) != 2)
		issue(r, "manifest", digest, "schemaVersion must be 2");
	if (jstr(man, "mediaType") && strcmp(jstr(man, "mediaType"), IMG_MT_MANIFEST))
		issue(r, "manifest", digest, "mediaType %s", jstr(man, "mediaType"));
	json_t *layers = json_object_get(man, "layers");
	json_t *cdesc = json_object_get(man, "config");
	if (!json_is_array(layers) || !json_is_object(cdesc)) {
		issue(r, "manifest", digest, "config and layers are required");
		goto out;
	}
	if (desc_ok(r, cdesc, "config", &digest, &size))
		goto out;
	if (strcmp(jstr(cdesc, "mediaType"), IMG_MT_CONFIG))
		issue(r, "config", digest, "media type %s, expected %s",
		      jstr(cdesc, "mediaType"), IMG_MT_CONFIG);
	cfg = json_blob(r, dir, digest, size, "config");
	if (!cfg)
		goto out;
	json_t *rootfs = json_object_get(cfg, "rootfs");
	json_t *diffs = json_object_get(rootfs, "diff_ids");
	if (!jstr(cfg, "architecture") || !jstr(cfg, "os"))
		issue(r, "config", digest, "architecture and os are required");
	if (!jstr(rootfs, "type") || strcmp(jstr(rootfs, "type"), "layers") ||
	    !json_is_array(diffs)) {
		issue(r, "config", digest, "rootfs must be {type: layers, "
					   "diff_ids: [...]}");
		goto out;
	}
	if (json_array_size(diffs) != json_array_size(layers)) {
		issue(r, "config", digest, "%zu diff_ids for %zu layers",
		      json_array_size(diffs), json_array_size(layers));
		goto out;
	}
	/* Which layers are ours: after the base's. */
	size_t first_ours = 0;
	const char *bl = jstr(json_object_get(man, "annotations"),
			      IMG_ANN_BASE_LAYERS);
	if (bl) {
		char *end;
		unsigned long v = strtoul(bl, &end, 10);
		if (*end || v > json_array_size(layers))
			issue(r, "manifest", digest, "%s: bad value '%s'",
			      IMG_ANN_BASE_LAYERS, bl);
		else
			first_ours = v;
	}
	for (size_t i = 0; i < json_array_size(layers); i++)
		check_layer(r, dir, json_array_get(layers, i),
			    json_array_get(diffs, i), i >= first_ours, deep);
	if (user_data && (!cloud_init || *cloud_init)) {
		char msg[512];
		int ok = run_cloud_init(cloud_init ? cloud_init : "cloud-init",
					user_data, msg, sizeof(msg));
		r->cloud_init_checked = ok >= 0;
		if (ok == 0)
			issue(r, "cloud-init", user_data, "%s", msg);
	}
out:
	json_decref(man);
	json_decref(cfg);
}

bsp_err bsp_image_validate(const struct bsp_oci_ref *ref, const char *user_data,
			   const char *cloud_init, struct bsp_image_report *r,
			   struct bsp_error *err)
{
	json_t *desc;

	memset(r, 0, sizeof(*r));
	desc = img_index_find(ref->dir, ref->tag, err);
	if (!desc)
		return err ? err->code : BSP_ENOTFOUND;
	img_validate_desc(ref->dir, desc, user_data, cloud_init, 1, r);
	json_decref(desc);
	return BSP_OK;
}

