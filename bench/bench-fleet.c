/* bench-fleet — one fleet of sessions, driven one of two ways, for
 * `./dev bench fleet` (run-fleet.sh, which starts the emulators and compares).
 *
 * usage: bench-fleet --plan FILE --seconds S --out DIR --packets N
 *                    (--group | --sequential) [--count N] [--max-requests N]
 *
 * The plan (bench/fleet-emulators.py writes it) has a line per session:
 * PROVIDER_URI <TAB> TARGET <TAB> STORAGE ("-": none; Azure: its storage
 * account). One provider is opened per distinct URI, one session per line
 * (the first N with --count), each with a time limit of S seconds, fetched
 * to DIR/NAME.pcap.
 *
 *   --group       one pktcap_group with every session: start, then
 *                 pktcap_group_step + poll on pktcap_group_fd until done;
 *   --sequential  the blocking API, one session after another: start,
 *                 pktcap_session_wait, pktcap_session_fetch.
 *
 * Measured in this process (run-fleet.sh runs each mode as a process of its
 * own, so that their memory does not mix): wall time from the first start to
 * the last file, the most threads the process had (/proc/self/status
 * Threads, read between steps and in every event callback: no thread of our
 * own samples it), peak RSS (VmHWM at the end). Every fetched file is read
 * back with pktcap_reader: it must hold exactly N packets.
 *
 * Prints one JSON line: {"mode", "sessions", "wall_s", "max_threads",
 * "peak_rss_kb", "fetched", "valid", "failed", "errors": [first 5 messages]}.
 * Exit status 1 when a session failed or a file is missing or wrong (a
 * correctness failure); timing never changes it. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pktcap/pktcap.h>

#include "bench-util.h"

struct row {
    char *uri, *target, *storage;
};

struct fleet {
    struct row *rows;
    size_t n;
    pktcap_provider **providers;   /* one per distinct URI, by row */
    char *opened;                  /* the row that opened its provider */
    pktcap_session **sessions;
    pktcap_storage **out, **remote;
    char **paths;
    int max_threads;
};

static int threads_now(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = 0;
    if (!f)
        die("cannot read /proc/self/status: %s", strerror(errno));
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Threads: %d", &n) == 1)
            break;
    fclose(f);
    return n;
}

static long peak_rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    if (!f)
        die("cannot read /proc/self/status: %s", strerror(errno));
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static void sample(struct fleet *fl)
{
    int t = threads_now();
    if (t > fl->max_threads)
        fl->max_threads = t;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *c = xmalloc(n);
    memcpy(c, s, n);
    return c;
}

static void read_plan(struct fleet *fl, const char *path, size_t limit)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, alloc = 0;
    ssize_t len;
    if (!f)
        die("%s: %s", path, strerror(errno));
    while ((len = getline(&line, &cap, f)) > 0 && fl->n < limit) {
        char *tab1, *tab2;
        if (line[len - 1] == '\n')
            line[len - 1] = '\0';
        if (!(tab1 = strchr(line, '\t')) || !(tab2 = strchr(tab1 + 1, '\t')))
            die("%s: line %zu is not URI<TAB>TARGET<TAB>STORAGE", path, fl->n + 1);
        *tab1 = *tab2 = '\0';
        if (fl->n == alloc) {
            alloc = alloc ? alloc * 2 : 64;
            struct row *more = realloc(fl->rows, alloc * sizeof *more);
            if (!more)
                die("out of memory");
            fl->rows = more;
        }
        fl->rows[fl->n].uri = xstrdup(line);
        fl->rows[fl->n].target = xstrdup(tab1 + 1);
        fl->rows[fl->n].storage = strcmp(tab2 + 1, "-") == 0 ? NULL : xstrdup(tab2 + 1);
        fl->n++;
    }
    free(line);
    fclose(f);
    if (!fl->n)
        die("%s: no sessions", path);
}

static void check(int rc, const char *what)
{
    if (rc < 0)
        die("%s: %s: %s", what, pktcap_error_name(rc), pktcap_error_message(pktcap_error_last()));
}

static const char *provider_kind_name(const char *uri)
{
    if (strncmp(uri, "azure:", 6) == 0)
        return "az";
    return strncmp(uri, "cloudflare:", 11) == 0 ? "cf" : "sd";
}

static void make_sessions(struct fleet *fl, uint64_t seconds, const char *dir)
{
    size_t i, j;
    fl->providers = calloc(fl->n, sizeof *fl->providers);
    fl->sessions = calloc(fl->n, sizeof *fl->sessions);
    fl->out = calloc(fl->n, sizeof *fl->out);
    fl->remote = calloc(fl->n, sizeof *fl->remote);
    fl->paths = calloc(fl->n, sizeof *fl->paths);
    fl->opened = calloc(fl->n, 1);
    if (!fl->opened || !fl->providers || !fl->sessions || !fl->out || !fl->remote || !fl->paths)
        die("out of memory");
    for (i = 0; i < fl->n; i++) {
        struct row *r = &fl->rows[i];
        char name[64], path[4096];
        for (j = 0; j < i; j++)
            if (strcmp(fl->rows[j].uri, r->uri) == 0 && fl->providers[j]) {
                fl->providers[i] = fl->providers[j];
                break;
            }
        if (!fl->providers[i]) {
            check(pktcap_provider_open(&fl->providers[i], r->uri), "pktcap_provider_open");
            fl->opened[i] = 1;
        }
        snprintf(name, sizeof name, "%s-%zu-%ld", provider_kind_name(r->uri), i, (long)getpid());
        check(pktcap_session_new(&fl->sessions[i], fl->providers[i], name), "pktcap_session_new");
        check(pktcap_session_set_target(fl->sessions[i], r->target), "set_target");
        check(pktcap_session_set_time_limit(fl->sessions[i], seconds * 1000), "set_time_limit");
        if (r->storage) {
            check(pktcap_storage_open(&fl->remote[i], r->storage), "storage (remote)");
            check(pktcap_session_set_storage(fl->sessions[i], fl->remote[i]), "set_storage");
        }
        snprintf(path, sizeof path, "%s/%s.pcap", dir, name);
        fl->paths[i] = xstrdup(path);
        check(pktcap_storage_open(&fl->out[i], path), "storage (file)");
    }
}

static void on_event(const pktcap_group_event *ev, void *userdata)
{
    (void)ev;
    sample(userdata);
}

/* 0, or the number of failed sessions (their first messages in errors). */
static size_t run_group(struct fleet *fl, int max_requests, char errors[5][600])
{
    pktcap_group *g;
    int64_t timeout;
    size_t i, failed = 0;
    char value[32];
    check(pktcap_group_new(&g), "pktcap_group_new");
    snprintf(value, sizeof value, "%d", max_requests);
    check(pktcap_group_set(g, "max_requests", value), "max_requests");
    check(pktcap_group_set(g, "max_downloads", "16"), "max_downloads");
    check(pktcap_group_set_event_callback(g, on_event, fl), "event callback");
    for (i = 0; i < fl->n; i++)
        check(pktcap_group_add(g, fl->sessions[i], fl->out[i]), "pktcap_group_add");
    check(pktcap_group_start(g), "pktcap_group_start");
    int rc;
    while ((rc = pktcap_group_step(g, &timeout)) == 1) {
        struct pollfd pfd = { .fd = pktcap_group_fd(g), .events = POLLIN };
        sample(fl);
        poll(&pfd, 1, (int)timeout);
    }
    check(rc, "pktcap_group_step");
    for (i = 0; i < fl->n; i++) {
        pktcap_group_result r = { .struct_size = sizeof r };
        check(pktcap_group_get_result(g, i, &r), "pktcap_group_get_result");
        if (r.code || !r.fetched) {
            if (failed < 5)
                snprintf(errors[failed], 600, "%s: %s", pktcap_session_name(fl->sessions[i]),
                         r.code ? r.message : "not fetched");
            failed++;
        }
    }
    pktcap_group_free(g);
    return failed;
}

static size_t run_sequential(struct fleet *fl, char errors[5][600])
{
    size_t i, failed = 0;
    for (i = 0; i < fl->n; i++) {
        pktcap_session *s = fl->sessions[i];
        int rc = pktcap_session_start(s);
        sample(fl);
        if (rc == 0)
            rc = pktcap_session_wait(s, -1);
        sample(fl);
        if (rc == 0 && pktcap_session_state(s) != PKTCAP_STATE_COMPLETE)
            rc = PKTCAP_E_REMOTE;
        if (rc == 0)
            rc = pktcap_session_fetch(s, fl->out[i]);
        sample(fl);
        if (rc < 0) {
            if (failed < 5)
                snprintf(errors[failed], 600, "%s: %s", pktcap_session_name(s),
                         rc == PKTCAP_E_REMOTE ? pktcap_session_error_text(s)
                                               : pktcap_error_message(pktcap_error_last()));
            failed++;
        }
    }
    return failed;
}

static size_t count_packets(const char *path)
{
    pktcap_reader *r;
    const pktcap_packet *p;
    size_t n = 0;
    if (pktcap_reader_open(&r, path) < 0)
        return (size_t)-1;
    int rc;
    while ((rc = pktcap_reader_next(&p, r)) == 0)
        n++;
    if (rc != PKTCAP_E_END)
        n = (size_t)-1;
    pktcap_reader_close(r);
    return n;
}

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    const char *plan = NULL, *dir = NULL, *mode = NULL;
    uint64_t seconds = 10;
    size_t count = (size_t)-1, packets = 0, i, fetched = 0, valid = 0, failed;
    int max_requests = 1024;
    char errors[5][600];
    struct fleet fl;
    double t0, wall;
    bench_init("bench-fleet", NULL);
    for (int a = 1; a < argc; a++) {
        const char *arg = argv[a];
        const char *next = a + 1 < argc ? argv[a + 1] : NULL;
        if (strcmp(arg, "--group") == 0 || strcmp(arg, "--sequential") == 0) {
            mode = arg + 2;
            continue;
        }
        if (!next)
            die("%s needs a value", arg);
        if (strcmp(arg, "--plan") == 0)
            plan = next;
        else if (strcmp(arg, "--out") == 0)
            dir = next;
        else if (strcmp(arg, "--seconds") == 0)
            seconds = strtoull(next, NULL, 10);
        else if (strcmp(arg, "--count") == 0)
            count = strtoull(next, NULL, 10);
        else if (strcmp(arg, "--packets") == 0)
            packets = strtoull(next, NULL, 10);
        else if (strcmp(arg, "--max-requests") == 0)
            max_requests = atoi(next);
        else
            die("unknown option %s", arg);
        a++;
    }
    if (!plan || !dir || !mode || !packets || !seconds)
        die("usage: bench-fleet --plan FILE --seconds S --out DIR --packets N "
            "(--group | --sequential) [--count N] [--max-requests N]");
    memset(&fl, 0, sizeof fl);
    memset(errors, 0, sizeof errors);
    read_plan(&fl, plan, count);
    make_sessions(&fl, seconds, dir);
    fl.max_threads = threads_now();
    t0 = now();
    failed = strcmp(mode, "group") == 0 ? run_group(&fl, max_requests, errors)
                                        : run_sequential(&fl, errors);
    wall = now() - t0;
    for (i = 0; i < fl.n; i++) {
        size_t n;
        if (access(fl.paths[i], F_OK) != 0)
            continue;
        fetched++;
        n = count_packets(fl.paths[i]);
        if (n == packets)
            valid++;
        else if (failed++ < 5)
            snprintf(errors[failed - 1], 600, "%s: %zu packets, not %zu", fl.paths[i], n,
                     packets);
    }
    printf("{\"mode\": \"%s\", \"sessions\": %zu, \"wall_s\": %.3f, \"max_threads\": %d, "
           "\"peak_rss_kb\": %ld, \"fetched\": %zu, \"valid\": %zu, \"failed\": %zu, "
           "\"errors\": [", mode, fl.n, wall, fl.max_threads, peak_rss_kb(), fetched, valid,
           failed);
    for (i = 0; i < 5 && errors[i][0]; i++) {
        if (i)
            printf(", ");
        json_string(errors[i]);
    }
    printf("]}\n");
    for (i = 0; i < fl.n; i++)
        pktcap_session_free(fl.sessions[i]);
    for (i = 0; i < fl.n; i++) {
        pktcap_storage_free(fl.out[i]);
        pktcap_storage_free(fl.remote[i]);
        if (fl.opened[i])
            pktcap_provider_close(fl.providers[i]);
        free(fl.paths[i]);
        free(fl.rows[i].uri);
        free(fl.rows[i].target);
        free(fl.rows[i].storage);
    }
    free(fl.rows);
    free(fl.providers);
    free(fl.opened);
    free(fl.sessions);
    free(fl.out);
    free(fl.remote);
    free(fl.paths);
    return failed || fetched != fl.n || valid != fl.n ? 1 : 0;
}
