/*
 * error.h — how library code reports failure.
 *
 * slm_fail() formats one line into the caller's slm_error (when given) and
 * returns the status, so a failing path reads:
 *     return slm_fail(err, SLM_ERR_FORMAT, "%s: tensor '%s' ...", path, name);
 * SLM_TRY() propagates a non-OK status from a call that already filled err.
 */
#ifndef SLM_ERROR_H
#define SLM_ERROR_H

#include <stdio.h>
#include <stdlib.h>

#include "slm.h"

#if defined(__GNUC__)
#define SLM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define SLM_PRINTF(f, a)
#endif

slm_status slm_fail(slm_error *err, slm_status status, const char *fmt, ...) SLM_PRINTF(3, 4);

/* Shorthand for the out-of-memory case, naming what was being allocated. */
slm_status slm_fail_nomem(slm_error *err, const char *what);

#define SLM_TRY(expr)                   \
    do {                                \
        slm_status slm_try_st_ = (expr); \
        if (slm_try_st_ != SLM_OK)      \
            return slm_try_st_;         \
    } while (0)

/* SLM_ASSERT(cond): an internal invariant, i.e. something only a bug in slm
 * can break (never a check of input: bad files, ids or arguments go through
 * slm_fail). A broken invariant prints "slm: internal error at file:line:
 * cond" to stderr and aborts, in every build type: carrying on would read or
 * write out of bounds. */
#if defined(__GNUC__)
__attribute__((noreturn, cold))
#endif
static inline void
slm_assert_fail_(const char *file, int line, const char *cond)
{
    fprintf(stderr, "slm: internal error at %s:%d: %s\n", file, line, cond);
    abort();
}

#define SLM_ASSERT(cond) ((cond) ? (void)0 : slm_assert_fail_(__FILE__, __LINE__, #cond))

#endif /* SLM_ERROR_H */
