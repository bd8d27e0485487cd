/*
 * Command histories: one command per line, one user per file, oldest
 * first, as in the Schonlau masquerade data (User1 ... User50) or a shell
 * history with its timestamps stripped.
 *
 * Entity = the file name (or --entity); each non-blank line becomes an
 * event of kind "command" with no time (BSP_TIME_NONE) and seq = its
 * 0-based position among the file's commands, which is all the sequence
 * models need. The line, trimmed of surrounding blanks, is the name.
 *
 * Detection is deliberately narrow: every line must be one short token
 * (no blanks, commas, semicolons, quotes or braces) and not a number, so
 * CSV, metrics and matrices such as Schonlau's label.txt ("0 0 1 ...") are
 * not taken for histories.
 */
#include "ingest_int.h"

#define HIST_MAX_NAME 4096
/* Longest token detection accepts as a command name. */
#define HIST_TOKEN_MAX 64

static int hist_line_ok(const char *line, size_t n)
{
	while (n && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	while (n && (*line == ' ' || *line == '\t')) {
		line++;
		n--;
	}
	if (n > HIST_TOKEN_MAX || ingest_is_number(line, n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];
		if (c <= ' ' || c == 0x7f || c == ',' || c == ';' ||
		    c == '"' || c == '{' || c == '}' || c == '=')
			return 0;
	}
	return 1;
}

int fmt_history_detect(const char *head, size_t len, const char *path)
{
	BSP_UNUSED(path);
	return ingest_detect_lines(head, len, hist_line_ok, 60);
}

bsp_err fmt_history_parse(struct ingest_file *f)
{
	const char *entity = f->opt && f->opt->entity ? f->opt->entity
						       : f->base;
	char *name = malloc(HIST_MAX_NAME);
	const char *line;
	size_t len;
	int64_t seq = 0;

	if (!name)
		return ingest_fail(f, BSP_ENOMEM, "out of memory");
	while ((line = ingest_next_line(f, &len))) {
		while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
			len--;
		while (len && (*line == ' ' || *line == '\t')) {
			line++;
			len--;
		}
		if (len >= HIST_MAX_NAME) {
			if (ingest_bad(f, "command longer than %d bytes",
				       HIST_MAX_NAME - 1))
				break;
			continue;
		}
		memcpy(name, line, len);
		name[len] = '\0';
		if (bsp_batch_event(f->batch, entity, BSP_TIME_NONE, seq++,
				    "command", name) < 0) {
			free(name);
			return ingest_fail(f, BSP_ENOMEM, "out of memory");
		}
	}
	free(name);
	return f->aborted ? BSP_EINVAL : BSP_OK;
}
