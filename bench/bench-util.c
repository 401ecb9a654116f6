/* bench-util — helpers shared by the benchmark programs (bench-util.h). */
#include "bench-util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *program = "bench";
static void (*at_die)(void);

void bench_init(const char *name, void (*cleanup)(void))
{
    program = name;
    at_die = cleanup;
}

void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", program);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (at_die)
        at_die();
    exit(1);
}

double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die("out of memory (%zu bytes)", n);
    return p;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double bench_min(const double *t, int n)
{
    double m = t[0];
    for (int i = 1; i < n; i++)
        if (t[i] < m)
            m = t[i];
    return m;
}

double bench_median(const double *t, int n)
{
    double s[BENCH_MAX_RUNS];
    memcpy(s, t, sizeof(double) * (size_t)n);
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

void bench_host(struct bench_host *h)
{
    FILE *f = fopen("/proc/loadavg", "r");
    time_t t = time(NULL);
    strcpy(h->load, "?");
    if (f) {
        if (!fgets(h->load, sizeof h->load, f))
            strcpy(h->load, "?");
        h->load[strcspn(h->load, "\n")] = 0;
        fclose(f);
    }
    strftime(h->date, sizeof h->date, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    h->load1 = atof(h->load);
    h->cpus = sysconf(_SC_NPROCESSORS_ONLN);
}

int bench_host_busy(const struct bench_host *h)
{
    return h->cpus > 0 && h->load1 > 0.5 * (double)h->cpus;
}

void bench_warn_busy(const struct bench_host *h)
{
    if (bench_host_busy(h))
        printf("  WARNING: load average %.2f on %ld CPUs: expect noisy numbers (rerun when "
               "idle)\n", h->load1, h->cpus);
}

FILE *bench_open_results(const char *path)
{
    FILE *f;
    if (!path)
        return NULL;
    if (!(f = fopen(path, "a")))
        die("%s: %s", path, strerror(errno));
    return f;
}

void bench_close_results(FILE *results, const char *path)
{
    if (results && fclose(results) != 0)
        die("%s: %s", path, strerror(errno));
}

void bench_comparison_header(void)
{
    printf("\n%-24s %9s %9s %8s  %-21s %s\n", "comparison", "ratio", "ratio", "target",
           "verdict", "definition");
    printf("%-24s %9s %9s\n", "", "(best)", "(median)");
}

void bench_verdict(char *buf, size_t size, int quick, int met_best, int met_median)
{
    if (quick)
        snprintf(buf, size, "n/a (quick)");
    else
        snprintf(buf, size, "%s%s", met_best ? "MET" : "MISSED",
                 met_best == met_median ? "" : met_best ? " (median: missed)" : " (median: met)");
}

void bench_comparison(FILE *results, const char *key, const char *definition, double r_best,
                      double r_median, const char *target, const char *verdict)
{
    printf("%-24s %8.2fx %8.2fx %8s  %-21s %s\n", key, r_best, r_median, target, verdict,
           definition);
    if (results)
        fprintf(results, "%s\t%s\t%.3f\t%s\t%s\n", key, definition, r_best, target, verdict);
}

void bench_verdict_note(int runs)
{
    printf("\nverdicts use the best-of-%d ratio (the median's is shown too); targets are goals,\n"
           "not pass/fail conditions\n", runs);
}
