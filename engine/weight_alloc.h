/*
 * weight_alloc.h — memory for weight-sized buffers, on huge pages.
 */
#ifndef SLM_WEIGHT_ALLOC_H
#define SLM_WEIGHT_ALLOC_H

#include <stddef.h>

/* bytes of memory (free() releases it; NULL when out of memory). Buffers of
 * 4 MiB and more are 2 MiB aligned and advised onto transparent huge pages. */
void *slm_weight_alloc(size_t bytes);

#endif
