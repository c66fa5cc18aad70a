/*
 * blas.c — how slm shares the cores with OpenBLAS.
 *
 * slm owns the threading: OpenMP teams split the work and each thread calls
 * a single-threaded BLAS routine on its part. Letting OpenBLAS start its own
 * pool beside the team made the two fight for the cores (most time went to
 * sched_yield), so callers set this before BLAS calls inside a team. The
 * setting is process-wide, idempotent and cheap.
 */
#include <cblas.h>

#include "kernels.h"

void slm_blas_single_threaded(void) { openblas_set_num_threads(1); }
