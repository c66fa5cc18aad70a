/*
 * team.c — the task-claiming thread team (see team.h for the contract and
 * why it replaced OpenMP).
 *
 * One job at a time (the caller holds `lock`). The job is published in a
 * 64-bit claim word:
 *     bits 63..40 generation | 39..32 threads allowed | 31..16 next | 15..0 count
 * A thread claims task `next` by compare-and-swap of next + 1; it reads the
 * job's fn/ctx only after a successful claim, when the job cannot end (and
 * the caller cannot publish the next one) before that task is counted in
 * `done`. A worker that wakes late for a job sees next == count, or a newer
 * generation, and claims nothing stale. Workers wait on `seq` (bumped once
 * per job): spinning for SPIN_NS, then futex sleep; the caller wakes the
 * sleepers only when there are some (one atomic load otherwise).
 */
#define _GNU_SOURCE
#include "team.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* How long an idle worker spins before sleeping. The gap between the
   products of one forward pass (norms, RoPE, a short attention) is a few
   microseconds, so workers stay awake through a pass; between decode steps
   (sampling, detokenizing) they sleep, a futex wake per token. Longer spins
   cost more than they save when another process wants the cores: a spinning
   worker counts as a busy thread to the scheduler, which then packs the
   caller beside the other process. Measured (Xeon, 2 vCPUs, TinyLlama q4_0,
   a 1-thread CPU hog beside it): tg16 at 2 threads / 1 thread = 0.88-0.90
   with 200 us, 1.02-1.13 with 20 us, 1.2-1.3 with 5 us; on the idle machine
   20 us and 200 us decode at the same speed (39-40 tok/s). */
#define SPIN_NS 20000L
/* How long the caller spins for claimed tasks before yielding its core (a
   worker descheduled mid-task gets it back sooner). */
#define WAIT_SPIN_NS 20000L

struct slm_team {
    pthread_mutex_t lock; /* held by the caller of the running job */
    _Atomic uint64_t word;
    _Atomic uint32_t seq;      /* futex: bumped per job and at stop */
    _Atomic int sleepers;      /* workers in futex_wait (or about to be) */
    _Atomic int done;          /* tasks of the current job finished */
    _Atomic int stop;
    slm_task_fn fn; /* the current job; read only after a claim */
    void *ctx;
    uint64_t generation;
    atomic_int n_workers; /* read by slm_team_threads without the lock */
    pthread_t threads[SLM_TEAM_MAX_THREADS];
    struct worker_arg {
        slm_team *team;
        int index;    /* 1.. (0 is the caller) */
        uint32_t seq; /* seq when it was made: a job or stop since is not missed */
    } args[SLM_TEAM_MAX_THREADS];
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void futex_wait(_Atomic uint32_t *addr, uint32_t expected)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake_all(_Atomic uint32_t *addr)
{
    syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static uint64_t make_word(uint64_t gen, int threads, int next, int count)
{
    return (gen & 0xffffffu) << 40 | (uint64_t)threads << 32 | (uint64_t)next << 16 |
           (uint64_t)count;
}

/* Claims the next task of the current job for `worker`; -1 when none is
   left (or the job's thread count excludes this worker). */
static int claim(slm_team *t, int worker)
{
    uint64_t w = atomic_load_explicit(&t->word, memory_order_acquire);
    for (;;) {
        int count = (int)(w & 0xffff), next = (int)(w >> 16 & 0xffff);
        int threads = (int)(w >> 32 & 0xff);
        if (next >= count || worker >= threads)
            return -1;
        if (atomic_compare_exchange_weak_explicit(&t->word, &w, w + (1u << 16),
                                                  memory_order_acq_rel, memory_order_acquire))
            return next;
    }
}

/* Runs claimed tasks until none is left. */
static void work(slm_team *t, int worker)
{
    int i;
    while ((i = claim(t, worker)) >= 0) {
        t->fn(t->ctx, i, worker);
        atomic_fetch_add_explicit(&t->done, 1, memory_order_release);
    }
}

/* Waits for seq to move past `seen`: spins, then sleeps. */
static void wait_job(slm_team *t, uint32_t seen)
{
    long deadline = now_ns() + SPIN_NS;
    for (int i = 0;; i++) {
        if (atomic_load_explicit(&t->seq, memory_order_acquire) != seen)
            return;
        cpu_relax();
        if ((i & 63) == 63 && now_ns() > deadline)
            break;
    }
    atomic_fetch_add(&t->sleepers, 1); /* seq_cst: pairs with the caller's */
    while (atomic_load(&t->seq) == seen)
        futex_wait(&t->seq, seen);
    atomic_fetch_sub(&t->sleepers, 1);
}

static void *worker_main(void *arg)
{
    struct worker_arg *a = arg;
    slm_team *t = a->team;
    uint32_t seen = a->seq;
    for (;;) {
        wait_job(t, seen);
        seen = atomic_load_explicit(&t->seq, memory_order_acquire);
        if (atomic_load_explicit(&t->stop, memory_order_acquire))
            return NULL;
        work(t, a->index);
    }
}

/* Starts workers until n_threads can run (or thread creation fails). */
static void grow(slm_team *t, int n_threads)
{
    while (t->n_workers + 1 < n_threads && t->n_workers + 1 < SLM_TEAM_MAX_THREADS) {
        int k = t->n_workers;
        t->args[k] = (struct worker_arg){t, k + 1, atomic_load(&t->seq)};
        if (pthread_create(&t->threads[k], NULL, worker_main, &t->args[k]) != 0)
            return;
        t->n_workers++;
    }
}

slm_team *slm_team_new(int max_threads)
{
    if (max_threads <= 1)
        return NULL;
    slm_team *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        return NULL;
    }
    grow(t, max_threads);
    if (t->n_workers == 0) {
        slm_team_free(t);
        return NULL;
    }
    return t;
}

void slm_team_free(slm_team *t)
{
    if (!t)
        return;
    atomic_store(&t->stop, 1);
    atomic_fetch_add(&t->seq, 1);
    futex_wake_all(&t->seq);
    for (int k = 0; k < t->n_workers; k++)
        pthread_join(t->threads[k], NULL);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

int slm_team_threads(const slm_team *t)
{
    return t ? t->n_workers + 1 : 1;
}

static void run_serial(int n_tasks, slm_task_fn fn, void *ctx)
{
    for (int i = 0; i < n_tasks; i++)
        fn(ctx, i, 0);
}

/* The caller's wait for tasks other threads claimed. */
static void wait_done(slm_team *t, int n_tasks)
{
    long deadline = 0;
    for (int i = 0; atomic_load_explicit(&t->done, memory_order_acquire) < n_tasks; i++) {
        cpu_relax();
        if ((i & 63) != 63)
            continue;
        long now = now_ns();
        if (!deadline)
            deadline = now + WAIT_SPIN_NS;
        else if (now > deadline)
            sched_yield();
    }
}

void slm_team_run(slm_team *t, int n_threads, int n_tasks, slm_task_fn fn, void *ctx)
{
    if (n_tasks <= 0)
        return;
    /* (more tasks than the word counts: callers size them, so not reached;
       serial is still right) */
    if (!t || n_threads <= 1 || n_tasks == 1 || n_tasks > SLM_TEAM_MAX_TASKS ||
        pthread_mutex_trylock(&t->lock) != 0) {
        run_serial(n_tasks, fn, ctx);
        return;
    }
    grow(t, n_threads); /* a session may ask for more than the team began with */
    if (n_threads > t->n_workers + 1)
        n_threads = t->n_workers + 1;
    t->fn = fn;
    t->ctx = ctx;
    atomic_store_explicit(&t->done, 0, memory_order_relaxed);
    t->generation++;
    atomic_store_explicit(&t->word, make_word(t->generation, n_threads, 0, n_tasks),
                          memory_order_release);
    atomic_fetch_add(&t->seq, 1); /* seq_cst: the sleepers load below sees ... */
    if (atomic_load(&t->sleepers) > 0) /* ... every worker that may have missed it */
        futex_wake_all(&t->seq);
    work(t, 0);
    wait_done(t, n_tasks);
    pthread_mutex_unlock(&t->lock);
}

void slm_task_range(int i, int n, int items, int grain, int *lo, int *hi)
{
    long grains = (items + grain - 1) / grain;
    long g0 = grains * i / n, g1 = grains * (i + 1) / n;
    *lo = (int)(g0 * grain < items ? g0 * grain : items);
    *hi = (int)(g1 * grain < items ? g1 * grain : items);
}

/* Tasks per thread: enough that a thread preempted (or asleep) leaves only
   a small share for the caller to wait on or take over, few enough that a
   task's claim (one contended CAS) and its tile set-up stay negligible. */
#define TASKS_PER_THREAD 4

int slm_task_count(int items, int grain, int n_threads)
{
    if (items <= 0 || n_threads <= 1)
        return 1;
    long grains = (items + grain - 1) / grain, want = (long)n_threads * TASKS_PER_THREAD;
    long n = grains < want ? grains : want;
    return n < 1 ? 1 : n > SLM_TEAM_MAX_TASKS ? SLM_TEAM_MAX_TASKS : (int)n;
}

typedef struct {
    slm_range_fn fn;
    void *ctx;
    int items, grain, tasks;
} range_job;

static void range_task(void *ctx, int i, int worker)
{
    const range_job *j = ctx;
    int lo, hi;
    slm_task_range(i, j->tasks, j->items, j->grain, &lo, &hi);
    if (lo < hi)
        j->fn(j->ctx, lo, hi, worker);
}

void slm_team_for(slm_team *team, int n_threads, int items, int grain, slm_range_fn fn,
                  void *ctx)
{
    if (items <= 0)
        return;
    grain = grain < 1 ? 1 : grain;
    range_job j = {fn, ctx, items, grain, slm_task_count(items, grain, n_threads)};
    slm_team_run(team, n_threads, j.tasks, range_task, &j);
}
