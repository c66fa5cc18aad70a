/*
 * weight_alloc.h — memory for weight-sized buffers, on huge pages.
 */
#ifndef SLM_WEIGHT_ALLOC_H
#define SLM_WEIGHT_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* bytes of memory (free() releases it; NULL when out of memory). Buffers of
 * 4 MiB and more are 2 MiB aligned and advised onto transparent huge pages. */
void *slm_weight_alloc(size_t bytes);

/* Many weight buffers carved from a few large huge-page chunks, so that
 * tensors smaller than a huge page (a 2048 x 2048 q4_0 matrix is 2.3 MiB)
 * and the tails of larger ones are on huge pages too. Zero-initialise;
 * everything is released at once by slm_weight_arena_free. */
typedef struct {
    void **chunks; /* slm_weight_alloc'd, freed with the arena */
    size_t n_chunks;
    uint8_t *cur; /* the chunk being carved */
    size_t used, cap;
} slm_weight_arena;

/* bytes from the arena, 64-byte aligned; NULL when out of memory. */
void *slm_weight_arena_alloc(slm_weight_arena *a, size_t bytes);
void slm_weight_arena_free(slm_weight_arena *a);

#endif
