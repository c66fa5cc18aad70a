/*
 * route.c — `slm route`: one query (or a file of them with --batch)
 * answered by the hybrid router of engine/route/: locally or by the remote
 * OpenAI-compatible model, as router.json's policy says, with the answer
 * streamed, --explain's account on stderr or --json's object on stdout.
 * Exit 0 when answered, 1 with one line when neither side could answer.
 * The API key (from the variable the config names) is never printed.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "router.h"

int cmd_route(int argc, char **argv);

static void route_help(FILE *f)
{
    fprintf(f,
            "usage: slm route [--config F] [--explain] [--json] [--force local|remote]\n"
            "                 [--system S] [-n N] PROMPT\n"
            "       slm route [--config F] [--json] [--force ...] --batch FILE\n"
            "Answers PROMPT locally or with the remote model, as the router's config says\n"
            "(the classifier's label above its threshold: local; a prompt too long for the\n"
            "local context: remote), with fallbacks when one side fails.\n"
            "  --config F        router.json (default: $SLM_ROUTER_CONFIG, else\n"
            "                    weights/router.json)\n"
            "  --explain         on stderr: route, classifier label and score, reason,\n"
            "                    latency, tokens, cost and what it would have cost remotely\n"
            "  --json            print one JSON object instead of the streamed answer\n"
            "  --force SIDE      local or remote, whatever the classifier says\n"
            "  --system S        a system message before the prompt\n"
            "  -n N              max tokens of the answer (default: the config's, per side)\n"
            "  --batch FILE      one query per line; a line per query and a summary:\n"
            "                    share kept local, cost, cost had all gone remote, savings,\n"
            "                    p50/p95 latency per route\n");
}

/* The config path: --config, $SLM_ROUTER_CONFIG, ./weights/router.json,
 * else the source tree's weights/router.json. */
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

typedef struct {
    const char *config;
    bool explain, json;
    slm_route_force force;
    const char *system;
    long max_tokens;
    const char *batch;
    const char *prompt;
} route_opts;

static int parse_opts(int argc, char **argv, route_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (cli_is_help(a)) {
            route_help(stdout);
            return -1;
        } else if (strcmp(a, "--config") == 0) {
            if (!(o->config = cli_value("route", argc, argv, &i)))
                return CLI_USAGE;
        } else if (strcmp(a, "--explain") == 0) {
            o->explain = true;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--force") == 0) {
            if (!(v = cli_value("route", argc, argv, &i)))
                return CLI_USAGE;
            if (!slm_route_force_parse(v, &o->force)) {
                fprintf(stderr, "slm route: --force: expected local or remote, not '%s'\n", v);
                return CLI_USAGE;
            }
        } else if (strcmp(a, "--system") == 0) {
            if (!(o->system = cli_value("route", argc, argv, &i)))
                return CLI_USAGE;
        } else if (strcmp(a, "-n") == 0) {
            if (!(v = cli_value("route", argc, argv, &i)) ||
                !cli_int("route", "-n", v, 1, 1 << 20, &o->max_tokens))
                return CLI_USAGE;
        } else if (strcmp(a, "--batch") == 0) {
            if (!(o->batch = cli_value("route", argc, argv, &i)))
                return CLI_USAGE;
        } else if (a[0] == '-' && a[1] && strcmp(a, "--") != 0) {
            return cli_unknown("route", a);
        } else {
            if (strcmp(a, "--") == 0 && ++i >= argc)
                break;
            if (o->prompt) {
                fprintf(stderr, "slm route: one PROMPT only (quote it)\n");
                return CLI_USAGE;
            }
            o->prompt = argv[i];
        }
    }
    if (!o->batch == !o->prompt) {
        fprintf(stderr, o->batch ? "slm route: give a PROMPT or --batch FILE, not both\n"
                                 : "slm route: a PROMPT is required (or --batch FILE)\n");
        return CLI_USAGE;
    }
    return CLI_OK;
}

static bool print_text(void *user, const char *text, size_t len)
{
    (void)user;
    fwrite(text, 1, len, stdout);
    fflush(stdout);
    return true;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s && s[1] ? s + 1 : path;
}

static void explain(const slm_router_config *c, const slm_route_result *r)
{
    fprintf(stderr, "route:      %s%s\n", slm_route_side_name(r->route),
            r->fallback ? " (fallback)" : "");
    fprintf(stderr, "reason:     %s\n", r->reason);
    if (r->classified)
        fprintf(stderr, "classifier: %s %.3f (local when %s > %.2f)\n", r->label, r->score,
                c->classifier.label, c->classifier.threshold);
    else
        fprintf(stderr, "classifier: not run\n");
    fprintf(stderr, "latency:    %.0f ms\n", r->latency_ms);
    fprintf(stderr, "tokens:     %d in, %d out%s\n", r->prompt_tokens, r->completion_tokens,
            r->usage_estimated ? " (estimated with the local tokenizer)" : "");
    fprintf(stderr, "attempts:   %d remote request%s\n", r->attempts, r->attempts == 1 ? "" : "s");
    fprintf(stderr, "cost:       $%.8f (%s: $%.2f / $%.2f per 1M in / out)\n", r->cost_usd,
            r->route == SLM_ROUTE_LOCAL ? base_name(c->local.model) : c->remote.model,
            r->route == SLM_ROUTE_LOCAL ? c->local.price_in : c->remote.price_in,
            r->route == SLM_ROUTE_LOCAL ? c->local.price_out : c->remote.price_out);
    fprintf(stderr, "if remote:  $%.8f (%s)%s", r->cost_if_remote_usd, c->remote.model,
            r->route == SLM_ROUTE_LOCAL ? "" : "\n");
    if (r->route == SLM_ROUTE_LOCAL)
        fprintf(stderr, ", saved $%.8f\n", r->cost_if_remote_usd - r->cost_usd);
}

static void print_json(const slm_route_result *r)
{
    cJSON *o = slm_route_result_json(r, true);
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    if (s)
        printf("%s\n", s);
    else
        fprintf(stderr, "slm route: out of memory printing the result\n");
    fflush(stdout);
    free(s);
    cJSON_Delete(o);
}

static int route_one(slm_router *router, const route_opts *o)
{
    const slm_router_config *c = slm_router_config_of(router);
    slm_route_result r;
    slm_router_answer(router, o->system, o->prompt, o->force, (int)o->max_tokens,
                      o->json ? NULL : print_text, NULL, &r);
    if (!o->json && r.len > 0 && r.answer[r.len - 1] != '\n')
        putchar('\n');
    fflush(stdout); /* the answer before --explain's lines on a shared terminal */
    if (o->json)
        print_json(&r);
    if (o->explain)
        explain(c, &r);
    int rc = r.answered ? CLI_OK : CLI_FAIL;
    if (!r.answered)
        fprintf(stderr, "slm route: %s\n", r.error);
    slm_route_result_free(&r);
    return rc;
}

/* ------------------------------------------------------------ --batch */

typedef struct {
    size_t n, answered, local, fallbacks;
    double cost, cost_remote;
    double *lat[2];
    size_t n_lat[2];
} batch_sum;

static void batch_line(size_t i, const slm_route_result *r)
{
    char preview[61];
    size_t n = 0;
    for (size_t k = 0; k < r->len && n < sizeof preview - 1; k++)
        preview[n++] = r->answer[k] == '\n' || r->answer[k] == '\t' ? ' ' : r->answer[k];
    preview[n] = '\0';
    printf("%zu\t%s%s\t%.0f ms\t$%.8f\t(remote $%.8f)\t%s\t%s\n", i + 1,
           slm_route_side_name(r->route), r->fallback ? "+fallback" : "", r->latency_ms,
           r->cost_usd, r->cost_if_remote_usd, r->answered ? "ok" : "FAILED",
           r->answered ? preview : r->error);
}

static void batch_summary(batch_sum *s, bool json)
{
    double saved = s->cost_remote - s->cost;
    double share = s->answered ? (double)s->local / (double)s->answered : 0;
    double p[2][2];
    for (int k = 0; k < 2; k++) {
        p[k][0] = slm_percentile(s->lat[k], s->n_lat[k], 50);
        p[k][1] = slm_percentile(s->lat[k], s->n_lat[k], 95);
    }
    if (json) {
        printf("{\"summary\":{\"queries\":%zu,\"answered\":%zu,\"local\":%zu,\"remote\":%zu,"
               "\"fallbacks\":%zu,\"local_share\":%.4f,\"cost_usd\":%.10g,"
               "\"cost_if_remote_usd\":%.10g,\"savings_usd\":%.10g,\"savings_share\":%.4f,"
               "\"latency_ms\":{\"local\":{\"p50\":%.1f,\"p95\":%.1f},"
               "\"remote\":{\"p50\":%.1f,\"p95\":%.1f}}}}\n",
               s->n, s->answered, s->local, s->answered - s->local, s->fallbacks, share, s->cost,
               s->cost_remote, saved, s->cost_remote > 0 ? saved / s->cost_remote : 0, p[0][0],
               p[0][1], p[1][0], p[1][1]);
        return;
    }
    printf("\nqueries %zu, answered %zu, kept local %zu (%.1f%%), fallbacks %zu\n", s->n,
           s->answered, s->local, 100 * share, s->fallbacks);
    printf("cost $%.8f; had everything gone remote $%.8f; saved $%.8f (%.1f%%)\n", s->cost,
           s->cost_remote, saved, s->cost_remote > 0 ? 100 * saved / s->cost_remote : 0);
    printf("latency local  p50 %.0f ms  p95 %.0f ms  (%zu)\n", p[0][0], p[0][1], s->n_lat[0]);
    printf("latency remote p50 %.0f ms  p95 %.0f ms  (%zu)\n", p[1][0], p[1][1], s->n_lat[1]);
}

static int route_batch(slm_router *router, const route_opts *o)
{
    FILE *f = strcmp(o->batch, "-") == 0 ? stdin : fopen(o->batch, "r");
    if (!f) {
        fprintf(stderr, "slm route: --batch %s: cannot open\n", o->batch);
        return CLI_FAIL;
    }
    batch_sum s = {0};
    char *line = NULL;
    size_t cap = 0, len;
    int rd, rc = CLI_OK;
    for (long no = 1; (rd = cli_read_line(f, "route", o->batch, no, &line, &cap, &len)) != 0; no++) {
        if (rd < 0) {
            rc = CLI_FAIL;
            break;
        }
        if (len == 0)
            continue;
        slm_route_result r;
        slm_router_answer(router, o->system, line, o->force, (int)o->max_tokens, NULL, NULL, &r);
        if (o->json)
            print_json(&r);
        else
            batch_line(s.n, &r);
        fflush(stdout);
        s.n++;
        if (r.answered) {
            int k = r.route == SLM_ROUTE_LOCAL ? 0 : 1;
            double *grown = realloc(s.lat[k], (s.n_lat[k] + 1) * sizeof *grown);
            if (grown) {
                s.lat[k] = grown;
                s.lat[k][s.n_lat[k]++] = r.latency_ms;
            }
            s.answered++;
            s.local += r.route == SLM_ROUTE_LOCAL;
            s.fallbacks += r.fallback;
            s.cost += r.cost_usd;
            s.cost_remote += r.cost_if_remote_usd;
        }
        slm_route_result_free(&r);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    batch_summary(&s, o->json);
    free(s.lat[0]);
    free(s.lat[1]);
    if (rc == CLI_OK && s.answered < s.n)
        rc = CLI_FAIL;
    return rc;
}

int cmd_route(int argc, char **argv)
{
    route_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc != CLI_OK)
        return rc < 0 ? CLI_OK : rc;
    char buf[4096];
    const char *path = config_path(o.config, buf, sizeof buf);
    slm_router_config cfg;
    slm_error err;
    if (slm_router_config_load(path, &cfg, &err) != SLM_OK) {
        fprintf(stderr, "slm route: %s\n", err.msg);
        return CLI_FAIL;
    }
    slm_router *router;
    if (slm_router_new(&cfg, &router, &err) != SLM_OK) {
        slm_router_config_free(&cfg);
        return cli_report(&err);
    }
    rc = o.batch ? route_batch(router, &o) : route_one(router, &o);
    slm_router_free(router);
    slm_router_config_free(&cfg);
    return rc;
}
