/*
 * prefetch_share.h — the next weights into L2 while the current ones are
 * used from cache, spread evenly over the tiles that use them.
 *
 * Batch products read a group of weights from memory in their first token
 * tile and from cache in the others; left alone, that first tile waits on
 * DRAM while the memory idles during the rest. So each of the `tiles`
 * tiles prefetches its share of the next group's `bytes`, a little at each
 * of its `steps` loop steps (blocks or k elements). Prefetches only: no
 * result depends on them. Included by the AVX-512 files after their
 * intrinsics (immintrin.h, or SIMDe in the tests' emulated build).
 */
#ifndef SLM_PREFETCH_SHARE_H
#define SLM_PREFETCH_SHARE_H

#include <stddef.h>

/* always_inline: left to gcc, the x16 f32 tiles lost 10% of TinyLlama f32
   prefill (the share was not folded into the tile loops). */
#define SLM_PF_INLINE static inline __attribute__((always_inline))

typedef struct {
    const char *p; /* where this tile's share starts; NULL: nothing to fetch */
    size_t step;   /* bytes per loop step, x 256 (fixed point: no division per step) */
} slm_pf_share;

/* Tile j of `tiles`' share of the `bytes` at next (NULL: none). */
SLM_PF_INLINE slm_pf_share slm_pf_share_of(const void *next, size_t bytes, int tiles, int j,
                                          int steps)
{
    slm_pf_share s = {NULL, 0};
    if (next && tiles > 0 && steps > 0) {
        size_t span = bytes / (size_t)tiles;
        s.p = (const char *)next + (size_t)j * span;
        s.step = (span << 8) / (size_t)steps;
    }
    return s;
}

/* Loop step i's line of the share. */
SLM_PF_INLINE void slm_pf_share_step(slm_pf_share s, int i)
{
    if (s.p)
        _mm_prefetch(s.p + (((size_t)i * s.step) >> 8), _MM_HINT_T1);
}

#endif
