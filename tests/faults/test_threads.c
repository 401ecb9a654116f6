/* Threads: the library used from many threads at once, as doc/sessions.md
 * allows it — every object used by one thread at a time, except
 * pktcap_session_state/stat/stat_known/cancel, which any thread may call —
 * built with ThreadSanitizer by `./dev test` (build-tsan), and run in the
 * normal and ASan builds too.
 *
 * - Readers: THREADS threads each read the whole corpus (tests/corpus, pcap
 *   and pcapng, $PKTCAP_CORPUS), whole from its files and cut short from
 *   memory, starting at different files, summarise and match every packet,
 *   and must find in every file exactly what one thread found alone: packet
 *   count, bytes, filter matches, a digest of the text and JSON summaries,
 *   the final status and its error message.
 * - Error details: THREADS threads provoke errors whose messages carry the
 *   thread's number and the iteration (filters, BPF, missing files, provider
 *   settings, sessions started on missing interfaces), and each must read
 *   back exactly its own code and message from pktcap_error_last() — also
 *   after a successful call, which leaves the detail alone — never another
 *   thread's.
 * - Sessions (needs root, see require_root in tests/session/util.c):
 *   OWNERS threads each run ROUNDS local captures on lo (ended by a packet
 *   limit, kept in memory; or stopped, written to a file), while WATCHERS
 *   threads poll pktcap_session_state/stat/stat_known and call
 *   pktcap_session_cancel on the sessions they do not own. Every watcher
 *   must have seen every session RUNNING before its owner sends traffic, so
 *   the overlap is certain; counts, states and reasons are exact.
 *
 * Worker threads never call cmocka (it is not thread-safe): they record
 * their first failure, and the test's thread asserts on the records. */
#define _GNU_SOURCE 1   /* pthread_rwlockattr_setkind_np */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pktcap/pktcap.h>
#include <pktcap/session.h>

#include "../session/util.h"   /* the root rule, loopback traffic */

#define THREADS 8
#define READ_ROUNDS 2          /* each reader thread reads the corpus this many times */
#define ERROR_ROUNDS 2000      /* iterations of each error thread */
#define BPF_EVERY 50           /* ... of which every 50th also compiles a bad BPF expression */
#define START_EVERY 40         /* ... and every 40th starts a session on a missing interface */
#define OWNERS 4
#define WATCHERS 4
#define ROUNDS 6               /* sessions per owner: even rounds end by a packet limit, odd by stop */
#define DATAGRAMS 20
#define PAYLOAD 32
#define ETH_IP_UDP 42u         /* Ethernet + IPv4 + UDP headers on lo */
#define WAIT_MS 20000          /* generous: packets arrive within milliseconds */

/* ---- what a worker thread reports ------------------------------------------------ */

typedef struct worker {
    pthread_t thread;
    int index;
    unsigned long done;        /* files read, iterations or sessions completed */
    unsigned long failures;
    char first_failure[1536];
    /* error threads: the address of the thread's own error record */
    const pktcap_error *record;
    /* session owners and watchers */
    unsigned long canceled_waits;   /* owner: waits that returned PKTCAP_E_CANCELED */
    unsigned long seen_running;     /* watcher: sessions it saw RUNNING (once each) */
    unsigned long cancels;          /* watcher: pktcap_session_cancel calls that returned 0 */
} worker;

__attribute__((format(printf, 2, 3)))
static void failed(worker *w, const char *fmt, ...)
{
    va_list ap;
    if (w->failures++ == 0) {
        va_start(ap, fmt);
        vsnprintf(w->first_failure, sizeof w->first_failure, fmt, ap);
        va_end(ap);
    }
}

static pthread_barrier_t start_line;

static void run_workers(worker *ws, int n, void *(*fn)(void *))
{
    int i;
    assert_int_equal(pthread_barrier_init(&start_line, NULL, (unsigned)n), 0);
    for (i = 0; i < n; i++) {
        ws[i].index = i;
        assert_int_equal(pthread_create(&ws[i].thread, NULL, fn, &ws[i]), 0);
    }
    for (i = 0; i < n; i++)
        assert_int_equal(pthread_join(ws[i].thread, NULL), 0);
    pthread_barrier_destroy(&start_line);
}

static void assert_no_failures(const worker *ws, int n, const char *what)
{
    int i;
    for (i = 0; i < n; i++)
        if (ws[i].failures)
            fail_msg("%s %d: %lu failures, the first: %s", what, i, ws[i].failures,
                     ws[i].first_failure);
}

/* ---- readers ---------------------------------------------------------------------- */

/* What reading one file gives; equal for every thread. */
typedef struct file_result {
    int open_rc;              /* pktcap_reader_open's status */
    int end_rc;               /* the last pktcap_reader_next status */
    char message[1024];       /* the thread's error message after the read ("" if none) */
    uint64_t packets, caplen_sum, matched;
    uint64_t digest;          /* FNV-1a of every packet's text and JSON summary */
} file_result;

/* Each file is read twice: from its path, and from memory cut at two
 * thirds of its size (most end in PKTCAP_E_TRUNCATED, with a message). */
static struct {
    char **paths;
    size_t count, cap;
    uint8_t **bytes;
    size_t *sizes;
    file_result *expected, *expected_cut;
} corpus;

static void add_path(const char *path)
{
    if (corpus.count == corpus.cap) {
        corpus.cap = corpus.cap ? corpus.cap * 2 : 256;
        corpus.paths = realloc(corpus.paths, corpus.cap * sizeof *corpus.paths);
        assert_non_null(corpus.paths);
    }
    corpus.paths[corpus.count] = strdup(path);
    assert_non_null(corpus.paths[corpus.count]);
    corpus.count++;
}

static int has_suffix(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);
    return n > m && strcmp(name + n - m, suffix) == 0;
}

static void walk(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    if (!d)
        fail_msg("cannot list %s", dir);
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_type == DT_DIR)
            walk(path);
        else if (has_suffix(e->d_name, ".pcap") || has_suffix(e->d_name, ".pcapng"))
            add_path(path);
    }
    closedir(d);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Reads and summarises file i with the calling thread's filter: from its
 * path, or the first two thirds of its bytes from memory when `cut`. */
static void read_file(file_result *out, size_t i, int cut, const pktcap_filter *filter)
{
    pktcap_reader *r;
    const pktcap_packet *p;
    char line[4096];
    size_t len;
    int rc;
    memset(out, 0, sizeof *out);
    out->digest = 14695981039346656037ull;
    pktcap_error_clear();
    if (cut)
        out->open_rc = pktcap_reader_open_memory(&r, corpus.bytes[i], corpus.sizes[i] * 2 / 3);
    else
        out->open_rc = pktcap_reader_open(&r, corpus.paths[i]);
    if (out->open_rc == 0) {
        while ((rc = pktcap_reader_next(&p, r)) == 0) {
            pktcap_summary sum;
            memset(&sum, 0, sizeof sum);
            sum.struct_size = sizeof sum;
            pktcap_summarize(&sum, p);
            sum.number = ++out->packets;
            out->caplen_sum += p->caplen;
            out->matched += pktcap_filter_match(filter, p) == 1;
            if (pktcap_summary_format(&len, line, sizeof line, PKTCAP_SUMMARY_TEXT, &sum) == 0)
                out->digest = fnv1a(out->digest, line, len + 1);
            if (pktcap_summary_format(&len, line, sizeof line, PKTCAP_SUMMARY_JSON, &sum) == 0)
                out->digest = fnv1a(out->digest, line, len + 1);
        }
        out->end_rc = rc;
        pktcap_reader_close(r);
    }
    snprintf(out->message, sizeof out->message, "%s", pktcap_error_message(pktcap_error_last()));
}

static const char reader_filter[] = "proto=tcp or proto=udp remote_port=53";

static void *reader_main(void *arg)
{
    worker *w = arg;
    pktcap_filter *f;
    file_result got;
    size_t k, start = (size_t)w->index * corpus.count / THREADS;
    int round;
    pthread_barrier_wait(&start_line);
    if (pktcap_filter_parse(&f, reader_filter) != 0) {
        failed(w, "parsing \"%s\": %s", reader_filter, last_message());
        return NULL;
    }
    for (round = 0; round < READ_ROUNDS; round++)
        for (k = 0; k < 2 * corpus.count; k++) {
            size_t i = (start + k / 2) % corpus.count;
            int cut = (int)(k % 2);
            const file_result *want = cut ? &corpus.expected_cut[i] : &corpus.expected[i];
            read_file(&got, i, cut, f);
            w->done++;
            if (got.open_rc != want->open_rc || got.end_rc != want->end_rc ||
                got.packets != want->packets || got.caplen_sum != want->caplen_sum ||
                got.matched != want->matched || got.digest != want->digest ||
                strcmp(got.message, want->message) != 0)
                failed(w, "%s%s: open %d, end %d, %llu packets, %llu bytes, %llu matched, "
                       "digest %016llx, \"%s\"; alone: open %d, end %d, %llu packets, %llu "
                       "bytes, %llu matched, digest %016llx, \"%s\"", corpus.paths[i],
                       cut ? " (cut)" : "",
                       got.open_rc, got.end_rc, (unsigned long long)got.packets,
                       (unsigned long long)got.caplen_sum, (unsigned long long)got.matched,
                       (unsigned long long)got.digest, got.message, want->open_rc,
                       want->end_rc, (unsigned long long)want->packets,
                       (unsigned long long)want->caplen_sum,
                       (unsigned long long)want->matched, (unsigned long long)want->digest,
                       want->message);
        }
    pktcap_filter_free(f);
    return NULL;
}

/* Reads a whole file into memory (fails the test if it cannot). */
static void load(size_t i)
{
    FILE *f = fopen(corpus.paths[i], "rb");
    long size = -1;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        fail_msg("cannot read %s", corpus.paths[i]);
    corpus.sizes[i] = (size_t)size;
    corpus.bytes[i] = malloc(corpus.sizes[i] ? corpus.sizes[i] : 1);
    assert_non_null(corpus.bytes[i]);
    assert_int_equal(fread(corpus.bytes[i], 1, corpus.sizes[i], f), corpus.sizes[i]);
    fclose(f);
}

static void readers_in_parallel_see_what_one_reader_sees(void **state)
{
    const char *dir = getenv("PKTCAP_CORPUS");
    worker ws[THREADS];
    pktcap_filter *f;
    size_t i, read_to_end = 0, cut_truncated = 0, packets = 0;
    (void)state;
    if (!dir || !*dir)
        fail_msg("PKTCAP_CORPUS is not set (meson sets it to tests/corpus)");
    walk(dir);
    qsort(corpus.paths, corpus.count, sizeof *corpus.paths, by_name);
    assert_true(corpus.count > 600);
    corpus.bytes = calloc(corpus.count, sizeof *corpus.bytes);
    corpus.sizes = calloc(corpus.count, sizeof *corpus.sizes);
    corpus.expected = calloc(corpus.count, sizeof *corpus.expected);
    corpus.expected_cut = calloc(corpus.count, sizeof *corpus.expected_cut);
    assert_true(corpus.bytes && corpus.sizes && corpus.expected && corpus.expected_cut);

    /* The reference: one thread, one pass. */
    assert_int_equal(pktcap_filter_parse(&f, reader_filter), 0);
    for (i = 0; i < corpus.count; i++) {
        load(i);
        read_file(&corpus.expected[i], i, 0, f);
        read_file(&corpus.expected_cut[i], i, 1, f);
        read_to_end += corpus.expected[i].open_rc == 0 &&
                       corpus.expected[i].end_rc == PKTCAP_E_END;
        cut_truncated += corpus.expected_cut[i].end_rc == PKTCAP_E_TRUNCATED;
        packets += corpus.expected[i].packets;
    }
    pktcap_filter_free(f);
    print_message("threads: %zu corpus files (%zu read to their end, %zu cut ones truncated), "
                  "%zu packets\n", corpus.count, read_to_end, cut_truncated, packets);
    assert_true(read_to_end > 600);
    assert_true(cut_truncated > 300);

    memset(ws, 0, sizeof ws);
    run_workers(ws, THREADS, reader_main);
    assert_no_failures(ws, THREADS, "reader");
    for (i = 0; i < THREADS; i++)
        assert_int_equal(ws[i].done, READ_ROUNDS * 2 * corpus.count);

    for (i = 0; i < corpus.count; i++) {
        free(corpus.paths[i]);
        free(corpus.bytes[i]);
    }
    free(corpus.paths);
    free(corpus.bytes);
    free(corpus.sizes);
    free(corpus.expected);
    free(corpus.expected_cut);
    memset(&corpus, 0, sizeof corpus);
}

/* ---- error details ------------------------------------------------------------------ */

/* rc and the thread's record must be `code` and exactly `message`. */
static void expect_error(worker *w, const char *call, int rc, int code, const char *message)
{
    const pktcap_error *e = pktcap_error_last();
    if (rc != code || pktcap_error_code(e) != code ||
        strcmp(pktcap_error_message(e), message) != 0)
        failed(w, "%s: returned %s, record %s \"%s\"; expected %s \"%s\"", call,
               pktcap_error_name(rc), pktcap_error_name(pktcap_error_code(e)),
               pktcap_error_message(e), pktcap_error_name(code), message);
}

/* "eth0, any, lo, ...": what the local provider lists as available in its
 * message for an unknown interface, as the test's thread saw it. */
static char interfaces[900];

/* A session on an interface that does not exist fails to start, with the
 * thread's own interface name in its message and in the session's text. */
static void start_on_missing_interface(worker *w, pktcap_provider *p, int i)
{
    pktcap_session *s;
    char name[32], target[32], message[1024];
    snprintf(name, sizeof name, "t%d-%d", w->index, i);
    snprintf(target, sizeof target, "nx%d-%d", w->index, i);
    if (pktcap_session_new(&s, p, name) != 0 || pktcap_session_set_target(s, target) != 0) {
        failed(w, "session %s on %s: %s", name, target, last_message());
        return;
    }
    snprintf(message, sizeof message, "no interface \"%s\" (available: %s)", target, interfaces);
    expect_error(w, "pktcap_session_start", pktcap_session_start(s), PKTCAP_E_NOTFOUND,
                 message);
    if (pktcap_session_state(s) != PKTCAP_STATE_FAILED ||
        strcmp(pktcap_session_error_text(s), message) != 0)
        failed(w, "%s: %s \"%s\" after a failed start", name,
               pktcap_state_name(pktcap_session_state(s)), pktcap_session_error_text(s));
    pktcap_session_free(s);
}

static void *errors_main(void *arg)
{
    worker *w = arg;
    int t = w->index, i, rc;
    pktcap_provider *p;
    pktcap_filter *f;
    char text[256], message[1024], path[256];
    w->record = pktcap_error_last();
    pthread_barrier_wait(&start_line);
    if (pktcap_provider_open(&p, "local:") != 0) {
        failed(w, "opening local: %s", last_message());
        return NULL;
    }
    for (i = 0; i < ERROR_ROUNDS; i++) {
        /* A filter with this thread's and iteration's number as a port. */
        snprintf(text, sizeof text, "proto=udp remote_port=%dx%d", t, i);
        snprintf(message, sizeof message,
                 "rule 1, remote_port: not a port number (0-65535): \"%dx%d\"", t, i);
        expect_error(w, "pktcap_filter_parse", pktcap_filter_parse(&f, text), PKTCAP_E_INVAL,
                     message);
        sched_yield();   /* let the others record theirs in between */
        /* A successful call leaves the thread's detail alone. */
        if ((rc = pktcap_filter_parse(&f, "proto=tcp")) != 0)
            failed(w, "parsing proto=tcp: %s", pktcap_error_name(rc));
        else
            pktcap_filter_free(f);
        expect_error(w, "the record after a success", PKTCAP_E_INVAL, PKTCAP_E_INVAL, message);

        snprintf(path, sizeof path, "/nonexistent-pktcap-threads/t%d-%d.pcapng", t, i);
        snprintf(message, sizeof message, "cannot open %s: No such file or directory", path);
        {
            pktcap_reader *r = NULL;
            expect_error(w, "pktcap_reader_open", pktcap_reader_open(&r, path),
                         PKTCAP_E_NOTFOUND, message);
        }

        snprintf(text, sizeof text, "%d", 100000 * (t + 1) + i);
        snprintf(message, sizeof message, "local provider setting 'timeout_ms': %s is out of "
                 "range (1 to 10000)", text);
        expect_error(w, "pktcap_provider_set", pktcap_provider_set(p, "timeout_ms", text),
                     PKTCAP_E_INVAL, message);

        if (i % BPF_EVERY == 0) {   /* libpcap's compiler, under the library's lock */
            unsigned port = 100000u * (unsigned)(t + 1) + (unsigned)i;
            snprintf(text, sizeof text, "udp port %u", port);
            snprintf(message, sizeof message, "invalid BPF expression \"%s\": illegal port "
                     "number %u > 65535", text, port);
            expect_error(w, "pktcap_filter_new_bpf", pktcap_filter_new_bpf(&f, text),
                         PKTCAP_E_INVAL, message);
        }
        if (i % START_EVERY == 0)   /* libpcap's pcap_create, pcap_activate, pcap_findalldevs */
            start_on_missing_interface(w, p, i);
        if (i % 100 == 99) {
            pktcap_error_clear();
            expect_error(w, "pktcap_error_clear", PKTCAP_OK, PKTCAP_OK, "");
        }
        if (pktcap_error_last() != w->record)
            failed(w, "pktcap_error_last() moved from %p to %p", (const void *)w->record,
                   (const void *)pktcap_error_last());
        w->done++;
    }
    pktcap_provider_close(p);
    return NULL;
}

static void each_thread_reads_only_its_own_error_details(void **state)
{
    static const char prefix[] = "no interface \"nx\" (available: ";
    worker ws[THREADS];
    pktcap_provider *p;
    pktcap_session *s;
    const char *m;
    size_t n;
    int i, j;
    (void)state;
    /* The interface list every thread's message must show. */
    assert_int_equal(pktcap_provider_open(&p, "local:"), 0);
    assert_int_equal(pktcap_session_new(&s, p, "reference"), 0);
    assert_int_equal(pktcap_session_set_target(s, "nx"), 0);
    assert_int_equal(pktcap_session_start(s), PKTCAP_E_NOTFOUND);
    m = last_message();
    n = strlen(m);
    assert_true(strncmp(m, prefix, sizeof prefix - 1) == 0 && m[n - 1] == ')');
    assert_true(n - sizeof prefix < sizeof interfaces);
    memcpy(interfaces, m + sizeof prefix - 1, n - sizeof prefix);
    interfaces[n - sizeof prefix] = '\0';
    assert_non_null(strstr(interfaces, "lo"));
    pktcap_session_free(s);
    pktcap_provider_close(p);

    memset(ws, 0, sizeof ws);
    run_workers(ws, THREADS, errors_main);
    assert_no_failures(ws, THREADS, "error thread");
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(ws[i].done, ERROR_ROUNDS);
        for (j = 0; j < i; j++)
            assert_ptr_not_equal(ws[i].record, ws[j].record);
        assert_ptr_not_equal(ws[i].record, pktcap_error_last());
    }
}

/* ---- sessions ------------------------------------------------------------------------- */

/* A session an owner lends to the watchers: they use it under the read
 * lock, the owner publishes and retracts it under the write lock (and
 * frees it only after retracting it). */
typedef struct slot {
    pthread_rwlock_t lock;
    pktcap_session *session;
    int round;
    unsigned seen;                   /* atomic: bit w = watcher w saw it RUNNING */
    uint16_t port;
    int sink;
    unsigned long delivered;         /* atomic: packets its packet callback saw */
} slot;

static slot slots[OWNERS];
static int owners_done;              /* atomic */
static char *capture_dir;            /* where the stopped rounds write their files */

static void count_packet(pktcap_session *s, const pktcap_packet *p, const pktcap_summary *sum,
                         void *userdata)
{
    slot *sl = userdata;
    (void)s;
    (void)p;
    (void)sum;
    __atomic_add_fetch(&sl->delivered, 1, __ATOMIC_RELAXED);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void publish(slot *sl, pktcap_session *s, int round)
{
    pthread_rwlock_wrlock(&sl->lock);
    sl->session = s;
    sl->round = round;
    __atomic_store_n(&sl->seen, 0u, __ATOMIC_RELAXED);
    __atomic_store_n(&sl->delivered, 0ul, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&sl->lock);
}

static void retract(slot *sl)
{
    pthread_rwlock_wrlock(&sl->lock);
    sl->session = NULL;
    pthread_rwlock_unlock(&sl->lock);
}

/* The UDP datagrams to the slot's port in a finished session's capture. */
static void check_capture(worker *w, pktcap_session *s, const slot *sl)
{
    pktcap_storage *mem;
    pktcap_reader *r;
    const pktcap_packet *p;
    const void *data;
    size_t size;
    unsigned long ours = 0, others = 0;
    int rc;
    if (pktcap_storage_open(&mem, "mem:") != 0) {
        failed(w, "mem: %s", last_message());
        return;
    }
    if ((rc = pktcap_session_fetch(s, mem)) != 0 ||
        (rc = pktcap_storage_memory(&data, &size, mem)) != 0 ||
        (rc = pktcap_reader_open_memory(&r, data, size)) != 0) {
        failed(w, "fetching %s: %s", pktcap_session_name(s), last_message());
        pktcap_storage_free(mem);
        return;
    }
    while ((rc = pktcap_reader_next(&p, r)) == 0) {
        pktcap_summary sum;
        memset(&sum, 0, sizeof sum);
        sum.struct_size = sizeof sum;
        pktcap_summarize(&sum, p);
        if (sum.ip_proto == 17 && (sum.flags & PKTCAP_SUMMARY_HAS_PORTS) &&
            sum.dst_port == sl->port && p->caplen == ETH_IP_UDP + PAYLOAD)
            ours++;
        else
            others++;
    }
    if (rc != PKTCAP_E_END || ours != DATAGRAMS || others != 0)
        failed(w, "%s: the capture holds %lu of our datagrams and %lu other packets (%s)",
               pktcap_session_name(s), ours, others, pktcap_error_name(rc));
    pktcap_reader_close(r);
    pktcap_storage_free(mem);
}

/* One capture of DATAGRAMS datagrams on lo, watched by every watcher. */
static void owner_round(worker *w, pktcap_provider *p, slot *sl, int round)
{
    const unsigned all_watchers = (1u << WATCHERS) - 1;
    const int by_limit = round % 2 == 0;
    const int want_state = by_limit ? PKTCAP_STATE_COMPLETE : PKTCAP_STATE_STOPPED;
    const char *want_reason = by_limit ? "packet limit" : "stopped";
    const uint64_t bytes = (uint64_t)DATAGRAMS * (ETH_IP_UDP + PAYLOAD);
    pktcap_session *s;
    pktcap_storage *file = NULL;
    pktcap_filter *f;
    char name[64], text[128], message[256], path[4200];
    int64_t deadline;
    int rc, k;

    snprintf(name, sizeof name, "threads-%d-%d", w->index, round);
    snprintf(text, sizeof text, "proto=udp local_port=%u", sl->port);
    if (pktcap_session_new(&s, p, name) != 0) {
        failed(w, "new session %s: %s", name, last_message());
        return;
    }
    /* Packet-limit rounds keep the capture in memory, stopped ones write a
     * file (the capture threads' writers and temporary names at once). */
    if (!by_limit) {
        snprintf(path, sizeof path, "%s/%s.pcapng", capture_dir, name);
        if ((rc = pktcap_storage_open(&file, path)) == 0)
            rc = pktcap_session_set_storage(s, file);
        if (rc != 0) {
            failed(w, "%s: storage %s: %s", name, path, last_message());
            pktcap_session_free(s);
            pktcap_storage_free(file);
            return;
        }
    }
    if (pktcap_session_set_target(s, "lo") != 0 || pktcap_filter_parse(&f, text) != 0) {
        failed(w, "%s: %s", name, last_message());
        pktcap_session_free(s);
        pktcap_storage_free(file);
        return;
    }
    rc = pktcap_session_set_filter(s, f);
    pktcap_filter_free(f);
    if (rc == 0 && by_limit)
        rc = pktcap_session_set_packet_limit(s, DATAGRAMS);
    if (rc == 0)
        rc = pktcap_session_set_packet_callback(s, count_packet, sl);
    if (rc != 0) {
        failed(w, "%s: %s", name, last_message());
        pktcap_session_free(s);
        pktcap_storage_free(file);
        return;
    }
    publish(sl, s, round);
    if (pktcap_session_start(s) != 0) {
        failed(w, "starting %s: %s", name, last_message());
        goto out;
    }

    /* Traffic only once every watcher has seen the session RUNNING. */
    deadline = now_ms() + WAIT_MS;
    while (__atomic_load_n(&sl->seen, __ATOMIC_ACQUIRE) != all_watchers && now_ms() < deadline)
        usleep(1000);
    if (__atomic_load_n(&sl->seen, __ATOMIC_ACQUIRE) != all_watchers) {
        failed(w, "%s: watchers %#x of %#x saw it RUNNING within %d ms", name,
               __atomic_load_n(&sl->seen, __ATOMIC_ACQUIRE), all_watchers, WAIT_MS);
        pktcap_session_stop(s);
        goto out;
    }
    if (udp_send("127.0.0.1", sl->port, DATAGRAMS, PAYLOAD) != 0) {
        failed(w, "%s: sending to port %u failed", name, sl->port);
        pktcap_session_stop(s);
        goto out;
    }

    if (by_limit) {
        /* The watchers' cancels make waits return early; each is only that. */
        deadline = now_ms() + WAIT_MS;
        while ((rc = pktcap_session_wait(s, WAIT_MS)) == PKTCAP_E_CANCELED && now_ms() < deadline)
            w->canceled_waits++;
        if (rc != 0)
            failed(w, "waiting for %s: %s \"%s\"", name, pktcap_error_name(rc), last_message());
    } else {
        deadline = now_ms() + WAIT_MS;
        while (pktcap_session_stat(s, PKTCAP_STAT_PACKETS) < DATAGRAMS && now_ms() < deadline)
            usleep(2000);
        /* A cancel of its own makes the next wait of a running session return at once. */
        pktcap_session_cancel(s);
        snprintf(message, sizeof message, "waiting for session \"%s\" was canceled", name);
        expect_error(w, "pktcap_session_wait after cancel", pktcap_session_wait(s, WAIT_MS),
                     PKTCAP_E_CANCELED, message);
        w->canceled_waits++;
        if ((rc = pktcap_session_stop(s)) != 0)
            failed(w, "stopping %s: %s \"%s\"", name, pktcap_error_name(rc), last_message());
    }

    if (pktcap_session_state(s) != want_state ||
        strcmp(pktcap_session_stop_reason(s), want_reason) != 0 ||
        strcmp(pktcap_session_error_text(s), "") != 0)
        failed(w, "%s ended %s (\"%s\", error \"%s\"), not %s (\"%s\")", name,
               pktcap_state_name(pktcap_session_state(s)), pktcap_session_stop_reason(s),
               pktcap_session_error_text(s), pktcap_state_name(want_state), want_reason);
    for (k = PKTCAP_STAT_PACKETS; k <= PKTCAP_STAT_ELAPSED_MS; k++)
        if (pktcap_session_stat_known(s, k) != 1)
            failed(w, "%s: statistic %d is not known", name, k);
    if (pktcap_session_stat(s, PKTCAP_STAT_PACKETS) != DATAGRAMS ||
        pktcap_session_stat(s, PKTCAP_STAT_BYTES) != bytes ||
        pktcap_session_stat(s, PKTCAP_STAT_WIRE_BYTES) != bytes ||
        pktcap_session_stat(s, PKTCAP_STAT_DROPPED) != 0 ||
        __atomic_load_n(&sl->delivered, __ATOMIC_RELAXED) != DATAGRAMS)
        failed(w, "%s: %llu packets, %llu bytes, %llu wire bytes, %llu dropped, %lu seen by "
               "the callback; expected %d packets of %llu bytes", name,
               (unsigned long long)pktcap_session_stat(s, PKTCAP_STAT_PACKETS),
               (unsigned long long)pktcap_session_stat(s, PKTCAP_STAT_BYTES),
               (unsigned long long)pktcap_session_stat(s, PKTCAP_STAT_WIRE_BYTES),
               (unsigned long long)pktcap_session_stat(s, PKTCAP_STAT_DROPPED),
               __atomic_load_n(&sl->delivered, __ATOMIC_RELAXED), DATAGRAMS,
               (unsigned long long)bytes);

    /* Terminal: a pending cancel no longer matters, and stop is refused. */
    pktcap_session_cancel(s);
    if ((rc = pktcap_session_wait(s, 0)) != 0)
        failed(w, "waiting for the finished %s: %s", name, pktcap_error_name(rc));
    snprintf(message, sizeof message, "cannot stop session \"%s\" in state %s (allowed in "
             "PENDING or RUNNING)", name, pktcap_state_name(want_state));
    expect_error(w, "pktcap_session_stop when finished", pktcap_session_stop(s), PKTCAP_E_STATE,
                 message);
    check_capture(w, s, sl);
    if (file) {
        const char *first = pktcap_storage_file_path(file, 0);
        if (pktcap_storage_file_count(file) != 1 || !first || strcmp(first, path) != 0)
            failed(w, "%s: wrote %zu files, the first \"%s\", not just %s", name,
                   pktcap_storage_file_count(file), first ? first : "", path);
    }
    w->done++;
out:
    retract(sl);
    pktcap_session_free(s);
    pktcap_storage_free(file);
}

static void *owner_main(void *arg)
{
    worker *w = arg;
    pktcap_provider *p;
    int round;
    pthread_barrier_wait(&start_line);
    if (pktcap_provider_open(&p, "local:") != 0) {
        failed(w, "opening local: %s", last_message());
    } else {
        for (round = 0; round < ROUNDS; round++)
            owner_round(w, p, &slots[w->index], round);
        pktcap_provider_close(p);
    }
    __atomic_add_fetch(&owners_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* What one watcher remembers of the session in a slot. */
typedef struct sighting {
    int round, state;
    uint64_t packets;
} sighting;

static void watch(worker *w, int who, slot *sl, sighting *last)
{
    const pktcap_session *s = sl->session;
    uint64_t packets;
    int state, k, known, rc;
    if (!s)
        return;
    if (sl->round != last->round) {
        last->round = sl->round;
        last->state = PKTCAP_STATE_NEW;
        last->packets = 0;
    }
    state = pktcap_session_state(s);
    packets = pktcap_session_stat(s, PKTCAP_STAT_PACKETS);
    /* States only move forward (NEW, RUNNING, STOPPING, COMPLETE or STOPPED
     * for these sessions), and a terminal one never changes. */
    if (state < last->state || (last->state >= PKTCAP_STATE_COMPLETE && state != last->state) ||
        state == PKTCAP_STATE_FAILED || state == PKTCAP_STATE_PENDING)
        failed(w, "%s: state %s after %s", pktcap_session_name(s), pktcap_state_name(state),
               pktcap_state_name(last->state));
    if (packets < last->packets || packets > DATAGRAMS)
        failed(w, "%s: %llu packets after %llu", pktcap_session_name(s),
               (unsigned long long)packets, (unsigned long long)last->packets);
    /* Counts are published before the terminal state. */
    if ((state == PKTCAP_STATE_COMPLETE || state == PKTCAP_STATE_STOPPED) &&
        pktcap_session_stat(s, PKTCAP_STAT_PACKETS) != DATAGRAMS)
        failed(w, "%s: %s with %llu packets", pktcap_session_name(s), pktcap_state_name(state),
               (unsigned long long)pktcap_session_stat(s, PKTCAP_STAT_PACKETS));
    last->state = state;
    last->packets = packets;
    for (k = PKTCAP_STAT_PACKETS; k <= PKTCAP_STAT_ELAPSED_MS; k++) {
        known = pktcap_session_stat_known(s, k);
        if (known != 0 && known != 1)
            failed(w, "stat_known(%d) returned %d", k, known);
        else if (state >= PKTCAP_STATE_RUNNING && known != 1)
            failed(w, "%s: statistic %d unknown in state %s", pktcap_session_name(s), k,
                   pktcap_state_name(state));
        (void)pktcap_session_stat(s, k);
    }
    expect_error(w, "pktcap_session_stat_known(6)", pktcap_session_stat_known(s, 6),
                 PKTCAP_E_INVAL, "pktcap_session_stat_known: unknown statistic 6 (0 to 5)");
    if ((rc = pktcap_session_cancel((pktcap_session *)s)) != 0)
        failed(w, "cancel: %s", pktcap_error_name(rc));
    else
        w->cancels++;
    if (state == PKTCAP_STATE_RUNNING &&
        !(__atomic_fetch_or(&sl->seen, 1u << who, __ATOMIC_ACQ_REL) & (1u << who)))
        w->seen_running++;
}

static void *watcher_main(void *arg)
{
    worker *w = arg;
    int who = w->index - OWNERS, i;
    sighting last[OWNERS];
    for (i = 0; i < OWNERS; i++)
        last[i].round = -1;
    pthread_barrier_wait(&start_line);
    while (__atomic_load_n(&owners_done, __ATOMIC_ACQUIRE) < OWNERS) {
        for (i = 0; i < OWNERS; i++) {
            slot *sl = &slots[(who + i) % OWNERS];
            pthread_rwlock_rdlock(&sl->lock);
            watch(w, who, sl, &last[(who + i) % OWNERS]);
            pthread_rwlock_unlock(&sl->lock);
        }
        expect_error(w, "pktcap_session_cancel(NULL)", pktcap_session_cancel(NULL),
                     PKTCAP_E_INVAL, "pktcap_session_cancel: session is NULL");
        w->done++;
        usleep(300);
    }
    return NULL;
}

static void *session_thread(void *arg)
{
    worker *w = arg;
    return w->index < OWNERS ? owner_main(arg) : watcher_main(arg);
}

static void local_sessions_run_while_other_threads_watch_and_cancel(void **state)
{
    worker ws[OWNERS + WATCHERS];
    pthread_rwlockattr_t attr;
    unsigned long canceled_waits = 0;
    int i, j;
    (void)state;
    /* Writers first: the owners must not wait behind a stream of watchers. */
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    for (i = 0; i < OWNERS; i++) {
        memset(&slots[i], 0, sizeof slots[i]);
        assert_int_equal(pthread_rwlock_init(&slots[i].lock, &attr), 0);
        do {   /* a port of its own for each owner */
            slots[i].port = pick_port();
            for (j = 0; j < i && slots[i].port; j++)
                if (slots[j].port == slots[i].port)
                    slots[i].port = 0;
        } while (slots[i].port == 0);
        slots[i].sink = udp_sink("127.0.0.1", slots[i].port);
        assert_true(slots[i].sink >= 0);
    }
    pthread_rwlockattr_destroy(&attr);
    owners_done = 0;
    capture_dir = make_temp_dir();
    assert_non_null(capture_dir);

    memset(ws, 0, sizeof ws);
    run_workers(ws, OWNERS + WATCHERS, session_thread);
    assert_no_failures(ws, OWNERS, "owner");
    assert_no_failures(ws + OWNERS, WATCHERS, "watcher");
    for (i = 0; i < OWNERS; i++) {
        assert_int_equal(ws[i].done, ROUNDS);
        assert_true(ws[i].canceled_waits >= ROUNDS / 2);   /* one per stopped round at least */
        canceled_waits += ws[i].canceled_waits;
    }
    for (i = OWNERS; i < OWNERS + WATCHERS; i++) {
        assert_int_equal(ws[i].seen_running, OWNERS * ROUNDS);
        assert_true(ws[i].cancels >= OWNERS * ROUNDS);
    }
    print_message("threads: %d sessions, %lu waits canceled\n", OWNERS * ROUNDS,
                  canceled_waits);
    for (i = 0; i < OWNERS; i++) {
        close(slots[i].sink);
        pthread_rwlock_destroy(&slots[i].lock);
    }
    remove_dir(capture_dir);
    capture_dir = NULL;
}

int main(void)
{
    const struct CMUnitTest files_and_errors[] = {
        cmocka_unit_test(readers_in_parallel_see_what_one_reader_sees),
        cmocka_unit_test(each_thread_reads_only_its_own_error_details),
    };
    const struct CMUnitTest sessions[] = {
        cmocka_unit_test(local_sessions_run_while_other_threads_watch_and_cancel),
    };
    int rc = cmocka_run_group_tests_name("threads: files and errors", files_and_errors, NULL,
                                         NULL);
    if (rc != 0)
        return rc;
    /* Live captures need root: without it this fails, unless PKTCAP_ALLOW_NO_ROOT=1
     * (then the program exits 77, skipped, after the tests above passed). */
    require_root("test_threads");
    return cmocka_run_group_tests_name("threads: live sessions", sessions, NULL, NULL);
}
