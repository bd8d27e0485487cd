/*
 * bespoke: pushing an image from an OCI image layout to a registry.
 *
 * The image is named by its tag in the layout's index.json
 * (org.opencontainers.image.ref.name); its manifest, config and layers are
 * read from blobs/, each checked against its digest and size before
 * anything is sent. The push speaks the OCI distribution API (the Docker
 * registry v2 protocol) with libcurl: a blob the registry already has
 * (HEAD) is not sent again, the others go up as monolithic uploads (POST,
 * then PUT with the digest), and the manifest is put last under the tag,
 * so a registry never shows a tag whose blobs it lacks. Registries that
 * answer 401 with a Bearer challenge get a token from the realm they name
 * (with the user and password, when given); Basic challenges get the
 * user and password.
 *
 * Destinations: http://HOST[:PORT]/NAME[:TAG] or https://... (TAG defaults
 * to the source tag).
 */
#ifndef BESPOKE_OCI_H
#define BESPOKE_OCI_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct bsp_push_options {
	const char *user, *password; /* NULL: none */
	int insecure;                /* https without verifying the peer */
	void (*progress)(void *ud, const char *what, const char *digest,
			 uint64_t bytes);
	void *ud;
};

struct bsp_push_report {
	size_t blobs_sent, blobs_present;
	uint64_t bytes_sent;
	char manifest_digest[80]; /* "sha256:..." */
	char reference[700];      /* where it went, NAME:TAG at the registry */
};

BSP_EXTERN bsp_err bsp_oci_push(const char *layout, const char *tag,
				const char *dest,
				const struct bsp_push_options *opt,
				struct bsp_push_report *report,
				struct bsp_error *err);

#endif
