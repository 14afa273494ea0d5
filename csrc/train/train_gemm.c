/* train_gemm.c — the blocked GEMM driver of training (packing, threading, blocking) and its
 * scalar reference micro-kernel. See train_gemm.h for the contract. */
#include <omp.h>
#include <stdbool.h>
#include <string.h>

#include "runtime/runtime.h"
#include "train/train_gemm.h"

#define MR SL_TGEMM_MR
#define NR SL_TGEMM_NR
#define MC SL_TGEMM_MC
#define KC SL_TGEMM_KC
#define NC SL_TGEMM_NC

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

void sl_tgemm_kernel_ref(int64_t kc, const float *a, int64_t lda, const float *b, float *c, int64_t ldc,
                         float alpha, float beta, int64_t mr, int64_t nr)
{
    float acc[MR][NR];
    memset(acc, 0, sizeof acc);
    for (int64_t k = 0; k < kc; k++)
        for (int64_t i = 0; i < mr; i++) {
            const float ai = lda ? a[i * lda + k] : a[k * MR + i];
            for (int j = 0; j < NR; j++) acc[i][j] += ai * b[k * NR + j];
        }
    for (int64_t i = 0; i < mr; i++)
        for (int64_t j = 0; j < nr; j++) {
            float v = alpha * acc[i][j];
            c[i * ldc + j] = beta == 0.0f ? v : v + beta * c[i * ldc + j];
        }
}

sl_tgemm_kernel_fn sl_tgemm_kernel(void)
{
#if SL_HAVE_X86 && defined(__x86_64__)
    if (sl_runtime_isa() >= SL_ISA_AVX512) return sl_tgemm_kernel_avx512;
    if (sl_runtime_isa() >= SL_ISA_AVX2) return sl_tgemm_kernel_avx2;
#endif
    return sl_tgemm_kernel_ref;
}

sl_tgemm_pack_fn sl_tgemm_pack_bt(void)
{
#if SL_HAVE_X86 && defined(__x86_64__)
    if (sl_runtime_isa() >= SL_ISA_AVX2) return sl_tgemm_pack_bt_avx2;
#endif
    return sl_tgemm_pack_bt_ref;
}

void sl_tgemm_pack_bt_ref(const float *x, int64_t ld, int64_t kc, int64_t nr, float *dst)
{
    for (int64_t j = 0; j < nr; j++) {
        const float *src = x + j * ld;
        for (int64_t k = 0; k < kc; k++) dst[k * NR + j] = src[k];
    }
    for (int64_t j = nr; j < NR; j++)
        for (int64_t k = 0; k < kc; k++) dst[k * NR + j] = 0.0f;
}

sl_status sl_tgemm_ws_init(sl_tgemm_ws *ws, int n_threads)
{
    memset(ws, 0, sizeof *ws);
    ws->n_threads = n_threads < 1 ? 1 : n_threads;
    ws->pack_a = sl_calloc((size_t)ws->n_threads * MC * KC, sizeof(float));
    ws->pack_b = sl_calloc((size_t)ws->n_threads * KC * NC, sizeof(float));
    if (!ws->pack_a || !ws->pack_b) {
        sl_tgemm_ws_free(ws);
        return SL_FAIL(SL_ERR_NOMEM, "out of memory for GEMM packing buffers (%d threads)", n_threads);
    }
    return SL_OK;
}

void sl_tgemm_ws_free(sl_tgemm_ws *ws)
{
    if (!ws) return;
    sl_free(ws->pack_a);
    sl_free(ws->pack_b);
    ws->pack_a = ws->pack_b = NULL;
}

/* Pack rows [i0, i0+mc) x depth [p0, p0+kc) of op(A) into MR-row micro-panels (k-major).
 * Only transposed A is packed (op(A) rows are then columns of the stored matrix): each stored row
 * is read once, contiguously, and scattered six floats at a time. */
static void pack_a(sl_tgemm_mat A, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float *dst)
{
    const int64_t full = mc / MR * MR;
    for (int64_t k = 0; k < kc; k++) {
        const float *src = A.x + (p0 + k) * A.ld + i0;
        float *d = dst + k * MR;
        for (int64_t ip = 0; ip < full; ip += MR, d += MR * kc) memcpy(d, src + ip, MR * sizeof(float));
        if (full < mc)
            for (int i = 0; i < MR; i++) d[i] = full + i < mc ? src[full + i] : 0.0f;
    }
}

/* Pack depth [p0, p0+kc) x columns [j0, j0+nc) of op(B) into NR-column micro-panels (k-major),
 * zero-padding the last one. Stored rows are read contiguously in both layouts: row by row of
 * depth when B is not transposed, column by column of op(B) when it is. */
static void pack_b(sl_tgemm_mat B, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float *dst)
{
    const int64_t full = nc / NR * NR;
    if (!B.trans) {
        for (int64_t k = 0; k < kc; k++) {
            const float *src = B.x + (p0 + k) * B.ld + j0;
            float *d = dst + k * NR;
            for (int64_t jp = 0; jp < full; jp += NR, d += NR * kc) memcpy(d, src + jp, NR * sizeof(float));
            if (full < nc)
                for (int64_t j = 0; j < NR; j++) d[j] = full + j < nc ? src[full + j] : 0.0f;
        }
        return;
    }
    const sl_tgemm_pack_fn pack = sl_tgemm_pack_bt();
    for (int64_t jp = 0; jp < nc; jp += NR, dst += NR * kc)
        pack(B.x + (j0 + jp) * B.ld + p0, B.ld, kc, min64(NR, nc - jp), dst);
}

/* C = beta * C for the K == 0 case (beta == 0 writes zeros without reading). */
static void scale_c(int64_t M, int64_t N, float beta, float *C, int64_t ldc)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

/* One tile: rows [ic, ic+mc) of op(A) (packed when A is transposed, else read in place) times
 * the packed panels [jp0, jp1) of op(B). */
static void run_tile(sl_tgemm_kernel_fn kern, sl_tgemm_mat A, int64_t ic, int64_t mc, int64_t pc,
                     int64_t kc, const float *pb, int64_t jc, int64_t nc, int64_t jp0, int64_t jp1,
                     float alpha, float beta, float *C, int64_t ldc, float *pa)
{
    const bool direct = !A.trans;
    if (!direct) pack_a(A, ic, mc, pc, kc, pa);
    for (int64_t jp = jp0; jp < jp1; jp++) {
        const int64_t j = jp * NR, nr = min64(NR, nc - j);
        for (int64_t ip = 0; ip < mc; ip += MR) {
            const float *a = direct ? A.x + (ic + ip) * A.ld + pc : pa + ip * kc;
            kern(kc, a, direct ? A.ld : 0, pb + jp * NR * kc, C + (ic + ip) * ldc + jc + j, ldc, alpha, beta,
                 min64(MR, mc - ip), nr);
        }
    }
}

void sl_tgemm_serial(const sl_tgemm_ws *ws, int tid, int64_t M, int64_t N, int64_t K, float alpha,
                     sl_tgemm_mat A, sl_tgemm_mat B, float beta, float *C, int64_t ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) { scale_c(M, N, beta, C, ldc); return; }
    sl_tgemm_kernel_fn kern = sl_tgemm_kernel();
    float *pa = ws->pack_a + (size_t)tid * MC * KC;
    float *pb = ws->pack_b + (size_t)tid * KC * NC;
    const int64_t kb = cdiv(cdiv(K, cdiv(K, KC)), 8) * 8;    /* equal depth blocks, no short tail */
    for (int64_t jc = 0; jc < N; jc += NC) {
        const int64_t nc = min64(NC, N - jc), n_panels = cdiv(nc, NR);
        for (int64_t pc = 0; pc < K; pc += kb) {
            const int64_t kc = min64(kb, K - pc);
            pack_b(B, pc, kc, jc, nc, pb);
            for (int64_t ic = 0; ic < M; ic += MC)
                run_tile(kern, A, ic, min64(MC, M - ic), pc, kc, pb, jc, nc, 0, n_panels, alpha,
                         pc == 0 ? beta : 1.0f, C, ldc, pa);
        }
    }
}

/* The slice of op(X) starting at row r0 (offset along its first dimension). */
static sl_tgemm_mat mat_rows(sl_tgemm_mat m, int64_t r0)
{
    m.x += m.trans ? r0 : r0 * m.ld;
    return m;
}

/* The slice of op(X) starting at column c0. */
static sl_tgemm_mat mat_cols(sl_tgemm_mat m, int64_t c0)
{
    m.x += m.trans ? c0 * m.ld : c0;
    return m;
}

/* M or N is cut into contiguous slices (multiples of MR / NR), about three per thread, handed out
 * dynamically; each slice runs the serial driver with its thread's packing buffers. No barrier
 * inside, and a thread that the OS preempts holds up only its current slice, which keeps the
 * product fast when the cores are shared with other processes. The cut is chosen so that slices
 * repeat as little packing as possible: along N when A is read in place (each slice packs only
 * its own columns of B), else along the dimension whose operand is cheaper to pack again. */
void sl_tgemm(const sl_tgemm_ws *ws, int64_t M, int64_t N, int64_t K, float alpha, sl_tgemm_mat A,
              sl_tgemm_mat B, float beta, float *C, int64_t ldc)
{
    const int nt = ws->n_threads;
    if (nt <= 1 || (double)M * (double)N * (double)K < 262144.0 || (M < 2 * MR && N < 2 * NR)) {
        sl_tgemm_serial(ws, 0, M, N, K, alpha, A, B, beta, C, ldc);
        return;
    }
    bool split_n = A.trans ? M <= N : true;
    if (split_n && N / NR < nt) split_n = false;
    else if (!split_n && M / MR < nt) split_n = true;
    const int64_t unit = split_n ? NR : MR, len = split_n ? N : M;
    int64_t per = cdiv(cdiv(len, 3 * nt), unit) * unit;
    if (per < 4 * unit) per = cdiv(cdiv(len, nt), unit) * unit;     /* small: one slice per thread */
    const int64_t n_slices = cdiv(len, per);
#pragma omp parallel for num_threads(nt) schedule(dynamic, 1)
    for (int64_t sl = 0; sl < n_slices; sl++) {
        const int tid = omp_get_thread_num();
        const int64_t s0 = sl * per, s1 = min64(len, s0 + per);
        if (split_n)
            sl_tgemm_serial(ws, tid, M, s1 - s0, K, alpha, A, mat_cols(B, s0), beta, C + s0, ldc);
        else
            sl_tgemm_serial(ws, tid, s1 - s0, N, K, alpha, mat_rows(A, s0), B, beta, C + s0 * ldc, ldc);
    }
}
