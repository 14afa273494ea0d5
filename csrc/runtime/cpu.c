/* cpu.c — CPU feature detection and the one-time choice of kernel ISA level.
 * SOLAR_ISA=generic|avx2|avx512 forces a level (never above what the CPU supports). */
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "runtime/runtime.h"

static sl_isa detect_cpu_isa(void)
{
#if SL_HAVE_X86 && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
               __builtin_cpu_supports("f16c");
    int avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                 __builtin_cpu_supports("avx512vnni");
    if (avx512) return SL_ISA_AVX512;
    if (avx2) return SL_ISA_AVX2;
#endif
    return SL_ISA_GENERIC;
}

static sl_isa g_cpu_isa = SL_ISA_GENERIC;   /* written once in sl_runtime_init */
static sl_isa g_isa = SL_ISA_GENERIC;
static int g_initialised;

const char *sl_isa_name(sl_isa isa)
{
    switch (isa) {
    case SL_ISA_GENERIC: return "generic";
    case SL_ISA_AVX2: return "avx2";
    case SL_ISA_AVX512: return "avx512";
    }
    return "unknown";
}

static sl_status parse_isa(const char *s, sl_isa *out)
{
    for (int i = 0; i <= SL_ISA_AVX512; i++)
        if (strcmp(s, sl_isa_name((sl_isa)i)) == 0) { *out = (sl_isa)i; return SL_OK; }
    return SL_FAIL(SL_ERR_ARG, "unknown ISA level '%s' (expected generic, avx2 or avx512)", s);
}

sl_status sl_runtime_set_isa(sl_isa isa)
{
    if ((int)isa < 0 || isa > SL_ISA_AVX512) return SL_FAIL(SL_ERR_ARG, "bad ISA level %d", (int)isa);
    if (isa > g_cpu_isa)
        return SL_FAIL(SL_ERR_UNSUPPORTED, "this CPU supports ISA levels up to %s, not %s",
                       sl_isa_name(g_cpu_isa), sl_isa_name(isa));
    g_isa = isa;
    sl_kernels_install(isa);
    return SL_OK;
}

sl_status sl_runtime_init(void)
{
    if (g_initialised) return SL_OK;
    g_cpu_isa = detect_cpu_isa();
    sl_isa isa = g_cpu_isa;
    const char *env = getenv("SOLAR_ISA");
    if (env && *env) {
        SL_TRY(parse_isa(env, &isa));
        if (isa > g_cpu_isa) isa = g_cpu_isa;
    }
    g_initialised = 1;
    return sl_runtime_set_isa(isa);
}

sl_isa sl_runtime_isa(void) { return g_isa; }
sl_isa sl_runtime_cpu_isa(void) { return g_cpu_isa; }
