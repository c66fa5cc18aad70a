/*
 * scheduler.h — the one thread of `slm serve` that owns the model, the slots
 * (one session each) and the batch, and runs every engine call.
 *
 * Contract:
 *   - slm_sched_start returns at once; the thread loads the model (the
 *     server answers /health with 503 meanwhile), then serves jobs.
 *   - A job is one generation request. HTTP threads submit it and read its
 *     progress (accepted or refused, text so far, final counts) through the
 *     functions below, which only touch the job's own locked state: no
 *     HTTP thread ever calls the engine.
 *   - At most n_parallel jobs run (decoded together by slm_batch_step, one
 *     step at a time); up to n_queue more wait; past that submit says busy.
 *   - A job is ended at the next step when its client is gone
 *     (slm_job_cancel) or when it has run longer than the timeout.
 *   - slm_sched_call runs a short engine task (tokenize, classify) on the
 *     scheduler thread between steps and waits for it.
 *   - slm_sched_stop stops accepting, lets running and waiting jobs finish
 *     (ending them after `grace` seconds), and joins the thread.
 */
#ifndef SLM_SERVE_SCHEDULER_H
#define SLM_SERVE_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>

#include "metrics.h"
#include "oai.h"
#include "slm.h"

typedef struct slm_sched slm_sched;
typedef struct slm_job slm_job;

typedef struct {
    const char *model_dir;
    slm_load_options load;
    int n_parallel;   /* slots */
    int n_queue;      /* waiting jobs beyond the slots */
    int n_ctx;        /* per slot; 0 = the model's positions */
    double timeout_s; /* per job, from submission; 0 = none */
} slm_sched_config;

/* What the HTTP side may know of the loaded model (immutable once ready). */
typedef struct {
    const char *name; /* the folder's base name */
    int n_ctx;        /* per slot */
    int n_labels;     /* > 0: a classifier, which cannot generate */
    const char *const *labels;
} slm_sched_model_info;

typedef enum { SLM_SCHED_LOADING, SLM_SCHED_READY, SLM_SCHED_FAILED } slm_sched_state;

slm_status slm_sched_start(const slm_sched_config *cfg, slm_metrics *metrics, slm_sched **out,
                           slm_error *err);
/* The state; on FAILED, *err (may be NULL) gets the load error. */
slm_sched_state slm_sched_get_state(slm_sched *s, slm_error *err);
/* Valid once READY. */
const slm_sched_model_info *slm_sched_info(const slm_sched *s);
void slm_sched_stop(slm_sched *s, double grace);
void slm_sched_free(slm_sched *s);

/* Runs fn(model, user) on the scheduler thread; false if the scheduler is
 * not ready or stopping (fn did not run). */
typedef void (*slm_sched_fn)(slm_model *model, void *user);
bool slm_sched_call(slm_sched *s, slm_sched_fn fn, void *user);

/* ---------------------------------------------------------------- jobs */

/* Takes ownership of req (freed with the job). Returns the job (one
 * reference, the caller's) or NULL with *e filled: 429 when every slot and
 * queue place is taken, 503 while loading or stopping, 500 out of memory. */
slm_job *slm_sched_submit(slm_sched *s, slm_oai_request *req, slm_oai_error *e);

typedef enum {
    SLM_JOB_PENDING,  /* not yet tokenized */
    SLM_JOB_ACCEPTED, /* queued or running */
    SLM_JOB_FAILED,   /* refused (e.g. context_length_exceeded) or failed */
    SLM_JOB_DONE,
} slm_job_state;

/* Final (or current) counts of a job. */
typedef struct {
    int n_prompt, n_prompt_cached, n_generated;
    slm_stop_reason stop_reason;
} slm_job_counts;

/* Waits up to timeout_s for the job to leave PENDING, returns its state; on
 * FAILED *e gets the error. */
slm_job_state slm_job_wait_accepted(slm_job *job, double timeout_s, slm_oai_error *e);
/* Waits up to timeout_s for new text or the end: moves the text produced
 * since the last call into *text (malloc'd, caller frees; NULL when none)
 * and returns the state (DONE/FAILED once finished and all text taken). */
slm_job_state slm_job_take(slm_job *job, double timeout_s, char **text, size_t *len,
                           slm_job_counts *counts, slm_oai_error *e);
/* The client is gone: the job ends at the next step. */
void slm_job_cancel(slm_job *job);
/* Drops the caller's reference (cancelling it if still running). */
void slm_job_release(slm_job *job);

#endif /* SLM_SERVE_SCHEDULER_H */
