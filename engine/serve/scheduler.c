/*
 * scheduler.c — the thread that owns the model, the slots and the batch
 * (see scheduler.h). Its loop: take new jobs and calls, tokenize the new
 * jobs (refusing those that do not fit), run the calls, give free slots to
 * waiting jobs (the slot whose cache shares the longest prefix with the
 * prompt, so a re-sent conversation reuses its cache), end cancelled or
 * overdue generations, run one slm_batch_step over all running ones, and
 * finish those that are done.
 */
#define _POSIX_C_SOURCE 200809L
#include "scheduler.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"
#include "render.h"

/* ------------------------------------------------------------ time */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void deadline_after(double seconds, struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    double t = (double)ts->tv_sec + ts->tv_nsec * 1e-9 + seconds;
    ts->tv_sec = (time_t)t;
    ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
}

static void cond_init_monotonic(pthread_cond_t *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}

/* ------------------------------------------------------------ jobs */

struct slm_job {
    /* set at submission, then read-only */
    slm_oai_request *req;
    double t_submit;
    slm_metrics *metrics;
    /* scheduler thread only */
    slm_tokens prompt;
    slm_tokens reply; /* ids generated, to remember what the slot caches */
    slm_generation *gen;
    int slot;
    bool first_token_seen;
    bool overdue; /* ended by the timeout or the shutdown grace */
    slm_job *next;
    /* shared with the HTTP side, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    slm_job_state state;
    char *text;
    size_t len, cap;
    slm_job_counts counts;
    slm_oai_error error;
    bool cancelled;
    bool out_of_memory;
    int refs;
};

static slm_job *job_new(slm_oai_request *req, slm_metrics *metrics)
{
    slm_job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->req = req;
    j->metrics = metrics;
    j->t_submit = now_s();
    j->slot = -1;
    j->refs = 2; /* the submitter's and the scheduler's */
    pthread_mutex_init(&j->mu, NULL);
    cond_init_monotonic(&j->cv);
    return j;
}

static void job_free(slm_job *j)
{
    slm_generation_free(j->gen);
    slm_tokens_free(&j->prompt);
    slm_tokens_free(&j->reply);
    slm_oai_request_free(j->req);
    free(j->req);
    free(j->text);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}

static void job_unref(slm_job *j)
{
    pthread_mutex_lock(&j->mu);
    bool last = --j->refs == 0;
    pthread_mutex_unlock(&j->mu);
    if (last)
        job_free(j);
}

void slm_job_cancel(slm_job *j)
{
    pthread_mutex_lock(&j->mu);
    j->cancelled = true;
    pthread_mutex_unlock(&j->mu);
}

void slm_job_release(slm_job *j)
{
    if (!j)
        return;
    slm_job_cancel(j);
    job_unref(j);
}

static bool job_cancelled(slm_job *j)
{
    pthread_mutex_lock(&j->mu);
    bool c = j->cancelled;
    pthread_mutex_unlock(&j->mu);
    return c;
}

static void job_set_state(slm_job *j, slm_job_state st, const slm_oai_error *e)
{
    pthread_mutex_lock(&j->mu);
    j->state = st;
    if (e)
        j->error = *e;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static bool job_finished(slm_job_state st)
{
    return st == SLM_JOB_DONE || st == SLM_JOB_FAILED;
}

slm_job_state slm_job_wait_accepted(slm_job *j, double timeout_s, slm_oai_error *e)
{
    struct timespec until;
    deadline_after(timeout_s, &until);
    pthread_mutex_lock(&j->mu);
    while (j->state == SLM_JOB_PENDING)
        if (pthread_cond_timedwait(&j->cv, &j->mu, &until) != 0)
            break;
    slm_job_state st = j->state;
    if (st == SLM_JOB_FAILED && e)
        *e = j->error;
    pthread_mutex_unlock(&j->mu);
    return st;
}

slm_job_state slm_job_take(slm_job *j, double timeout_s, char **text, size_t *len,
                           slm_job_counts *counts, slm_oai_error *e)
{
    struct timespec until;
    deadline_after(timeout_s, &until);
    pthread_mutex_lock(&j->mu);
    while (j->len == 0 && !job_finished(j->state))
        if (pthread_cond_timedwait(&j->cv, &j->mu, &until) != 0)
            break;
    *text = j->len ? j->text : NULL;
    *len = j->len;
    if (j->len) {
        j->text = NULL;
        j->len = j->cap = 0;
    }
    if (counts)
        *counts = j->counts;
    slm_job_state st = j->state;
    if (st == SLM_JOB_FAILED && e)
        *e = j->error;
    pthread_mutex_unlock(&j->mu);
    /* Finished only once every byte was handed over. */
    return *len && job_finished(st) ? SLM_JOB_ACCEPTED : st;
}

/* The engine's streaming callback, on the scheduler thread inside
 * slm_batch_step: the text goes to the job's buffer for the HTTP side. */
static bool job_on_token(void *user, int32_t id, const char *text, size_t len)
{
    slm_job *j = user;
    if (!j->first_token_seen && id >= 0) {
        j->first_token_seen = true;
        slm_metrics_observe_ttft(j->metrics, now_s() - j->t_submit);
    }
    if (id >= 0 && slm_tokens_push(&j->reply, id) != SLM_OK)
        j->reply.n = 0; /* only a hint for slot choice */
    pthread_mutex_lock(&j->mu);
    bool ok = !j->cancelled && !j->out_of_memory;
    if (id >= 0)
        j->counts.n_generated++;
    if (len > 0 && ok) {
        if (j->len + len + 1 > j->cap) {
            size_t cap = (j->cap ? j->cap * 2 : 256) + len;
            char *t = realloc(j->text, cap);
            if (!t) {
                j->out_of_memory = true;
                ok = false;
            } else {
                j->text = t;
                j->cap = cap;
            }
        }
        if (ok) {
            memcpy(j->text + j->len, text, len);
            j->len += len;
            j->text[j->len] = '\0';
            pthread_cond_broadcast(&j->cv);
        }
    }
    pthread_mutex_unlock(&j->mu);
    return ok;
}

/* ------------------------------------------------------------ the scheduler */

/* One slot: a session and what its KV cache holds. */
typedef struct {
    slm_session *session;
    slm_tokens cached;
    slm_job *job;
    unsigned long long last_used;
} slot;

typedef struct sched_call {
    slm_sched_fn fn;
    void *user;
    bool done, ran;
    struct sched_call *next;
} sched_call;

/* A FIFO of jobs linked through job->next. */
typedef struct {
    slm_job *head, *tail;
    int n;
} job_list;

static void list_push(job_list *l, slm_job *j)
{
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
    l->n++;
}

struct slm_sched {
    slm_sched_config cfg;
    char *model_dir;
    slm_metrics *metrics;
    pthread_t thread;
    /* shared, under mu */
    pthread_mutex_t mu;
    pthread_cond_t wake, call_done, state_cv;
    slm_sched_state state;
    slm_error load_err;
    bool stopping, exited;
    double stop_deadline;
    job_list inbox;
    int n_jobs; /* submitted and not yet finished */
    sched_call *calls;
    /* scheduler thread only */
    slm_model *model;
    bool template_broken; /* the model has a chat template that failed to load */
    slm_error template_err;
    slm_batch *batch;
    slot *slots;
    int n_slots, n_running;
    job_list waiting;
    unsigned long long tick;
    uint64_t seed_state;
    /* immutable once READY */
    slm_sched_model_info info;
    char *name;
    const char **labels;
};

static void publish_load(slm_sched *s)
{
    slm_metrics_set_load(s->metrics, s->n_running, s->waiting.n);
}

/* A job leaves the scheduler: done (its counts final) or failed. */
static void job_leave(slm_sched *s, slm_job *j, slm_job_state st, const slm_oai_error *e)
{
    /* Its place is given back before its client can see the answer, so a
     * request the client sends next is not refused for a place still held. */
    pthread_mutex_lock(&s->mu);
    s->n_jobs--;
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->mu);
    job_set_state(j, st, e);
    job_unref(j);
}

static void job_fail(slm_sched *s, slm_job *j, int status, const char *code, const char *msg)
{
    slm_oai_error e;
    slm_oai_fail(&e, status, code, NULL, "%s", msg);
    job_leave(s, j, SLM_JOB_FAILED, &e);
}

static uint64_t next_seed(slm_sched *s)
{
    /* splitmix64 over a clock-seeded state: a fresh seed per request */
    uint64_t z = (s->seed_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Tokenizes a new job and checks it fits a slot; queues it or refuses it. */
static void prepare_job(slm_sched *s, slm_job *j)
{
    slm_error err = {0};
    if (!s->batch) {
        job_fail(s, j, 400, "model_not_supported",
                 "the loaded model is a classifier: it cannot generate text");
        return;
    }
    if (j->req->kind == SLM_OAI_CHAT && s->template_broken) {
        /* the server's fault, not the request's */
        job_fail(s, j, 500, "chat_template_error", s->template_err.msg);
        return;
    }
    if (slm_serve_render_prompt(s->model, j->req, &j->prompt, &err) != SLM_OK) {
        job_fail(s, j, err.status == SLM_ERR_NOMEM ? 500 : 400,
                 err.status == SLM_ERR_NOMEM ? NULL : "invalid_prompt", err.msg);
        return;
    }
    int n = (int)j->prompt.n;
    if (n == 0) {
        job_fail(s, j, 400, "invalid_prompt", "the prompt is empty (no tokens)");
        return;
    }
    if (n >= s->info.n_ctx) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "This model's maximum context length is %d tokens; the prompt has %d tokens "
                 "(at least one more is needed to answer)",
                 s->info.n_ctx, n);
        job_fail(s, j, 400, "context_length_exceeded", msg);
        return;
    }
    pthread_mutex_lock(&j->mu);
    j->counts.n_prompt = n;
    pthread_mutex_unlock(&j->mu);
    list_push(&s->waiting, j);
    job_set_state(j, SLM_JOB_ACCEPTED, NULL);
}

static size_t common_prefix(const slm_tokens *a, const slm_tokens *b)
{
    size_t n = a->n < b->n ? a->n : b->n, i = 0;
    while (i < n && a->ids[i] == b->ids[i])
        i++;
    return i;
}

/* The free slot sharing the longest prefix with the prompt (least recently
 * used among equals), or -1. */
static int pick_slot(const slm_sched *s, const slm_tokens *prompt)
{
    int best = -1;
    size_t best_len = 0;
    for (int i = 0; i < s->n_slots; i++) {
        if (s->slots[i].job)
            continue;
        size_t l = common_prefix(&s->slots[i].cached, prompt);
        if (best < 0 || l > best_len ||
            (l == best_len && s->slots[i].last_used < s->slots[best].last_used)) {
            best = i;
            best_len = l;
        }
    }
    return best;
}

static void start_job(slm_sched *s, slm_job *j, int slot_i)
{
    slot *sl = &s->slots[slot_i];
    const slm_oai_request *r = j->req;
    slm_generate_params p = {0};
    int room = s->info.n_ctx - (int)j->prompt.n;
    p.max_new_tokens = r->max_tokens < 0 || r->max_tokens > room ? room : r->max_tokens;
    p.sampling = r->sampling;
    if (!r->seed_given)
        p.sampling.seed = next_seed(s);
    p.on_token = job_on_token;
    p.user = j;
    /* A completion continues its prompt's text (keeps the leading space);
     * a chat reply is decoded on its own. */
    p.continue_text = r->kind == SLM_OAI_COMPLETION;
    p.stop = (const char *const *)r->stop;
    p.n_stop = r->n_stop;
    p.reuse_prefix = true;
    slm_error err = {0};
    if (slm_generation_new(sl->session, j->prompt.ids, j->prompt.n, &p, &j->gen, &err) !=
        SLM_OK) {
        bool bad_input = err.status == SLM_ERR_INVALID_ARG || err.status == SLM_ERR_RANGE;
        job_fail(s, j, bad_input ? 400 : 500, bad_input ? "invalid_prompt" : NULL, err.msg);
        return;
    }
    /* What the cache will hold is unknown until the job ends. */
    sl->cached.n = 0;
    sl->job = j;
    sl->last_used = ++s->tick;
    j->slot = slot_i;
    s->n_running++;
}

static bool overdue(const slm_sched *s, const slm_job *j, double now, bool stopping)
{
    if (s->cfg.timeout_s > 0 && now - j->t_submit > s->cfg.timeout_s)
        return true;
    return stopping && now > s->stop_deadline;
}

/* Waiting jobs whose client left or whose time ran out never start; the
 * rest get free slots in arrival order. */
static void assign_slots(slm_sched *s, bool stopping)
{
    double now = now_s();
    job_list keep = {0};
    for (slm_job *j = s->waiting.head, *next; j; j = next) {
        next = j->next;
        if (job_cancelled(j)) {
            job_fail(s, j, 499, "client_closed", "the client closed the connection");
        } else if (overdue(s, j, now, stopping)) {
            job_fail(s, j, 503, "timeout", "no slot became free before the request's time limit");
        } else {
            int i = pick_slot(s, &j->prompt);
            if (i >= 0)
                start_job(s, j, i);
            else
                list_push(&keep, j);
        }
    }
    s->waiting = keep;
}

/* Records what the slot's cache now holds and hands the final counts over. */
static void finish_job(slm_sched *s, slot *sl)
{
    slm_job *j = sl->job;
    slm_generate_stats st;
    slm_generation_stats(j->gen, &st);
    slm_error err = {0};
    slm_status status = slm_generation_status(j->gen, &err);
    sl->cached.n = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < j->prompt.n; i++)
        ok = slm_tokens_push(&sl->cached, j->prompt.ids[i]) == SLM_OK;
    for (size_t i = 0; ok && i < j->reply.n; i++)
        ok = slm_tokens_push(&sl->cached, j->reply.ids[i]) == SLM_OK;
    if (!ok)
        sl->cached.n = 0;
    slm_metrics_add_tokens(s->metrics, st.n_prompt, st.n_prompt_cached, st.n_generated);
    pthread_mutex_lock(&j->mu);
    bool oom = j->out_of_memory;
    j->counts.n_prompt = st.n_prompt;
    j->counts.n_prompt_cached = st.n_prompt_cached;
    j->counts.n_generated = st.n_generated;
    j->counts.stop_reason = j->overdue ? SLM_STOP_LENGTH : st.stop_reason;
    pthread_mutex_unlock(&j->mu);
    sl->job = NULL;
    s->n_running--;
    if (status != SLM_OK || oom)
        job_fail(s, j, 500, NULL, status != SLM_OK ? err.msg : "out of memory for the reply");
    else
        job_leave(s, j, SLM_JOB_DONE, NULL);
}

/* One batched step over every running generation, then the finished ones leave. */
static void step(slm_sched *s, bool stopping)
{
    slm_generation *gens[256];
    size_t n = 0;
    double now = now_s();
    for (int i = 0; i < s->n_slots; i++) {
        slm_job *j = s->slots[i].job;
        if (!j)
            continue;
        if (!j->overdue && overdue(s, j, now, stopping))
            j->overdue = true;
        if (j->overdue || job_cancelled(j))
            slm_generation_cancel(j->gen);
        if (!slm_generation_done(j->gen) && n < sizeof gens / sizeof gens[0])
            gens[n++] = j->gen;
    }
    if (n > 0) {
        slm_error err = {0};
        if (slm_batch_step(s->batch, gens, n, &err) != SLM_OK) {
            /* The pass failed for everyone: their caches are not to be trusted. */
            for (int i = 0; i < s->n_slots; i++) {
                slot *sl = &s->slots[i];
                if (!sl->job)
                    continue;
                slm_job *j = sl->job;
                sl->job = NULL;
                sl->cached.n = 0;
                slm_session_reset(sl->session);
                s->n_running--;
                job_fail(s, j, 500, NULL, err.msg);
            }
            return;
        }
    }
    for (int i = 0; i < s->n_slots; i++)
        if (s->slots[i].job && slm_generation_done(s->slots[i].job->gen))
            finish_job(s, &s->slots[i]);
}

static void run_calls(slm_sched *s, sched_call *calls)
{
    while (calls) {
        sched_call *next = calls->next;
        calls->fn(s->model, calls->user);
        pthread_mutex_lock(&s->mu);
        calls->ran = calls->done = true;
        pthread_cond_broadcast(&s->call_done);
        pthread_mutex_unlock(&s->mu);
        calls = next;
    }
}

static const char *base_name(const char *dir, char *buf, size_t cap)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size_t b = n;
    while (b > 0 && dir[b - 1] != '/')
        b--;
    snprintf(buf, cap, "%.*s", (int)(n - b), dir + b);
    return buf;
}

/* Loads the model and makes the slots; on failure load_err says why. */
static slm_status load(slm_sched *s, slm_error *err)
{
    SLM_TRY(slm_model_load(s->model_dir, &s->cfg.load, &s->model, err));
    char buf[256];
    s->name = strdup(base_name(s->model_dir, buf, sizeof buf));
    int max = slm_model_max_positions(s->model);
    s->info.n_ctx = s->cfg.n_ctx > 0 && s->cfg.n_ctx < max ? s->cfg.n_ctx : max;
    s->info.n_labels = slm_model_n_labels(s->model);
    if (s->info.n_labels > 0) {
        s->labels = calloc((size_t)s->info.n_labels, sizeof *s->labels);
        if (!s->labels)
            return slm_fail_nomem(err, "the label names");
        for (int i = 0; i < s->info.n_labels; i++)
            s->labels[i] = slm_model_label(s->model, i);
        s->info.labels = s->labels;
    } else {
        s->slots = calloc((size_t)s->cfg.n_parallel, sizeof *s->slots);
        if (!s->slots)
            return slm_fail_nomem(err, "the slots");
        s->n_slots = s->cfg.n_parallel;
        for (int i = 0; i < s->n_slots; i++)
            SLM_TRY(slm_session_new(s->model, s->info.n_ctx, &s->slots[i].session, err));
        bool missing = false;
        s->template_broken =
            slm_model_chat_template_status(s->model, &missing, &s->template_err) != SLM_OK &&
            !missing;
        SLM_TRY(slm_batch_new(s->model, 0, &s->batch, err));
    }
    s->info.name = s->name ? s->name : "model";
    return SLM_OK;
}

/* Waits for work; false when stopping and nothing is left. */
static bool wait_for_work(slm_sched *s, job_list *inbox, sched_call **calls, bool *stopping)
{
    pthread_mutex_lock(&s->mu);
    while (!s->inbox.n && !s->calls && !s->n_running && !s->waiting.n && !s->stopping)
        pthread_cond_wait(&s->wake, &s->mu);
    bool more = !(s->stopping && s->n_jobs == 0 && !s->calls);
    *inbox = s->inbox;
    s->inbox = (job_list){0};
    *calls = s->calls;
    s->calls = NULL;
    *stopping = s->stopping;
    pthread_mutex_unlock(&s->mu);
    return more;
}

static void *sched_main(void *arg)
{
    slm_sched *s = arg;
    slm_error err = {0};
    slm_status st = load(s, &err);
    pthread_mutex_lock(&s->mu);
    s->state = st == SLM_OK ? SLM_SCHED_READY : SLM_SCHED_FAILED;
    s->load_err = err;
    pthread_cond_broadcast(&s->state_cv);
    pthread_mutex_unlock(&s->mu);
    if (st != SLM_OK)
        return NULL;
    job_list inbox;
    sched_call *calls;
    bool stopping;
    while (wait_for_work(s, &inbox, &calls, &stopping)) {
        run_calls(s, calls);
        for (slm_job *j = inbox.head, *next; j; j = next) {
            next = j->next;
            prepare_job(s, j);
        }
        assign_slots(s, stopping);
        publish_load(s);
        step(s, stopping);
        publish_load(s);
    }
    return NULL;
}

slm_status slm_sched_start(const slm_sched_config *cfg, slm_metrics *metrics, slm_sched **out,
                           slm_error *err)
{
    *out = NULL;
    if (cfg->n_parallel < 1 || cfg->n_parallel > 256 || cfg->n_queue < 0)
        return slm_fail(err, SLM_ERR_INVALID_ARG, "parallel must be 1..256 and queue >= 0");
    slm_sched *s = calloc(1, sizeof *s);
    if (!s || !(s->model_dir = strdup(cfg->model_dir))) {
        free(s);
        return slm_fail_nomem(err, "the scheduler");
    }
    s->cfg = *cfg;
    s->cfg.model_dir = s->model_dir;
    s->metrics = metrics;
    s->seed_state = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)s << 16);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->wake, NULL);
    pthread_cond_init(&s->call_done, NULL);
    pthread_cond_init(&s->state_cv, NULL);
    if (pthread_create(&s->thread, NULL, sched_main, s) != 0) {
        s->exited = true; /* nothing to join */
        slm_sched_free(s);
        return slm_fail(err, SLM_ERR_NOMEM, "could not start the scheduler thread");
    }
    *out = s;
    return SLM_OK;
}

slm_sched_state slm_sched_get_state(slm_sched *s, slm_error *err)
{
    pthread_mutex_lock(&s->mu);
    slm_sched_state st = s->state;
    if (st == SLM_SCHED_FAILED && err)
        *err = s->load_err;
    pthread_mutex_unlock(&s->mu);
    return st;
}

const slm_sched_model_info *slm_sched_info(const slm_sched *s)
{
    return &s->info;
}

bool slm_sched_call(slm_sched *s, slm_sched_fn fn, void *user)
{
    sched_call c = {fn, user, false, false, NULL};
    pthread_mutex_lock(&s->mu);
    if (s->state != SLM_SCHED_READY || s->stopping) {
        pthread_mutex_unlock(&s->mu);
        return false;
    }
    c.next = s->calls;
    s->calls = &c;
    pthread_cond_broadcast(&s->wake);
    while (!c.done)
        pthread_cond_wait(&s->call_done, &s->mu);
    pthread_mutex_unlock(&s->mu);
    return c.ran;
}

slm_job *slm_sched_submit(slm_sched *s, slm_oai_request *req, slm_oai_error *e)
{
    pthread_mutex_lock(&s->mu);
    bool ready = s->state == SLM_SCHED_READY && !s->stopping;
    bool full = s->n_jobs >= s->cfg.n_parallel + s->cfg.n_queue;
    pthread_mutex_unlock(&s->mu);
    if (!ready || full) {
        slm_oai_request_free(req);
        free(req);
        if (!ready)
            slm_oai_fail(e, 503, "unavailable", NULL, "the server is %s",
                         s->stopping ? "shutting down" : "loading the model");
        else
            slm_oai_fail(e, 429, "rate_limit_exceeded", NULL,
                         "every slot and queue place is taken; retry later");
        return NULL;
    }
    slm_job *j = job_new(req, s->metrics);
    if (!j) {
        slm_oai_request_free(req);
        free(req);
        slm_oai_fail(e, 500, NULL, NULL, "out of memory for the request");
        return NULL;
    }
    pthread_mutex_lock(&s->mu);
    /* Checked again: the state may have changed while the job was made. */
    if (s->stopping || s->n_jobs >= s->cfg.n_parallel + s->cfg.n_queue) {
        bool stopping = s->stopping;
        pthread_mutex_unlock(&s->mu);
        job_free(j);
        slm_oai_fail(e, stopping ? 503 : 429, stopping ? "unavailable" : "rate_limit_exceeded",
                     NULL, stopping ? "the server is shutting down"
                                    : "every slot and queue place is taken; retry later");
        return NULL;
    }
    s->n_jobs++;
    list_push(&s->inbox, j);
    pthread_cond_broadcast(&s->wake);
    pthread_mutex_unlock(&s->mu);
    return j;
}

void slm_sched_stop(slm_sched *s, double grace)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    bool first = !s->stopping;
    if (first) {
        s->stopping = true;
        s->stop_deadline = now_s() + grace;
    }
    pthread_cond_broadcast(&s->wake);
    bool join = !s->exited;
    s->exited = true;
    pthread_mutex_unlock(&s->mu);
    if (join)
        pthread_join(s->thread, NULL);
}

void slm_sched_free(slm_sched *s)
{
    if (!s)
        return;
    slm_sched_stop(s, 0);
    for (int i = 0; i < s->n_slots; i++) {
        slm_session_free(s->slots[i].session);
        slm_tokens_free(&s->slots[i].cached);
    }
    free(s->slots);
    slm_batch_free(s->batch);
    slm_model_free(s->model);
    free(s->labels);
    free(s->name);
    free(s->model_dir);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->call_done);
    pthread_cond_destroy(&s->state_cv);
    free(s);
}
