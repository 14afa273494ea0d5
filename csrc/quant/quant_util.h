/* quant_util.h — small scalar helpers shared by the quant codecs. */
#ifndef SL_QUANT_UTIL_H
#define SL_QUANT_UTIL_H

#include <math.h>
#include <stdint.h>

/* float -> int8 as C's (int8_t) cast compiles on x86-64 (cvttss2si to int32, keep the low byte),
 * but defined for every input: NaN and out-of-range values become INT32_MIN first. ggml and NumPy
 * both go through that instruction, so degenerate blocks (a subnormal scale whose inverse is inf)
 * quantize to the same bytes as theirs. */
static inline int8_t sl_q_f32_to_i8(float v)
{
    int32_t i = (v >= -2147483648.0f && v < 2147483648.0f) ? (int32_t)v : INT32_MIN;
    return (int8_t)(uint8_t)(uint32_t)i;
}

/* (int8_t)roundf(v) (halves away from zero) without the libm call for the in-range case. */
static inline int8_t sl_q_round_i8(float v)
{
    if (v > -128.0f && v < 128.0f) {          /* false for NaN */
        int32_t i = (int32_t)v;               /* toward zero; v - i is exact */
        float f = v - (float)i;
        i += (f >= 0.5f) - (f <= -0.5f);
        return (int8_t)(uint8_t)(uint32_t)i;
    }
    return sl_q_f32_to_i8(roundf(v));
}

#endif /* SL_QUANT_UTIL_H */
