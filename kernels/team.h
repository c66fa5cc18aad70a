/*
 * team.h — the threads that products, attention and weight conversion run
 * on: a caller and its workers, which claim numbered tasks.
 *
 * Contract: slm_team_run(team, n, tasks, fn, ctx) calls fn(ctx, i, worker)
 * exactly once for every i in [0, tasks) and returns after all of them
 * have returned. `worker` is in [0, n): 0 is the caller, and no two tasks
 * run with the same worker index at the same time, so per-worker scratch
 * (indexed by it) needs no lock. Tasks may run in any order on any worker;
 * they must not wait for one another. With team NULL, n <= 1, one task, or
 * the team busy with another caller's job, the caller runs every task
 * itself (worker 0): the same results, serially — so a team is safe to
 * share between sessions used from several threads.
 *
 * Why not OpenMP's teams: a fork-join team waits at every barrier for its
 * slowest member. With another process holding a core, the member that is
 * descheduled holds everyone for a scheduler slice, and two threads ran
 * three times slower than one (issue 15). Here the running threads claim
 * tasks from one atomic word, so the tasks a sleeping or descheduled
 * worker never claimed are done by whoever runs; the caller waits only for
 * tasks already claimed. Idle workers spin for a short while (the next
 * product follows within microseconds), then sleep on a futex.
 */
#ifndef SLM_TEAM_H
#define SLM_TEAM_H

typedef struct slm_team slm_team;

typedef void (*slm_task_fn)(void *ctx, int task, int worker);

/* Work (multiply-adds) below which a product or attention runs on the caller
 * alone: ~10-20 us of one core's work, about what sharing costs when the
 * other threads are busy elsewhere (claims, a futex wake, a descheduled
 * worker's task to wait for). Measured on stories260K (Xeon, 2 vCPUs, a
 * 1-thread CPU hog beside it): with 65536, pp64 at 2 threads ran at 0.8x of
 * 1 thread; with 1M, 0.95-1.15x (idle: unchanged within the noise). */
#define SLM_TEAM_MIN_WORK 1048576.0

/* Most tasks one job takes (the claim word's index field). */
#define SLM_TEAM_MAX_TASKS 65535
/* Most threads (caller included) a team runs. */
#define SLM_TEAM_MAX_THREADS 255

/* A team with n_threads - 1 workers started now (thread start-up is
 * milliseconds: better at load than in the first prompt's time); a run that
 * asks for more threads starts more (up to SLM_TEAM_MAX_THREADS). NULL when
 * n_threads <= 1 or no thread could be made: slm_team_run then runs
 * serially. */
slm_team *slm_team_new(int n_threads);
void slm_team_free(slm_team *team);

/* Threads the team runs now, caller included (1 for NULL). */
int slm_team_threads(const slm_team *team);

/* Runs tasks [0, n_tasks) on up to n_threads threads (workers indexed below
 * n_threads); n_tasks <= SLM_TEAM_MAX_TASKS. */
void slm_team_run(slm_team *team, int n_threads, int n_tasks, slm_task_fn fn, void *ctx);

/* A parallel for: fn(ctx, lo, hi, worker) over [0, items) in contiguous
 * ranges of whole grains (slm_task_count of them), as slm_team_run runs
 * tasks. */
typedef void (*slm_range_fn)(void *ctx, int lo, int hi, int worker);
void slm_team_for(slm_team *team, int n_threads, int items, int grain, slm_range_fn fn,
                  void *ctx);

/* Task i of n over `items` items in units of `grain` items: [*lo, *hi),
 * contiguous, in whole grains (the last may be short), balanced. */
void slm_task_range(int i, int n, int items, int grain, int *lo, int *hi);

/* Tasks worth making of `items` items in grains of `grain` for n_threads:
 * a few per thread (so a slow thread's share is taken by the others), at
 * most one per grain, at least 1. */
int slm_task_count(int items, int grain, int n_threads);

#endif
