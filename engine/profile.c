/* profile.c — per-phase, per-operation time accumulators (see profile.h, slm.h). */
#define _POSIX_C_SOURCE 200809L
#include "profile.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error.h"

static const char *const phase_names[SLM_PROFILE_PHASES] = {"tokenize", "prefill", "decode",
                                                            "classify"};

static const char *const op_names[SLM_PROF_OPS] = {
    "embedding", "norm",     "q",         "k",          "v",          "qkv",    "o",
    "gate_up",   "up",       "down",      "lm_head",    "classifier", "rope",   "kv_store",
    "attention", "activation", "residual", "sampling",  "tokenizer",  "output", "scratch",
};

slm_status slm_profile_new(slm_profile **out, slm_error *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? SLM_OK : slm_fail_nomem(err, "profile");
}

void slm_profile_free(slm_profile *p) { free(p); }

void slm_profile_reset(slm_profile *p)
{
    slm_profile_phase keep = p->phase;
    memset(p, 0, sizeof *p);
    p->phase = keep;
}

const char *slm_profile_phase_name(slm_profile_phase ph)
{
    return ph >= 0 && ph < SLM_PROFILE_PHASES ? phase_names[ph] : "?";
}

const char *slm_profile_op_name(slm_profile_op op)
{
    return op >= 0 && op < SLM_PROF_OPS ? op_names[op] : "?";
}

bool slm_profile_op_is_product(slm_profile_op op)
{
    return op >= SLM_PROF_Q && op <= SLM_PROF_CLASSIFIER;
}

static bool valid(slm_profile_phase ph, slm_profile_op op)
{
    return ph >= 0 && ph < SLM_PROFILE_PHASES && op >= 0 && op < SLM_PROF_OPS;
}

slm_profile_entry slm_profile_get(const slm_profile *p, slm_profile_phase ph, slm_profile_op op)
{
    if (!valid(ph, op))
        return (slm_profile_entry){0};
    const slm_profile_acc *a = &p->acc[ph][op];
    return (slm_profile_entry){.calls = a->calls, .seconds = a->ns * 1e-9, .bytes = a->bytes,
                               .flops = a->flops};
}

double slm_profile_phase_seconds(const slm_profile *p, slm_profile_phase ph)
{
    return valid(ph, 0) ? p->phase_ns[ph] * 1e-9 : 0.0;
}

uint64_t slm_profile_phase_tokens(const slm_profile *p, slm_profile_phase ph)
{
    return valid(ph, 0) ? p->phase_tokens[ph] : 0;
}

void slm_profile_set_phase(slm_profile *p, slm_profile_phase ph)
{
    if (valid(ph, 0))
        p->phase = ph;
}

static uint64_t to_ns(double seconds) { return seconds > 0 ? (uint64_t)(seconds * 1e9 + 0.5) : 0; }

void slm_profile_add_phase(slm_profile *p, slm_profile_phase ph, double seconds, uint64_t tokens)
{
    if (!valid(ph, 0))
        return;
    p->phase_ns[ph] += to_ns(seconds);
    p->phase_tokens[ph] += tokens;
}

void slm_profile_add(slm_profile *p, slm_profile_phase ph, slm_profile_op op, double seconds)
{
    if (!valid(ph, op))
        return;
    p->acc[ph][op].calls++;
    p->acc[ph][op].ns += to_ns(seconds);
}

uint64_t slm_profile_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t slm_profile_lap(slm_profile *p, slm_profile_op op, uint64_t t0, uint64_t bytes,
                         uint64_t flops)
{
    uint64_t now = slm_profile_clock_ns();
    slm_profile_acc *a = &p->acc[p->phase][op];
    a->calls++;
    a->ns += now - t0;
    a->bytes += bytes;
    a->flops += flops;
    return now;
}

uint64_t slm_profile_lap_product(slm_profile *p, slm_profile_op op, uint64_t t0,
                                 const slm_weight *const *w, int count, int n)
{
    uint64_t bytes = 0, flops = 0;
    for (int i = 0; i < count; i++) {
        bytes += (uint64_t)slm_weight_row_bytes(w[i]->type, w[i]->cols) * (uint64_t)w[i]->rows;
        flops += 2u * (uint64_t)w[i]->rows * (uint64_t)w[i]->cols * (uint64_t)n;
    }
    return slm_profile_lap(p, op, t0, bytes, flops);
}
