/* test_fiber.c — the cooperative fibers under pktcap_group (lib/core/fiber.h),
 * driven by a small scheduler of the test's own: suspension and resumption,
 * sleeps, abandoned fibers, the per-fiber error detail, the iolock between
 * fibers of one thread and between a fiber and a thread, and the blocking
 * behaviour of the same calls outside a fiber. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <pktcap/error.h>

#include "core/error.h"
#include "core/fiber.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Resumes every fiber whose wait is over until all have finished; returns
 * the rounds it took. Transfers are "completed" with result 7. */
static int run_all(pktcap__fiber **f, size_t n, int abandon)
{
    int rounds = 0;
    for (;;) {
        size_t i, left = 0;
        for (i = 0; i < n; i++) {
            pktcap__fiber_wait *w = pktcap__fiber_state(f[i]);
            if (w->why == PKTCAP__FIBER_FINISHED)
                continue;
            left++;
            if (abandon)
                w->abandoned = 1;
            if (w->why == PKTCAP__FIBER_TRANSFER)
                w->result = 7;
            if (abandon || w->why != PKTCAP__FIBER_SLEEP || now_ms() >= w->wake_ms)
                pktcap__fiber_resume(f[i]);
        }
        if (!left)
            return rounds;
        rounds++;
        assert_true(rounds < 100000);
        usleep(1000);
    }
}

/* ---- suspension and the error detail ---------------------------------------------- */

struct errs {
    int code_after;
    char message_after[64];
    int transfer_rc, curlcode;
    int active;
};

static void records_then_waits(void *arg)
{
    struct errs *e = arg;
    e->active = pktcap__fiber_active();
    pktcap__error_set(PKTCAP_E_NOTFOUND, "fiber one's error");
    e->transfer_rc = pktcap__fiber_transfer((void *)0x1, &e->curlcode);
    assert_int_equal(pktcap__fiber_sleep(5, NULL), 0);
    e->code_after = pktcap_error_code(pktcap_error_last());
    strcpy(e->message_after, pktcap_error_message(pktcap_error_last()));
}

static void overwrites_the_error(void *arg)
{
    (void)arg;
    pktcap__error_set(PKTCAP_E_TLS, "fiber two's error");
    assert_int_equal(pktcap__fiber_sleep(1, NULL), 0);
}

static void each_fiber_keeps_its_own_error_across_suspensions(void **state)
{
    pktcap__fiber *f[2];
    struct errs e;
    (void)state;
    memset(&e, 0, sizeof e);
    pktcap__error_set(PKTCAP_E_IO, "the scheduler's error");
    assert_int_equal(pktcap__fiber_new(&f[0], 0), 0);
    assert_int_equal(pktcap__fiber_new(&f[1], 64 * 1024), 0);
    pktcap__fiber_start(f[0], records_then_waits, &e);
    assert_int_equal(pktcap__fiber_state(f[0])->why, PKTCAP__FIBER_TRANSFER);
    assert_ptr_equal(pktcap__fiber_state(f[0])->easy, (void *)0x1);
    pktcap__fiber_start(f[1], overwrites_the_error, NULL);
    assert_int_equal(pktcap__fiber_state(f[1])->why, PKTCAP__FIBER_SLEEP);
    /* Outside the fibers the scheduler's own detail is untouched. */
    assert_int_equal(pktcap__fiber_active(), 0);
    assert_string_equal(pktcap_error_message(pktcap_error_last()), "the scheduler's error");
    run_all(f, 2, 0);
    assert_int_equal(e.active, 1);
    assert_int_equal(e.transfer_rc, 0);
    assert_int_equal(e.curlcode, 7);
    assert_int_equal(e.code_after, PKTCAP_E_NOTFOUND);
    assert_string_equal(e.message_after, "fiber one's error");
    assert_string_equal(pktcap_error_message(pktcap_error_last()), "the scheduler's error");
    /* A finished fiber runs another function. */
    memset(&e, 0, sizeof e);
    pktcap__fiber_start(f[1], records_then_waits, &e);
    run_all(&f[1], 1, 0);
    assert_string_equal(e.message_after, "fiber one's error");
    pktcap__fiber_free(f[0]);
    pktcap__fiber_free(f[1]);
}

/* ---- sleeping, abandoning --------------------------------------------------------- */

struct sleeper {
    int64_t ms;
    int rc, rc2, curlcode;
    int64_t slept;
};

static void sleeps(void *arg)
{
    struct sleeper *s = arg;
    int64_t t0 = now_ms();
    s->rc = pktcap__fiber_sleep(s->ms, NULL);
    s->slept = now_ms() - t0;
    s->rc2 = pktcap__fiber_transfer((void *)0x2, &s->curlcode);
}

static void a_sleeping_fiber_wakes_at_its_time(void **state)
{
    pktcap__fiber *f;
    struct sleeper s = { .ms = 30 };
    int64_t before = now_ms();
    (void)state;
    assert_int_equal(pktcap__fiber_new(&f, 0), 0);
    pktcap__fiber_start(f, sleeps, &s);
    assert_int_equal(pktcap__fiber_state(f)->why, PKTCAP__FIBER_SLEEP);
    assert_true(pktcap__fiber_state(f)->wake_ms >= before + 30);
    run_all(&f, 1, 0);
    assert_int_equal(s.rc, 0);
    assert_true(s.slept >= 30);
    assert_int_equal(s.rc2, 0);
    pktcap__fiber_free(f);
}

static void an_abandoned_fiber_gets_canceled_from_every_wait(void **state)
{
    pktcap__fiber *f;
    struct sleeper s = { .ms = 3600 * 1000 };
    (void)state;
    assert_int_equal(pktcap__fiber_new(&f, 0), 0);
    pktcap__fiber_start(f, sleeps, &s);
    run_all(&f, 1, 1);
    assert_int_equal(s.rc, PKTCAP_E_CANCELED);
    assert_int_equal(s.rc2, PKTCAP_E_CANCELED);
    assert_true(s.slept < 1000);
    pktcap__fiber_free(f);
}

static void *set_flag_later(void *arg)
{
    usleep(50000);
    __atomic_store_n((int *)arg, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void outside_a_fiber_the_calls_block_the_thread(void **state)
{
    int flag = 0, code;
    pthread_t t;
    int64_t t0 = now_ms();
    (void)state;
    assert_int_equal(pktcap__fiber_active(), 0);
    assert_int_equal(pktcap__fiber_sleep(20, NULL), 0);
    assert_true(now_ms() - t0 >= 20);
    assert_int_equal(pktcap__fiber_sleep(0, NULL), 0);
    assert_int_equal(pktcap__fiber_transfer((void *)0x1, &code), PKTCAP_E_CANCELED);
    /* A cancel flag ends the sleep early. */
    assert_int_equal(pthread_create(&t, NULL, set_flag_later, &flag), 0);
    t0 = now_ms();
    assert_int_equal(pktcap__fiber_sleep(10000, &flag), PKTCAP_E_CANCELED);
    assert_true(now_ms() - t0 < 5000);
    pthread_join(t, NULL);
    assert_int_equal(pktcap__fiber_sleep(10, &flag), PKTCAP_E_CANCELED);   /* already set */
}

/* ---- iolock ------------------------------------------------------------------------ */

static pktcap__iolock lock;
static int inside, overlaps, entries;

static void holds_the_lock(void *arg)
{
    (void)arg;
    pktcap__iolock_take(&lock);
    if (__atomic_fetch_add(&inside, 1, __ATOMIC_SEQ_CST))
        __atomic_fetch_add(&overlaps, 1, __ATOMIC_SEQ_CST);
    entries++;
    pktcap__fiber_sleep(10, NULL);   /* blocking work, as a token fetch */
    __atomic_fetch_sub(&inside, 1, __ATOMIC_SEQ_CST);
    pktcap__iolock_give(&lock);
}

static void fibers_of_one_thread_take_turns_with_the_iolock(void **state)
{
    pktcap__fiber *f[4];
    size_t i;
    (void)state;
    pktcap__iolock_init(&lock);
    inside = overlaps = entries = 0;
    for (i = 0; i < 4; i++) {
        assert_int_equal(pktcap__fiber_new(&f[i], 0), 0);
        pktcap__fiber_start(f[i], holds_the_lock, NULL);
    }
    run_all(f, 4, 0);
    assert_int_equal(entries, 4);
    assert_int_equal(overlaps, 0);
    for (i = 0; i < 4; i++)
        pktcap__fiber_free(f[i]);
    pktcap__iolock_destroy(&lock);
}

static void *thread_takes(void *arg)
{
    (void)arg;
    pktcap__iolock_take(&lock);
    if (__atomic_fetch_add(&inside, 1, __ATOMIC_SEQ_CST))
        __atomic_fetch_add(&overlaps, 1, __ATOMIC_SEQ_CST);
    usleep(20000);
    __atomic_fetch_sub(&inside, 1, __ATOMIC_SEQ_CST);
    pktcap__iolock_give(&lock);
    return NULL;
}

static void a_fiber_waits_for_a_thread_holding_the_iolock(void **state)
{
    pktcap__fiber *f;
    pthread_t t;
    (void)state;
    pktcap__iolock_init(&lock);
    inside = overlaps = entries = 0;
    pktcap__iolock_take(&lock);   /* held by this thread until the other waits */
    assert_int_equal(pthread_create(&t, NULL, thread_takes, NULL), 0);
    usleep(20000);
    pktcap__iolock_give(&lock);
    usleep(5000);
    assert_int_equal(pktcap__fiber_new(&f, 0), 0);
    pktcap__fiber_start(f, holds_the_lock, NULL);
    run_all(&f, 1, 0);
    pthread_join(t, NULL);
    assert_int_equal(entries, 1);
    assert_int_equal(overlaps, 0);
    pktcap__fiber_free(f);
    pktcap__iolock_destroy(&lock);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_fiber_keeps_its_own_error_across_suspensions),
        cmocka_unit_test(a_sleeping_fiber_wakes_at_its_time),
        cmocka_unit_test(an_abandoned_fiber_gets_canceled_from_every_wait),
        cmocka_unit_test(outside_a_fiber_the_calls_block_the_thread),
        cmocka_unit_test(fibers_of_one_thread_take_turns_with_the_iolock),
        cmocka_unit_test(a_fiber_waits_for_a_thread_holding_the_iolock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
