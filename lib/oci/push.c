/*
 * Push from an OCI image layout to a registry (include/bespoke/oci.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "bespoke/oci.h"
#include "internal.h"

#define PUSH_MAX_BLOB ((uint64_t)64 << 30)
#define PUSH_MAX_MANIFEST (4u << 20)

struct dest {
	char base[1024]; /* scheme://host[:port] */
	char name[512];
	char tag[129];
};

struct blob {
	char digest[80];
	char media[256];
	int64_t size;
};

/* ---- the layout ---------------------------------------------------------- */

static bsp_err read_all(const char *path, size_t max, char **out, size_t *len,
			struct bsp_error *err)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	char *buf;

	if (!f)
		return bsp_error_set(err, BSP_EINVAL, "%s: %s", path,
				     strerror(errno));
	if (fstat(fileno(f), &sb) || (uint64_t)sb.st_size > max) {
		fclose(f);
		return bsp_error_set(err, BSP_ELIMIT, "%s: larger than %zu bytes",
				     path, max);
	}
	if (!(buf = malloc((size_t)sb.st_size + 1))) {
		fclose(f);
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	}
	*len = fread(buf, 1, (size_t)sb.st_size, f);
	fclose(f);
	buf[*len] = '\0';
	*out = buf;
	return BSP_OK;
}

static int valid_digest(const char *d)
{
	if (strncmp(d, "sha256:", 7) || strlen(d) != 7 + 64)
		return 0;
	for (const char *p = d + 7; *p; p++)
		if (!isxdigit((unsigned char)*p) || isupper((unsigned char)*p))
			return 0;
	return 1;
}

static void blob_path(const char *layout, const char *digest, char *buf,
		      size_t size)
{
	snprintf(buf, size, "%s/blobs/sha256/%s", layout, digest + 7);
}

/* SHA-256 of a file, and its size; checked against what the manifest
 * says before the blob is trusted. */
static bsp_err check_blob(const char *layout, const struct blob *b,
			  struct bsp_error *err)
{
	char path[4200], hex[65];
	unsigned char buf[65536], md[32];
	unsigned int mdlen = 0;
	int64_t total = 0;
	size_t n;
	FILE *f;
	EVP_MD_CTX *ctx;

	blob_path(layout, b->digest, path, sizeof(path));
	if (!(f = fopen(path, "rb")))
		return bsp_error_set(err, BSP_EINVAL, "%s: %s", path,
				     strerror(errno));
	if (!(ctx = EVP_MD_CTX_new()) ||
	    !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		fclose(f);
		EVP_MD_CTX_free(ctx);
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		EVP_DigestUpdate(ctx, buf, n);
		total += (int64_t)n;
	}
	fclose(f);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	if (strcmp(hex, b->digest + 7))
		return bsp_error_set(err, BSP_ECORRUPT,
				     "%s: content does not match its digest "
				     "%s",
				     path, b->digest);
	if (b->size >= 0 && total != b->size)
		return bsp_error_set(err, BSP_ECORRUPT,
				     "%s: %lld bytes, the manifest says %lld",
				     path, (long long)total,
				     (long long)b->size);
	return BSP_OK;
}

static bsp_err blob_of(json_t *desc, const char *where, struct blob *b,
		       struct bsp_error *err)
{
	const char *d = json_string_value(json_object_get(desc, "digest"));
	const char *m = json_string_value(json_object_get(desc, "mediaType"));
	json_t *sz = json_object_get(desc, "size");

	if (!d || !valid_digest(d))
		return bsp_error_set(err, BSP_EINVAL,
				     "%s: a descriptor without a sha256 digest",
				     where);
	if (!json_is_integer(sz) || json_integer_value(sz) < 0 ||
	    (uint64_t)json_integer_value(sz) > PUSH_MAX_BLOB)
		return bsp_error_set(err, BSP_EINVAL, "%s: %s: bad size", where,
				     d);
	snprintf(b->digest, sizeof(b->digest), "%s", d);
	snprintf(b->media, sizeof(b->media), "%s",
		 m ? m : "application/octet-stream");
	b->size = json_integer_value(sz);
	return BSP_OK;
}

/* ---- the destination ------------------------------------------------------ */

static bsp_err parse_dest(const char *s, const char *default_tag,
			  struct dest *d, struct bsp_error *err)
{
	const char *host, *slash, *colon;
	size_t sl;

	if (!strncmp(s, "http://", 7))
		host = s + 7;
	else if (!strncmp(s, "https://", 8))
		host = s + 8;
	else
		return bsp_error_set(err, BSP_EINVAL,
				     "destination '%s': expected "
				     "http[s]://HOST[:PORT]/NAME[:TAG]",
				     s);
	if (!(slash = strchr(host, '/')) || slash == host || !slash[1])
		return bsp_error_set(err, BSP_EINVAL,
				     "destination '%s': no repository name", s);
	snprintf(d->base, sizeof(d->base), "%.*s", (int)(slash - s), s);
	colon = strrchr(slash, ':');
	sl = colon ? (size_t)(colon - slash - 1) : strlen(slash + 1);
	if (!sl || sl >= sizeof(d->name))
		return bsp_error_set(err, BSP_EINVAL,
				     "destination '%s': bad repository name", s);
	snprintf(d->name, sizeof(d->name), "%.*s", (int)sl, slash + 1);
	/* Repository names: lowercase path components (distribution spec). */
	for (const char *p = d->name; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) ||
		      strchr("._-/", *p)))
			return bsp_error_set(err, BSP_EINVAL,
					     "destination '%s': repository "
					     "names are lowercase letters, "
					     "digits and ._-/",
					     s);
	snprintf(d->tag, sizeof(d->tag), "%s", colon ? colon + 1 : default_tag);
	if (!*d->tag || strlen(d->tag) > 128)
		return bsp_error_set(err, BSP_EINVAL, "destination '%s': bad tag",
				     s);
	for (const char *p = d->tag; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("._-", *p)))
			return bsp_error_set(err, BSP_EINVAL,
					     "destination '%s': bad tag", s);
	return BSP_OK;
}

/* ---- HTTP ------------------------------------------------------------------ */

struct http {
	CURL *h;
	const struct bsp_push_options *opt;
	/* "Authorization: ..." once known. Registry tokens run to a few KB
	 * (a JWT carrying its certificate chain), and so do some registries'
	 * passwords (ECR's are about 3 KB). */
	char auth[16384];
	char challenge[1024];
	char location[2048];
	long code;
	/* The answer, whole up to this size (a token's JSON); messages
	 * quote its start. */
	char body[32768];
	size_t body_len;
	int body_cut; /* more came than `body` holds */
};

static size_t on_header(char *p, size_t s, size_t n, void *ud)
{
	struct http *h = ud;
	size_t len = s * n;

	if (len > 18 && !strncasecmp(p, "WWW-Authenticate:", 17)) {
		size_t k = len - 17;
		snprintf(h->challenge, sizeof(h->challenge), "%.*s", (int)k,
			 p + 17);
		h->challenge[strcspn(h->challenge, "\r\n")] = '\0';
	} else if (len > 10 && !strncasecmp(p, "Location:", 9)) {
		const char *v = p + 9;
		while (*v == ' ')
			v++;
		snprintf(h->location, sizeof(h->location), "%.*s",
			 (int)(len - (size_t)(v - p)), v);
		h->location[strcspn(h->location, "\r\n")] = '\0';
	}
	return len;
}

static size_t on_body(char *p, size_t s, size_t n, void *ud)
{
	struct http *h = ud;
	size_t len = s * n, room = sizeof(h->body) - 1 - h->body_len;
	size_t k = len < room ? len : room;

	memcpy(h->body + h->body_len, p, k);
	h->body_len += k;
	h->body[h->body_len] = '\0';
	if (k < len)
		h->body_cut = 1;
	return len;
}

struct upload {
	FILE *f;
	const char *mem;
	size_t len, off;
};

static size_t on_read(char *p, size_t s, size_t n, void *ud)
{
	struct upload *u = ud;
	if (u->f)
		return fread(p, 1, s * n, u->f);
	size_t k = u->len - u->off < s * n ? u->len - u->off : s * n;
	memcpy(p, u->mem + u->off, k);
	u->off += k;
	return k;
}

/* One request; the body from `up` when not NULL. */
static bsp_err request(struct http *h, const char *method, const char *url,
		       const char *content_type, struct upload *up,
		       int64_t up_len, struct bsp_error *err)
{
	struct curl_slist *hdr = NULL;
	char ct[300];
	CURLcode rc;

	h->code = 0;
	h->challenge[0] = h->location[0] = h->body[0] = '\0';
	h->body_len = 0;
	h->body_cut = 0;
	curl_easy_reset(h->h);
	curl_easy_setopt(h->h, CURLOPT_URL, url);
	curl_easy_setopt(h->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h->h, CURLOPT_HEADERDATA, h);
	curl_easy_setopt(h->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h->h, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->h, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(h->h, CURLOPT_USERAGENT, "bespoke");
	if (h->opt && h->opt->insecure) {
		curl_easy_setopt(h->h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h->h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->auth[0])
		hdr = curl_slist_append(hdr, h->auth);
	if (content_type) {
		snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
		hdr = curl_slist_append(hdr, ct);
	}
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(h->h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "PUT")) {
		curl_easy_setopt(h->h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h->h, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(h->h, CURLOPT_READDATA, up);
		curl_easy_setopt(h->h, CURLOPT_INFILESIZE_LARGE,
				 (curl_off_t)up_len);
		hdr = curl_slist_append(hdr, "Expect:");
	} else if (!strcmp(method, "POST")) {
		curl_easy_setopt(h->h, CURLOPT_POST, 1L);
		curl_easy_setopt(h->h, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(h->h, CURLOPT_POSTFIELDS, "");
	}
	curl_easy_setopt(h->h, CURLOPT_HTTPHEADER, hdr);
	rc = curl_easy_perform(h->h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h->h, CURLINFO_RESPONSE_CODE, &h->code);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK)
		return bsp_error_set(err, BSP_EIO, "%s %s: %s", method, url,
				     curl_easy_strerror(rc));
	return BSP_OK;
}

/* key="value" out of a challenge's parameters. */
static int challenge_param(const char *c, const char *key, char *out,
			   size_t size)
{
	size_t kl = strlen(key);
	for (const char *p = c; (p = strstr(p, key)); p += kl) {
		if ((p == c || p[-1] == ' ' || p[-1] == ',') && p[kl] == '=' &&
		    p[kl + 1] == '"') {
			const char *v = p + kl + 2, *e = strchr(v, '"');
			if (!e)
				return -1;
			snprintf(out, size, "%.*s", (int)(e - v), v);
			return 0;
		}
	}
	return -1;
}

/* "Authorization: Basic base64(user:password)" into h->auth. */
static bsp_err set_basic(struct http *h, const char *user,
			 const char *password, struct bsp_error *err)
{
	size_t n = strlen(user) + 1 + strlen(password);
	char *cred = malloc(n + 1);

	/* base64 makes 4 of every 3 bytes, and the header's name comes
	 * first */
	if (!cred)
		return bsp_error_set(err, BSP_ENOMEM, "out of memory");
	if (4 * ((n + 2) / 3) + 32 > sizeof(h->auth)) {
		free(cred);
		return bsp_error_set(err, BSP_EINVAL,
				     "the user and password are too long "
				     "(%zu bytes)",
				     n);
	}
	snprintf(cred, n + 1, "%s:%s", user, password);
	memcpy(h->auth, "Authorization: Basic ", 21);
	EVP_EncodeBlock((unsigned char *)h->auth + 21,
			(const unsigned char *)cred, (int)n);
	explicit_bzero(cred, n);
	free(cred);
	return BSP_OK;
}

/* After a 401: credentials for the challenge it came with. */
static bsp_err authenticate(struct http *h, struct bsp_error *err)
{
	const char *c = h->challenge;
	const struct bsp_push_options *o = h->opt;

	while (*c == ' ')
		c++;
	if (!strncasecmp(c, "Basic", 5)) {
		if (!o || !o->user)
			return bsp_error_set(err, BSP_EINVAL,
					     "the registry wants a user and "
					     "password (--user)");
		return set_basic(h, o->user, o->password ? o->password : "",
				 err);
	}
	if (strncasecmp(c, "Bearer", 6))
		return bsp_error_set(err, BSP_EINVAL,
				     "the registry asks for '%s', which is not "
				     "Basic or Bearer",
				     c);
	char realm[512], service[256] = "", scope[512] = "", url[1600];
	if (challenge_param(c, "realm", realm, sizeof(realm)))
		return bsp_error_set(err, BSP_EINVAL,
				     "a Bearer challenge without a realm");
	challenge_param(c, "service", service, sizeof(service));
	challenge_param(c, "scope", scope, sizeof(scope));
	char *es = curl_easy_escape(h->h, service, 0);
	char *ec = curl_easy_escape(h->h, scope, 0);
	snprintf(url, sizeof(url), "%s%sservice=%s&scope=%s", realm,
		 strchr(realm, '?') ? "&" : "?", es ? es : "", ec ? ec : "");
	curl_free(es);
	curl_free(ec);
	/* The token request itself may need the user's credentials. */
	h->auth[0] = '\0';
	if (o && o->user) {
		bsp_err r =
		    set_basic(h, o->user, o->password ? o->password : "", err);
		if (r != BSP_OK)
			return r;
	}
	bsp_err r = request(h, "GET", url, NULL, NULL, 0, err);
	if (r != BSP_OK)
		return r;
	if (h->code == 401 || h->code == 403)
		return bsp_error_set(err, BSP_EINVAL,
				     "token from %s: the server refused the "
				     "credentials (HTTP %ld)",
				     realm, h->code);
	if (h->code != 200)
		return bsp_error_set(err, BSP_EINVAL,
				     "token from %s: HTTP %ld", realm, h->code);
	if (h->body_cut)
		return bsp_error_set(err, BSP_EINVAL,
				     "token from %s: an answer over %zu bytes",
				     realm, sizeof(h->body) - 1);
	json_t *j = json_loads(h->body, 0, NULL);
	const char *tok = json_string_value(json_object_get(j, "token"));
	if (!tok)
		tok = json_string_value(json_object_get(j, "access_token"));
	if (!tok || strlen(tok) > sizeof(h->auth) - 40) {
		bsp_err e =
		    tok ? bsp_error_set(err, BSP_EINVAL,
					"token from %s: a token over %zu bytes",
					realm, sizeof(h->auth) - 40)
			: bsp_error_set(err, BSP_EINVAL,
					"token from %s: no token in the answer",
					realm);
		json_decref(j);
		return e;
	}
	snprintf(h->auth, sizeof(h->auth), "Authorization: Bearer %s", tok);
	json_decref(j);
	return BSP_OK;
}

/* A request, authenticated once on 401. */
static bsp_err call(struct http *h, const char *method, const char *url,
		    const char *type, struct upload *up, int64_t len,
		    struct bsp_error *err)
{
	bsp_err r = request(h, method, url, type, up, len, err);
	if (r != BSP_OK || h->code != 401)
		return r;
	if ((r = authenticate(h, err)) != BSP_OK)
		return r;
	if (up) {
		if (up->f)
			rewind(up->f);
		up->off = 0;
	}
	r = request(h, method, url, type, up, len, err);
	if (r == BSP_OK && h->code == 401)
		return bsp_error_set(err, BSP_EINVAL,
				     "%s %s: the registry refused the "
				     "credentials",
				     method, url);
	return r;
}

static bsp_err push_blob(struct http *h, const char *layout,
			 const struct dest *d, const struct blob *b,
			 struct bsp_push_report *rep, struct bsp_error *err)
{
	char url[4400], path[4200];
	struct upload up = {0};
	bsp_err r;

	snprintf(url, sizeof(url), "%s/v2/%s/blobs/%s", d->base, d->name,
		 b->digest);
	if ((r = call(h, "HEAD", url, NULL, NULL, 0, err)) != BSP_OK)
		return r;
	if (h->code == 200) {
		rep->blobs_present++;
		return BSP_OK;
	}
	snprintf(url, sizeof(url), "%s/v2/%s/blobs/uploads/", d->base,
		 d->name);
	if ((r = call(h, "POST", url, NULL, NULL, 0, err)) != BSP_OK)
		return r;
	if (h->code != 202 || !h->location[0])
		return bsp_error_set(err, BSP_EIO,
				     "starting the upload of %s: HTTP %ld %s",
				     b->digest, h->code, h->body);
	/* Location may be relative, and may already carry a query. */
	if (h->location[0] == '/')
		snprintf(url, sizeof(url), "%s%s%sdigest=%s", d->base,
			 h->location, strchr(h->location, '?') ? "&" : "?",
			 b->digest);
	else
		snprintf(url, sizeof(url), "%s%sdigest=%s", h->location,
			 strchr(h->location, '?') ? "&" : "?", b->digest);
	blob_path(layout, b->digest, path, sizeof(path));
	if (!(up.f = fopen(path, "rb")))
		return bsp_error_set(err, BSP_EIO, "%s: %s", path,
				     strerror(errno));
	r = call(h, "PUT", url, "application/octet-stream", &up, b->size, err);
	fclose(up.f);
	if (r != BSP_OK)
		return r;
	if (h->code != 201)
		return bsp_error_set(err, BSP_EIO, "uploading %s: HTTP %ld %s",
				     b->digest, h->code, h->body);
	rep->blobs_sent++;
	rep->bytes_sent += (uint64_t)b->size;
	if (h->opt && h->opt->progress)
		h->opt->progress(h->opt->ud, "blob", b->digest,
				 (uint64_t)b->size);
	return BSP_OK;
}

bsp_err bsp_oci_push(const char *layout, const char *tag, const char *dest,
		     const struct bsp_push_options *opt,
		     struct bsp_push_report *rep, struct bsp_error *err)
{
	struct dest d;
	struct http *h = NULL; /* tens of KB: not on a thread's stack */
	struct blob mblob = {{0}, {0}, -1}, cfg, *layers = NULL;
	char path[4200], *index = NULL, *manifest = NULL, url[3000];
	size_t len, mlen, n_layers = 0;
	json_t *ij = NULL, *mj = NULL;
	bsp_err r;

	memset(rep, 0, sizeof(*rep));
	if ((r = parse_dest(dest, tag, &d, err)) != BSP_OK)
		return r;
	snprintf(path, sizeof(path), "%s/index.json", layout);
	if ((r = read_all(path, PUSH_MAX_MANIFEST, &index, &len, err)))
		return r;
	json_error_t je;
	if (!(ij = json_loads(index, 0, &je))) {
		r = bsp_error_set(err, BSP_EINVAL, "%s:%d: %s", path, je.line,
				  je.text);
		goto out;
	}
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(ij, "manifests"), i, m)
	{
		const char *ref = json_string_value(json_object_get(
			json_object_get(m, "annotations"),
			"org.opencontainers.image.ref.name"));
		if (ref && !strcmp(ref, tag)) {
			if ((r = blob_of(m, path, &mblob, err)))
				goto out;
			break;
		}
	}
	if (!mblob.digest[0]) {
		r = bsp_error_set(err, BSP_ENOTFOUND, "%s: no image tagged '%s'",
				  layout, tag);
		goto out;
	}
	if (strcmp(mblob.media, "application/vnd.oci.image.manifest.v1+json")) {
		r = bsp_error_set(err, BSP_EINVAL,
				  "%s:%s is a %s; only image manifests are "
				  "pushed",
				  layout, tag, mblob.media);
		goto out;
	}
	if ((r = check_blob(layout, &mblob, err)))
		goto out;
	blob_path(layout, mblob.digest, path, sizeof(path));
	if ((r = read_all(path, PUSH_MAX_MANIFEST, &manifest, &mlen, err)))
		goto out;
	if (!(mj = json_loadb(manifest, mlen, 0, &je))) {
		r = bsp_error_set(err, BSP_EINVAL, "%s:%d: %s", path, je.line,
				  je.text);
		goto out;
	}
	if ((r = blob_of(json_object_get(mj, "config"), path, &cfg, err)))
		goto out;
	json_t *ls = json_object_get(mj, "layers");
	n_layers = json_array_size(ls);
	if (!(layers = calloc(n_layers + 1, sizeof(*layers)))) {
		r = bsp_error_set(err, BSP_ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n_layers; i++)
		if ((r = blob_of(json_array_get(ls, i), path, &layers[i], err)))
			goto out;
	/* Everything is checked before anything is sent. */
	if ((r = check_blob(layout, &cfg, err)))
		goto out;
	for (i = 0; i < n_layers; i++)
		if ((r = check_blob(layout, &layers[i], err)))
			goto out;
	if (!(h = calloc(1, sizeof(*h))) || !(h->h = curl_easy_init())) {
		r = bsp_error_set(err, BSP_ENOMEM, "cannot start libcurl");
		goto out;
	}
	h->opt = opt;
	for (i = 0; i < n_layers; i++)
		if ((r = push_blob(h, layout, &d, &layers[i], rep, err)))
			goto out;
	if ((r = push_blob(h, layout, &d, &cfg, rep, err)))
		goto out;
	/* The manifest last, exactly as stored, so its digest holds. */
	snprintf(url, sizeof(url), "%s/v2/%s/manifests/%s", d.base, d.name,
		 d.tag);
	struct upload up = {NULL, manifest, mlen, 0};
	if ((r = call(h, "PUT", url, mblob.media, &up, (int64_t)mlen, err)))
		goto out;
	if (h->code != 201) {
		r = bsp_error_set(err, BSP_EIO, "putting the manifest: HTTP %ld "
				  "%s",
				  h->code, h->body);
		goto out;
	}
	snprintf(rep->manifest_digest, sizeof(rep->manifest_digest), "%s",
		 mblob.digest);
	snprintf(rep->reference, sizeof(rep->reference), "%s:%s", d.name,
		 d.tag);
out:
	if (h && h->h)
		curl_easy_cleanup(h->h);
	if (h)
		explicit_bzero(h->auth, sizeof(h->auth));
	free(h);
	free(layers);
	json_decref(mj);
	json_decref(ij);
	free(manifest);
	free(index);
	return r;
}
