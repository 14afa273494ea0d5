/* steps.c — waiting on a step (steps.h). */
#include "runtime/steps.h"

#include <sched.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define SL_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define SL_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define SL_CPU_RELAX() ((void)0)
#endif

/* Spins before yielding: a few microseconds, the time a small item takes on the other core. */
#define SL_STEP_SPINS 4096

void sl_step_wait(sl_step *s)
{
    for (unsigned spins = 0; atomic_load_explicit(&s->done, memory_order_acquire) < s->n; spins++) {
        if (spins < SL_STEP_SPINS) SL_CPU_RELAX();
        else sched_yield();
    }
}

void sl_step_run(sl_step *s, void (*fn)(void *ctx, int64_t i), void *ctx)
{
    for (int64_t i = sl_step_claim(s); i < s->n; i = sl_step_claim(s)) {
        fn(ctx, i);
        sl_step_finish(s);
    }
    sl_step_wait(s);
}
