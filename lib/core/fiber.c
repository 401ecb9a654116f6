/* fiber.c — cooperative fibers on ucontext (lib/core/fiber.h).
 *
 * A fiber is a stack of its own (mmap'ed, with a guard page below it) and a
 * saved context. The scheduler enters it with a context switch; the fiber
 * comes back the same way when it must wait, leaving in `wait` what for. Only
 * touched stack pages cost memory, so a pool of fibers with 256 KiB stacks
 * each uses a few tens of KiB resident.
 *
 * Sanitizers must know about stack switches, or they report false errors
 * (ASan: __sanitizer_start/finish_switch_fiber, which also keep each fiber's
 * fake stack for use-after-return detection) or miss synchronisation (TSan:
 * __tsan_switch_to_fiber); valgrind is told where each stack is. */
#define _GNU_SOURCE
#include "core/fiber.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <pktcap/error.h>

#include "core/alloc.h"
#include "core/error.h"

#if defined(__SANITIZE_ADDRESS__)
#  define FIBER_ASAN 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define FIBER_ASAN 1
#  endif
#endif
#if defined(__SANITIZE_THREAD__)
#  define FIBER_TSAN 1
#elif defined(__has_feature)
#  if __has_feature(thread_sanitizer)
#    define FIBER_TSAN 1
#  endif
#endif

#ifdef FIBER_ASAN
#  include <sanitizer/common_interface_defs.h>
#endif
#ifdef FIBER_TSAN
#  include <sanitizer/tsan_interface.h>
#endif
#ifdef PKTCAP_HAVE_VALGRIND
#  include <valgrind/valgrind.h>
#endif

/* Sanitizers grow frames a lot (redzones, fake stacks): give them room. */
#if defined(FIBER_ASAN) || defined(FIBER_TSAN)
#  define DEFAULT_STACK (1024 * 1024)
#else
#  define DEFAULT_STACK (256 * 1024)
#endif
#define SLICE_MS 20        /* a thread's sleep watches its cancel flag this often */
#define IOLOCK_NAP_MS 2    /* a fiber waiting for an iolock looks again this often */

struct pktcap__fiber {
    ucontext_t ctx;                /* the fiber's, while it is suspended */
    ucontext_t back;               /* the scheduler's, while the fiber runs */
    char *map;                     /* guard page + stack */
    size_t map_size;
    char *stack;
    size_t stack_size;
    void (*fn)(void *);
    void *arg;
    pktcap__fiber_wait wait;
    /* The error detail of the side that is not running: the fiber's while it
     * is suspended, the scheduler's while the fiber runs. */
    unsigned char error[PKTCAP__ERROR_STATE_SIZE];
#ifdef FIBER_ASAN
    void *fake_stack;              /* the fiber's, while suspended */
    const void *back_bottom;       /* the scheduler's stack */
    size_t back_size;
#endif
#ifdef FIBER_TSAN
    void *tsan_fiber, *tsan_back;
#endif
#ifdef PKTCAP_HAVE_VALGRIND
    unsigned valgrind_id;
#endif
};

static __thread pktcap__fiber *current;

/* swapcontext, as getcontext + setcontext: ASan intercepts swapcontext only
 * to print, once, that it "doesn't fully support" it — on the standard error
 * of every program that uses a group. The switches are annotated below, so
 * nothing is lost by going around it. `back` tells the first return of
 * getcontext (go on to `to`) from the one when `from` is resumed. */
static void switch_context(ucontext_t *from, const ucontext_t *to)
{
#ifdef FIBER_TSAN
    /* TSan counts this function's entry and exit on the fiber each happens
     * on: a getcontext here would enter on one and leave on another. */
    swapcontext(from, to);
#else
    volatile int back = 0;
    getcontext(from);
    if (!back) {
        back = 1;
        setcontext(to);
    }
#endif
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static int flag_set(const int *flag)
{
    return flag && __atomic_load_n(flag, __ATOMIC_ACQUIRE) != 0;
}

int pktcap__fiber_new(pktcap__fiber **out, size_t stack_size)
{
    pktcap__fiber *f;
    long page = sysconf(_SC_PAGESIZE);
    size_t pg = page > 0 ? (size_t)page : 4096;
    if (!stack_size)
        stack_size = DEFAULT_STACK;
    stack_size = (stack_size + pg - 1) / pg * pg;
    if (!(f = pktcap__calloc(1, sizeof *f)))
        return PKTCAP_E_NOMEM;
    f->map_size = stack_size + pg;
    f->map = mmap(NULL, f->map_size, PROT_READ | PROT_WRITE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (f->map == MAP_FAILED) {
        pktcap__free(f);
        return pktcap__error_errno(PKTCAP_E_NOMEM, errno, "cannot map a fiber stack of %zu bytes",
                                   stack_size);
    }
    if (mprotect(f->map, pg, PROT_NONE) != 0) {
        int e = errno;
        munmap(f->map, f->map_size);
        pktcap__free(f);
        return pktcap__error_errno(PKTCAP_E_NOMEM, e, "cannot protect a fiber's guard page");
    }
    f->stack = f->map + pg;
    f->stack_size = stack_size;
    f->wait.why = PKTCAP__FIBER_FINISHED;
#ifdef FIBER_TSAN
    f->tsan_fiber = __tsan_create_fiber(0);
#endif
#ifdef PKTCAP_HAVE_VALGRIND
    f->valgrind_id = VALGRIND_STACK_REGISTER(f->stack, f->stack + f->stack_size);
#endif
    *out = f;
    return 0;
}

void pktcap__fiber_free(pktcap__fiber *f)
{
    if (!f)
        return;
#ifdef PKTCAP_HAVE_VALGRIND
    VALGRIND_STACK_DEREGISTER(f->valgrind_id);
#endif
#ifdef FIBER_TSAN
    __tsan_destroy_fiber(f->tsan_fiber);
#endif
    munmap(f->map, f->map_size);
    pktcap__free(f);
}

/* Scheduler → fiber, until the fiber suspends or finishes. */
static void enter(pktcap__fiber *f)
{
#ifdef FIBER_ASAN
    void *fake = NULL;
#endif
    pktcap__error_swap(f->error);   /* the thread gets the fiber's detail */
    current = f;
#ifdef FIBER_ASAN
    __sanitizer_start_switch_fiber(&fake, f->stack, f->stack_size);
#endif
#ifdef FIBER_TSAN
    f->tsan_back = __tsan_get_current_fiber();
    __tsan_switch_to_fiber(f->tsan_fiber, 0);
#endif
    switch_context(&f->back, &f->ctx);
#ifdef FIBER_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
    current = NULL;
    pktcap__error_swap(f->error);   /* and the scheduler gets its own back */
}

static void trampoline(void)
{
    pktcap__fiber *f = current;
#ifdef FIBER_ASAN
    __sanitizer_finish_switch_fiber(NULL, &f->back_bottom, &f->back_size);
#endif
    f->fn(f->arg);
    f->wait.why = PKTCAP__FIBER_FINISHED;
#ifdef FIBER_ASAN
    __sanitizer_start_switch_fiber(NULL, f->back_bottom, f->back_size);   /* this stack is done */
#endif
#ifdef FIBER_TSAN
    __tsan_switch_to_fiber(f->tsan_back, 0);
#endif
    setcontext(&f->back);
}

void pktcap__fiber_start(pktcap__fiber *f, void (*fn)(void *), void *arg)
{
    memset(&f->wait, 0, sizeof f->wait);
    memset(f->error, 0, sizeof f->error);
    f->fn = fn;
    f->arg = arg;
    getcontext(&f->ctx);
    f->ctx.uc_stack.ss_sp = f->stack;
    f->ctx.uc_stack.ss_size = f->stack_size;
    f->ctx.uc_link = NULL;
    makecontext(&f->ctx, trampoline, 0);
    enter(f);
}

void pktcap__fiber_resume(pktcap__fiber *f)
{
    enter(f);
}

pktcap__fiber_wait *pktcap__fiber_state(pktcap__fiber *f)
{
    return &f->wait;
}

/* Fiber → scheduler, until resumed. */
static void suspend(pktcap__fiber *f)
{
#ifdef FIBER_ASAN
    __sanitizer_start_switch_fiber(&f->fake_stack, f->back_bottom, f->back_size);
#endif
#ifdef FIBER_TSAN
    __tsan_switch_to_fiber(f->tsan_back, 0);
#endif
    switch_context(&f->ctx, &f->back);
#ifdef FIBER_ASAN
    __sanitizer_finish_switch_fiber(f->fake_stack, &f->back_bottom, &f->back_size);
#endif
}

int pktcap__fiber_active(void)
{
    return current != NULL;
}

int pktcap__fiber_sleep(int64_t ms, const int *cancel)
{
    pktcap__fiber *f = current;
    if (flag_set(cancel) || (f && f->wait.abandoned))
        return PKTCAP_E_CANCELED;
    if (ms <= 0)
        return 0;
    if (!f) {
        int64_t end = now_ms() + ms;
        if (!cancel) {
            sleep_ms(ms);
            return 0;
        }
        for (int64_t left = ms; left > 0; left = end - now_ms()) {
            if (flag_set(cancel))
                return PKTCAP_E_CANCELED;
            sleep_ms(left < SLICE_MS ? left : SLICE_MS);
        }
        return flag_set(cancel) ? PKTCAP_E_CANCELED : 0;
    }
    f->wait.why = PKTCAP__FIBER_SLEEP;
    f->wait.wake_ms = now_ms() + ms;
    f->wait.cancel = cancel;
    suspend(f);
    f->wait.cancel = NULL;
    return f->wait.abandoned || flag_set(cancel) ? PKTCAP_E_CANCELED : 0;
}

int pktcap__fiber_transfer(void *easy, int *curlcode)
{
    pktcap__fiber *f = current;
    if (!f || f->wait.abandoned)
        return PKTCAP_E_CANCELED;
    f->wait.why = PKTCAP__FIBER_TRANSFER;
    f->wait.easy = easy;
    f->wait.result = 0;
    suspend(f);
    f->wait.easy = NULL;
    if (f->wait.abandoned)
        return PKTCAP_E_CANCELED;
    *curlcode = f->wait.result;
    return 0;
}

/* ---- iolock ---------------------------------------------------------------------- */

void pktcap__iolock_init(pktcap__iolock *l)
{
    pthread_mutex_init(&l->m, NULL);
    pthread_cond_init(&l->c, NULL);
    l->busy = 0;
}

void pktcap__iolock_destroy(pktcap__iolock *l)
{
    pthread_cond_destroy(&l->c);
    pthread_mutex_destroy(&l->m);
}

void pktcap__iolock_take(pktcap__iolock *l)
{
    pthread_mutex_lock(&l->m);
    while (l->busy) {
        if (current) {
            /* The owner may be a fiber of this very thread: let it run.
             * An abandoned fiber still waits its turn (its owner finishes
             * soon, being abandoned as well), so the lock stays exclusive. */
            pthread_mutex_unlock(&l->m);
            pktcap__fiber *f = current;
            int abandoned = f->wait.abandoned;
            f->wait.abandoned = 0;
            pktcap__fiber_sleep(IOLOCK_NAP_MS, NULL);
            f->wait.abandoned |= abandoned;
            pthread_mutex_lock(&l->m);
        } else {
            pthread_cond_wait(&l->c, &l->m);
        }
    }
    l->busy = 1;
    pthread_mutex_unlock(&l->m);
}

void pktcap__iolock_give(pktcap__iolock *l)
{
    pthread_mutex_lock(&l->m);
    l->busy = 0;
    pthread_cond_broadcast(&l->c);
    pthread_mutex_unlock(&l->m);
}
