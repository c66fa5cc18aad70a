/* cli.c — option helpers shared by the verbs (see cli.h). */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_default_model_dir(void)
{
    const char *env = getenv("SLM_MODEL");
    return env && *env ? env : SLM_DEFAULT_MODEL_DIR;
}

const char *cli_value(const char *verb, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "slm %s: option %s needs a value (see slm %s --help)\n", verb, argv[*i],
                verb);
        return NULL;
    }
    return argv[++*i];
}

bool cli_int(const char *verb, const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "slm %s: %s expects an integer in [%ld, %ld], got '%s'\n", verb, opt, lo,
                hi, s);
        return false;
    }
    *out = v;
    return true;
}

bool cli_float(const char *verb, const char *opt, const char *s, double lo, double hi,
               double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "slm %s: %s expects a number in [%g, %g], got '%s'\n", verb, opt, lo, hi,
                s);
        return false;
    }
    *out = v;
    return true;
}

bool cli_u64(const char *verb, const char *opt, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-') {
        fprintf(stderr, "slm %s: %s expects a non-negative integer, got '%s'\n", verb, opt, s);
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

int cli_unknown(const char *verb, const char *arg)
{
    fprintf(stderr, "slm %s: unknown option '%s' (see slm %s --help)\n", verb, arg, verb);
    return CLI_USAGE;
}

bool cli_is_help(const char *arg)
{
    return strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0;
}

int cli_report(const slm_error *err)
{
    fprintf(stderr, "slm: error: %s\n", err->msg[0] ? err->msg : slm_status_name(err->status));
    return CLI_FAIL;
}
