/* steps.h — work sharing inside one OpenMP parallel region without barriers between steps.
 *
 * A forward pass runs as a program of steps that every thread of one parallel region walks in
 * the same order (SPMD). A step is a set of independent items; threads claim items with an atomic
 * counter and count them done. Before a step that reads what the previous one wrote, a thread
 * waits for that step's items to be DONE, not for the other threads to ARRIVE: a thread the OS
 * has descheduled (another process wants the core) holds nobody up unless it holds an item, and
 * items are small. An OpenMP barrier after every step instead makes each of them cost a whole
 * time slice of the slowest thread — 20-50x slower decode on a busy 2-core machine (issue 6). */
#ifndef SL_STEPS_H
#define SL_STEPS_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct sl_step {
    _Atomic int64_t next;      /* next item to claim */
    _Atomic int64_t done;      /* items finished */
    int64_t n;                 /* items */
} sl_step;

/* Set before the parallel region (or by one thread before any thread can reach the step). */
static inline void sl_step_init(sl_step *s, int64_t n)
{
    atomic_store_explicit(&s->next, 0, memory_order_relaxed);
    atomic_store_explicit(&s->done, 0, memory_order_relaxed);
    s->n = n;
}

/* Claim the next item (>= s->n: none left). */
static inline int64_t sl_step_claim(sl_step *s)
{
    return atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed);
}

/* Mark one claimed item finished (publishes its writes to sl_step_wait-ers). */
static inline void sl_step_finish(sl_step *s)
{
    atomic_fetch_add_explicit(&s->done, 1, memory_order_release);
}

/* Block until every item of s is finished: spin briefly, then yield the core. */
void sl_step_wait(sl_step *s);

/* Run every item this thread can claim: fn(ctx, i). Then wait for the whole step. */
void sl_step_run(sl_step *s, void (*fn)(void *ctx, int64_t i), void *ctx);

#endif /* SL_STEPS_H */
