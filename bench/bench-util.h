/* bench-util — what the benchmark programs share: dying with a message, the
 * clock, allocation, the best and the median of the measured rounds, the
 * host's state for the header, and the comparison table every benchmark
 * prints (and appends to RESULTS_TSV) in the same form. */
#ifndef PKTCAP_BENCH_UTIL_H
#define PKTCAP_BENCH_UTIL_H

#include <stddef.h>
#include <stdio.h>

/* The most measured rounds bench_min and bench_median take. */
#define BENCH_MAX_RUNS 50

/* Names the program in die()'s messages; `cleanup` (or NULL) runs before
 * die() exits. Called first thing in main. */
void bench_init(const char *program, void (*cleanup)(void));

/* Prints "PROGRAM: MESSAGE" on stderr, runs the cleanup, exits with 1. */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* Seconds of the monotonic clock. */
double now(void);

/* malloc that dies when out of memory; n may be 0. */
void *xmalloc(size_t n);

/* The smallest and the median of the n times t[0..n-1], 1 <= n <= BENCH_MAX_RUNS. */
double bench_min(const double *t, int n);
double bench_median(const double *t, int n);

/* The host at start, for the header. */
struct bench_host {
    char date[64];  /* "YYYY-MM-DD hh:mm:ss UTC" */
    char load[64];  /* the line of /proc/loadavg, "?" when unreadable */
    double load1;   /* its first number: the load average over a minute */
    long cpus;      /* CPUs online */
};
void bench_host(struct bench_host *h);

/* True when the load average exceeds half the CPUs: the numbers will be noisy. */
int bench_host_busy(const struct bench_host *h);

/* When busy, prints "  WARNING: load average ... (rerun when idle)". */
void bench_warn_busy(const struct bench_host *h);

/* ---- the comparison table ---- */

/* Appends to the RESULTS_TSV at `path` (dies when it cannot be opened);
 * NULL for a NULL path. */
FILE *bench_open_results(const char *path);

/* Closes what bench_open_results returned (NULL is fine); dies on an error. */
void bench_close_results(FILE *results, const char *path);

/* The two header lines of the table. */
void bench_comparison_header(void);

/* The verdict on a target: "n/a (quick)" in quick mode, else "MET" or
 * "MISSED" by the best-of-N ratio, with " (median: missed)" or
 * " (median: met)" when the median's ratio disagrees. */
void bench_verdict(char *buf, size_t size, int quick, int met_best, int met_median);

/* One line of the table and, when `results` is not NULL, of RESULTS_TSV:
 * key, definition, the best-of-N ratio, target ("-" for none), verdict. */
void bench_comparison(FILE *results, const char *key, const char *definition, double r_best,
                      double r_median, const char *target, const char *verdict);

/* The closing note under the table: verdicts use the best-of-RUNS ratio. */
void bench_verdict_note(int runs);

#endif
