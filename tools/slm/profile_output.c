/* profile_output.c — the --profile table and --profile-json (see profile_output.h). */
#define _POSIX_C_SOURCE 200809L
#include "profile_output.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_profile_option(const char *verb, int argc, char **argv, int *i, cli_profile *o)
{
    const char *a = argv[*i];
    if (!strcmp(a, "--profile")) {
        o->table = true;
        return 1;
    }
    if (strcmp(a, "--profile-json") != 0)
        return 0;
    const char *v = cli_value(verb, argc, argv, i);
    if (!v)
        return -1;
    if (!*v) {
        fprintf(stderr, "slm %s: --profile-json needs a file name (- for stderr)\n", verb);
        return -1;
    }
    o->json_path = v;
    return 1;
}

bool cli_profile_wanted(const cli_profile *o) { return o->table || o->json_path; }

bool cli_profile_new(const char *verb, cli_profile *o, slm_profile **out)
{
    *out = NULL;
    if (!cli_profile_wanted(o))
        return true;
    if (o->json_path && !o->json) { /* before the work: a bad path fails at once */
        o->json = !strcmp(o->json_path, "-") ? stderr : fopen(o->json_path, "w");
        if (!o->json) {
            fprintf(stderr, "slm %s: --profile-json %s: %s\n", verb, o->json_path,
                    strerror(errno));
            return false;
        }
    }
    slm_error err = {0};
    if (slm_profile_new(out, &err) == SLM_OK)
        return true;
    fprintf(stderr, "slm %s: %s\n", verb, err.msg);
    return false;
}

/* A phase is shown when anything ran in it. */
static bool phase_used(const slm_profile *p, slm_profile_phase ph)
{
    if (slm_profile_phase_seconds(p, ph) > 0)
        return true;
    for (int op = 0; op < SLM_PROF_OPS; op++)
        if (slm_profile_get(p, ph, op).calls)
            return true;
    return false;
}

/* The phase's wall time less its rows: time in no listed kind. */
static double other_seconds(const slm_profile *p, slm_profile_phase ph)
{
    double rows = 0;
    for (int op = 0; op < SLM_PROF_OPS; op++)
        rows += slm_profile_get(p, ph, op).seconds;
    return slm_profile_phase_seconds(p, ph) - rows;
}

static double share(double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0.0; }

/* A rate with 3 significant digits, never in exponent form (a first call
   waking the thread team can run at 0.002 GB/s, a prefill at 1500 GFLOP/s). */
static const char *rate(char *buf, size_t cap, double v)
{
    int decimals = v >= 100 ? 0 : v >= 10 ? 1 : v >= 1 ? 2 : v > 0 ? 2 - (int)floor(log10(v)) : 2;
    decimals = decimals > 9 ? 9 : decimals;
    snprintf(buf, cap, "%.*f", decimals, v);
    return buf;
}

static void print_table(const slm_profile *p, const char *test)
{
    if (test)
        fprintf(stderr, "[slm] profile of %s\n", test);
    fprintf(stderr, "[slm] profile %16s %10s %10s %9s %9s\n", "calls", "total ms", "% phase",
            "GB/s", "GFLOP/s");
    for (int ph = 0; ph < SLM_PROFILE_PHASES; ph++) {
        if (!phase_used(p, ph))
            continue;
        double wall = slm_profile_phase_seconds(p, ph);
        fprintf(stderr, "%s: %llu tokens, %.3f ms\n", slm_profile_phase_name(ph),
                (unsigned long long)slm_profile_phase_tokens(p, ph), wall * 1e3);
        for (int op = 0; op < SLM_PROF_OPS; op++) {
            slm_profile_entry e = slm_profile_get(p, ph, op);
            if (!e.calls)
                continue;
            fprintf(stderr, "  %-16s %11llu %10.3f %10.1f", slm_profile_op_name(op),
                    (unsigned long long)e.calls, e.seconds * 1e3, share(e.seconds, wall));
            if (slm_profile_op_is_product(op) && e.seconds > 0) {
                char gb[32], gf[32];
                fprintf(stderr, " %9s %9s", rate(gb, sizeof gb, e.bytes / e.seconds * 1e-9),
                        rate(gf, sizeof gf, e.flops / e.seconds * 1e-9));
            }
            fputc('\n', stderr);
        }
        double other = other_seconds(p, ph);
        fprintf(stderr, "  %-16s %11s %10.3f %10.1f\n", "other", "-", other * 1e3,
                share(other, wall));
    }
}

static cJSON *op_json(const char *name, const slm_profile_entry *e, bool product, double wall)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "op", name);
    if (e->calls)
        cJSON_AddNumberToObject(o, "calls", (double)e->calls);
    cJSON_AddNumberToObject(o, "ms", e->seconds * 1e3);
    cJSON_AddNumberToObject(o, "percent", share(e->seconds, wall));
    if (product) {
        cJSON_AddNumberToObject(o, "bytes", (double)e->bytes);
        cJSON_AddNumberToObject(o, "flops", (double)e->flops);
        double s = e->seconds > 0 ? e->seconds : 0;
        cJSON_AddNumberToObject(o, "gb_s", s > 0 ? e->bytes / s * 1e-9 : 0.0);
        cJSON_AddNumberToObject(o, "gflop_s", s > 0 ? e->flops / s * 1e-9 : 0.0);
    }
    return o;
}

static cJSON *profile_json(const slm_profile *p, const char *test)
{
    cJSON *root = cJSON_CreateObject(), *phases = cJSON_CreateArray();
    if (test)
        cJSON_AddStringToObject(root, "test", test);
    for (int ph = 0; ph < SLM_PROFILE_PHASES; ph++) {
        if (!phase_used(p, ph))
            continue;
        double wall = slm_profile_phase_seconds(p, ph);
        cJSON *o = cJSON_CreateObject(), *ops = cJSON_CreateArray();
        cJSON_AddStringToObject(o, "phase", slm_profile_phase_name(ph));
        cJSON_AddNumberToObject(o, "tokens", (double)slm_profile_phase_tokens(p, ph));
        cJSON_AddNumberToObject(o, "ms", wall * 1e3);
        for (int op = 0; op < SLM_PROF_OPS; op++) {
            slm_profile_entry e = slm_profile_get(p, ph, op);
            if (e.calls)
                cJSON_AddItemToArray(ops, op_json(slm_profile_op_name(op), &e,
                                                  slm_profile_op_is_product(op), wall));
        }
        slm_profile_entry other = {.seconds = other_seconds(p, ph)};
        cJSON_AddItemToArray(ops, op_json("other", &other, false, wall));
        cJSON_AddItemToObject(o, "ops", ops);
        cJSON_AddItemToArray(phases, o);
    }
    cJSON_AddItemToObject(root, "phases", phases);
    return root;
}

static bool write_json(const char *verb, cli_profile *o, const slm_profile *p, const char *test)
{
    if (!o->json) /* cli_profile_new opens it */
        return false;
    cJSON *j = profile_json(p, test);
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!text) {
        fprintf(stderr, "slm %s: --profile-json: out of memory\n", verb);
        return false;
    }
    bool ok = fprintf(o->json, "%s\n", text) >= 0 && fflush(o->json) == 0;
    free(text);
    if (!ok)
        fprintf(stderr, "slm %s: --profile-json %s: %s\n", verb, o->json_path, strerror(errno));
    return ok;
}

bool cli_profile_report(const char *verb, cli_profile *o, const slm_profile *p,
                        const char *test)
{
    if (!p)
        return true;
    fflush(stdout); /* the text and the stats line come first */
    if (o->table)
        print_table(p, test);
    return !o->json_path || write_json(verb, o, p, test);
}

bool cli_profile_close(const char *verb, cli_profile *o)
{
    if (!o->json || o->json == stderr)
        return true;
    bool ok = fclose(o->json) == 0;
    o->json = NULL;
    if (!ok)
        fprintf(stderr, "slm %s: --profile-json %s: %s\n", verb, o->json_path, strerror(errno));
    return ok;
}
