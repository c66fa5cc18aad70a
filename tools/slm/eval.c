/*
 * eval.c — `slm eval`: "start with an LLM baseline, then see whether a small
 * model matches it" as one command. Every prompt of a file is answered by
 * the local and by the remote model of a router config (no fallbacks), and
 * the result is the usual cost comparison: prices, cost of N requests a day
 * for 30 days, latency p50/p95, agreement between the answers (exact match
 * for short label-like answers, token F1 otherwise; --judge: the remote
 * model grades each local answer 1-10 with engine/route/judge.c's prompt),
 * and the share the router would keep local with the cost that gives.
 * Markdown on stdout, or --json. The API key is never printed.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "judge.h"
#include "report.h"
#include "router.h"

int cmd_eval(int argc, char **argv);

static void eval_help(FILE *f)
{
    fprintf(f,
            "usage: slm eval [--config F] --prompts FILE [--per-day N] [--judge] [--json]\n"
            "                [--system S] [-n N]\n"
            "Answers every prompt of FILE (one per line) with the local and the remote model\n"
            "of the router config and prints the cost comparison: price per 1M tokens, cost of\n"
            "N requests/day for 30 days, latency p50/p95, agreement of the answers, and the\n"
            "share the router would keep local with the cost that gives.\n"
            "  --config F    router.json (default: $SLM_ROUTER_CONFIG, else weights/router.json)\n"
            "  --prompts F   the prompts, one per line (tests/route/eval_prompts.txt is one)\n"
            "  --per-day N   requests a day for the monthly figures (default 10000)\n"
            "  --judge       the remote model grades each local answer 1-10 against its own\n"
            "  --json        one JSON object instead of the markdown table\n"
            "  --system S    a system message before every prompt\n"
            "  -n N          max tokens of every answer (default: the config's, per side)\n");
}

typedef struct {
    size_t n, answered;
    double tokens_in, tokens_out, cost;
    double *lat;
} side_sum;

typedef struct {
    side_sum side[2]; /* local, remote */
    size_t compared, exact_n, judged, kept_local, decided;
    double agree_sum, exact_sum, f1_sum, grade_sum, router_cost;
    int f1_n;
} eval_sum;

static void add_side(side_sum *s, const slm_route_result *r)
{
    s->n++;
    if (!r->answered)
        return;
    s->lat[s->answered++] = r->latency_ms;
    s->tokens_in += r->prompt_tokens;
    s->tokens_out += r->completion_tokens;
    s->cost += r->cost_usd;
}

/* The side the router would pick for this prompt (classifier + context). */
static bool router_choice(slm_router *router, const char *prompt, const slm_route_result *local,
                          slm_route_side *side)
{
    slm_route_facts f = {0};
    const slm_router_config *c = slm_router_config_of(router);
    if (local->answered) {
        f.counted = true;
        f.n_prompt = local->prompt_tokens;
        f.n_ctx = slm_router_local_ctx(router);
    }
    slm_error err;
    bool overflow = f.counted && (long long)f.n_prompt + c->local.max_tokens > f.n_ctx;
    if (c->classifier.present && !overflow && slm_router_classify(router, prompt, &f, &err) != SLM_OK) {
        fprintf(stderr, "slm eval: %s\n", err.msg);
        return false;
    }
    char why[512];
    *side = slm_route_decide(c, SLM_FORCE_NONE, &f, why, sizeof why);
    return true;
}

static int judge(slm_router *router, const char *prompt, const slm_route_result *remote,
                 const slm_route_result *local)
{
    char *q = slm_judge_prompt(prompt, remote->answer, local->answer);
    if (!q)
        return -1;
    slm_route_result g;
    slm_router_answer(router, NULL, q, SLM_FORCE_REMOTE, 16, NULL, NULL, &g);
    int grade = g.answered ? slm_judge_parse_grade(g.answer) : -1;
    slm_route_result_free(&g);
    free(q);
    return grade;
}

static double mean(double sum, size_t n)
{
    return n ? sum / (double)n : 0;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

static void print_markdown(const slm_router_config *c, eval_sum *s, long per_day, bool judged)
{
    side_sum *L = &s->side[0], *R = &s->side[1];
    double month = (double)per_day * 30;
    printf("## slm eval: %zu prompts, local %s vs remote %s\n\n", L->n, base_name(c->local.model),
           c->remote.model);
    printf("| | local (%s) | remote (%s) |\n|---|---:|---:|\n", base_name(c->local.model),
           c->remote.model);
    printf("| price per 1M input tokens | $%.2f | $%.2f |\n", c->local.price_in, c->remote.price_in);
    printf("| price per 1M output tokens | $%.2f | $%.2f |\n", c->local.price_out, c->remote.price_out);
    printf("| mean tokens in / out | %.1f / %.1f | %.1f / %.1f |\n", mean(L->tokens_in, L->answered),
           mean(L->tokens_out, L->answered), mean(R->tokens_in, R->answered),
           mean(R->tokens_out, R->answered));
    printf("| cost per request | $%.8f | $%.8f |\n", mean(L->cost, L->answered), mean(R->cost, R->answered));
    printf("| cost of %ld req/day for 30 days | $%.2f | $%.2f |\n", per_day,
           mean(L->cost, L->answered) * month, mean(R->cost, R->answered) * month);
    double lp50 = slm_percentile(L->lat, L->answered, 50), lp95 = slm_percentile(L->lat, L->answered, 95);
    double rp50 = slm_percentile(R->lat, R->answered, 50), rp95 = slm_percentile(R->lat, R->answered, 95);
    printf("| latency p50 / p95 | %.0f / %.0f ms | %.0f / %.0f ms |\n", lp50, lp95, rp50, rp95);
    printf("| answered | %zu/%zu | %zu/%zu |\n\n", L->answered, L->n, R->answered, R->n);
    printf("agreement (local vs remote, %zu pairs): %.3f mean; exact match on %zu short answers: "
           "%.3f; token F1 on %d others: %.3f\n",
           s->compared, mean(s->agree_sum, s->compared), s->exact_n, mean(s->exact_sum, s->exact_n),
           s->f1_n, mean(s->f1_sum, (size_t)s->f1_n));
    if (judged)
        printf("judge (%s grades the local answer 1-10): %.2f mean over %zu\n", c->remote.model,
               mean(s->grade_sum, s->judged), s->judged);
    double all_remote = mean(R->cost, R->answered) * month;
    double routed = mean(s->router_cost, s->decided) * month;
    printf("router: keeps %zu/%zu (%.1f%%) local -> $%.2f for 30 days at %ld req/day "
           "(all remote $%.2f, saves %.1f%%)\n",
           s->kept_local, s->decided, 100 * mean((double)s->kept_local, s->decided), routed, per_day,
           all_remote, all_remote > 0 ? 100 * (all_remote - routed) / all_remote : 0);
}

static cJSON *side_json(const side_sum *s, double price_in, double price_out, const char *model,
                        double month)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model", model);
    cJSON_AddNumberToObject(o, "price_in", price_in);
    cJSON_AddNumberToObject(o, "price_out", price_out);
    cJSON_AddNumberToObject(o, "answered", (double)s->answered);
    cJSON_AddNumberToObject(o, "mean_prompt_tokens", mean(s->tokens_in, s->answered));
    cJSON_AddNumberToObject(o, "mean_completion_tokens", mean(s->tokens_out, s->answered));
    cJSON_AddNumberToObject(o, "cost_per_request_usd", mean(s->cost, s->answered));
    cJSON_AddNumberToObject(o, "cost_30_days_usd", mean(s->cost, s->answered) * month);
    cJSON_AddNumberToObject(o, "latency_p50_ms", slm_percentile(s->lat, s->answered, 50));
    cJSON_AddNumberToObject(o, "latency_p95_ms", slm_percentile(s->lat, s->answered, 95));
    return o;
}

static void print_json(const slm_router_config *c, eval_sum *s, long per_day, bool judged)
{
    double month = (double)per_day * 30;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "prompts", (double)s->side[0].n);
    cJSON_AddNumberToObject(o, "per_day", (double)per_day);
    cJSON_AddItemToObject(o, "local", side_json(&s->side[0], c->local.price_in, c->local.price_out,
                                                base_name(c->local.model), month));
    cJSON_AddItemToObject(o, "remote", side_json(&s->side[1], c->remote.price_in,
                                                 c->remote.price_out, c->remote.model, month));
    cJSON *a = cJSON_AddObjectToObject(o, "agreement");
    cJSON_AddNumberToObject(a, "pairs", (double)s->compared);
    cJSON_AddNumberToObject(a, "mean", mean(s->agree_sum, s->compared));
    cJSON_AddNumberToObject(a, "exact_match_n", (double)s->exact_n);
    cJSON_AddNumberToObject(a, "exact_match", mean(s->exact_sum, s->exact_n));
    cJSON_AddNumberToObject(a, "token_f1_n", s->f1_n);
    cJSON_AddNumberToObject(a, "token_f1", mean(s->f1_sum, (size_t)s->f1_n));
    if (judged) {
        cJSON_AddNumberToObject(a, "judge_n", (double)s->judged);
        cJSON_AddNumberToObject(a, "judge_mean", mean(s->grade_sum, s->judged));
    }
    cJSON *r = cJSON_AddObjectToObject(o, "router");
    double all_remote = mean(s->side[1].cost, s->side[1].answered) * month;
    double routed = mean(s->router_cost, s->decided) * month;
    cJSON_AddNumberToObject(r, "kept_local", (double)s->kept_local);
    cJSON_AddNumberToObject(r, "decided", (double)s->decided);
    cJSON_AddNumberToObject(r, "local_share", mean((double)s->kept_local, s->decided));
    cJSON_AddNumberToObject(r, "cost_30_days_usd", routed);
    cJSON_AddNumberToObject(r, "savings_share", all_remote > 0 ? (all_remote - routed) / all_remote : 0);
    char *txt = cJSON_PrintUnformatted(o);
    if (txt)
        printf("%s\n", txt);
    free(txt);
    cJSON_Delete(o);
}

typedef struct {
    const char *config, *prompts, *system;
    long per_day, max_tokens;
    bool judge, json;
} eval_opts;

static int parse_opts(int argc, char **argv, eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->per_day = 10000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is_help(a)) {
            eval_help(stdout);
            return -1;
        } else if (strcmp(a, "--config") == 0) {
            if (!(o->config = cli_value("eval", argc, argv, &i)))
                return CLI_USAGE;
        } else if (strcmp(a, "--prompts") == 0) {
            if (!(o->prompts = cli_value("eval", argc, argv, &i)))
                return CLI_USAGE;
        } else if (strcmp(a, "--system") == 0) {
            if (!(o->system = cli_value("eval", argc, argv, &i)))
                return CLI_USAGE;
        } else if (strcmp(a, "--per-day") == 0) {
            if (!(v = cli_value("eval", argc, argv, &i)) ||
                !cli_int("eval", "--per-day", v, 1, 1000000000L, &o->per_day))
                return CLI_USAGE;
        } else if (strcmp(a, "-n") == 0) {
            if (!(v = cli_value("eval", argc, argv, &i)) ||
                !cli_int("eval", "-n", v, 1, 1 << 20, &o->max_tokens))
                return CLI_USAGE;
        } else if (strcmp(a, "--judge") == 0) {
            o->judge = true;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else {
            return cli_unknown("eval", a);
        }
    }
    if (!o->prompts) {
        fprintf(stderr, "slm eval: --prompts FILE is required\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

static const char *config_path(const char *given, char *buf, size_t cap)
{
    if (given)
        return given;
    const char *env = getenv("SLM_ROUTER_CONFIG");
    if (env && *env)
        return env;
    FILE *f = fopen("weights/router.json", "r");
    if (f) {
        fclose(f);
        return "weights/router.json";
    }
    snprintf(buf, cap, "%s", SLM_DEFAULT_MODEL_DIR);
    char *slash = strrchr(buf, '/');
    if (slash)
        snprintf(slash + 1, cap - (size_t)(slash + 1 - buf), "router.json");
    return buf;
}

/* One prompt through both sides; false when the run must stop. */
static bool eval_prompt(slm_router *router, const eval_opts *o, const char *prompt, eval_sum *s)
{
    slm_route_result L, R;
    slm_router_answer(router, o->system, prompt, SLM_FORCE_LOCAL, (int)o->max_tokens, NULL, NULL, &L);
    slm_router_answer(router, o->system, prompt, SLM_FORCE_REMOTE, (int)o->max_tokens, NULL, NULL, &R);
    add_side(&s->side[0], &L);
    add_side(&s->side[1], &R);
    if (!L.answered)
        fprintf(stderr, "slm eval: local failed on \"%.40s\": %s\n", prompt, L.error);
    if (!R.answered)
        fprintf(stderr, "slm eval: remote failed on \"%.40s\": %s\n", prompt, R.error);
    if (L.answered && R.answered) {
        bool exact;
        double a = slm_agreement(L.answer, R.answer, &exact);
        s->compared++;
        s->agree_sum += a;
        if (exact) {
            s->exact_n++;
            s->exact_sum += a;
        } else {
            s->f1_n++;
            s->f1_sum += a;
        }
        int g = o->judge ? judge(router, prompt, &R, &L) : -1;
        if (g > 0) {
            s->judged++;
            s->grade_sum += g;
        }
    }
    slm_route_side side;
    bool ok = router_choice(router, prompt, &L, &side);
    if (ok && (side == SLM_ROUTE_LOCAL ? L.answered : R.answered)) {
        s->decided++;
        s->kept_local += side == SLM_ROUTE_LOCAL;
        s->router_cost += side == SLM_ROUTE_LOCAL ? L.cost_usd : R.cost_usd;
    }
    slm_route_result_free(&L);
    slm_route_result_free(&R);
    return ok;
}

int cmd_eval(int argc, char **argv)
{
    eval_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    char buf[4096];
    slm_router_config cfg;
    slm_error err;
    if (slm_router_config_load(config_path(o.config, buf, sizeof buf), &cfg, &err) != SLM_OK) {
        fprintf(stderr, "slm eval: %s\n", err.msg);
        return CLI_FAIL;
    }
    cfg.fallback = false; /* each side answers for itself */
    FILE *f = fopen(o.prompts, "r");
    if (!f) {
        fprintf(stderr, "slm eval: --prompts %s: cannot open\n", o.prompts);
        slm_router_config_free(&cfg);
        return CLI_FAIL;
    }
    slm_router *router = NULL;
    if (slm_router_new(&cfg, &router, &err) != SLM_OK) {
        fclose(f);
        slm_router_config_free(&cfg);
        return cli_report(&err);
    }
    eval_sum s = {0};
    char *line = NULL;
    size_t cap = 0, len, n_lines = 0;
    int rd;
    rc = CLI_OK;
    for (long no = 1; (rd = cli_read_line(f, "eval", o.prompts, no, &line, &cap, &len)) != 0; no++) {
        if (rd < 0 || len == 0 || line[0] == '#') {
            if (rd < 0)
                rc = CLI_FAIL;
            if (rd < 0)
                break;
            continue;
        }
        for (int k = 0; k < 2; k++) {
            double *g = realloc(s.side[k].lat, (n_lines + 1) * sizeof *g);
            if (!g) {
                rc = CLI_FAIL;
                break;
            }
            s.side[k].lat = g;
        }
        if (rc != CLI_OK || !eval_prompt(router, &o, line, &s)) {
            rc = CLI_FAIL;
            break;
        }
        n_lines++;
    }
    free(line);
    fclose(f);
    if (rc == CLI_OK && n_lines == 0) {
        fprintf(stderr, "slm eval: %s: no prompts\n", o.prompts);
        rc = CLI_FAIL;
    }
    if (rc == CLI_OK) {
        if (o.json)
            print_json(&cfg, &s, o.per_day, o.judge);
        else
            print_markdown(&cfg, &s, o.per_day, o.judge);
        if (s.side[0].answered == 0 || s.side[1].answered == 0)
            rc = CLI_FAIL;
    }
    free(s.side[0].lat);
    free(s.side[1].lat);
    slm_router_free(router);
    slm_router_config_free(&cfg);
    return rc;
}
