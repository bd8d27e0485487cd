/*
 * The table of ingest formats and detection by score.
 *
 * Each format gives a detect function that scores 0..100 how sure it is,
 * from the first 64 KiB of the file (decompressed) and its path. Scores are
 * conventionally: 100 for an unmistakable header or marker, 60..90 for data
 * lines that match the format's shape, below INGEST_DETECT_MIN for "could
 * be, but nothing says so". The highest score wins; a tie at the top is
 * refused rather than guessed, since then only the user knows.
 *
 * To add a format: write fmt_NAME.c with fmt_NAME_detect and
 * fmt_NAME_parse (declare them in ingest_int.h), add one line below, and
 * describe it in docs/ingest.md. Order matters only for listings.
 */
#include "ingest_int.h"

const struct ingest_format ingest_formats[] = {
	{"csv", "long CSV: entity,metric,timestamp,value[,unit] (header "
		"optional)",
	 fmt_csv_detect, fmt_csv_parse},
	{"bitbrains", "Bitbrains GWA-T-12 VM trace (one VM per file, "
		      "';'+tab separated)",
	 fmt_bitbrains_detect, fmt_bitbrains_parse},
	{"planetlab", "PlanetLab CoMon CPU trace (DAY/VM files of 288 "
		      "5-minute percentages)",
	 fmt_planetlab_detect, fmt_planetlab_parse},
	{"azure-vmtable", "Azure Public Dataset V1 vmtable (VM attributes)",
	 fmt_azure_vmtable_detect, fmt_azure_vmtable_parse},
	{"azure-cpu", "Azure Public Dataset V1 CPU readings "
		      "(timestamp,vm_id,min,max,avg)",
	 fmt_azure_cpu_detect, fmt_azure_cpu_parse},
	{"alibaba", "Alibaba cluster-trace-v2018 machine_usage",
	 fmt_alibaba_detect, fmt_alibaba_parse},
	{"prometheus", "Prometheus text exposition 0.0.4 / OpenMetrics "
		       "(a /metrics scrape)",
	 fmt_prometheus_detect, fmt_prometheus_parse},
	{"events", "event CSV: entity,timestamp,kind,name (header optional)",
	 fmt_events_detect, fmt_events_parse},
	{"history", "command history: one command per line, one user per "
		    "file",
	 fmt_history_detect, fmt_history_parse},
};

const size_t ingest_n_formats = BSP_ARRAY_LEN(ingest_formats);

const struct ingest_format *ingest_format_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < ingest_n_formats; i++)
		if (!strcmp(ingest_formats[i].name, name))
			return &ingest_formats[i];
	return NULL;
}

const struct ingest_format *ingest_format_detect(const char *head, size_t len,
						 const char *path, int *best)
{
	const struct ingest_format *win = NULL;
	int top = 0, tie = 0;

	for (size_t i = 0; i < ingest_n_formats; i++) {
		int s = ingest_formats[i].detect(head, len, path ? path : "");
		if (s > top) {
			top = s;
			win = &ingest_formats[i];
			tie = 0;
		} else if (s == top && s > 0) {
			tie = 1;
		}
	}
	if (best)
		*best = top;
	if (top < INGEST_DETECT_MIN || tie)
		return NULL;
	return win;
}

const char *bsp_ingest_format_name(size_t i)
{
	return i < ingest_n_formats ? ingest_formats[i].name : NULL;
}

const char *bsp_ingest_format_help(size_t i)
{
	return i < ingest_n_formats ? ingest_formats[i].help : NULL;
}
