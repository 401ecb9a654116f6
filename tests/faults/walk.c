/* The allocation-failure walk (walk.h). */
#include "walk.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pktcap/pktcap.h>
#include "core/alloc.h"

#if defined(__SANITIZE_ADDRESS__) /* gcc */
#define HAVE_LSAN 1
#elif defined(__has_feature)       /* clang */
#if __has_feature(address_sanitizer)
#define HAVE_LSAN 1
#endif
#endif
#ifdef HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#else
#define HAVE_LSAN 0
#endif

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* In the sanitizer build, a leak check after every run, so that a leak
 * names the run that made it (PKTCAP_WALK_LEAK_CHECK=0 leaves leaks to the
 * check at exit). */
static void check_leaks(const walk_path *path, unsigned long k)
{
#if HAVE_LSAN
    static int each = -1;
    if (each < 0) {
        const char *v = getenv("PKTCAP_WALK_LEAK_CHECK");
        each = !v || strcmp(v, "0") != 0;
    }
    if (each && __lsan_do_recoverable_leak_check() != 0)
        fail_msg("%s: the run with allocation %lu failing leaked (report above)", path->name, k);
#else
    (void)path;
    (void)k;
#endif
}

/* The failure armed for the current run (0: none) and the allocations the
 * run made before the last walk_allocations_so_far(). */
static unsigned long armed_k, run_base;

unsigned long walk_allocations_so_far(void)
{
    unsigned long total = run_base + pktcap__alloc_fail_at(0);
    run_base = total;
    if (armed_k > total)
        pktcap__alloc_fail_at(armed_k - total);
    return total;
}

/* Runs the path with the kth allocation failing (0: none); returns what
 * it returned and, in *made, how many allocations it made. */
static int run_once(const walk_path *path, unsigned long k, unsigned long *made)
{
    int rc;
    armed_k = k;
    run_base = 0;
    pktcap__alloc_fail_at(k);
    rc = path->run(path->ctx);
    *made = run_base + pktcap__alloc_fail_at(0);
    armed_k = 0;
    return rc;
}

/* PKTCAP_WALK_ONLY=K runs the clean run and k = K alone: to study one
 * failure under a debugger (break on pktcap__error_set if code == -2). */
static unsigned long only_k(void)
{
    const char *v = getenv("PKTCAP_WALK_ONLY");
    return v ? strtoul(v, NULL, 10) : 0;
}

static unsigned long next_k(const walk_path *path, unsigned long k)
{
    if (path->dense == 0 || k < path->dense || path->stride <= 1)
        return k + 1;
    return k + path->stride;
}

void walk_allocations(const walk_path *path, walk_stats *stats)
{
    walk_stats st = { 0 };
    double start = now_s();
    unsigned long k;
    int rc;

    /* The clean run: it must succeed, and it says how many allocations the
     * path makes. */
    rc = run_once(path, 0, &st.allocations);
    if (rc != 0)
        fail_msg("%s: the run without failures returned %s: %s", path->name, pktcap_error_name(rc),
                 pktcap_error_message(pktcap_error_last()));
    if (path->after)
        path->after(path->ctx, 0, rc);
    check_leaks(path, 0);

    /* Past N, the walk goes on until a run no longer reaches k: paths whose
     * count varies are walked to their longest run seen. */
    for (k = only_k() ? only_k() : 1;; k = next_k(path, k)) {
        unsigned long made;
        const pktcap_error *e;
        pktcap_error_clear();
        rc = run_once(path, k, &made);
        st.walked++;
        e = pktcap_error_last();
        if (made < k) {
            /* Nothing failed in this run. */
            if (rc != 0)
                fail_msg("%s: k=%lu was not reached (%lu allocations), yet the run returned %s: %s",
                         path->name, k, made, pktcap_error_name(rc), pktcap_error_message(e));
            st.unreached++;
        } else if (rc == PKTCAP_E_NOMEM) {
            if (pktcap_error_code(e) != PKTCAP_E_NOMEM)
                fail_msg("%s: k=%lu returned PKTCAP_E_NOMEM but the thread's error is %s: %s",
                         path->name, k, pktcap_error_name(pktcap_error_code(e)),
                         pktcap_error_message(e));
            if (!strstr(pktcap_error_message(e), "out of memory"))
                fail_msg("%s: k=%lu: PKTCAP_E_NOMEM with the message \"%s\"", path->name, k,
                         pktcap_error_message(e));
            st.nomem++;
        } else if (rc == 0) {
            if (!path->optional || !path->optional(path->ctx, k))
                fail_msg("%s: allocation %lu of %lu failed, yet the run succeeded", path->name, k,
                         made);
            st.optional++;
        } else {
            fail_msg("%s: allocation %lu of %lu failed and the run returned %s (not "
                     "PKTCAP_E_NOMEM): %s", path->name, k, made, pktcap_error_name(rc),
                     pktcap_error_message(e));
        }
        if (path->after)
            path->after(path->ctx, k, rc);
        check_leaks(path, k);
        if ((made < k && k > st.allocations) || only_k())
            break;
        if (k > 4 * st.allocations + 100)
            fail_msg("%s: still failing at k=%lu, far past the %lu allocations of the clean run",
                     path->name, k, st.allocations);
    }
    st.seconds = now_s() - start;
    printf("# walk %s: %lu allocations; %lu runs (every k", path->name, st.allocations, st.walked);
    if (path->dense && path->stride > 1)
        printf(" to %lu, then every %luth", path->dense, path->stride);
    printf("): %lu NOMEM, %lu optional, %lu not reached; %.1f s\n", st.nomem, st.optional,
           st.unreached, st.seconds);
    fflush(stdout);
    if (stats)
        *stats = st;
}
