/* fp16.h — scalar IEEE half and bfloat16 conversions (the portable path; ISA files use
 * F16C / AVX-512 instructions instead). */
#ifndef SL_FP16_H
#define SL_FP16_H

#include <stdint.h>
#include <string.h>

static inline float sl_bits_to_f32(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline uint32_t sl_f32_to_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

static inline float sl_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0) {
        if (mant == 0) return sl_bits_to_f32(sign);
        /* subnormal: value = mant * 2^-24 */
        float f = (float)mant * 5.9604644775390625e-08f;
        return sign ? -f : f;
    }
    if (exp == 31) return sl_bits_to_f32(sign | 0x7f800000u | (mant << 13));
    return sl_bits_to_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

/* Round to nearest even, like F16C's vcvtps2ph with rounding mode 0. */
static inline uint16_t sl_f32_to_f16(float f)
{
    uint32_t x = sl_f32_to_bits(f);
    uint32_t sign = (x >> 16) & 0x8000;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);     /* overflow -> inf */
    if (ax < 0x38800000u) {                                       /* subnormal or zero */
        float a = sl_bits_to_f32(ax);
        /* scale so the result's lsb is 2^-24, round to nearest even via float add trick */
        float r = a + 0.5f;                                       /* 0.5 = 2^-1: ulp 2^-24 */
        uint32_t rb = sl_f32_to_bits(r) - 0x3f000000u;
        return (uint16_t)(sign | rb);
    }
    uint32_t mant_odd = (ax >> 13) & 1;
    ax += 0xc8000fffu + mant_odd;                                 /* rebias exp, round */
    return (uint16_t)(sign | (ax >> 13));
}

static inline float sl_bf16_to_f32(uint16_t h) { return sl_bits_to_f32((uint32_t)h << 16); }

static inline uint16_t sl_f32_to_bf16(float f)
{
    uint32_t x = sl_f32_to_bits(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 64);   /* quiet NaN */
    return (uint16_t)((x + (0x7fff + ((x >> 16) & 1))) >> 16);
}

#endif /* SL_FP16_H */
