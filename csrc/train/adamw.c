/* adamw.c — the AdamW update (decoupled weight decay, as torch.optim.AdamW) over the parameter
 * slab, with the gradient scaled on the fly (clipping by global norm) so the gradient slab is
 * left as accumulated. Weight decay is multiplied per tensor by sl_train_tensor.decay. The
 * element loop is the adamw entry of the row-kernel table (train_vec.h). */
#include <math.h>

#include "runtime/runtime.h"
#include "train/train.h"
#include "train/train_vec.h"

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

sl_status sl_trainer_adamw(sl_trainer *t, const sl_adamw_opts *o)
{
    SL_TRY(check_opts(o));
    const sl_train_vec *vec = sl_train_vec_table();
    const double bc1 = 1.0 - pow((double)o->beta1, (double)o->step);
    const double bc2 = 1.0 - pow((double)o->beta2, (double)o->step);
    const int64_t block = 1 << 14;
    /* One parallel region for the whole update; the per-tensor loops do not wait for each other. */
#pragma omp parallel num_threads(t->n_threads) if (t->n_params > (size_t)(4 * block))
    for (int64_t ti = 0; ti < t->n_tensors; ti++) {
        const sl_train_tensor *x = &t->tensors[ti];
        const int64_t n = x->rows * x->cols;
        const sl_adamw_coef c = {o->grad_scale, 1.0f - o->lr * o->weight_decay * x->decay, o->beta1, o->beta2,
                                 (float)(o->lr / bc1), (float)(1.0 / sqrt(bc2)), o->eps};
        float *p = t->params + x->offset, *m = t->adam_m + x->offset, *v = t->adam_v + x->offset;
        const float *g = t->grads + x->offset;
#pragma omp for schedule(static) nowait
        for (int64_t i0 = 0; i0 < n; i0 += block) {
            const int64_t len = n - i0 < block ? n - i0 : block;
            vec->adamw(len, p + i0, g + i0, m + i0, v + i0, &c);
        }
    }
    return SL_OK;
}
