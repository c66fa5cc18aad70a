/*
 * profile_output.h — `--profile` and `--profile-json FILE` of run, chat,
 * classify and bench: where the time went, per phase and operation kind
 * (engine/slm.h slm_profile), as a table on stderr and/or as JSON.
 *
 * The table (stderr, after the stats line):
 *   [slm] profile                calls   total ms  % phase      GB/s   GFLOP/s
 *   prefill: 5 tokens, 0.412 ms
 *     qkv                          5      0.050       12.1      1.23      0.45
 *     ...
 *     other                        -      0.030        7.3
 * "other" is the phase's wall time (the stats line's) minus its rows; the
 * GB/s and GFLOP/s columns are filled on the products' rows only.
 * JSON: one object per report, on one line:
 *   {"test": T (bench only), "phases": [{"phase", "tokens", "ms", "ops":
 *    [{"op", "calls", "ms", "percent", "bytes", "flops", "gb_s", "gflop_s"},
 *     ..., {"op": "other", "ms", "percent"}]}]}
 */
#ifndef SLM_CLI_PROFILE_OUTPUT_H
#define SLM_CLI_PROFILE_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "slm.h"

typedef struct {
    bool table;            /* --profile */
    const char *json_path; /* --profile-json FILE; "-" = stderr */
    FILE *json;            /* opened at the first report */
} cli_profile;

#define CLI_PROFILE_HELP                                                                       \
    "  --profile            at the end, a table on stderr of where the time went per phase\n" \
    "                       (prefill, decode, ...) and operation (norm, qkv, attention,\n"     \
    "                       lm_head, sampling, ...): calls, ms, share of the phase, and\n"    \
    "                       GB/s and GFLOP/s of the matrix products\n"                        \
    "  --profile-json FILE  the same numbers as JSON to FILE (- for stderr)\n"

/* Takes --profile and --profile-json FILE: 1 when argv[*i] was one, 0 when
 * not, -1 after a usage error (printed). */
int cli_profile_option(const char *verb, int argc, char **argv, int *i, cli_profile *o);

/* Either option given. */
bool cli_profile_wanted(const cli_profile *o);

/* A profile to attach, or NULL when not wanted; the --profile-json file is
 * opened here, before the work. NULL and false after printing an error (the
 * file cannot be written, out of memory). */
bool cli_profile_new(const char *verb, cli_profile *o, slm_profile **out);

/* Prints the table (--profile) and writes the JSON (--profile-json; `test`
 * labels it when non-NULL, as bench's rows). False after printing why the
 * file could not be written. */
bool cli_profile_report(const char *verb, cli_profile *o, const slm_profile *p,
                        const char *test);

/* Closes the JSON file; false after printing a write error. */
bool cli_profile_close(const char *verb, cli_profile *o);

#endif
