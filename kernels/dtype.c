/* dtype.c — dtype table and scalar f16/bf16 <-> f32 conversion (see dtype.h). */
#include "dtype.h"

#include <string.h>

static const struct {
    const char *name;
    size_t size;
} dtype_table[SLM_DTYPE_COUNT] = {
    [SLM_DTYPE_F32] = {"F32", 4},  [SLM_DTYPE_F16] = {"F16", 2}, [SLM_DTYPE_BF16] = {"BF16", 2},
    [SLM_DTYPE_F64] = {"F64", 8},  [SLM_DTYPE_I8] = {"I8", 1},   [SLM_DTYPE_U8] = {"U8", 1},
    [SLM_DTYPE_I16] = {"I16", 2},  [SLM_DTYPE_I32] = {"I32", 4}, [SLM_DTYPE_I64] = {"I64", 8},
    [SLM_DTYPE_BOOL] = {"BOOL", 1},
};

size_t slm_dtype_size(slm_dtype t) { return t < SLM_DTYPE_COUNT ? dtype_table[t].size : 0; }

const char *slm_dtype_name(slm_dtype t) { return t < SLM_DTYPE_COUNT ? dtype_table[t].name : "?"; }

int slm_dtype_parse(const char *name, slm_dtype *out)
{
    for (int t = 0; t < SLM_DTYPE_COUNT; t++) {
        if (strcmp(name, dtype_table[t].name) == 0) {
            *out = (slm_dtype)t;
            return 0;
        }
    }
    return -1;
}

static float bits_to_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static uint32_t f32_to_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

float slm_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f;
    uint32_t man = h & 0x3ff;
    if (exp == 0x1f) /* inf / nan */
        return bits_to_f32(sign | 0x7f800000u | (man << 13));
    if (exp == 0) {
        if (man == 0)
            return bits_to_f32(sign);
        /* subnormal: value = man * 2^-24, exact in f32 */
        float v = (float)man * (1.0f / 16777216.0f);
        return sign ? -v : v;
    }
    return bits_to_f32(sign | ((exp + 112) << 23) | (man << 13));
}

uint16_t slm_f32_to_f16(float f)
{
    uint32_t u = f32_to_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
    uint32_t abs = u & 0x7fffffffu;
    if (abs >= 0x7f800000u) /* inf or nan */
        return sign | 0x7c00 | (abs > 0x7f800000u ? 0x200 : 0);
    if (abs >= 0x477ff000u) /* rounds to >= 65520: overflow to inf */
        return sign | 0x7c00;
    if (abs < 0x38800000u) { /* below the smallest normal half: subnormal or zero */
        float a = bits_to_f32(abs);
        /* adding 0.5 (2^-1) aligns the half subnormal grid with f32's last bits, and
           the FPU's round-to-nearest-even does the rounding */
        uint32_t r = f32_to_bits(a + 0.5f) - f32_to_bits(0.5f);
        return sign | (uint16_t)r;
    }
    uint32_t mant_odd = (abs >> 13) & 1;
    abs += 0xc8000fffu + mant_odd; /* rebias exponent (-112 << 23) and round to nearest even */
    return sign | (uint16_t)(abs >> 13);
}

float slm_bf16_to_f32(uint16_t b) { return bits_to_f32((uint32_t)b << 16); }

uint16_t slm_f32_to_bf16(float f)
{
    uint32_t u = f32_to_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* nan: keep it quiet, keep the sign */
        return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

void slm_convert_to_f32(float *dst, const void *src, slm_dtype t, size_t n)
{
    /* src may be unaligned (a mapped file's data section starts wherever the
       header ends), so halves are loaded with memcpy. */
    const unsigned char *p = src;
    uint16_t h;
    switch (t) {
    case SLM_DTYPE_F32:
        memcpy(dst, src, n * sizeof(float));
        break;
    case SLM_DTYPE_F16:
        for (size_t i = 0; i < n; i++, p += 2) {
            memcpy(&h, p, 2);
            dst[i] = slm_f16_to_f32(h);
        }
        break;
    case SLM_DTYPE_BF16:
        for (size_t i = 0; i < n; i++, p += 2) {
            memcpy(&h, p, 2);
            dst[i] = slm_bf16_to_f32(h);
        }
        break;
    default:
        break; /* callers check the dtype before converting */
    }
}
