/* adamw.c — the AdamW update (decoupled weight decay, as torch.optim.AdamW) over the parameter
 * slab, with the gradient scaled on the fly (clipping by global norm) so the gradient slab is
 * left as accumulated. Weight decay is multiplied per tensor by sl_train_tensor.decay. */
#include <math.h>

#include "runtime/runtime.h"
#include "train/train.h"

static sl_status check_opts(const sl_adamw_opts *o)
{
    if (!(o->lr >= 0.0f) || !isfinite(o->lr)) return SL_FAIL(SL_ERR_ARG, "lr must be finite and >= 0");
    if (!(o->beta1 >= 0.0f && o->beta1 < 1.0f) || !(o->beta2 >= 0.0f && o->beta2 < 1.0f))
        return SL_FAIL(SL_ERR_ARG, "betas must be in [0, 1)");
    if (!(o->eps >= 0.0f) || !isfinite(o->eps)) return SL_FAIL(SL_ERR_ARG, "eps must be finite and >= 0");
    if (!(o->weight_decay >= 0.0f) || !isfinite(o->weight_decay))
        return SL_FAIL(SL_ERR_ARG, "weight_decay must be finite and >= 0");
    if (!isfinite(o->grad_scale)) return SL_FAIL(SL_ERR_ARG, "gradient scale is not finite");
    if (o->step < 1) return SL_FAIL(SL_ERR_ARG, "step must be >= 1");
    return SL_OK;
}

/* p -= lr*wd*p; m, v moments; p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps), as torch does it. */
static void update_range(float *p, const float *g, float *m, float *v, int64_t n, float decay_factor,
                         float step_size, float inv_sqrt_bc2, const sl_adamw_opts *o)
{
    const float b1 = o->beta1, b2 = o->beta2, gs = o->grad_scale, eps = o->eps;
    for (int64_t i = 0; i < n; i++) {
        const float gi = g[i] * gs;
        const float pi = p[i] * decay_factor;
        const float mi = b1 * m[i] + (1.0f - b1) * gi;
        const float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] = pi - step_size * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps);
    }
}

sl_status sl_trainer_adamw(sl_trainer *t, const sl_adamw_opts *o)
{
    SL_TRY(check_opts(o));
    const double bc1 = 1.0 - pow((double)o->beta1, (double)o->step);
    const double bc2 = 1.0 - pow((double)o->beta2, (double)o->step);
    const float step_size = (float)(o->lr / bc1);
    const float inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
    const int64_t block = 1 << 14;
    for (int64_t ti = 0; ti < t->n_tensors; ti++) {
        const sl_train_tensor *x = &t->tensors[ti];
        const int64_t n = x->rows * x->cols;
        const float decay_factor = 1.0f - o->lr * o->weight_decay * x->decay;
        float *p = t->params + x->offset, *m = t->adam_m + x->offset, *v = t->adam_v + x->offset;
        const float *g = t->grads + x->offset;
#pragma omp parallel for num_threads(t->n_threads) schedule(static) if (n > block)
        for (int64_t i0 = 0; i0 < n; i0 += block) {
            const int64_t len = n - i0 < block ? n - i0 : block;
            update_range(p + i0, g + i0, m + i0, v + i0, len, decay_factor, step_size, inv_sqrt_bc2, o);
        }
    }
    return SL_OK;
}
