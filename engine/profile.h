/*
 * profile.h — the engine's side of slm_profile (the public part is in
 * slm.h): where the time of a phase went, per operation kind.
 *
 * A profile is owned by the caller and hangs off what runs the work (a
 * session's or a batch's scratch, a classify call), never a global. Call
 * sites time themselves from the calling thread, around the kernels' calls
 * (never inside their parallel regions), with the helpers below: with no
 * profile attached each is one test of a NULL pointer, and no clock is read.
 *
 *   uint64_t t = slm_prof_start(pf);
 *   slm_rmsnorm(...);
 *   t = slm_prof_lap(pf, SLM_PROF_NORM, t);   records since t, returns now
 *   slm_matmul(...);
 *   t = slm_prof_product(pf, SLM_PROF_O, t, &w, 1, n);
 */
#ifndef SLM_PROFILE_H
#define SLM_PROFILE_H

#include <stdint.h>

#include "slm.h"
#include "weight.h"

typedef struct {
    uint64_t calls, ns, bytes, flops;
} slm_profile_acc;

struct slm_profile {
    slm_profile_phase phase; /* where records go now */
    slm_profile_acc acc[SLM_PROFILE_PHASES][SLM_PROF_OPS];
    uint64_t phase_ns[SLM_PROFILE_PHASES];
    uint64_t phase_tokens[SLM_PROFILE_PHASES];
};

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t slm_profile_clock_ns(void);

/* Records one call of op in the current phase from t0 to now (plus the
 * weight bytes read and flops done); returns now, the next op's start. */
uint64_t slm_profile_lap(slm_profile *p, slm_profile_op op, uint64_t t0, uint64_t bytes,
                         uint64_t flops);

/* slm_profile_lap for a product y = x · Wᵀ over n rows against the count
 * matrices w[] run as one call: bytes = their storage, flops = Σ 2·rows·cols·n. */
uint64_t slm_profile_lap_product(slm_profile *p, slm_profile_op op, uint64_t t0,
                                 const slm_weight *const *w, int count, int n);

static inline uint64_t slm_prof_start(const slm_profile *p)
{
    return p ? slm_profile_clock_ns() : 0;
}

static inline uint64_t slm_prof_lap(slm_profile *p, slm_profile_op op, uint64_t t0)
{
    return p ? slm_profile_lap(p, op, t0, 0, 0) : 0;
}

static inline uint64_t slm_prof_product(slm_profile *p, slm_profile_op op, uint64_t t0,
                                        const slm_weight *const *w, int count, int n)
{
    return p ? slm_profile_lap_product(p, op, t0, w, count, n) : 0;
}

#endif
