/*
 * cloud-init user-data carrying the same personalization as the image
 * layer, for VMs deployed from a stock cloud image: `packages` (installed
 * by cloud-init's package module), `write_files` with every file of the
 * plan (symbolic links excepted: cloud-init cannot write them, and the
 * unit they enable is run from runcmd instead), and `runcmd` to reload
 * systemd, apply the sysctl files and run the first-boot script (services,
 * data sets, firewall).
 *
 * YAML is written with libyaml's emitter, so quoting and multi-line
 * content are always well-formed; the document starts with the
 * `#cloud-config` line cloud-init requires.
 */
#include <stdio.h>

#include <yaml.h>

#include "image_int.h"

static int out_handler(void *ud, unsigned char *buf, size_t size)
{
	return img_buf_add(ud, buf, size) == 0;
}

struct em {
	yaml_emitter_t e;
	int failed;
};

static void emit(struct em *m, yaml_event_t *ev)
{
	if (m->failed || !yaml_emitter_emit(&m->e, ev))
		m->failed = 1;
}

static void scalar_style(struct em *m, const char *s, yaml_scalar_style_t st)
{
	yaml_event_t ev;
	if (m->failed)
		return;
	if (!yaml_scalar_event_initialize(&ev, NULL, NULL,
					  (yaml_char_t *)s, (int)strlen(s), 1,
					  1, st)) {
		m->failed = 1;
		return;
	}
	emit(m, &ev);
}

static void scalar(struct em *m, const char *s)
{
	scalar_style(m, s, YAML_ANY_SCALAR_STYLE);
}

static void map_start(struct em *m, int flow)
{
	yaml_event_t ev;
	if (m->failed || !yaml_mapping_start_event_initialize(
				 &ev, NULL, NULL, 1,
				 flow ? YAML_FLOW_MAPPING_STYLE
				      : YAML_BLOCK_MAPPING_STYLE)) {
		m->failed = 1;
		return;
	}
	emit(m, &ev);
}

static void map_end(struct em *m)
{
	yaml_event_t ev;
	if (m->failed || !yaml_mapping_end_event_initialize(&ev)) {
		m->failed = 1;
		return;
	}
	emit(m, &ev);
}

static void seq_start(struct em *m, int flow)
{
	yaml_event_t ev;
	if (m->failed || !yaml_sequence_start_event_initialize(
				 &ev, NULL, NULL, 1,
				 flow ? YAML_FLOW_SEQUENCE_STYLE
				      : YAML_BLOCK_SEQUENCE_STYLE)) {
		m->failed = 1;
		return;
	}
	emit(m, &ev);
}

static void seq_end(struct em *m)
{
	yaml_event_t ev;
	if (m->failed || !yaml_sequence_end_event_initialize(&ev)) {
		m->failed = 1;
		return;
	}
	emit(m, &ev);
}

static void command(struct em *m, const char *const *argv)
{
	seq_start(m, 1);
	for (; *argv; argv++)
		scalar(m, *argv);
	seq_end(m);
}

/* The document as text. */
static int user_data_text(const struct bsp_image_plan *pl, struct img_buf *out)
{
	struct em m = {0};
	yaml_event_t ev;

	if (img_buf_printf(out, "#cloud-config\n"))
		return -1;
	if (!yaml_emitter_initialize(&m.e))
		return -1;
	yaml_emitter_set_output(&m.e, out_handler, out);
	yaml_emitter_set_unicode(&m.e, 1);
	yaml_emitter_set_width(&m.e, 1000);
	if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING))
		m.failed = 1;
	else
		emit(&m, &ev);
	if (!m.failed && yaml_document_start_event_initialize(&ev, NULL, NULL,
							      NULL, 1))
		emit(&m, &ev);
	map_start(&m, 0);
	if (pl->n_packages) {
		scalar(&m, "package_update");
		scalar_style(&m, "true", YAML_PLAIN_SCALAR_STYLE);
		scalar(&m, "packages");
		seq_start(&m, 0);
		for (size_t i = 0; i < pl->n_packages; i++)
			scalar(&m, pl->packages[i]);
		seq_end(&m);
	}
	scalar(&m, "write_files");
	seq_start(&m, 0);
	for (size_t i = 0; i < pl->n_files; i++) {
		const struct bsp_plan_file *f = &pl->files[i];
		char mode[8];
		if (f->link)
			continue;
		snprintf(mode, sizeof(mode), "%04o", f->mode);
		map_start(&m, 0);
		scalar(&m, "path");
		scalar(&m, f->path);
		scalar(&m, "content");
		scalar_style(&m, f->content,
			     strchr(f->content, '\n') ? YAML_LITERAL_SCALAR_STYLE
						      : YAML_DOUBLE_QUOTED_SCALAR_STYLE);
		scalar(&m, "permissions");
		scalar_style(&m, mode, YAML_SINGLE_QUOTED_SCALAR_STYLE);
		scalar(&m, "owner");
		scalar(&m, "root:root");
		map_end(&m);
	}
	seq_end(&m);
	scalar(&m, "runcmd");
	seq_start(&m, 0);
	static const char *const reload[] = {"systemctl", "daemon-reload", NULL};
	static const char *const sysctl[] = {"sysctl", "--system", NULL};
	static const char *const first[] = {"/usr/local/sbin/bespoke-firstboot",
					    NULL};
	command(&m, reload);
	command(&m, sysctl);
	for (size_t i = 0; i < pl->n_files; i++)
		if (!strcmp(pl->files[i].path, first[0]))
			command(&m, first);
	seq_end(&m);
	map_end(&m);
	if (!m.failed && yaml_document_end_event_initialize(&ev, 1))
		emit(&m, &ev);
	if (!m.failed && yaml_stream_end_event_initialize(&ev))
		emit(&m, &ev);
	if (!m.failed && !yaml_emitter_flush(&m.e))
		m.failed = 1;
	yaml_emitter_delete(&m.e);
	return m.failed ? -1 : 0;
}

bsp_err bsp_image_user_data(const struct bsp_image_plan *pl, const char *path,
			    struct bsp_error *err)
{
	struct img_buf b = {0};
	bsp_err rc = BSP_OK;

	if (user_data_text(pl, &b))
		rc = bsp_error_set(err, BSP_EINTERNAL,
				   "%s: could not write the cloud-config", path);
	else if (img_write_atomic(path, b.p, b.len, err))
		rc = err ? err->code : BSP_EIO;
	img_buf_release(&b);
	return rc;
}
