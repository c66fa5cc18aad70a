/*
 * bench.c — `slm bench`: prompt-processing and generation speed in the manner
 * of llama-bench. For each weight format, KV format and thread count:
 *   ppN  one batch of N prompt tokens into an empty cache   -> tok/s
 *   tgN  N tokens decoded one at a time after a 1-token prompt -> tok/s, GB/s
 *   tgN xP  (--parallel) P sequences decoding together, N steps of one
 *        forward pass over all P (slm_batch_eval) -> aggregate tok/s
 * each repeated r times after a warm-up run (mean ± sample stddev), plus load
 * time and the process's peak RSS. Token ids are fixed pseudo-random ids, so
 * runs are comparable across engines and formats.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "error.h"
#include "profile_output.h"
#include "tensor_info.h"

#define MAX_LIST 16
#define MAX_TOKENS 16384

/* Returns a failing status from a library call (its message is in err). */
#define TRY(expr)                     \
    do {                              \
        slm_status try_st_ = (expr);  \
        if (try_st_ != SLM_OK)        \
            return try_st_;           \
    } while (0)

typedef struct {
    long v[MAX_LIST];
    int n;
} int_list;

typedef struct {
    const char *dir;
    int_list prompts, threads, batches, parallel;
    long n_gen, reps;
    slm_weights_format weights[MAX_LIST];
    int n_weights;
    slm_kv_format kv[MAX_LIST];
    int n_kv;
    enum { OUT_MD, OUT_JSON, OUT_CSV } out;
    bool use_mmap;
    cli_profile *prof; /* --profile, --profile-json */
    slm_profile *pf;   /* with either: reset per row, the measured repetitions only */
} bench_opts;

static void bench_help(FILE *f)
{
    fprintf(f, "usage: slm bench [-m DIR] [-p 128,512] [-n 64] [-t 1,2] [--weights LIST] [--kv LIST]\n"
               "                 [-r 5] [-o md|json|csv] [--mmap] [--parallel 1,2,4,8]\n"
               "Measures prompt processing (ppN) and generation (tgN) tokens/s like llama-bench;\n"
               "for a sequence classifier, clsN: one batch of B sequences of N tokens (ms).\n"
               "  -m, --model DIR  model folder (default: $SLM_MODEL or the bundled model)\n"
               "  -p LIST        prompt lengths (default 128,512; 0 skips)\n"
               "  -n N           generated tokens (default 64; 0 skips)\n"
               "  -t LIST        thread counts (default: all cores)\n"
               "  --weights LIST auto,f32,f16,bf16,q8_0,q4_0 (default auto)\n"
               "  --kv LIST      f32,f16,q8 (default f32)\n"
               "  -b LIST        classifiers: batch sizes of clsN runs (default 1,8)\n"
               "  --parallel LIST  also tgN with P sequences decoding together in one batch\n"
               "                 per step, for each P (aggregate tok/s over all P)\n"
               "  -r N           repetitions (default 5)\n"
               "  --mmap         map the weights instead of reading them in\n"
               "  -o md|json|csv markdown table (default), one JSON object per line, or CSV\n"
               "Columns: the weights format computed with (auto resolved), its size (MB: the\n"
               "weights read per generated token; a classifier's checkpoint) and parameter\n"
               "count, tok/s mean ± stddev,\n"
               "decode GB/s (tgN only), load time, peak RSS; md starts with the build line,\n"
               "json and csv carry it in a \"build\" field.\n"
               CLI_PROFILE_HELP
               "                       (bench: one per row, over its measured repetitions)\n");
}

/* ============================================================ options */

static bool parse_list(const char *verb, const char *opt, const char *s, int_list *out, long lo,
                       long hi)
{
    out->n = 0;
    char *copy = strdup(s), *save = NULL;
    bool ok = copy != NULL;
    for (char *tok = strtok_r(copy, ",", &save); ok && tok; tok = strtok_r(NULL, ",", &save)) {
        if (out->n == MAX_LIST) {
            fprintf(stderr, "slm %s: %s takes at most %d values, got '%s'\n", verb, opt, MAX_LIST,
                    s);
            ok = false;
        } else if (!cli_int(verb, opt, tok, lo, hi, &out->v[out->n])) {
            ok = false;
        } else {
            out->n++;
        }
    }
    free(copy);
    if (ok && out->n == 0) {
        fprintf(stderr, "slm %s: %s expects a comma-separated list of integers in [%ld, %ld], "
                        "got '%s'\n", verb, opt, lo, hi, s);
        ok = false;
    }
    return ok;
}

static bool parse_formats(const char *s, bench_opts *o, bool kv)
{
    char *copy = strdup(s), *save = NULL;
    bool ok = copy != NULL;
    int *n = kv ? &o->n_kv : &o->n_weights;
    *n = 0;
    for (char *tok = strtok_r(copy, ",", &save); ok && tok; tok = strtok_r(NULL, ",", &save)) {
        ok = *n < MAX_LIST && (kv ? slm_kv_format_parse(tok, &o->kv[*n])
                                  : slm_weights_format_parse(tok, &o->weights[*n]));
        if (!ok)
            fprintf(stderr, "slm bench: %s: '%s' is not one of %s (at most %d)\n",
                    kv ? "--kv" : "--weights", tok,
                    kv ? "f32,f16,q8" : "auto,f32,f16,bf16,q8_0,q4_0", MAX_LIST);
        else
            (*n)++;
    }
    free(copy);
    if (ok && *n == 0) {
        fprintf(stderr, "slm bench: %s expects a comma-separated list of formats, got '%s'\n",
                kv ? "--kv" : "--weights", s);
        ok = false;
    }
    return ok;
}

static bool parse_output(const char *v, bench_opts *o)
{
    static const char *const names[] = {"md", "json", "csv"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(v, names[i])) {
            o->out = i;
            return true;
        }
    fprintf(stderr, "slm bench: -o expects md|json|csv, got '%s'\n", v);
    return false;
}

/* Options that take a value; anything else but --mmap and --help is unknown
   (checked before a value is consumed, so "--foo" is not "needs a value"). */
static bool takes_value(const char *a)
{
    static const char *const opts[] = {"-m", "--model", "-p", "-b", "-t", "-n", "-r",
                                       "--weights", "--kv", "-o", "--parallel"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (!strcmp(a, opts[i]))
            return true;
    return false;
}

static int parse_bench(int argc, char **argv, bench_opts *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (cli_is_help(a)) {
            bench_help(stdout);
            return CLI_OK;
        }
        if (!strcmp(a, "--mmap")) {
            o->use_mmap = true;
            continue;
        }
        int pr = cli_profile_option("bench", argc, argv, &i, o->prof);
        if (pr < 0)
            return CLI_USAGE;
        if (pr > 0)
            continue;
        if (!takes_value(a))
            return cli_unknown("bench", a);
        if (!(v = cli_value("bench", argc, argv, &i)))
            return CLI_USAGE;
        bool ok = true;
        if (!strcmp(a, "-m") || !strcmp(a, "--model"))
            o->dir = v;
        else if (!strcmp(a, "-p"))
            ok = parse_list("bench", a, v, &o->prompts, 0, MAX_TOKENS);
        else if (!strcmp(a, "--parallel"))
            ok = parse_list("bench", a, v, &o->parallel, 1, 256);
        else if (!strcmp(a, "-b"))
            ok = parse_list("bench", a, v, &o->batches, 1, 4096);
        else if (!strcmp(a, "-t"))
            ok = parse_list("bench", a, v, &o->threads, 1, 1024);
        else if (!strcmp(a, "-n"))
            ok = cli_int("bench", a, v, 0, MAX_TOKENS, &o->n_gen);
        else if (!strcmp(a, "-r"))
            ok = cli_int("bench", a, v, 1, 1000, &o->reps);
        else if (!strcmp(a, "--weights"))
            ok = parse_formats(v, o, false);
        else if (!strcmp(a, "--kv"))
            ok = parse_formats(v, o, true);
        else if (!strcmp(a, "-o"))
            ok = parse_output(v, o);
        if (!ok)
            return CLI_USAGE;
    }
    return -1;
}

/* ============================================================ measuring */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double peak_rss_mb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0; /* Linux reports KiB */
}

/* Deterministic ids in [1, vocab) (xorshift), avoiding id 0. */
static void fill_ids(int32_t *ids, int n, int vocab)
{
    uint32_t s = 12345;
    for (int i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 17, s ^= s << 5;
        ids[i] = (int32_t)(1 + s % (uint32_t)(vocab - 1));
    }
}

/* pf (NULL: none) records what runs from here to profile_stop, as `phase`. */
static void profile_start(slm_session *s, slm_profile *pf, slm_profile_phase phase)
{
    if (!pf)
        return;
    slm_profile_set_phase(pf, phase);
    slm_session_set_profile(s, pf);
}

static void profile_stop(slm_session *s, slm_profile *pf, slm_profile_phase phase, double secs,
                         int n)
{
    if (!pf)
        return;
    slm_session_set_profile(s, NULL);
    slm_profile_add_phase(pf, phase, secs, (uint64_t)n);
}

/* Seconds for one run: a pp run evaluates n ids at once; a tg run evaluates
   one id then n single ids, timing only the n (and profiling only them). */
static slm_status run_once(slm_session *s, const int32_t *ids, int n, bool gen,
                           slm_profile *pf, double *secs, slm_error *err)
{
    const float *logits;
    slm_session_reset(s);
    if (!gen) {
        profile_start(s, pf, SLM_PROFILE_PREFILL);
        double t0 = now_s();
        slm_status st = slm_session_eval(s, ids, (size_t)n, &logits, err);
        *secs = now_s() - t0;
        profile_stop(s, pf, SLM_PROFILE_PREFILL, *secs, n);
        return st;
    }
    TRY(slm_session_eval(s, ids, 1, &logits, err));
    profile_start(s, pf, SLM_PROFILE_DECODE);
    double t0 = now_s();
    slm_status st = SLM_OK;
    for (int i = 1; st == SLM_OK && i <= n; i++)
        st = slm_session_eval(s, ids + i, 1, &logits, err);
    *secs = now_s() - t0;
    profile_stop(s, pf, SLM_PROFILE_DECODE, *secs, n);
    return st;
}

typedef struct {
    double mean, stddev;
} stat;

static slm_status measure(slm_session *s, const int32_t *ids, int n, bool gen, int reps,
                          slm_profile *pf, stat *out, slm_error *err)
{
    double secs, sum = 0, sum2 = 0;
    TRY(run_once(s, ids, n, gen, NULL, &secs, err)); /* warm-up */
    if (pf)
        slm_profile_reset(pf);
    for (int r = 0; r < reps; r++) {
        TRY(run_once(s, ids, n, gen, pf, &secs, err));
        double tps = n / secs;
        sum += tps;
        sum2 += tps * tps;
    }
    out->mean = sum / reps;
    out->stddev = reps > 1 ? sqrt(fmax(0.0, (sum2 - sum * sum / reps) / (reps - 1))) : 0.0;
    return SLM_OK;
}

/* One parallel run: P sessions take one id each together (not timed), then
   n steps of one id each, all P in one forward pass per step. */
static slm_status run_parallel_once(slm_batch *b, slm_session **ss, int P, const int32_t *ids,
                                    int n, slm_profile *pf, double *secs, slm_error *err)
{
    const int32_t *x[256];
    size_t k[256];
    for (int i = 0; i < P; i++) {
        slm_session_reset(ss[i]);
        x[i] = ids + i;
        k[i] = 1;
    }
    TRY(slm_batch_eval(b, ss, x, k, (size_t)P, err));
    if (pf) {
        slm_profile_set_phase(pf, SLM_PROFILE_DECODE);
        slm_batch_set_profile(b, pf);
    }
    double t0 = now_s();
    slm_status st = SLM_OK;
    for (int step = 1; st == SLM_OK && step <= n; step++) {
        for (int i = 0; i < P; i++)
            x[i] = ids + ((size_t)step * P + i) % MAX_TOKENS;
        st = slm_batch_eval(b, ss, x, k, (size_t)P, err);
    }
    *secs = now_s() - t0;
    if (pf) {
        slm_batch_set_profile(b, NULL);
        slm_profile_add_phase(pf, SLM_PROFILE_DECODE, *secs, (uint64_t)n * (uint64_t)P);
    }
    return st;
}

static slm_status measure_parallel(slm_batch *b, slm_session **ss, int P, const int32_t *ids,
                                   int n, int reps, slm_profile *pf, stat *out, slm_error *err)
{
    double secs, sum = 0, sum2 = 0;
    TRY(run_parallel_once(b, ss, P, ids, n, NULL, &secs, err)); /* warm-up */
    if (pf)
        slm_profile_reset(pf);
    for (int r = 0; r < reps; r++) {
        TRY(run_parallel_once(b, ss, P, ids, n, pf, &secs, err));
        double tps = (double)n * P / secs;
        sum += tps;
        sum2 += tps * tps;
    }
    out->mean = sum / reps;
    out->stddev = reps > 1 ? sqrt(fmax(0.0, (sum2 - sum * sum / reps) / (reps - 1))) : 0.0;
    return SLM_OK;
}

/* ============================================================ reporting */

/* One result. LLM rows have tok/s (and GB/s for decode rows; gb_s < 0 on
   prompt rows, where the weights are not what bounds the speed); classifier
   rows (batch > 0) have ms per batch. */
typedef struct {
    const char *format, *requested, *kv, *test;
    int threads;
    int parallel; /* sequences per step (1 for the single-session rows) */
    int batch;    /* classifier rows: sequences per batch; 0 for LLM rows */
    stat tps, ms;
    double gb_s, load_s, rss_mb, size_mb;
    size_t params;
} row;

static void print_json(const bench_opts *o, const row *r)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "engine", "slm");
    cJSON_AddStringToObject(j, "model", o->dir);
    cJSON_AddStringToObject(j, "format", r->format);
    cJSON_AddStringToObject(j, "weights_requested", r->requested);
    cJSON_AddNumberToObject(j, "size_mb", r->size_mb);
    cJSON_AddNumberToObject(j, "params", (double)r->params);
    if (!r->batch)
        cJSON_AddStringToObject(j, "kv", r->kv);
    cJSON_AddNumberToObject(j, "threads", r->threads);
    cJSON_AddStringToObject(j, "test", r->test);
    if (r->batch) {
        cJSON_AddNumberToObject(j, "batch", r->batch);
        cJSON_AddNumberToObject(j, "ms", r->ms.mean);
        cJSON_AddNumberToObject(j, "stddev", r->ms.stddev);
        cJSON_AddNumberToObject(j, "tok_s", r->tps.mean);
    } else {
        cJSON_AddNumberToObject(j, "parallel", r->parallel ? r->parallel : 1);
        cJSON_AddNumberToObject(j, "tok_s", r->tps.mean);
        cJSON_AddNumberToObject(j, "stddev", r->tps.stddev);
        if (r->gb_s >= 0)
            cJSON_AddNumberToObject(j, "gb_s", r->gb_s);
        else
            cJSON_AddNullToObject(j, "gb_s");
    }
    cJSON_AddNumberToObject(j, "load_s", r->load_s);
    cJSON_AddNumberToObject(j, "peak_rss_mb", r->rss_mb);
    cJSON_AddStringToObject(j, "build", cli_build_line());
    char *text = cJSON_PrintUnformatted(j);
    if (text)
        puts(text);
    free(text);
    cJSON_Delete(j);
}

/* A CSV field: quoted when it holds a comma, quote or line break (RFC 4180). */
static void csv_field(const char *s, bool last)
{
    if (strpbrk(s, ",\"\r\n")) {
        putchar('"');
        for (; *s; s++) {
            if (*s == '"')
                putchar('"');
            putchar(*s);
        }
        putchar('"');
    } else {
        fputs(s, stdout);
    }
    putchar(last ? '\n' : ',');
}

static void print_csv(const bench_opts *o, const row *r, bool header)
{
    if (header)
        puts(r->batch ? "engine,model,format,weights_requested,size_mb,params,threads,test,batch,"
                        "ms,stddev,tok_s,load_s,peak_rss_mb,build"
                      : "engine,model,format,weights_requested,size_mb,params,kv,threads,"
                        "parallel,test,tok_s,stddev,gb_s,load_s,peak_rss_mb,build");
    csv_field("slm", false);
    csv_field(o->dir, false);
    printf("%s,%s,%.1f,%zu,", r->format, r->requested, r->size_mb, r->params);
    if (r->batch) {
        printf("%d,", r->threads);
        csv_field(r->test, false);
        printf("%d,%.3f,%.3f,%.1f,", r->batch, r->ms.mean, r->ms.stddev, r->tps.mean);
    } else {
        printf("%s,%d,%d,", r->kv, r->threads, r->parallel ? r->parallel : 1);
        csv_field(r->test, false);
        printf("%.3f,%.3f,", r->tps.mean, r->tps.stddev);
        if (r->gb_s >= 0)
            printf("%.3f", r->gb_s);
        putchar(',');
    }
    printf("%.3f,%.1f,", r->load_s, r->rss_mb);
    csv_field(cli_build_line(), true);
}

static void print_md(const bench_opts *o, const row *r, bool header)
{
    if (header && r->batch)
        printf("%s\n\n| model | weights | size MB | params | threads | test | batch | ms | tok/s "
               "| load s | peak RSS MB |\n|---|---|---:|---:|---:|---|---:|---:|---:|---:|---:|\n",
               cli_build_line());
    else if (header)
        printf("%s\n\n| model | weights | size MB | params | kv | threads | test | tok/s | GB/s "
               "| load s | peak RSS MB |\n|---|---|---:|---:|---|---:|---|---:|---:|---:|---:|\n",
               cli_build_line());
    printf("| %s | %s | %.1f | %.2f M | ", o->dir, r->format, r->size_mb, r->params / 1e6);
    if (r->batch) {
        printf("%d | %s | %d | %.2f ± %.2f | %.1f |", r->threads, r->test, r->batch, r->ms.mean,
               r->ms.stddev, r->tps.mean);
    } else {
        printf("%s | %d | %s | %.2f ± %.2f | ", r->kv, r->threads, r->test, r->tps.mean,
               r->tps.stddev);
        if (r->gb_s >= 0)
            printf("%.1f", r->gb_s);
        printf(" |");
    }
    printf(" %.2f | %.0f |\n", r->load_s, r->rss_mb);
}

/* The row, then (--profile) its table on stderr and its JSON. */
static slm_status print_row(const bench_opts *o, const row *r, bool *header_done,
                            slm_error *err)
{
    bool header = !*header_done;
    *header_done = true;
    if (o->out == OUT_JSON)
        print_json(o, r);
    else if (o->out == OUT_CSV)
        print_csv(o, r, header);
    else
        print_md(o, r, header);
    fflush(stdout);
    if (o->pf && !cli_profile_report("bench", o->prof, o->pf, r->test))
        return slm_fail(err, SLM_ERR_IO, "--profile-json %s: the profile of %s was not written",
                        o->prof->json_path, r->test);
    return SLM_OK;
}

/* tgN xP rows: P sessions in one batch, for each P of --parallel. */
static slm_status bench_parallel(const bench_opts *o, slm_model *m, row r, int n_ctx,
                                 const int32_t *ids, bool *header, slm_error *err)
{
    int max_p = 1;
    for (int i = 0; i < o->parallel.n; i++)
        max_p = o->parallel.v[i] > max_p ? (int)o->parallel.v[i] : max_p;
    slm_session *ss[256] = {0};
    slm_batch *b = NULL;
    slm_status st = slm_batch_new(m, max_p > 512 ? max_p : 0, &b, err);
    for (int i = 0; st == SLM_OK && i < max_p; i++)
        st = slm_session_new(m, n_ctx, &ss[i], err);
    if (st == SLM_OK)
        slm_batch_set_threads(b, r.threads, r.threads);
    char name[48];
    for (int i = 0; st == SLM_OK && i < o->parallel.n; i++) {
        r.parallel = (int)o->parallel.v[i];
        snprintf(name, sizeof name, "tg%ld x%d", o->n_gen, r.parallel);
        r.test = name;
        st = measure_parallel(b, ss, r.parallel, ids, (int)o->n_gen, (int)o->reps, o->pf,
                              &r.tps, err);
        /* the weights are read once per step for all P sequences */
        r.gb_s = r.tps.mean / r.parallel * (double)slm_model_weight_bytes(m) / 1e9;
        r.rss_mb = peak_rss_mb();
        if (st == SLM_OK)
            st = print_row(o, &r, header, err);
    }
    for (int i = 0; i < max_p; i++)
        slm_session_free(ss[i]);
    slm_batch_free(b);
    return st;
}

static slm_status bench_model(const bench_opts *o, slm_model *m, row base, int32_t *ids,
                              bool *header, slm_error *err)
{
    slm_session *s = NULL;
    int max_p = 1;
    for (int i = 0; i < o->prompts.n; i++)
        max_p = o->prompts.v[i] > max_p ? (int)o->prompts.v[i] : max_p;
    int n_ctx = (max_p > (int)o->n_gen + 1 ? max_p : (int)o->n_gen + 1) + 1;
    if (n_ctx > slm_model_max_positions(m))
        return slm_fail(err, SLM_ERR_RANGE,
                        "%s: -p %d / -n %ld need %d positions, the model has %d", o->dir, max_p,
                        o->n_gen, n_ctx, slm_model_max_positions(m));
    TRY(slm_session_new(m, n_ctx, &s, err));
    slm_status st = SLM_OK;
    for (int t = 0; st == SLM_OK && t < o->threads.n; t++) {
        slm_session_set_threads(s, (int)o->threads.v[t], (int)o->threads.v[t]);
        row r = base;
        r.threads = (int)o->threads.v[t];
        char name[32];
        for (int p = 0; st == SLM_OK && p < o->prompts.n; p++) {
            if (o->prompts.v[p] == 0)
                continue;
            snprintf(name, sizeof name, "pp%ld", o->prompts.v[p]);
            r.test = name;
            st = measure(s, ids, (int)o->prompts.v[p], false, (int)o->reps, o->pf, &r.tps,
                         err);
            r.gb_s = -1; /* compute-bound: a bandwidth figure would mean nothing */
            r.rss_mb = peak_rss_mb();
            if (st == SLM_OK)
                st = print_row(o, &r, header, err);
        }
        if (st == SLM_OK && o->n_gen > 0) {
            snprintf(name, sizeof name, "tg%ld", o->n_gen);
            r.test = name;
            st = measure(s, ids, (int)o->n_gen, true, (int)o->reps, o->pf, &r.tps, err);
            r.gb_s = r.tps.mean * (double)slm_model_weight_bytes(m) / 1e9;
            r.rss_mb = peak_rss_mb();
            if (st == SLM_OK)
                st = print_row(o, &r, header, err);
        }
        if (st == SLM_OK && o->n_gen > 0 && o->parallel.n > 0)
            st = bench_parallel(o, m, r, n_ctx, ids, header, err);
    }
    slm_session_free(s);
    return st;
}

/* ============================================================ classifiers */

static slm_status classify_once(slm_model *m, const int32_t *ids, const int *lens, int b,
                                float *logits, slm_profile *pf, double *secs, slm_error *err)
{
    double t0 = now_s();
    slm_status st = slm_classify_ids_profiled(m, ids, lens, b, logits, pf, err);
    *secs = now_s() - t0;
    return st;
}

/* clsN rows: ms per batch of B sequences of N ids, mean ± stddev. */
/* A model's thread counts are fixed at load (it may be shared read-only), so
   every thread count after the first measures a model loaded with it. */
static slm_status bench_classifier(const bench_opts *o, const slm_load_options *lo,
                                   slm_model *first, row base, const int32_t *ids, bool *header,
                                   slm_error *err)
{
    int len = o->prompts.n ? (int)o->prompts.v[0] : 128, max_b = 1;
    for (int i = 0; i < o->batches.n; i++)
        max_b = o->batches.v[i] > max_b ? (int)o->batches.v[i] : max_b;
    int *lens = malloc(sizeof *lens * (size_t)max_b);
    float *logits = malloc(sizeof *logits * (size_t)max_b * (size_t)slm_model_n_labels(first));
    slm_status st = lens && logits ? SLM_OK : slm_fail_nomem(err, "bench batch");
    if (st == SLM_OK && (size_t)max_b * (size_t)len > MAX_TOKENS)
        st = slm_fail(err, SLM_ERR_INVALID_ARG,
                      "bench: -b %d x -p %d is %zu tokens per batch, above the %d ids prepared",
                      max_b, len, (size_t)max_b * (size_t)len, MAX_TOKENS);
    for (int i = 0; st == SLM_OK && i < max_b; i++)
        lens[i] = len;
    for (int t = 0; st == SLM_OK && t < o->threads.n; t++) {
        slm_model *m = first;
        if (t > 0) {
            slm_load_options lt = *lo;
            lt.n_threads = lt.n_threads_batch = (int)o->threads.v[t];
            st = slm_model_load(o->dir, &lt, &m, err);
        }
        for (int bi = 0; st == SLM_OK && bi < o->batches.n; bi++) {
            int b = (int)o->batches.v[bi];
            double secs, sum = 0, sum2 = 0;
            st = classify_once(m, ids, lens, b, logits, NULL, &secs, err); /* warm-up */
            if (o->pf)
                slm_profile_reset(o->pf);
            for (int r = 0; st == SLM_OK && r < o->reps; r++) {
                st = classify_once(m, ids, lens, b, logits, o->pf, &secs, err);
                sum += secs * 1e3;
                sum2 += secs * secs * 1e6;
            }
            double mean = sum / o->reps;
            double sd = o->reps > 1 ? sqrt(fmax(0.0, (sum2 - sum * sum / o->reps) / (o->reps - 1)))
                                    : 0.0;
            char name[32];
            snprintf(name, sizeof name, "cls%d", len);
            row r = base;
            r.threads = (int)o->threads.v[t];
            r.test = name;
            r.batch = b;
            r.ms = (stat){mean, sd};
            r.tps.mean = b * len / (mean / 1e3);
            r.gb_s = -1;
            r.rss_mb = peak_rss_mb();
            if (st == SLM_OK)
                st = print_row(o, &r, header, err);
        }
        if (m != first)
            slm_model_free(m);
    }
    free(lens);
    free(logits);
    return st;
}

/* What --weights FMT computes with: FMT itself, or for auto the type most
   of the checkpoint's parameters are stored as ("bf16", "q4_0"). */
static const char *computed_format(slm_weights_format f, const char *auto_format)
{
    return f == SLM_WEIGHTS_AUTO ? auto_format : slm_weights_format_name(f);
}

/* The checkpoint's parameter count, main type and data bytes, from its
   headers. */
static slm_status checkpoint_summary(const char *dir, size_t *params, char *type, size_t cap,
                                     size_t *bytes, slm_error *err)
{
    slm_safetensors *st = NULL;
    const char *main_type;
    TRY(slm_safetensors_open_dir(dir, true, &st, err));
    *params = cli_checkpoint_params(st, &main_type);
    size_t i = 0;
    for (; main_type[i] && i + 1 < cap; i++) /* "BF16" -> "bf16", as --weights spells it */
        type[i] = (char)tolower((unsigned char)main_type[i]);
    type[i] = '\0';
    *bytes = slm_safetensors_data_bytes(st);
    slm_safetensors_free(st);
    return SLM_OK;
}

static int run_bench(const bench_opts *o)
{
    bool header = false;
    slm_error err = {0};
    size_t params = 0, file_bytes = 0;
    char auto_format[16];
    if (checkpoint_summary(o->dir, &params, auto_format, sizeof auto_format, &file_bytes,
                           &err) != SLM_OK)
        return cli_report_model(o->dir, &err);
    for (int w = 0; w < o->n_weights; w++) {
        for (int k = 0; k < o->n_kv; k++) {
            slm_load_options lo = cli_load_defaults();
            lo.use_mmap = o->use_mmap;
            lo.weights = o->weights[w];
            lo.kv = o->kv[k];
            lo.n_threads = lo.n_threads_batch = (int)o->threads.v[0];
            slm_model *m = NULL;
            double t0 = now_s();
            if (slm_model_load(o->dir, &lo, &m, &err) != SLM_OK)
                return cli_report_model(o->dir, &err);
            row base = {.format = computed_format(o->weights[w], auto_format),
                        .requested = slm_weights_format_name(o->weights[w]),
                        .kv = slm_kv_format_name(o->kv[k]),
                        /* a decoder: the weights as computed with (what GB/s
                           counts); a classifier reads all of them per batch */
                        .size_mb = (slm_model_n_labels(m) > 0 ? file_bytes
                                                              : slm_model_weight_bytes(m)) / 1e6,
                        .params = params,
                        .load_s = now_s() - t0};
            int n_ids = MAX_TOKENS + 2;
            int32_t *ids = malloc(sizeof *ids * (size_t)n_ids);
            slm_status st = ids ? SLM_OK : slm_fail_nomem(&err, "bench ids");
            if (st == SLM_OK && slm_model_vocab_size(m) < 2)
                st = slm_fail(&err, SLM_ERR_UNSUPPORTED,
                              "%s: vocab_size %d: bench needs at least 2 token ids", o->dir,
                              slm_model_vocab_size(m));
            if (st == SLM_OK) {
                fill_ids(ids, n_ids, slm_model_vocab_size(m));
                st = slm_model_n_labels(m) > 0
                         ? bench_classifier(o, &lo, m, base, ids, &header, &err)
                                               : bench_model(o, m, base, ids, &header, &err);
            }
            free(ids);
            slm_model_free(m);
            if (st != SLM_OK)
                return cli_report_model(o->dir, &err);
        }
    }
    return CLI_OK;
}

int cmd_bench(int argc, char **argv)
{
    bench_opts o = {.dir = cli_default_model_dir(),
                    .prompts = {{128, 512}, 2},
                    .batches = {{1, 8}, 2},
                    .n_gen = 64,
                    .reps = 5,
                    .weights = {SLM_WEIGHTS_AUTO},
                    .n_weights = 1,
                    .kv = {SLM_KV_F32},
                    .n_kv = 1};
    cli_profile prof = {0};
    o.prof = &prof;
    o.threads.n = 1;
    o.threads.v[0] = cli_default_threads();
    int rc = parse_bench(argc, argv, &o);
    if (rc >= 0)
        return rc;
    if (!cli_profile_new("bench", &prof, &o.pf))
        return CLI_FAIL;
    rc = run_bench(&o);
    if (!cli_profile_close("bench", &prof) && rc == CLI_OK)
        rc = CLI_FAIL;
    slm_profile_free(o.pf);
    return rc;
}
