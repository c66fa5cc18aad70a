/*
 * rope.h — rotary position embedding tables for the rope types slm supports,
 * computed as transformers' modeling_rope_utils does:
 *   default   inv_freq[i] = 1 / theta^(2i/rot_dim)
 *   linear    inv_freq / factor
 *   longrope  1 / (ext[i] * theta^(2i/rot_dim)), ext = long_factor when the
 *             sequence seen by a forward call (positions 0..n_past+n-1) is
 *             longer than original_max_position_embeddings, else short_factor;
 *             cos/sin are multiplied by an attention factor
 *             sqrt(1 + ln(factor) / ln(original_max)).
 * Any other rope_scaling type is refused when the model loads.
 */
#ifndef SLM_ROPE_H
#define SLM_ROPE_H

#include "config.h"

typedef struct {
    int rot_dim;          /* rotated dimensions of each head (even, <= head_dim) */
    float *inv_freq;      /* [rot_dim/2] default / short */
    float *inv_freq_long; /* [rot_dim/2] longrope only, else NULL */
    int original_max;     /* longrope threshold */
    float scale;          /* cos/sin multiplier (1 except longrope) */
} slm_rope;

/* `where` names the config file in errors. */
slm_status slm_rope_init(slm_rope *rope, const slm_config *cfg, const char *where, slm_error *err);
void slm_rope_free(slm_rope *rope);

#endif
