/* Allocation-failure walks. Every allocation in libpktcap goes through
 * lib/core/alloc.c, whose pktcap__alloc_fail_at(k) makes the kth allocation
 * from then on fail. A walk runs a path once to count the allocations N it
 * makes, then runs it again for every k in 1..N with the kth failing, and
 * asserts that each run either
 *   - returns PKTCAP_E_NOMEM with the thread's error recording
 *     PKTCAP_E_NOMEM and an "out of memory" message, or
 *   - succeeds because the path says that allocation was optional
 *     (walk_path.optional, which must explain why in its comment), or
 *   - made fewer than k allocations this time (a path whose count varies
 *     with timing, such as polling a remote capture) and succeeded;
 * and calls walk_path.after to check what the run left behind. In the
 * sanitizer build LeakSanitizer checks every run, so a leak names its k.
 * PKTCAP_WALK_ONLY=K runs k = K alone, to study it (walk.c). */
#ifndef PKTCAP_TESTS_FAULTS_WALK_H
#define PKTCAP_TESTS_FAULTS_WALK_H

typedef struct walk_path {
    const char *name;
    /* The whole path: 0, or its first error with everything released. */
    int (*run)(void *ctx);
    /* Checks what a run that returned `rc` left (files, state) and cleans
     * up for the next one; NULL when there is nothing to check. */
    void (*after)(void *ctx, unsigned long k, int rc);
    /* Nonzero when the run that just succeeded with its kth allocation
     * failing was allowed to (NULL: never). */
    int (*optional)(void *ctx, unsigned long k);
    void *ctx;
    /* Every k up to `dense` is walked, then every `stride`th one (a path
     * with thousands of allocations); dense 0 walks every k. */
    unsigned long dense, stride;
} walk_path;

typedef struct walk_stats {
    unsigned long allocations; /* N, counted by the clean run */
    unsigned long walked;      /* runs with an allocation armed */
    unsigned long nomem;       /* runs that returned PKTCAP_E_NOMEM */
    unsigned long optional;    /* runs that succeeded: an optional allocation failed */
    unsigned long unreached;   /* runs that made fewer than k allocations */
    double seconds;            /* the whole walk, clean run included */
} walk_stats;

/* Within a run: how many allocations it made so far. The failure armed for
 * the run stays armed (paths use it to tell which phase an allocation
 * belonged to). */
unsigned long walk_allocations_so_far(void);

/* Walks `path` (see above); fails the calling cmocka test on the first run
 * that breaks a rule, naming the path and k. Prints one line of statistics
 * ("# walk NAME: ...") and fills *stats when not NULL. */
void walk_allocations(const walk_path *path, walk_stats *stats);

#endif
