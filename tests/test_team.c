/*
 * test_team.c — the task-claiming thread team (kernels/team.h): every task
 * of a job runs exactly once, with a worker index below the job's thread
 * count and never two at once under one index; workers really take part;
 * two callers sharing a team both get complete jobs; a team grows when a run
 * asks for more threads; sleeping workers wake; the range helpers partition
 * exactly. Runs under ASan/UBSan and ThreadSanitizer (make test-tsan).
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "team.h"

#define MAX_TASKS 512
#define MAX_WORKERS 8

typedef struct {
    atomic_int runs[MAX_TASKS];
    atomic_int busy[MAX_WORKERS];
    atomic_int used[MAX_WORKERS]; /* tasks run per worker index */
    atomic_int bad_worker, overlap;
    int n_threads;
    long sleep_ns; /* per task, so workers get to claim some */
} record;

static void nap(long ns)
{
    struct timespec ts = {ns / 1000000000L, ns % 1000000000L};
    nanosleep(&ts, NULL);
}

static void record_task(void *ctx, int task, int worker)
{
    record *r = ctx;
    if (worker < 0 || worker >= r->n_threads || worker >= MAX_WORKERS) {
        atomic_fetch_add(&r->bad_worker, 1);
        return;
    }
    if (atomic_exchange(&r->busy[worker], 1))
        atomic_fetch_add(&r->overlap, 1);
    atomic_fetch_add(&r->runs[task], 1);
    atomic_fetch_add(&r->used[worker], 1);
    if (r->sleep_ns)
        nap(r->sleep_ns);
    atomic_store(&r->busy[worker], 0);
}

static void reset(record *r, int n_threads, long sleep_ns)
{
    memset(r, 0, sizeof *r);
    r->n_threads = n_threads;
    r->sleep_ns = sleep_ns;
}

/* Runs one job and fails unless each of its tasks ran exactly once. */
static void check_job(slm_team *team, record *r, int n_threads, int n_tasks)
{
    reset(r, n_threads, r->sleep_ns);
    slm_team_run(team, n_threads, n_tasks, record_task, r);
    assert_int_equal(atomic_load(&r->bad_worker), 0);
    assert_int_equal(atomic_load(&r->overlap), 0);
    for (int i = 0; i < n_tasks; i++)
        if (atomic_load(&r->runs[i]) != 1)
            fail_msg("%d threads, %d tasks: task %d ran %d times", n_threads, n_tasks, i,
                     atomic_load(&r->runs[i]));
}

static int workers_used(const record *r)
{
    int n = 0;
    for (int w = 0; w < MAX_WORKERS; w++)
        n += atomic_load(&r->used[w]) > 0;
    return n;
}

static void test_every_task_once(void **state)
{
    (void)state;
    slm_team *team = slm_team_new(3);
    assert_non_null(team);
    assert_int_equal(slm_team_threads(team), 3);
    static record r;
    uint32_t seed = 12345;
    for (int job = 0; job < 5000; job++) {
        seed = seed * 1103515245u + 12345u;
        int tasks = 1 + (int)(seed >> 8) % MAX_TASKS, threads = 1 + (int)(seed >> 20) % 3;
        check_job(team, &r, threads, tasks);
        if (job % 1000 == 999) /* let the workers fall asleep between some jobs */
            nap(1000000);
    }
    slm_team_free(team);
}

static void test_workers_take_part(void **state)
{
    (void)state;
    slm_team *team = slm_team_new(2);
    static record r;
    r.sleep_ns = 200000; /* 0.2 ms a task: the caller cannot take all 64 alone in time */
    check_job(team, &r, 2, 64);
    assert_int_equal(workers_used(&r), 2);
    /* a job after the worker has gone to sleep wakes it */
    nap(20000000);
    r.sleep_ns = 200000;
    check_job(team, &r, 2, 64);
    assert_int_equal(workers_used(&r), 2);
    /* a job of one thread stays on the caller */
    check_job(team, &r, 1, 64);
    assert_int_equal(atomic_load(&r.used[0]), 64);
    slm_team_free(team);
}

static void test_grows_on_demand(void **state)
{
    (void)state;
    slm_team *team = slm_team_new(2);
    static record r;
    r.sleep_ns = 200000;
    check_job(team, &r, 4, 128);
    assert_int_equal(slm_team_threads(team), 4);
    assert_true(workers_used(&r) >= 3);
    slm_team_free(team);
}

static void test_serial_without_team(void **state)
{
    (void)state;
    assert_null(slm_team_new(1));
    assert_int_equal(slm_team_threads(NULL), 1);
    static record r;
    check_job(NULL, &r, 4, 100); /* r.n_threads = 4, but all on worker 0 */
    assert_int_equal(atomic_load(&r.used[0]), 100);
    slm_team_run(NULL, 4, 0, record_task, &r); /* no tasks: nothing runs */
}

typedef struct {
    slm_team *team;
    int failures;
} caller_arg;

static void *caller_main(void *arg)
{
    caller_arg *a = arg;
    static _Thread_local record r;
    for (int job = 0; job < 3000; job++) {
        int tasks = 1 + job % 97;
        reset(&r, 2, 0);
        slm_team_run(a->team, 2, tasks, record_task, &r);
        int ok = atomic_load(&r.bad_worker) == 0 && atomic_load(&r.overlap) == 0;
        for (int i = 0; i < tasks; i++)
            ok &= atomic_load(&r.runs[i]) == 1;
        a->failures += !ok;
    }
    return NULL;
}

/* Two threads share one team (sessions of one model): whichever finds it
   busy runs serially; both always get every task once. */
static void test_two_callers(void **state)
{
    (void)state;
    slm_team *team = slm_team_new(2);
    caller_arg a[2] = {{team, 0}, {team, 0}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, caller_main, &a[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(a[0].failures, 0);
    assert_int_equal(a[1].failures, 0);
    slm_team_free(team);
}

typedef struct {
    atomic_int hits[1000];
    atomic_int bad;
} range_record;

static void range_fn(void *ctx, int lo, int hi, int worker)
{
    range_record *r = ctx;
    if (lo >= hi || lo % 7 != 0 || worker < 0 || worker >= 2)
        atomic_fetch_add(&r->bad, 1);
    for (int i = lo; i < hi; i++)
        atomic_fetch_add(&r->hits[i], 1);
}

static void test_ranges(void **state)
{
    (void)state;
    for (int items = 0; items <= 300; items++)
        for (int grain = 1; grain <= 20; grain += 3)
            for (int n = 1; n <= 9; n++) {
                int next = 0;
                for (int i = 0; i < n; i++) {
                    int lo, hi;
                    slm_task_range(i, n, items, grain, &lo, &hi);
                    if (lo != next || hi < lo || (hi != items && hi % grain != 0))
                        fail_msg("items %d grain %d n %d: task %d is [%d, %d) after %d", items,
                                 grain, n, i, lo, hi, next);
                    next = hi;
                }
                assert_int_equal(next, items);
            }
    assert_int_equal(slm_task_count(1000, 16, 1), 1);
    assert_int_equal(slm_task_count(1000, 16, 2), 8);  /* a few per thread */
    assert_int_equal(slm_task_count(20, 16, 2), 2);    /* at most one per grain */
    assert_int_equal(slm_task_count(0, 16, 2), 1);
    slm_team *team = slm_team_new(2);
    static range_record r;
    slm_team_for(team, 2, 1000, 7, range_fn, &r);
    assert_int_equal(atomic_load(&r.bad), 0);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(atomic_load(&r.hits[i]), 1);
    slm_team_free(team);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_task_once),  cmocka_unit_test(test_workers_take_part),
        cmocka_unit_test(test_grows_on_demand),  cmocka_unit_test(test_serial_without_team),
        cmocka_unit_test(test_two_callers),      cmocka_unit_test(test_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
