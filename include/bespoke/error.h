/*
 * bespoke: one error type for the whole library.
 *
 * Every fallible function returns a bsp_err: BSP_OK (zero) on success, a
 * negative code otherwise. Functions that can say more take an optional
 * `struct bsp_error *` (may be NULL) and fill it with a one-line message that
 * names what went wrong and where (file:line for user input, the field for
 * API input). The library never prints and never exits: the CLI prints the
 * message, the HTTP layer turns it into a JSON body.
 */
#ifndef BESPOKE_ERROR_H
#define BESPOKE_ERROR_H

#include <stdarg.h>

#if defined(BSP_BUILDING) && defined(__GNUC__)
#define BSP_EXTERN __attribute__((visibility("default")))
#else
#define BSP_EXTERN
#endif

#if defined(__GNUC__)
#define BSP_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define BSP_PRINTF(a, b)
#endif

typedef enum bsp_err {
	BSP_OK = 0,
	BSP_EINVAL = -1,    /* bad user input: a file, a line, an argument */
	BSP_ENOTFOUND = -2, /* a named thing (entity, series, file) is absent */
	BSP_ENOMEM = -3,    /* allocation failed */
	BSP_EIO = -4,       /* the operating system refused a read or write */
	BSP_ECORRUPT = -5,  /* stored data fails its own checks */
	BSP_ELIMIT = -6,    /* a size limit was reached (line, request, buffer) */
	BSP_EDB = -7,       /* the database engine reported an error */
	BSP_EINTERNAL = -8, /* a bug: an invariant does not hold */
} bsp_err;

/* Room for one message; longer messages are cut, never overflow. */
#define BSP_ERROR_MAX 512

struct bsp_error {
	bsp_err code;
	char msg[BSP_ERROR_MAX];
};

/*
 * Fills `err` (if not NULL) with `code` and a formatted message and returns
 * `code`, so that callers can write `return bsp_error_set(err, ...)`.
 */
BSP_EXTERN bsp_err bsp_error_set(struct bsp_error *err, bsp_err code,
				 const char *fmt, ...) BSP_PRINTF(3, 4);
BSP_EXTERN bsp_err bsp_error_setv(struct bsp_error *err, bsp_err code,
				  const char *fmt, va_list ap);

/* Static text for a code ("invalid input", ...). */
BSP_EXTERN const char *bsp_strerror(bsp_err code);

/* Is this the user's fault (exit 1) rather than ours (exit 2)? */
BSP_EXTERN int bsp_err_is_user(bsp_err code);

#endif
