/*
 * reduce_ref.c — sums and maxima of a row of floats (see kernels.h).
 *
 * Eight partial results, combined pairwise at the end: the compiler
 * vectorises them under plain -O3 (one running sum would have to stay in
 * order without -ffast-math). Each partial sum adds n/8 terms, so the f32
 * rounding of a row of a few hundred stays near 1e-7 relative.
 */
#include "kernels.h"

float slm_row_sum(const float *x, int n)
{
    float s[8] = {0};
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            s[j] += x[i + j];
    float acc = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    for (; i < n; i++)
        acc += x[i];
    return acc;
}

float slm_row_max(const float *x, int n)
{
    float m[8];
    for (int j = 0; j < 8; j++)
        m[j] = x[0];
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
    for (; i < n; i++)
        m[0] = x[i] > m[0] ? x[i] : m[0];
    for (int j = 1; j < 8; j++)
        m[0] = m[j] > m[0] ? m[j] : m[0];
    return m[0];
}
