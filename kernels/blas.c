/*
 * blas.c — how slm shares the cores with OpenBLAS.
 *
 * slm owns the threading: OpenMP teams split the work and each thread calls
 * a single-threaded BLAS routine on its part. Letting OpenBLAS start its own
 * pool beside the team made the two fight for the cores (most time went to
 * sched_yield). OpenBLAS's thread count is process-wide state, so it is set
 * exactly once per process (pthread_once), never per call: concurrent
 * requests in other threads must not see it being rewritten. Later calls
 * only read the once-flag.
 */
#include <cblas.h>
#include <pthread.h>

#include "kernels.h"

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void set_one_thread(void) { openblas_set_num_threads(1); }

void slm_blas_single_threaded(void) { pthread_once(&blas_once, set_one_thread); }
