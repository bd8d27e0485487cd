/*
 * The one error carrier (see include/bespoke/error.h): a code and a bounded
 * message. Messages longer than BSP_ERROR_MAX are cut.
 */
#include <stdio.h>

#include "internal.h"

bsp_err bsp_error_setv(struct bsp_error *err, bsp_err code, const char *fmt,
		       va_list ap)
{
	if (err) {
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	}
	return code;
}

bsp_err bsp_error_set(struct bsp_error *err, bsp_err code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bsp_error_setv(err, code, fmt, ap);
	va_end(ap);
	return code;
}

const char *bsp_strerror(bsp_err code)
{
	switch (code) {
	case BSP_OK: return "ok";
	case BSP_EINVAL: return "invalid input";
	case BSP_ENOTFOUND: return "not found";
	case BSP_ENOMEM: return "out of memory";
	case BSP_EIO: return "input/output error";
	case BSP_ECORRUPT: return "corrupt data";
	case BSP_ELIMIT: return "limit exceeded";
	case BSP_EDB: return "database error";
	case BSP_EINTERNAL: return "internal error";
	}
	return "unknown error";
}

int bsp_err_is_user(bsp_err code)
{
	return code == BSP_EINVAL || code == BSP_ENOTFOUND || code == BSP_ELIMIT;
}

int bsp_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *np;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -1;
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / elem)
		return -1;
	np = realloc(*p, ncap * elem);
	if (!np)
		return -1;
	*p = np;
	*cap = ncap;
	return 0;
}

char *bsp_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

const char *bsp_version(void)
{
	return BSP_VERSION;
}
