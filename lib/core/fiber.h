/* Internal: cooperative fibers, how a pktcap_group (lib/group.c) runs the
 * blocking operations of many sessions on the caller's one thread.
 *
 * The backends are written as blocking code: a start sends a request, waits
 * for the answer, perhaps sleeps and polls. A group runs each operation on a
 * fiber — a small stack of its own — and the few places where that code
 * would block ask the fiber layer instead:
 *
 *   pktcap__fiber_transfer   a libcurl transfer (lib/net/http.c): the fiber
 *                            is suspended while the group's multi handle
 *                            runs it with every other transfer;
 *   pktcap__fiber_sleep      a wait (retry backoff, rate limits, Azure's
 *                            long-running operations): the fiber is
 *                            suspended until the time comes;
 *   pktcap__iolock_*         a lock held across I/O (a token fetch, a
 *                            login): a fiber that finds it taken yields
 *                            instead of blocking the thread its owner runs on.
 *
 * Outside a fiber the same calls block the thread as before, so one code
 * path serves pktcap_session_* and pktcap_group_*.
 *
 * Each fiber keeps its own copy of the thread's error detail: switching
 * fibers swaps it, so an error recorded before a suspension is still the
 * fiber's after it. Sanitizers are told about every switch (ASan's and
 * TSan's fiber interfaces), and valgrind about every stack. */
#ifndef PKTCAP_CORE_FIBER_H
#define PKTCAP_CORE_FIBER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pktcap__fiber pktcap__fiber;

/* ---- for the scheduler (lib/group.c) --------------------------------------- */

/* Why a suspended fiber waits. */
enum {
    PKTCAP__FIBER_RUNNABLE = 0,  /* resume it now */
    PKTCAP__FIBER_SLEEP = 1,     /* until wake_ms (monotonic), or its cancel flag */
    PKTCAP__FIBER_TRANSFER = 2,  /* until `easy`'s transfer completes */
    PKTCAP__FIBER_FINISHED = 3   /* its function returned: the fiber may run another */
};

typedef struct pktcap__fiber_wait {
    int why;                     /* PKTCAP__FIBER_* */
    int64_t wake_ms;             /* SLEEP */
    const int *cancel;           /* SLEEP: a flag that ends the sleep early, or NULL */
    void *easy;                  /* TRANSFER: the CURL easy handle */
    int result;                  /* TRANSFER: the CURLcode, set by the scheduler */
    int abandoned;               /* set by the scheduler: every wait returns CANCELED */
} pktcap__fiber_wait;

/* A fiber with a stack of `stack_size` bytes (0: the default, larger under
 * sanitizers); a guard page below it turns an overflow into a crash rather
 * than corruption. PKTCAP_E_NOMEM. */
int pktcap__fiber_new(pktcap__fiber **out, size_t stack_size);
/* Only when it is not running and not suspended (never started, or finished). */
void pktcap__fiber_free(pktcap__fiber *f);

/* Starts fn(arg) on the fiber, which must be new or finished. Returns when
 * the fiber suspends or finishes: see pktcap__fiber_state(). */
void pktcap__fiber_start(pktcap__fiber *f, void (*fn)(void *), void *arg);
/* Resumes a suspended fiber (after its wait was satisfied, or abandoned). */
void pktcap__fiber_resume(pktcap__fiber *f);
/* What the fiber waits for (why == FINISHED when its function returned). */
pktcap__fiber_wait *pktcap__fiber_state(pktcap__fiber *f);

/* ---- for code that may run on a fiber ----------------------------------------- */

/* Non-zero when the caller runs on a fiber. */
int pktcap__fiber_active(void);

/* Waits `ms` (<= 0: returns at once): on a fiber by suspending it, else by
 * sleeping in slices of 20 ms while `cancel` (may be NULL) is watched.
 * 0, or PKTCAP_E_CANCELED (no error detail set) when *cancel became non-zero
 * or the scheduler abandoned the fiber. */
int pktcap__fiber_sleep(int64_t ms, const int *cancel);

/* On a fiber only: runs the transfer of `easy` (a CURL *, set up) through the
 * scheduler. 0 with *curlcode the transfer's result, or PKTCAP_E_CANCELED
 * when the scheduler abandoned the fiber (the transfer was removed). */
int pktcap__fiber_transfer(void *easy, int *curlcode);

/* A lock held across blocking work (one token fetch at a time). */
typedef struct pktcap__iolock {
    pthread_mutex_t m;
    pthread_cond_t c;
    int busy;
} pktcap__iolock;

void pktcap__iolock_init(pktcap__iolock *l);
void pktcap__iolock_destroy(pktcap__iolock *l);
/* Takes the lock: a thread waits on the condition; a fiber suspends itself
 * in 2 ms naps until the owner (another fiber of the same thread, or another
 * thread) gives it back. */
void pktcap__iolock_take(pktcap__iolock *l);
void pktcap__iolock_give(pktcap__iolock *l);

#endif
