/* matmul_ref.c — scalar reference of y = x · Wᵀ (see kernels.h). */
#include "kernels.h"

void slm_matmul_f32_ref(float *y, const float *x, const float *w, int n, int rows, int cols)
{
    for (int t = 0; t < n; t++) {
        const float *xt = x + (size_t)t * cols;
        for (int r = 0; r < rows; r++) {
            const float *wr = w + (size_t)r * cols;
            float acc = 0.0f;
            for (int c = 0; c < cols; c++)
                acc += wr[c] * xt[c];
            y[(size_t)t * rows + r] = acc;
        }
    }
}
