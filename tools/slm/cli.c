/* cli.c — option helpers shared by the verbs (see cli.h). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include "dispatch.h"

#include <ctype.h>
#include <errno.h>
#include <unistd.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_default_model_dir(void)
{
    const char *env = getenv("SLM_MODEL");
    return env && *env ? env : SLM_DEFAULT_MODEL_DIR;
}

int cli_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
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

/* strtol/strtoull skip leading blanks and take a sign; an option value is
   the number alone, so " 5" or "+5" (and "-5" where negatives make no sense)
   are rejected here rather than silently read. */
static bool plain_number(const char *s, bool allow_minus)
{
    return (s[0] >= '0' && s[0] <= '9') || (allow_minus && s[0] == '-' && s[1] >= '0' && s[1] <= '9');
}

bool cli_int(const char *verb, const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = plain_number(s, lo < 0) ? strtol(s, &end, 10) : 0;
    if (!plain_number(s, lo < 0) || errno || end == s || *end || v < lo || v > hi) {
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
    /* ERANGE on underflow is fine (a tiny value is a value); on overflow the
       range check below refuses the resulting inf */
    if ((errno && errno != ERANGE) || end == s || *end || isspace((unsigned char)s[0]) ||
        !(v >= lo && v <= hi)) {
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
    unsigned long long v = plain_number(s, false) ? strtoull(s, &end, 10) : 0;
    if (!plain_number(s, false) || errno || end == s || *end) {
        fprintf(stderr, "slm %s: %s expects a non-negative integer below 2^64, got '%s'\n", verb,
                opt, s);
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

int cli_read_line(FILE *f, const char *verb, const char *what, long line_no, char **line,
                  size_t *cap, size_t *len)
{
    errno = 0;
    ssize_t n = getline(line, cap, f);
    if (n < 0) {
        /* EINTR: Ctrl-C under chat's handler (interrupt.c), which the
           caller checks; not a read error */
        if (ferror(f) && errno != EINTR) {
            fprintf(stderr, "slm %s: cannot read %s: %s\n", verb, what, strerror(errno));
            return -1;
        }
        return 0;
    }
    /* a NUL would silently cut the text where C strings end */
    if (memchr(*line, '\0', (size_t)n)) {
        fprintf(stderr, "slm %s: %s line %ld contains a NUL byte (text must not contain NULs)\n",
                verb, what, line_no);
        return -1;
    }
    while (n > 0 && ((*line)[n - 1] == '\n' || (*line)[n - 1] == '\r'))
        (*line)[--n] = '\0';
    *len = (size_t)n;
    return 1;
}

int cli_context_size(const char *verb, const slm_model *m, long requested)
{
    int max = slm_model_max_positions(m);
    if (requested > max) {
        fprintf(stderr, "slm %s: warning: -c %ld is above the model's %d positions; using %d\n",
                verb, requested, max, max);
        return max;
    }
    return requested > 0 ? (int)requested : max;
}

bool cli_check_isa_env(void)
{
    slm_isa isa;
    int r = slm_isa_from_env(&isa);
    if (r < 0) {
        fprintf(stderr, "slm: SLM_ISA='%s' is not one of", getenv("SLM_ISA"));
        for (int i = 0; i < SLM_ISA_COUNT; i++)
            fprintf(stderr, "%s %s", i ? "," : "", slm_isa_name((slm_isa)i));
        fprintf(stderr, " (unset it to use the best this CPU supports)\n");
        return false;
    }
    if (r > 0 && !slm_isa_supported(isa))
        fprintf(stderr, "slm: warning: SLM_ISA=%s is not supported by this CPU; using %s\n",
                slm_isa_name(isa), slm_isa_name(slm_isa_best()));
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
    /* a failure reported without a message is a bug of its own; still never
       print "error: ok" */
    if (err->msg[0])
        fprintf(stderr, "slm: error: %s\n", err->msg);
    else
        fprintf(stderr, "slm: error: %s (no details were given)\n",
                err->status != SLM_OK ? slm_status_name(err->status) : "unexpected failure");
    return CLI_FAIL;
}

int cli_load_option_in(unsigned groups, const char *verb, int argc, char **argv, int *i,
                       slm_load_options *lo)
{
    const char *a = argv[*i], *v;
    long l;
    if ((groups & CLI_LOAD_MMAP) && (!strcmp(a, "--mmap") || !strcmp(a, "--no-mmap"))) {
        lo->use_mmap = !strcmp(a, "--mmap");
        return 1;
    }
    bool threads = (groups & CLI_LOAD_THREADS) && (!strcmp(a, "-t") || !strcmp(a, "--threads"));
    bool batch = (groups & CLI_LOAD_THREADS_BATCH) && !strcmp(a, "--threads-batch");
    bool weights = (groups & CLI_LOAD_WEIGHTS) && !strcmp(a, "--weights");
    bool kv = (groups & CLI_LOAD_KV) && !strcmp(a, "--kv");
    if (!threads && !batch && !weights && !kv)
        return 0;
    if (!(v = cli_value(verb, argc, argv, i)))
        return -1;
    if (threads || batch) {
        if (!cli_int(verb, a, v, 1, 1024, &l))
            return -1;
        *(threads ? &lo->n_threads : &lo->n_threads_batch) = (int)l;
    } else if (weights ? !slm_weights_format_parse(v, &lo->weights)
                       : !slm_kv_format_parse(v, &lo->kv)) {
        fprintf(stderr, "slm %s: %s expects %s, got '%s'\n", verb, a,
                weights ? "auto|f32|f16|bf16|q8_0|q4_0" : "f32|f16|q8", v);
        return -1;
    }
    return 1;
}

int cli_load_option(const char *verb, int argc, char **argv, int *i, slm_load_options *lo)
{
    return cli_load_option_in(CLI_LOAD_ALL, verb, argc, argv, i, lo);
}

void cli_progress_bar(void *user, size_t done, size_t total)
{
    const char *what = user ? user : "loading";
    if (!isatty(STDERR_FILENO) || total == 0)
        return;
    int width = 40, filled = (int)(width * done / total);
    fprintf(stderr, "\r%s [%.*s%*s] %zu/%zu tensors", what, filled,
            "########################################", width - filled, "", done, total);
    if (done >= total)
        fprintf(stderr, "\r%*s\r", width + 40, ""); /* erase the bar when done */
}

slm_load_options cli_load_defaults(void)
{
    slm_load_options o = slm_load_options_default();
    o.progress = cli_progress_bar;
    return o;
}
