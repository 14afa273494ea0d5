/* dispatch.c — builds one kernel table per ISA level and installs the chosen one. */
#include "kernels/kernels.h"
#include "quant/quant.h"

static sl_kernel_table g_tables[3];      /* written once by build_tables */
static int g_built;
const sl_kernel_table *sl_k = &g_tables[0];

static void build_tables(void)
{
    if (g_built) return;
    sl_kernels_fill_generic(&g_tables[SL_ISA_GENERIC]);
    sl_quant_fill_generic(&g_tables[SL_ISA_GENERIC]);
#if SL_HAVE_X86 && defined(__x86_64__)
    g_tables[SL_ISA_AVX2] = g_tables[SL_ISA_GENERIC];
    sl_kernels_fill_avx2(&g_tables[SL_ISA_AVX2]);
    sl_quant_fill_avx2(&g_tables[SL_ISA_AVX2]);
    g_tables[SL_ISA_AVX512] = g_tables[SL_ISA_AVX2];
    sl_kernels_fill_avx512(&g_tables[SL_ISA_AVX512]);
    sl_quant_fill_avx512(&g_tables[SL_ISA_AVX512]);
#else
    g_tables[SL_ISA_AVX2] = g_tables[SL_ISA_GENERIC];
    g_tables[SL_ISA_AVX512] = g_tables[SL_ISA_GENERIC];
#endif
    g_built = 1;
}

const sl_kernel_table *sl_kernels_for(sl_isa isa)
{
    build_tables();
    return &g_tables[isa];
}

void sl_kernels_install(sl_isa isa) { sl_k = sl_kernels_for(isa); }
