/*
 * A decimal-to-double parser that gives exactly strtod's result (correctly
 * rounded, round-half-even) without strtod's cost on the common inputs of
 * telemetry traces. See numparse.c for how.
 */
#ifndef BSP_INGEST_NUMPARSE_H
#define BSP_INGEST_NUMPARSE_H

#include <stddef.h>

enum ingest_num {
	INGEST_NUM_OK = 0,
	INGEST_NUM_SYNTAX,    /* not a decimal number */
	INGEST_NUM_RANGE,     /* too large for a double: *out = +-HUGE_VAL */
	INGEST_NUM_NONFINITE, /* "nan", "inf", "+Inf", "-infinity"...: *out
				 holds that value */
};

/*
 * Parses all of s[0..len): an optional sign, digits with an optional
 * decimal point (at least one digit), an optional exponent ("e-5").
 * No white space, no hexadecimal. NaN and infinity spelled out in any
 * case are recognised as INGEST_NUM_NONFINITE. For INGEST_NUM_OK the
 * value is bit for bit what strtod returns for the same text (results
 * that underflow to a subnormal or zero are OK, as strtod's value).
 */
int ingest_parse_double(const char *s, size_t len, double *out);

#endif
