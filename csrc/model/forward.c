/* forward.c — the one forward pass of every architecture. Block flags from the arch table
 * (pre- or post-norm, QK-norm, sliding window, RoPE per layer) select the variant; tokens are
 * processed in micro-batches of stacked rows (matrix-matrix for prefill, matrix-vector for
 * decode). The layer stack here also serves forward_multi.c: only attention looks at which
 * sequence a row belongs to.
 *
 * Threads: one OpenMP parallel region per micro-batch walks the whole layer stack as a program
 * of steps (runtime/steps.h): every thread runs the same steps in the same order, claims items
 * (rows, heads, blocks of weight rows), and before a step waits for the previous step's items to
 * be done — never for the other threads to arrive, so a thread the OS has descheduled does not
 * stall the pass. Row-wise work is fused into as few steps as possible (residual add + norm +
 * activation quantization; RoPE + KV store; SiLU + quantization): 10 steps per layer. Every
 * matmul is checked before the region starts, so nothing inside can fail. Results do not depend
 * on the thread count: every item is computed the same way whoever runs it. */
#include "model/forward.h"

#include <omp.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/matmul.h"
#include "model/attention.h"
#include "quant/pack_x8.h"
#include "runtime/dtype.h"
#include "runtime/steps.h"

/* The matmuls of one layer in program order: Q K V (one step), O, gate up (one step), down. */
enum { J_Q, J_K, J_V, J_O, J_GATE, J_UP, J_DOWN, J_PER_LAYER };
static const sl_role JOB_ROLES[J_PER_LAYER] = {SL_ROLE_WQ, SL_ROLE_WK, SL_ROLE_WV, SL_ROLE_WO,
                                               SL_ROLE_W_GATE, SL_ROLE_W_UP, SL_ROLE_W_DOWN};
/* Steps of one layer. */
enum { S_ATTN_IN, S_QKV, S_ROPE, S_ATTN, S_O_IN, S_O, S_FFN_IN, S_GATE_UP, S_ACT, S_DOWN, S_PER_LAYER };
_Static_assert(J_PER_LAYER == SL_WS_JOBS_PER_LAYER, "workspace job slots");
_Static_assert(S_PER_LAYER == SL_WS_STEPS_PER_LAYER, "workspace step slots");

static sl_status init_job(sl_matmul_job *j, const sl_tensor *wt, const float *x, int64_t T, float *y, void *scratch)
{
    size_t stride = sl_dtype_row_bytes(wt->dtype, wt->shape[1]);
    sl_status st = sl_matmul_job_init(j, sl_k, wt->dtype, wt->layout, wt->data, stride, wt->shape[0], wt->shape[1], x,
                                      T, y, scratch);
    return st == SL_OK ? SL_OK : sl_fail_context(st, "tensor '%s': ", wt->name);
}

/* Jobs j0..j1 read the same input: the first converts it; the others reuse its converted rows
 * when their activation type agrees, else convert into their own scratch slot. */
static sl_status init_group(const sl_model *m, sl_workspace *w, int64_t il, int j0, int j1, const float *x,
                            int64_t T, float *const *ys)
{
    sl_matmul_job *jobs = w->jobs + il * SL_WS_JOBS_PER_LAYER;
    int first_act = -1;
    for (int j = j0; j <= j1; j++) {
        const sl_tensor *wt = sl_model_role(m, JOB_ROLES[j], il);
        int act = sl_dtype_traits_of(wt->dtype)->act_type;
        bool shared = j > j0 && act == first_act;
        void *scratch = (char *)w->qscratch + (size_t)(shared ? 0 : j - j0) * w->qscratch_bytes;
        SL_TRY(init_job(&jobs[j], wt, x, T, ys[j - j0], scratch));
        if (j == j0) first_act = act;
        if (shared) jobs[j].quant = NULL;
    }
    return SL_OK;
}

/* Every matmul of the micro-batch, checked before any thread starts. */
static sl_status init_jobs(const sl_model *m, sl_workspace *w, int64_t T)
{
    const sl_hparams *hp = &m->hp;
    const float *attn_in = hp->post_norm ? w->x : w->o;
    for (int64_t il = 0; il < hp->n_layers; il++) {
        float *qkv[3] = {w->q, w->k, w->v}, *o[1] = {w->o}, *gu[2] = {w->g, w->u}, *down[1] = {w->o};
        SL_TRY(init_group(m, w, il, J_Q, J_V, attn_in, T, qkv));
        SL_TRY(init_group(m, w, il, J_O, J_O, w->h, T, o));
        SL_TRY(init_group(m, w, il, J_GATE, J_UP, attn_in, T, gu));
        SL_TRY(init_group(m, w, il, J_DOWN, J_DOWN, w->g, T, down));
    }
    return SL_OK;
}

/* ---- the program ---- */

/* What one thread knows while walking the program (each thread has its own copy). */
typedef struct walker {
    const sl_model *m;
    sl_workspace *w;
    const int32_t *tokens;
    int64_t T, il;
    float *hidden;             /* NULL or (L+1, T_total, D) */
    int64_t T_total, t0;
    sl_step *step;             /* the next step of the program */
} walker;

static void run(walker *k, void (*fn)(void *, int64_t))
{
    sl_step_run(k->step++, fn, k);
}

static const sl_matmul_job *job(const walker *k, int j) { return &k->w->jobs[k->il * SL_WS_JOBS_PER_LAYER + j]; }

static void quant_row(const walker *k, int j0, int j1, int64_t t)
{
    for (int j = j0; j <= j1; j++)
        if (job(k, j)->quant) sl_matmul_job_quant(job(k, j), t);
}

static void save_hidden(const walker *k, int64_t layer, int64_t t)
{
    int64_t D = k->m->hp.n_embd;
    if (k->hidden)
        memcpy(k->hidden + ((size_t)layer * (size_t)k->T_total + (size_t)(k->t0 + t)) * (size_t)D,
               k->w->x + t * D, (size_t)D * sizeof(float));
}

/* Row id of the embedding as floats: in the file's layout one conversion; packed (a tied LM head,
 * pack.c), block by block out of its group of 8 rows. */
static void embedding_row(const sl_tensor *e, int64_t id, int64_t D, float *out)
{
    size_t row = sl_dtype_row_bytes(e->dtype, D);
    if (e->layout == SL_LAYOUT_ROWS) {
        sl_k->to_float[e->dtype](D, (const char *)e->data + (size_t)id * row, out);
        return;
    }
    const int64_t elems = sl_pack_x8_block_elems(e->dtype);
    _Alignas(64) uint8_t blk[SL_X8_MAX_BLOCK_BYTES];
    for (int64_t b = 0; b < D / elems; b++) {
        sl_unpack_x8_block(e->dtype, e->data, row, e->shape[0], id, b, blk);
        sl_k->to_float[e->dtype](elems, blk, out + b * elems);
    }
}

static void item_embed(void *ctx, int64_t t)
{
    walker *k = ctx;
    int64_t D = k->m->hp.n_embd;
    embedding_row(sl_model_role(k->m, SL_ROLE_TOK_EMBD, 0), k->tokens[t], D, k->w->x + t * D);
    save_hidden(k, 0, t);
}

/* Row t's block output o joins the residual stream x (post-norm: normed first). */
static void residual(const walker *k, sl_role post_norm, int64_t layer, int64_t t)
{
    const sl_hparams *hp = &k->m->hp;
    int64_t D = hp->n_embd;
    float *o = k->w->o + t * D, *x = k->w->x + t * D;
    if (hp->post_norm) sl_k->rmsnorm_f32(D, o, sl_model_role(k->m, post_norm, layer)->data, hp->rms_eps, o);
    sl_k->axpy_f32(D, 1.0f, o, x);
}

/* Row t's input to a block: x, or rmsnorm(x) into o; then converted for the block's matmuls. */
static void block_input(const walker *k, sl_role norm, int j0, int j1, int64_t t)
{
    const sl_hparams *hp = &k->m->hp;
    int64_t D = hp->n_embd;
    if (!hp->post_norm)
        sl_k->rmsnorm_f32(D, k->w->x + t * D, sl_model_role(k->m, norm, k->il)->data, hp->rms_eps, k->w->o + t * D);
    quant_row(k, j0, j1, t);
}

static void item_attn_in(void *ctx, int64_t t)
{
    walker *k = ctx;
    if (k->il > 0) {                      /* the previous layer's FFN output */
        residual(k, SL_ROLE_POST_FFN_NORM, k->il - 1, t);
        save_hidden(k, k->il, t);
    }
    block_input(k, SL_ROLE_ATTN_NORM, J_Q, J_V, t);
}

static void item_gemm_qkv(void *ctx, int64_t c)
{
    walker *k = ctx;
    for (int j = J_Q; j <= J_V; j++) {
        if (c < job(k, j)->n_chunks) { sl_matmul_job_gemm(job(k, j), c); return; }
        c -= job(k, j)->n_chunks;
    }
}

static void item_rope(void *ctx, int64_t t)
{
    walker *k = ctx;
    const sl_hparams *hp = &k->m->hp;
    int64_t qd = hp->n_head * hp->head_dim, kvd = hp->n_head_kv * hp->head_dim;
    sl_attn_prepare_row(k->m, k->il, k->w->q + t * qd, k->w->k + t * kvd, k->w->row_pos[t]);
    sl_attn_store_row(k->w, k->il, t);
}

static void item_attn(void *ctx, int64_t i)
{
    walker *k = ctx;
    int64_t H = k->m->hp.n_head;
    float *scores = k->w->scores + (size_t)omp_get_thread_num() * (size_t)k->w->cap_ctx;
    sl_attn_compute_head(k->w, k->il, i / H, i % H, scores);
}

static void item_o_in(void *ctx, int64_t t) { quant_row(ctx, J_O, J_O, t); }
static void item_gemm_o(void *ctx, int64_t c) { sl_matmul_job_gemm(job(ctx, J_O), c); }

static void item_ffn_in(void *ctx, int64_t t)
{
    walker *k = ctx;
    residual(k, SL_ROLE_POST_ATTN_NORM, k->il, t);
    block_input(k, SL_ROLE_FFN_NORM, J_GATE, J_UP, t);
}

static void item_gemm_gate_up(void *ctx, int64_t c)
{
    walker *k = ctx;
    if (c < job(k, J_GATE)->n_chunks) sl_matmul_job_gemm(job(k, J_GATE), c);
    else sl_matmul_job_gemm(job(k, J_UP), c - job(k, J_GATE)->n_chunks);
}

static void item_act(void *ctx, int64_t t)
{
    walker *k = ctx;
    int64_t F = k->m->hp.n_ff;
    sl_k->silu_mul_f32(F, k->w->g + t * F, k->w->u + t * F, k->w->g + t * F);
    quant_row(k, J_DOWN, J_DOWN, t);
}

static void item_gemm_down(void *ctx, int64_t c) { sl_matmul_job_gemm(job(ctx, J_DOWN), c); }

static void item_last_residual(void *ctx, int64_t t)
{
    walker *k = ctx;
    residual(k, SL_ROLE_POST_FFN_NORM, k->il, t);
    save_hidden(k, k->il + 1, t);
}

static int64_t chunks(const walker *k, int j0, int j1)
{
    int64_t n = 0;
    for (int j = j0; j <= j1; j++) n += job(k, j)->n_chunks;
    return n;
}

/* Item counts of every step, set before the region (steps.h: sl_step_init). */
static void init_steps(const sl_model *m, sl_workspace *w, int64_t T)
{
    walker k = {.m = m, .w = w, .T = T};
    int64_t H = m->hp.n_head;
    sl_step *s = w->steps;
    sl_step_init(s++, T);                                     /* embed */
    for (k.il = 0; k.il < m->hp.n_layers; k.il++) {
        sl_step_init(&s[S_ATTN_IN], T);
        sl_step_init(&s[S_QKV], chunks(&k, J_Q, J_V));
        sl_step_init(&s[S_ROPE], T);
        sl_step_init(&s[S_ATTN], T * H);
        sl_step_init(&s[S_O_IN], job(&k, J_O)->quant ? T : 0);
        sl_step_init(&s[S_O], chunks(&k, J_O, J_O));
        sl_step_init(&s[S_FFN_IN], T);
        sl_step_init(&s[S_GATE_UP], chunks(&k, J_GATE, J_UP));
        sl_step_init(&s[S_ACT], T);
        sl_step_init(&s[S_DOWN], chunks(&k, J_DOWN, J_DOWN));
        s += S_PER_LAYER;
    }
    sl_step_init(s, T);                                       /* last residual */
}

static void walk_layers(walker *k)
{
    run(k, item_embed);
    for (k->il = 0; k->il < k->m->hp.n_layers; k->il++) {
        run(k, item_attn_in);
        run(k, item_gemm_qkv);
        run(k, item_rope);
        run(k, item_attn);
        run(k, item_o_in);
        run(k, item_gemm_o);
        run(k, item_ffn_in);
        run(k, item_gemm_gate_up);
        run(k, item_act);
        run(k, item_gemm_down);
    }
    k->il = k->m->hp.n_layers - 1;
    run(k, item_last_residual);
}

/* ---- entry points ---- */

static int threads_for(const sl_model *m, const sl_workspace *w)
{
    int nth = m->n_threads < w->cap_threads ? m->n_threads : w->cap_threads;   /* scores rows per thread */
    return nth > 1 ? nth : 1;
}

/* When other programs keep the cores busy, a thread of ours is often off its core while the
 * others need its item, and n threads run slower than one (measured: 2-core machine, load 7,
 * TinyLlama q4_0 decode 116 ms/token with 1 thread, 500 with 2). So the pass measures itself:
 * it keeps the time per row with 1 thread and with all threads (decode-sized and larger batches
 * apart), runs the faster, and every PROBE-th run tries the other to notice the load change.
 * Results do not depend on the choice (every item is computed the same way by any thread). */
#define PROBE 24
static int batch_kind(int64_t T) { return T > 4; }

static int choose_threads(sl_workspace *w, int nth, int64_t T)
{
    if (nth == 1) return 1;
    int kind = batch_kind(T);
    const double *sec = w->sec_per_row[kind];
    int64_t n = w->n_runs[kind]++;
    if (sec[1] == 0.0) return nth;                       /* measure all threads first, then one */
    if (sec[0] == 0.0) return 1;
    int all = sec[1] <= sec[0];
    if (n % PROBE == 0) all = !all;
    return all ? nth : 1;
}

static void record_time(sl_workspace *w, int nth, int64_t T, double seconds)
{
    double *sec = &w->sec_per_row[batch_kind(T)][nth > 1];
    double v = seconds / (double)T;
    *sec = *sec == 0.0 ? v : 0.75 * *sec + 0.25 * v;
}

sl_status sl_forward_layers(const sl_model *m, sl_workspace *w, const int32_t *tokens, int64_t T,
                            float *hidden, int64_t T_total, int64_t t0)
{
    SL_TRY(init_jobs(m, w, T));
    init_steps(m, w, T);
    int nth = m->fixed_threads ? threads_for(m, w) : choose_threads(w, threads_for(m, w), T);
    double start = omp_get_wtime();
    #pragma omp parallel num_threads(nth) if (nth > 1)
    {
        walker k = {.m = m, .w = w, .tokens = tokens, .T = T, .hidden = hidden, .T_total = T_total, .t0 = t0,
                    .step = w->steps};
        walk_layers(&k);
    }
    record_time(w, nth, T, omp_get_wtime() - start);
    return SL_OK;
}

static void item_head_in(void *ctx, int64_t j)
{
    walker *k = ctx;
    int64_t D = k->m->hp.n_embd;
    const sl_tensor *norm = sl_model_role(k->m, SL_ROLE_OUTPUT_NORM, 0);
    sl_k->rmsnorm_f32(D, k->w->x + k->w->sel[j] * D, norm->data, k->m->hp.rms_eps, k->w->o + j * D);
    if (k->w->head_job.quant) sl_matmul_job_quant(&k->w->head_job, j);
}

static void item_head(void *ctx, int64_t c) { sl_matmul_job_gemm(&((walker *)ctx)->w->head_job, c); }

sl_status sl_forward_logits(const sl_model *m, sl_workspace *w, int64_t n, float *logits)
{
    const sl_tensor *out = sl_model_role(m, SL_ROLE_OUTPUT, 0);
    if (!out) out = sl_model_role(m, SL_ROLE_TOK_EMBD, 0);
    SL_TRY(init_job(&w->head_job, out, w->o, n, logits, w->qscratch));
    sl_step *s = w->steps + sl_workspace_layer_steps(m);
    sl_step_init(&s[0], n);
    sl_step_init(&s[1], w->head_job.n_chunks);
    int nth = threads_for(m, w);
    if (!m->fixed_threads && n <= 4 && w->sec_per_row[0][0] > 0.0 && w->sec_per_row[0][0] < w->sec_per_row[0][1])
        nth = 1;                                   /* what the layers found faster for decode */
    #pragma omp parallel num_threads(nth) if (nth > 1)
    {
        walker k = {.m = m, .w = w, .step = s};
        run(&k, item_head_in);
        run(&k, item_head);
    }
    return SL_OK;
}

sl_status sl_model_forward(const sl_model *m, sl_session *s, const int32_t *tokens, int64_t T,
                           float *logits, bool logits_all, float *hidden)
{
    if (s->model != m) return SL_FAIL(SL_ERR_ARG, "the session belongs to another model");
    if (T <= 0) return SL_FAIL(SL_ERR_ARG, "no tokens to run");
    if (T > s->n_ctx - s->n_past)
        return SL_FAIL(SL_ERR_ARG, "context overflow: %lld tokens in the session + %lld new > n_ctx %lld",
                       (long long)s->n_past, (long long)T, (long long)s->n_ctx);
    for (int64_t t = 0; t < T; t++)
        if (tokens[t] < 0 || tokens[t] >= m->hp.n_vocab)
            return SL_FAIL(SL_ERR_ARG, "token id %d at position %lld is out of range [0, %lld)", tokens[t], (long long)t,
                           (long long)m->hp.n_vocab);
    int64_t ub = sl_workspace_ubatch();
    sl_workspace *w = s->ws;
    SL_TRY(sl_workspace_reserve(w, T < ub ? T : ub, s->n_ctx));
    for (int64_t t0 = 0; t0 < T; t0 += ub) {
        int64_t n = T - t0 < ub ? T - t0 : ub;
        for (int64_t t = 0; t < n; t++) {
            w->row_seq[t] = s;
            w->row_pos[t] = s->n_past + t0 + t;
        }
        SL_TRY(sl_forward_layers(m, w, tokens + t0, n, hidden, T, t0));
        if (!logits || (!logits_all && t0 + n < T)) continue;
        int64_t first = logits_all ? 0 : n - 1;
        for (int64_t j = first; j < n; j++) w->sel[j - first] = j;
        SL_TRY(sl_forward_logits(m, w, n - first, logits_all ? logits + (size_t)t0 * (size_t)m->hp.n_vocab : logits));
    }
    s->n_past += T;
    return SL_OK;
}
