/* error.c — slm_status names and the slm_fail() formatter (see error.h). */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

const char *slm_status_name(slm_status status)
{
    switch (status) {
    case SLM_OK: return "ok";
    case SLM_ERR_IO: return "I/O error";
    case SLM_ERR_FORMAT: return "format error";
    case SLM_ERR_UNSUPPORTED: return "unsupported";
    case SLM_ERR_INVALID_ARG: return "invalid argument";
    case SLM_ERR_NOMEM: return "out of memory";
    case SLM_ERR_RANGE: return "out of range";
    }
    return "unknown status";
}

slm_status slm_fail(slm_error *err, slm_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->status = status;
    }
    return status;
}

slm_status slm_fail_nomem(slm_error *err, const char *what)
{
    return slm_fail(err, SLM_ERR_NOMEM, "out of memory allocating %s", what);
}
