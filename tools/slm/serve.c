/*
 * serve.c — `slm serve`: the OpenAI-compatible HTTP server (engine/serve/)
 * over one model. This file only parses options, prints the start-up lines
 * and the access log on stderr, and turns SIGINT/SIGTERM into a clean
 * shutdown (exit 0). Threads started before main (OpenBLAS' pool) do not
 * block the signals, so a handler records them too; the main thread waits
 * for them and checks that record.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "route_serve.h"
#include "serve.h"

/* Seconds a shutdown lets running generations go on before ending them. */
#define SHUTDOWN_GRACE_S 10.0
#define MAX_KEY_BYTES 4096

static void serve_help(FILE *f)
{
    fprintf(f,
            "usage: slm serve [-m DIR] [--host ADDR] [--port N] [--api-key KEY | --api-key-file F]\n"
            "                 [--parallel N] [--queue N] [--ctx N] [--timeout S] [--max-body BYTES]\n"
            "                 [--router F] [load options]\n"
            "An OpenAI-compatible HTTP server: POST /v1/chat/completions, /v1/completions\n"
            "(both with \"stream\": true as Server-Sent Events), GET /v1/models, GET /health,\n"
            "GET /metrics (Prometheus), POST /tokenize, /detokenize, /v1/classify.\n"
            "  -m, --model DIR      model folder (default: $SLM_MODEL or the bundled model)\n"
            "  --host ADDR          address to listen on (default 127.0.0.1, loopback only)\n"
            "  --port N             TCP port (default 8080; 0 = any free port, printed)\n"
            "  --api-key KEY        require Authorization: Bearer KEY (or X-Api-Key: KEY);\n"
            "                       /health and /metrics stay open. Also $SLM_API_KEY\n"
            "  --api-key-file F     the key is the first line of F\n"
            "  --parallel N         slots decoded together in one batch (default 4)\n"
            "  --queue N            requests waiting for a slot; beyond, 429 (default 64)\n"
            "  -c, --ctx N          context per slot (default: the model's positions)\n"
            "  --timeout S          end a request after S seconds (default 0 = none)\n"
            "  --max-body BYTES     largest request body; beyond, 413 (default 1048576)\n"
            "  --router F           the hybrid router of router.json F in front: the model is\n"
            "                       its local.model; chat \"model\": auto routes, local / remote\n"
            "                       force; answers carry \"slm\" (route, reason, cost)\n" CLI_LOAD_HELP
            "SIGINT/SIGTERM stop accepting, let running requests finish (up to 10 s), exit 0.\n"
            "One access-log line per request on stderr.\n");
}

/* The signal that asked to stop, from whichever thread received it (the
 * CLI's one piece of process state). */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

static void log_line(void *user, const char *line)
{
    (void)user;
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s %s\n", when, line);
}

/* The key from the first line of path (whitespace trimmed); never printed. */
static char *read_key_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "slm serve: --api-key-file %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char buf[MAX_KEY_BYTES + 2];
    size_t n = fgets(buf, sizeof buf, f) ? strlen(buf) : 0;
    fclose(f);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' ||
                     buf[n - 1] == '\t'))
        buf[--n] = '\0';
    if (n == 0 || n > MAX_KEY_BYTES) {
        fprintf(stderr, "slm serve: --api-key-file %s: the first line must hold the key "
                        "(1 to %d bytes)\n", path, MAX_KEY_BYTES);
        return NULL;
    }
    return strdup(buf);
}

typedef struct {
    slm_serve_config cfg;
    char *key; /* owned */
    const char *key_file;
    const char *router; /* router.json */
    bool model_given, ctx_given;
} serve_opts;

/* 1 parsed, 0 not a serve option, -1 usage error printed. */
static int serve_option(serve_opts *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v;
    long l;
    double d;
#define VALUE() if (!(v = cli_value("serve", argc, argv, i))) return -1
    if (!strcmp(a, "-m") || !strcmp(a, "--model")) {
        VALUE();
        o->cfg.model_dir = v;
        o->model_given = true;
    } else if (!strcmp(a, "--host")) {
        VALUE();
        o->cfg.host = v;
    } else if (!strcmp(a, "--port")) {
        VALUE();
        if (!cli_int("serve", a, v, 0, 65535, &l))
            return -1;
        o->cfg.port = (int)l;
    } else if (!strcmp(a, "--api-key")) {
        VALUE();
        free(o->key);
        o->key = strdup(v);
    } else if (!strcmp(a, "--api-key-file")) {
        VALUE();
        o->key_file = v;
    } else if (!strcmp(a, "--parallel")) {
        VALUE();
        if (!cli_int("serve", a, v, 1, 256, &l))
            return -1;
        o->cfg.n_parallel = (int)l;
    } else if (!strcmp(a, "--queue")) {
        VALUE();
        if (!cli_int("serve", a, v, 0, 100000, &l))
            return -1;
        o->cfg.n_queue = (int)l;
    } else if (!strcmp(a, "-c") || !strcmp(a, "--ctx")) {
        VALUE();
        if (!cli_int("serve", a, v, 0, 1 << 24, &l))
            return -1;
        o->cfg.n_ctx = (int)l;
        o->ctx_given = true;
    } else if (!strcmp(a, "--timeout")) {
        VALUE();
        if (!cli_float("serve", a, v, 0, 1e7, &d))
            return -1;
        o->cfg.timeout_s = d;
    } else if (!strcmp(a, "--router")) {
        VALUE();
        o->router = v;
    } else if (!strcmp(a, "--max-body")) {
        VALUE();
        if (!cli_int("serve", a, v, 64, 1L << 30, &l))
            return -1;
        o->cfg.max_body = (size_t)l;
    } else {
        return cli_load_option("serve", argc, argv, i, &o->cfg.load);
    }
#undef VALUE
    return 1;
}

static int parse_args(serve_opts *o, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            serve_help(stdout);
            return -1;
        }
        int r = serve_option(o, argc, argv, &i);
        if (r < 0)
            return CLI_USAGE;
        if (r == 0)
            return cli_unknown("serve", argv[i]);
    }
    if (o->router && o->model_given) {
        fprintf(stderr, "slm serve: --router takes the model from its local.model; drop -m\n");
        return CLI_USAGE;
    }
    if (o->key && o->key_file) {
        fprintf(stderr, "slm serve: give --api-key or --api-key-file, not both\n");
        return CLI_USAGE;
    }
    if (o->key_file && !(o->key = read_key_file(o->key_file)))
        return CLI_FAIL;
    const char *env = getenv("SLM_API_KEY");
    if (!o->key && env && *env)
        o->key = strdup(env);
    o->cfg.api_key = o->key;
    return CLI_OK;
}

/* Waits for SIGINT/SIGTERM, or for the model to fail loading (exit 1). */
static int run_until_signal(slm_server *srv, const sigset_t *sigs, const char *dir)
{
    bool announced = false;
    for (;;) {
        struct timespec tick = {0, 100 * 1000 * 1000};
        int sig = sigtimedwait(sigs, NULL, &tick);
        if (sig < 0 && stop_signal)
            sig = stop_signal;
        if (sig == SIGINT || sig == SIGTERM) {
            fprintf(stderr, "slm serve: %s: stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
            slm_server_shutdown(srv, SHUTDOWN_GRACE_S);
            return CLI_OK;
        }
        slm_error err = {0};
        int st = slm_server_state(srv, &err);
        if (st < 0) {
            cli_report(&err);
            slm_server_shutdown(srv, 0);
            return CLI_FAIL;
        }
        if (st > 0 && !announced) {
            fprintf(stderr, "slm serve: model %s loaded, ready\n", dir);
            announced = true;
        }
    }
}

int cmd_serve(int argc, char **argv)
{
    serve_opts o = {.cfg = slm_serve_config_default()};
    o.cfg.load = cli_load_defaults();
    o.cfg.load.progress = NULL; /* no progress bar: stderr is the access log */
    o.cfg.model_dir = cli_default_model_dir();
    o.cfg.log = log_line;
    int rc = parse_args(&o, argc, argv);
    if (rc != CLI_OK) {
        free(o.key);
        return rc < 0 ? CLI_OK : rc;
    }
    /* Blocked before the server's threads start, so they inherit the mask
     * and the main thread's sigtimedwait takes the signals; the handler
     * catches those a thread started before main received. SIGPIPE from a
     * vanished client must never end the process. */
    struct sigaction sa = {0};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    slm_error err = {0};
    slm_router_config rcfg = {0};
    slm_route_service *router = NULL;
    if (o.router) {
        if (slm_router_config_load(o.router, &rcfg, &err) != SLM_OK ||
            slm_route_service_new(&rcfg, &router, &err) != SLM_OK) {
            fprintf(stderr, "slm serve: --router: %s\n", err.msg);
            slm_router_config_free(&rcfg);
            free(o.key);
            return CLI_FAIL;
        }
        o.cfg.model_dir = rcfg.local.model;
        if (!o.ctx_given && rcfg.local.ctx > 0)
            o.cfg.n_ctx = rcfg.local.ctx;
        o.cfg.router = slm_route_service_hook(router);
    }
    slm_server *srv = NULL;
    if (slm_server_start(&o.cfg, &srv, &err) != SLM_OK) {
        rc = cli_report_model(o.cfg.model_dir, &err); /* before rcfg, which may own it */
        slm_route_service_free(router);
        slm_router_config_free(&rcfg);
        free(o.key);
        return rc;
    }
    bool v6 = strchr(o.cfg.host, ':') != NULL; /* an IPv6 address goes in brackets */
    fprintf(stderr, "slm serve: listening on http://%s%s%s:%d (%d slots, queue %d%s)\n",
            v6 ? "[" : "", o.cfg.host, v6 ? "]" : "", slm_server_port(srv), o.cfg.n_parallel,
            o.cfg.n_queue, o.key ? ", API key required" : "");
    if (router)
        fprintf(stderr, "slm serve: router %s: local %s, remote %s at %s\n", o.router,
                rcfg.local.model, rcfg.remote.model, rcfg.remote.base_url);
    fflush(stderr);
    rc = run_until_signal(srv, &sigs, o.cfg.model_dir);
    slm_server_free(srv);
    slm_route_service_free(router);
    slm_router_config_free(&rcfg);
    free(o.key);
    return rc;
}
