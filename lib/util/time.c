/*
 * Time parsing and formatting (include/bespoke/time.h).
 *
 * Epoch numbers and RFC 3339 are parsed by hand rather than with strptime:
 * strptime depends on the locale and time zone of the process and does not
 * handle fractional seconds or numeric offsets portably. Civil dates are
 * turned into days with Howard Hinnant's days_from_civil algorithm
 * ("chrono-Compatible Low-Level Date Algorithms"), valid for any year.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>

#include "internal.h"

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Reads exactly n digits at s[*i]; -1 if any is not a digit. */
static int64_t digits(const char *s, size_t len, size_t *i, int n)
{
	int64_t v = 0;
	for (int k = 0; k < n; k++) {
		if (*i >= len || !isdigit((unsigned char)s[*i]))
			return -1;
		v = v * 10 + (s[(*i)++] - '0');
	}
	return v;
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bsp_err parse_rfc3339(const char *s, size_t len, bsp_time *out)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
					 31, 31, 30, 31, 30, 31};
	size_t i = 0;
	int64_t y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, off = 0;

	y = digits(s, len, &i, 4);
	if (y < 0 || i >= len || s[i++] != '-')
		return BSP_EINVAL;
	mo = digits(s, len, &i, 2);
	if (mo < 1 || mo > 12 || i >= len || s[i++] != '-')
		return BSP_EINVAL;
	d = digits(s, len, &i, 2);
	if (d < 1 || d > (int64_t)mdays[mo - 1] + (mo == 2 && is_leap(y)))
		return BSP_EINVAL;
	if (i < len) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			return BSP_EINVAL;
		i++;
		h = digits(s, len, &i, 2);
		if (h < 0 || h > 23 || i >= len || s[i++] != ':')
			return BSP_EINVAL;
		mi = digits(s, len, &i, 2);
		if (mi < 0 || mi > 59)
			return BSP_EINVAL;
		if (i < len && s[i] == ':') {
			i++;
			sec = digits(s, len, &i, 2);
			if (sec < 0 || sec > 60) /* 60: a leap second */
				return BSP_EINVAL;
		}
		if (i < len && s[i] == '.') {
			int64_t scale = 100;
			i++;
			if (i >= len || !isdigit((unsigned char)s[i]))
				return BSP_EINVAL;
			while (i < len && isdigit((unsigned char)s[i])) {
				ms += (s[i++] - '0') * scale;
				scale /= 10;
			}
		}
		if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
			i++;
		} else if (i < len && (s[i] == '+' || s[i] == '-')) {
			int sign = s[i++] == '-' ? -1 : 1;
			int64_t oh = digits(s, len, &i, 2), om;
			if (oh < 0 || oh > 23 || i >= len || s[i++] != ':')
				return BSP_EINVAL;
			om = digits(s, len, &i, 2);
			if (om < 0 || om > 59)
				return BSP_EINVAL;
			off = sign * (oh * 60 + om) * 60;
		}
		if (i != len)
			return BSP_EINVAL;
	}
	*out = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
		 h * 3600 + mi * 60 + sec - off) *
		1000) +
	       ms;
	return BSP_OK;
}

/* Epoch numbers: seconds (up to 12 integer digits, optional fraction) or
 * milliseconds (13 or more integer digits, as Prometheus writes them). */
static bsp_err parse_epoch(const char *s, size_t len, bsp_time *out)
{
	size_t i = 0, nint = 0;
	int neg = 0;
	int64_t v = 0, frac = 0, scale = 100;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	while (i < len && isdigit((unsigned char)s[i])) {
		if (++nint > 16)
			return BSP_EINVAL;
		v = v * 10 + (s[i++] - '0');
	}
	if (nint == 0)
		return BSP_EINVAL;
	if (i < len && s[i] == '.') {
		i++;
		while (i < len && isdigit((unsigned char)s[i])) {
			frac += (s[i++] - '0') * scale;
			scale /= 10;
		}
	}
	if (i != len)
		return BSP_EINVAL;
	if (nint >= 13) {
		if (frac)
			return BSP_EINVAL;
		*out = neg ? -v : v;
	} else {
		*out = neg ? -(v * 1000 + frac) : v * 1000 + frac;
	}
	return BSP_OK;
}

bsp_err bsp_time_parse(const char *s, size_t len, bsp_time *out)
{
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0)
		return BSP_EINVAL;
	if (len >= 10 && s[4] == '-' && isdigit((unsigned char)s[0]))
		return parse_rfc3339(s, len, out);
	return parse_epoch(s, len, out);
}

bsp_err bsp_duration_parse(const char *s, bsp_time *out)
{
	char *end;
	double v;
	bsp_time unit;

	if (!s || !*s)
		return BSP_EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno || !(v >= 0))
		return BSP_EINVAL;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		unit = BSP_SECOND;
	else if (!strcmp(end, "ms"))
		unit = 1;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		unit = BSP_MINUTE;
	else if (!strcmp(end, "h"))
		unit = BSP_HOUR;
	else if (!strcmp(end, "d"))
		unit = BSP_DAY;
	else if (!strcmp(end, "w"))
		unit = 7 * BSP_DAY;
	else
		return BSP_EINVAL;
	if (v * (double)unit > 1e15) /* about 31,000 years */
		return BSP_EINVAL;
	*out = (bsp_time)(v * (double)unit + 0.5);
	return BSP_OK;
}

char *bsp_time_format(bsp_time t, char *buf, size_t size)
{
	int64_t secs = t / 1000, ms = t % 1000, y;
	int64_t days, rem;
	unsigned mo, d;

	if (ms < 0) {
		ms += 1000;
		secs--;
	}
	days = secs / 86400;
	rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, &y, &mo, &d);
	if (ms)
		snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
			 (long long)y, mo, d, (int)(rem / 3600),
			 (int)(rem / 60 % 60), (int)(rem % 60), (int)ms);
	else
		snprintf(buf, size, "%04lld-%02u-%02uT%02d:%02d:%02dZ",
			 (long long)y, mo, d, (int)(rem / 3600),
			 (int)(rem / 60 % 60), (int)(rem % 60));
	return buf;
}
