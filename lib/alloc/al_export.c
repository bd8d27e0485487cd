/*
 * Exports of a recommendation to what users deploy with:
 *
 *   libvirt   a domain XML (vcpu, memory, blkiotune weight, the disk's
 *             iotune IOPS and bytes per second from the storage option,
 *             the interface's inbound/outbound average bandwidth in KiB/s
 *             as libvirt's <bandwidth> wants it) that passes
 *             `virsh define --validate` against libvirt's schema;
 *   k8s       a Pod whose container carries requests (the predicted need
 *             at the tier's quantile, as the Vertical Pod Autoscaler sets
 *             requests to its target) and limits (the chosen shape);
 *   instance  the cloud instance type name.
 *
 * Names are reduced to what both accept (an RFC 1123 label: lower-case
 * letters, digits and '-'), since entity names come from trace files.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "alloc_int.h"

/* A bounded text buffer; `over` is set when it would overflow. */
struct al_buf {
	char *p;
	size_t len, cap;
	int over;
};

static void al_put(struct al_buf *b, const char *fmt, ...) BSP_PRINTF(2, 3);
static void al_put(struct al_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->over)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->cap - b->len)
		b->over = 1;
	else
		b->len += (size_t)n;
}

static void al_label(const char *in, char *out, size_t size)
{
	size_t k = 0;
	for (; *in && k + 1 < size && k < 63; in++) {
		char c = *in;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		if (c == '-' && (k == 0 || out[k - 1] == '-'))
			continue;
		out[k++] = c;
	}
	while (k && out[k - 1] == '-')
		k--;
	if (!k)
		out[k++] = 'x';
	out[k] = '\0';
}

bsp_err bsp_alloc_format_parse(const char *s, enum bsp_alloc_format *out)
{
	static const struct {
		const char *name;
		enum bsp_alloc_format f;
	} tab[] = {
	    {"libvirt", BSP_ALLOC_LIBVIRT},
	    {"k8s", BSP_ALLOC_K8S},
	    {"kubernetes", BSP_ALLOC_K8S},
	    {"instance", BSP_ALLOC_INSTANCE},
	};
	for (size_t i = 0; i < BSP_ARRAY_LEN(tab); i++)
		if (!strcmp(s, tab[i].name)) {
			*out = tab[i].f;
			return BSP_OK;
		}
	return BSP_EINVAL;
}

static void al_libvirt(struct al_buf *b, const char *name,
		       const struct bsp_alloc_catalog *cat,
		       const struct bsp_alloc_rec *rec)
{
	const struct bsp_alloc_choice *c = &rec->choice;
	/* A catalog type gets its vCPUs; a burstable one's baseline is a
	 * CFS quota below them. */
	double ncpu =
	    c->type >= 0 ? cat->types[c->type].vcpu : c->have[BSP_RES_CPU];
	unsigned vcpu = (unsigned)ceil(ncpu - 1e-9);
	unsigned long long kib =
	    (unsigned long long)ceil(c->have[BSP_RES_MEM] * 1048576);
	/* Gbit/s → KiB/s, libvirt's bandwidth unit. */
	unsigned long long bw =
	    (unsigned long long)floor(c->have[BSP_RES_NET] * 1e9 / 8 / 1024);
	/* Storage kind → cgroup I/O weight (100..1000): faster storage is
	 * given the larger share of a shared host's disk time. */
	static const unsigned weight[] = {300, 500, 800};

	if (vcpu < 1)
		vcpu = 1;
	al_put(b, "<domain type='kvm'>\n");
	al_put(b, "  <name>%s</name>\n", name);
	al_put(b, "  <description>bespoke: %s, $%.4f/h</description>\n",
	       c->name, c->price_hour);
	al_put(b, "  <memory unit='KiB'>%llu</memory>\n", kib);
	al_put(b, "  <currentMemory unit='KiB'>%llu</currentMemory>\n", kib);
	al_put(b, "  <vcpu placement='static'>%u</vcpu>\n", vcpu);
	if (c->have[BSP_RES_CPU] < vcpu - 1e-9)
		/* A fractional custom size: a CFS quota for the share. */
		al_put(
		    b,
		    "  <cputune>\n    <period>100000</period>\n"
		    "    <quota>%lld</quota>\n  </cputune>\n",
		    (long long)llround(c->have[BSP_RES_CPU] / vcpu * 100000));
	if (c->storage >= 0)
		al_put(b,
		       "  <blkiotune>\n    <weight>%u</weight>\n"
		       "  </blkiotune>\n",
		       weight[cat->storage[c->storage].kind]);
	al_put(b, "  <os>\n    <type arch='x86_64'>hvm</type>\n  </os>\n");
	al_put(b, "  <devices>\n");
	if (c->storage >= 0) {
		const struct bsp_alloc_storage *s = &cat->storage[c->storage];
		al_put(
		    b,
		    "    <disk type='file' device='disk'>\n"
		    "      <driver name='qemu' type='qcow2'/>\n"
		    "      <source file='/var/lib/libvirt/images/%s.qcow2'/>\n"
		    "      <target dev='vda' bus='virtio'/>\n"
		    "      <iotune>\n"
		    "        <total_bytes_sec>%llu</total_bytes_sec>\n"
		    "        <total_iops_sec>%llu</total_iops_sec>\n"
		    "      </iotune>\n"
		    "    </disk>\n",
		    name, (unsigned long long)llround(s->mbps * 1e6),
		    (unsigned long long)llround(s->iops));
	}
	al_put(b, "    <interface type='network'>\n"
		  "      <source network='default'/>\n"
		  "      <model type='virtio'/>\n");
	if (bw > 0)
		al_put(b,
		       "      <bandwidth>\n"
		       "        <inbound average='%llu'/>\n"
		       "        <outbound average='%llu'/>\n"
		       "      </bandwidth>\n",
		       bw, bw);
	al_put(b, "    </interface>\n  </devices>\n</domain>\n");
}

static void al_k8s(struct al_buf *b, const char *name,
		   const struct bsp_alloc_rec *rec)
{
	const struct bsp_alloc_choice *c = &rec->choice;
	double cpu_req =
	    isfinite(rec->need[BSP_RES_CPU]) && rec->need[BSP_RES_CPU] > 0
		? rec->need[BSP_RES_CPU]
		: c->have[BSP_RES_CPU];
	double mem_req =
	    isfinite(rec->need[BSP_RES_MEM]) && rec->need[BSP_RES_MEM] > 0
		? rec->need[BSP_RES_MEM]
		: c->have[BSP_RES_MEM];
	/* Kubernetes quantities: CPU in millicores, memory in MiB, both
	 * rounded up so a request never falls below the need. */
	long long mcpu_req = (long long)ceil(cpu_req * 1000 - 1e-6);
	long long mcpu_lim =
	    (long long)ceil(c->have[BSP_RES_CPU] * 1000 - 1e-6);
	long long mi_req = (long long)ceil(mem_req * 1024 - 1e-6);
	long long mi_lim = (long long)ceil(c->have[BSP_RES_MEM] * 1024 - 1e-6);

	if (mcpu_req < 1)
		mcpu_req = 1;
	if (mi_req < 1)
		mi_req = 1;
	al_put(b, "apiVersion: v1\nkind: Pod\nmetadata:\n");
	al_put(b, "  name: %s\n", name);
	al_put(b,
	       "  annotations:\n    bespoke/shape: \"%s\"\n"
	       "    bespoke/price-hour: \"%.4f\"\n",
	       c->name, c->price_hour);
	al_put(b, "spec:\n  containers:\n  - name: %s\n", name);
	al_put(b, "    image: \"registry.invalid/%s:latest\"\n", name);
	al_put(b, "    resources:\n      requests:\n");
	al_put(b, "        cpu: \"%lldm\"\n        memory: \"%lldMi\"\n",
	       mcpu_req, mi_req);
	al_put(b, "      limits:\n");
	al_put(b, "        cpu: \"%lldm\"\n        memory: \"%lldMi\"\n",
	       mcpu_lim > mcpu_req ? mcpu_lim : mcpu_req,
	       mi_lim > mi_req ? mi_lim : mi_req);
}

bsp_err bsp_alloc_export(enum bsp_alloc_format f, const char *name,
			 const struct bsp_alloc_catalog *cat,
			 const struct bsp_alloc_rec *rec, char **text,
			 struct bsp_error *err)
{
	struct al_buf b = {NULL, 0, 16384, 0};
	char label[64];

	*text = NULL;
	if (!(b.p = malloc(b.cap)))
		return bsp_error_set(err, BSP_ENOMEM, "alloc: out of memory");
	b.p[0] = '\0';
	al_label(name, label, sizeof(label));
	switch (f) {
	case BSP_ALLOC_LIBVIRT:
		al_libvirt(&b, label, cat, rec);
		break;
	case BSP_ALLOC_K8S:
		al_k8s(&b, label, rec);
		break;
	case BSP_ALLOC_INSTANCE:
		al_put(&b, "%s\n", rec->choice.name);
		break;
	}
	if (b.over) {
		free(b.p);
		return bsp_error_set(err, BSP_ELIMIT, "export: text too long");
	}
	*text = b.p;
	return BSP_OK;
}
