/* Allocation-failure walks over the library's main paths (walk.h): for
 * every allocation a path makes, a run with that allocation failing must
 * return PKTCAP_E_NOMEM with its message, release everything (LeakSanitizer
 * judges in the sanitizer build) and leave no file behind that the path
 * promises not to leave.
 *
 * Paths: reading pcap and pcapng corpus files; writing a file, a pcap file
 * and a rotating ring; reading with packet summaries in three formats;
 * filters from text to renderings, compiled BPF and matches; storage and
 * provider URIs for every scheme; and a remote session's whole life
 * (open, new, target, start, wait, fetch to a file, delete where the
 * provider can) against the Cloudflare, SD-WAN and Azure emulators. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pktcap/pktcap.h>
#include <pktcap/session.h>
#include <jansson.h>

#include "core/alloc.h"
#include "core/error.h"

#include "../writer/util.h"
#include "util.h"
#include "walk.h"

#define LT_ETHERNET 1

static int exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

/* ---- (a) reading ------------------------------------------------------------------- */

struct read_ctx {
    const char *path;
    size_t packets;   /* what every complete run must count */
};

static int read_all(void *arg)
{
    struct read_ctx *x = arg;
    pktcap_reader *r = NULL;
    const pktcap_packet *p;
    size_t n = 0;
    int rc = pktcap_reader_open(&r, x->path);
    if (rc != 0) {
        assert_null(r);
        return rc;
    }
    while ((rc = pktcap_reader_next(&p, r)) == 0)
        n++;
    pktcap_reader_close(r);
    if (rc != PKTCAP_E_END)
        return rc;
    assert_int_equal(n, x->packets);
    return 0;
}

static void walk_reading(const char *rel, size_t packets)
{
    struct read_ctx x = { corpus_path(rel), packets };
    char name[128];
    snprintf(name, sizeof name, "read %s", rel);
    walk_path path = { .name = name, .run = read_all, .ctx = &x };
    walk_stats st;
    walk_allocations(&path, &st);
    assert_true(st.nomem >= 3); /* reader, name, buffer at least */
}

static void reading_a_pcap_file(void **state)
{
    (void)state;
    walk_reading("tcpdump/afs.pcap", 601);
}

/* Three sections of both byte orders, five interfaces, every block type. */
static void reading_a_multi_section_pcapng_file(void **state)
{
    (void)state;
    walk_reading("pcapng-testgen/difficult/test202.pcapng", 8);
}

/* One section, three interfaces, every block type intermixed. */
static void reading_a_multi_interface_pcapng_file(void **state)
{
    (void)state;
    walk_reading("pcapng-testgen/advanced/test102.pcapng", 5);
}

/* ---- (b) writing ------------------------------------------------------------------- */

struct write_ctx {
    char *dir;
    char uri[4200];
    const char *final;     /* the single file's final name, or NULL when rotating */
    const capture *cap;
    size_t max_files;      /* rotating: the ring's size */
    size_t ring_packets;   /* rotating: what the clean run left in the ring */
};

/* Opens the target and a writer, declares the capture's interfaces, writes
 * its packets and closes. A failure before close abandons the file
 * (pktcap_writer_abort), as a program that gives up would. */
static int write_all(void *arg)
{
    struct write_ctx *x = arg;
    pktcap_storage *st = NULL;
    pktcap_writer *w = NULL;
    int rc = pktcap_storage_open(&st, x->uri);
    if (rc != 0)
        return rc;
    rc = pktcap_writer_open(&w, st, PKTCAP_FORMAT_AUTO);
    if (rc == 0)
        rc = pktcap_writer_set_option(w, "shb_comment", "allocation walk");
    for (uint32_t i = 0; rc == 0 && i < x->cap->interfaces; i++) {
        char ifname[32];
        snprintf(ifname, sizeof ifname, "if%u", i);
        rc = pktcap_writer_add_interface(NULL, w, x->cap->linktypes[i], x->cap->snaplens[i], ifname,
                                         "from the corpus");
    }
    for (size_t i = 0; rc == 0 && i < x->cap->count; i++)
        rc = pktcap_writer_write(w, &x->cap->packets[i]);
    if (rc == 0)
        rc = pktcap_writer_close(w);
    else
        pktcap_writer_abort(w);
    pktcap_storage_free(st);
    return rc;
}

/* No temporary is ever left; a file under a final name is always whole. */
static void after_write(void *arg, unsigned long k, int rc)
{
    struct write_ctx *x = arg;
    char **names = list_dir(x->dir);
    size_t n = count_names(names), total = 0;
    assert_int_equal(count_temporaries(x->dir), 0);
    if (x->final) {
        /* One file: complete under its name, or not there at all. */
        if (rc == 0)
            assert_int_equal(count_packets(x->final), x->cap->count);
        else if (exists(x->final))
            fail_msg("k=%lu failed with %s, yet left %s", k, pktcap_error_name(rc), x->final);
        assert_int_equal(n, rc == 0);
    } else {
        /* A ring: the files there were completed before the failure (the
         * one being written is gone); a complete run leaves the newest ones. */
        for (size_t i = 0; names[i]; i++)
            total += count_packets(path_in(x->dir, names[i]));
        assert_true(n <= x->max_files);
        if (rc == 0 && k == 0)
            x->ring_packets = total;
        if (rc == 0) {
            assert_int_equal(n, x->max_files);
            assert_int_equal(total, x->ring_packets);
        }
    }
    free_names(names);
    empty_dir(x->dir);
}

/* The target is SCHEME + the scratch directory + REST. */
static void walk_writing(const char *rel, const char *scheme, const char *rest,
                         const char *final_name, size_t max_files)
{
    capture cap;
    struct write_ctx x = { 0 };
    char name[160];
    capture_load(&cap, corpus_path(rel));
    x.dir = make_scratch_dir();
    x.cap = &cap;
    x.max_files = max_files;
    snprintf(x.uri, sizeof x.uri, "%s%s%s", scheme, x.dir, rest);
    if (final_name)
        x.final = strdup(path_in(x.dir, final_name));
    snprintf(name, sizeof name, "write %s to %s", rel, final_name ? final_name : "a ring");
    walk_path path = { .name = name, .run = write_all, .after = after_write, .ctx = &x };
    walk_stats st;
    walk_allocations(&path, &st);
    assert_true(st.nomem >= 5);
    free((char *)x.final);
    remove_tree(x.dir);
    capture_free(&cap);
}

/* pcapng with five interfaces of two link types; fsync and
 * overwrite=false take the other branches of the commit. */
static void writing_a_pcapng_file(void **state)
{
    (void)state;
    walk_writing("pcapng-testgen/difficult/test202.pcapng",
                 "file://", "/one.pcapng?fsync=true&overwrite=false", "one.pcapng", 0);
}

static void writing_a_pcap_file(void **state)
{
    (void)state;
    walk_writing("tcpdump/edns-opts.pcap", "", "/one.pcap", "one.pcap", 0);
}

/* afs.pcap (520 kB) in files of 64 kB: nine files, of which the ring keeps
 * the newest three; every rotation allocates names anew. */
static void writing_a_rotating_ring(void **state)
{
    (void)state;
    walk_writing("tcpdump/afs.pcap", "file://", "/ring.pcapng?rotate_bytes=64k&rotate_files=3", NULL,
                 3);
}

/* ---- (c) summaries ----------------------------------------------------------------- */

struct summary_ctx {
    const char *path;
    const capture *cap;
    unsigned long digest, expect;   /* a checksum of every line, to compare runs */
};

static unsigned long mix(unsigned long h, const char *s)
{
    for (; *s; s++)
        h = h * 31 + (unsigned char)*s;
    return h * 31 + '\n';
}

/* Summary and its three formats for one packet; adds the lines to the digest. */
static int summarize_one(struct summary_ctx *x, const pktcap_packet *p, uint64_t number)
{
    static const int formats[] = { PKTCAP_SUMMARY_TEXT, PKTCAP_SUMMARY_JSON, PKTCAP_SUMMARY_CSV };
    pktcap_summary s = { .struct_size = sizeof s };
    char line[2048];
    size_t len;
    int rc = pktcap_summarize(&s, p);
    s.number = number;
    for (size_t f = 0; rc == 0 && f < sizeof formats / sizeof formats[0]; f++) {
        rc = pktcap_summary_format(&len, line, sizeof line, formats[f], &s);
        if (rc == 0)
            x->digest = mix(x->digest, line);
    }
    return rc;
}

/* The decoder and the formats on packets already in memory. */
static int summarize_in_memory(void *arg)
{
    struct summary_ctx *x = arg;
    int rc = 0;
    x->digest = mix(0, pktcap_summary_header(PKTCAP_SUMMARY_CSV));
    for (size_t i = 0; rc == 0 && i < x->cap->count; i++)
        rc = summarize_one(x, &x->cap->packets[i], i + 1);
    return rc;
}

/* The same from the file, as `pktcap summary` does it. */
static int summarize_file(void *arg)
{
    struct summary_ctx *x = arg;
    pktcap_reader *r = NULL;
    const pktcap_packet *p;
    uint64_t n = 0;
    int rc = pktcap_reader_open(&r, x->path);
    x->digest = mix(0, pktcap_summary_header(PKTCAP_SUMMARY_CSV));
    while (rc == 0 && (rc = pktcap_reader_next(&p, r)) == 0)
        rc = summarize_one(x, p, ++n);
    pktcap_reader_close(r);
    if (rc != PKTCAP_E_END)
        return rc;
    assert_true(x->expect == 0 || x->digest == x->expect);
    x->expect = x->digest;
    return 0;
}

static void summaries_and_their_formats(void **state)
{
    capture cap;
    struct summary_ctx x = { 0 };
    unsigned long made, clean;
    (void)state;
    x.path = corpus_path("tcpdump/afs.pcap");
    capture_load(&cap, x.path);
    x.cap = &cap;

    /* The decoder and the formats never allocate, so they cannot fail for
     * memory: armed at the first allocation, every packet still gives the
     * same lines and no allocation is counted. */
    pktcap__alloc_fail_at(0);
    assert_int_equal(summarize_in_memory(&x), 0);
    clean = x.digest;
    pktcap__alloc_fail_at(1);
    assert_int_equal(summarize_in_memory(&x), 0);
    made = pktcap__alloc_fail_at(0);
    assert_int_equal(made, 0);
    assert_int_equal(x.digest, clean);

    /* From the file, the allocations are the reader's. */
    walk_path path = { .name = "summarize tcpdump/afs.pcap", .run = summarize_file, .ctx = &x };
    walk_allocations(&path, NULL);
    assert_int_equal(x.expect, clean);
    capture_free(&cap);
}

/* ---- (d) filters ------------------------------------------------------------------- */

#define RULES "proto=udp remote_port=7000-7010 or proto=tcp local=10.0.0.0/8 remote_port=80;443 " \
              "or remote=2001:db8::/64 or local=192.168.1.1-192.168.1.50"
#define ONE_RULE "proto=udp local=192.168.1.1 remote_port=7001"

struct filter_ctx {
    const capture *cap;
    int clean_done;
    size_t matches;      /* of the clean run */
    char *renderings;    /* of the clean run, joined */
};

static int render_all(char **joined, const pktcap_filter *rules, const pktcap_filter *one,
                      char **bpf)
{
    char *s[5] = { 0 };
    int rc = pktcap_filter_to_string(&s[0], rules);
    if (rc == 0)
        rc = pktcap_filter_to_bpf(&s[1], rules, LT_ETHERNET);
    if (rc == 0)
        rc = pktcap_filter_to_azure(&s[2], rules);
    if (rc == 0)
        rc = pktcap_filter_to_sdwan(&s[3], rules);
    if (rc == 0)
        rc = pktcap_filter_to_cloudflare(&s[4], one);
    if (rc == 0) {
        size_t n = 0;
        for (int i = 0; i < 5; i++)
            n += strlen(s[i]) + 1;
        *joined = calloc(1, n + 1);
        for (int i = 0; i < 5; i++) {
            strcat(*joined, s[i]);
            strcat(*joined, "\n");
        }
        *bpf = s[1];
        s[1] = NULL;
    }
    for (int i = 0; i < 5; i++)
        pktcap_free(s[i]);
    return rc;
}

/* Parse, copy, render for every place, compile the BPF rendering and match
 * every packet with the rules and with the compiled expression: both must
 * agree (the rules are evaluated as libpcap evaluates their rendering). */
static int filter_everything(void *arg)
{
    struct filter_ctx *x = arg;
    pktcap_filter *rules = NULL, *copy = NULL, *one = NULL, *raw = NULL;
    char *joined = NULL, *bpf = NULL;
    size_t matches = 0;
    int rc = pktcap_filter_parse(&rules, RULES);
    if (rc == 0)
        rc = pktcap_filter_dup(&copy, rules);
    if (rc == 0)
        rc = pktcap_filter_parse(&one, ONE_RULE);
    if (rc == 0)
        rc = render_all(&joined, copy, one, &bpf);
    if (rc == 0)
        rc = pktcap_filter_new_bpf(&raw, bpf);
    for (size_t i = 0; rc == 0 && i < x->cap->count; i++) {
        int by_rules = pktcap_filter_match(rules, &x->cap->packets[i]);
        int by_bpf = pktcap_filter_match(raw, &x->cap->packets[i]);
        if (by_rules < 0 || by_bpf < 0) {
            rc = by_rules < 0 ? by_rules : by_bpf;
            break;
        }
        assert_int_equal(by_rules, by_bpf);
        matches += (size_t)by_rules;
    }
    if (rc == 0 && x->clean_done) {
        assert_int_equal(matches, x->matches);
        assert_string_equal(joined, x->renderings);
    } else if (rc == 0) {
        x->clean_done = 1;
        x->matches = matches;
        x->renderings = strdup(joined);
    }
    free(joined);
    pktcap_free(bpf);
    pktcap_filter_free(raw);
    pktcap_filter_free(one);
    pktcap_filter_free(copy);
    pktcap_filter_free(rules);
    return rc;
}

static void filters_from_text_to_matches(void **state)
{
    capture cap;
    struct filter_ctx x = { 0 };
    walk_stats st;
    (void)state;
    capture_load(&cap, corpus_path("tcpdump/afs.pcap"));
    x.cap = &cap;
    walk_path path = { .name = "filter parse/render/compile/match", .run = filter_everything,
                       .ctx = &x };
    walk_allocations(&path, &st);
    assert_true(x.matches > 0 && x.matches < cap.count); /* the filter decides something */
    assert_true(st.nomem >= 20);
    free(x.renderings);
    capture_free(&cap);
}

/* ---- (e) URIs ------------------------------------------------------------------------ */

static const char *const storage_uris[] = {
    "/tmp/pktcap-walk/capture.pcapng",
    "relative/name.pcap",
    "file:///tmp/pktcap%20walk/ring.pcapng?rotate_bytes=10Mi&rotate_files=4&fsync=yes&format=pcapng",
    "file://localhost/tmp/x.pcap?overwrite=false&rotate_seconds=60",
    "-",
    "fd:1?format=pcap",
    "mem:",
    "azblob://acct/container/dir/x.cap?storage_id=/subscriptions/s/resourceGroups/r/providers/"
    "Microsoft.Storage/storageAccounts/acct&sas=sv%3D1%26sig%3Dx",
    "s3://bucket/path/to/x.pcap?region=eu-west-1",
    "gs://bucket/x.pcap",
    "r2://bucket/x.pcap?account=abc",
};

static const char *const provider_uris[] = {
    "local:",
    "local:?buffer_size=4Mi&promisc=false",
    "azure:///subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/NetworkWatcherRG/"
    "providers/Microsoft.Network/networkWatchers/NetworkWatcher_westeurope?endpoint=http://127.0.0.1:9/"
    "&poll_interval_ms=20&tenant_id=t&client_id=c&client_secret=s&authority=http://127.0.0.1:9/",
    "cloudflare://accounts/023e105f4ecef8ad9ca31a8372d0c353?endpoint=http://127.0.0.1:9/client/v4"
    "&api_token=0123456789abcdef0123456789abcdef01234567&poll_interval_ms=20",
    "sdwan://127.0.0.1:9?scheme=http&username=admin&password=secret&capture_margin_ms=1000",
};

static int open_every_uri(void *arg)
{
    int rc = 0;
    (void)arg;
    for (size_t i = 0; rc == 0 && i < sizeof storage_uris / sizeof storage_uris[0]; i++) {
        pktcap_storage *st = NULL;
        rc = pktcap_storage_open(&st, storage_uris[i]);
        if (rc == 0)
            pktcap_storage_free(st);
        else
            assert_null(st);
    }
    for (size_t i = 0; rc == 0 && i < sizeof provider_uris / sizeof provider_uris[0]; i++) {
        pktcap_provider *p = NULL;
        rc = pktcap_provider_open(&p, provider_uris[i]);
        if (rc == 0)
            pktcap_provider_close(p);
        else
            assert_null(p);
    }
    return rc;
}

static void storage_and_provider_uris(void **state)
{
    walk_stats st;
    (void)state;
    walk_path path = { .name = "storage and provider URIs", .run = open_every_uri };
    walk_allocations(&path, &st);
    assert_true(st.nomem >= 40);
}

/* ---- (f) remote sessions ------------------------------------------------------------- */

/* Optional allocations of a session's life, and how a run shows it lost one:
 *
 * - The provider's own description of a session (pktcap_session_details()),
 *   which the backends refresh after every answer, is best effort: when it
 *   cannot be written out or copied the previous one stays. Failing the
 *   call instead would fail a start whose capture already runs at the
 *   provider, for the sake of a description. The test links with
 *   --wrap=pktcap__json_dump and --wrap=pktcap__session_set_details (see
 *   meson.build) to see such a loss: every other caller of those two
 *   functions returns their failure.
 * - Clean-up returns nothing: what pktcap_session_free, pktcap_storage_free
 *   and pktcap_provider_close allocate (SD-WAN logs out of the appliance
 *   when its provider closes) is best effort, and leaks are LeakSanitizer's
 *   to find. */
static int publication_lost;

char *__real_pktcap__json_dump(const json_t *value);
char *__wrap_pktcap__json_dump(const json_t *value);
int __real_pktcap__session_set_details(pktcap_session *s, const char *json);
int __wrap_pktcap__session_set_details(pktcap_session *s, const char *json);

char *__wrap_pktcap__json_dump(const json_t *value)
{
    char *text = __real_pktcap__json_dump(value);
    if (!text)
        __atomic_store_n(&publication_lost, 1, __ATOMIC_SEQ_CST);
    return text;
}

int __wrap_pktcap__session_set_details(pktcap_session *s, const char *json)
{
    int rc = __real_pktcap__session_set_details(s, json);
    if (rc < 0)
        __atomic_store_n(&publication_lost, 1, __ATOMIC_SEQ_CST);
    return rc;
}

struct remote_ctx {
    const char *kind;
    emulator emu;
    char *dir;
    char provider_uri[2048];
    const char *target;
    char target_buf[256];
    uint64_t time_limit_ms;
    const char *remote_storage;   /* azure: the storage account, or NULL */
    char final[4200];             /* where fetch puts the capture */
    uint8_t *served;              /* what the emulator serves */
    size_t served_size;
    size_t summaries;             /* what a complete session carries */
    unsigned long serial;         /* session names never repeat */
    int fetched;                  /* the last run's fetch succeeded */
    unsigned long cleanup_from;   /* the last run's allocations before its clean-up */
};

/* A session ends FAILED when its backend's own thread (SD-WAN's capture
 * request) runs out of memory: no call is there to return the code, so
 * pktcap_session_wait returns 0 and the session's error text tells. The
 * run reports that as PKTCAP_E_NOMEM with the session's text. Any other
 * failure fails the test. */
static int session_failure(const struct remote_ctx *x, pktcap_session *s)
{
    const char *text = pktcap_session_error_text(s);
    if (pktcap_session_state(s) != PKTCAP_STATE_FAILED || !strstr(text, "out of memory"))
        fail_msg("%s session %s ended %s: %s", x->kind, pktcap_session_name(s),
                 pktcap_state_name(pktcap_session_state(s)), text);
    return pktcap__error_set(PKTCAP_E_NOMEM, "session %s failed: %s", pktcap_session_name(s), text);
}

static int lifecycle(void *arg)
{
    struct remote_ctx *x = arg;
    pktcap_provider *p = NULL;
    pktcap_session *s = NULL;
    pktcap_storage *remote = NULL, *out = NULL;
    char name[64];
    int rc;
    x->fetched = 0;
    __atomic_store_n(&publication_lost, 0, __ATOMIC_SEQ_CST);
    snprintf(name, sizeof name, "walk-%lu", ++x->serial);
    rc = pktcap_provider_open(&p, x->provider_uri);
    if (rc == 0)
        rc = pktcap_session_new(&s, p, name);
    if (rc == 0)
        rc = pktcap_session_set_target(s, x->target);
    if (rc == 0)
        rc = pktcap_session_set_time_limit(s, x->time_limit_ms);
    if (rc == 0 && x->remote_storage) {
        rc = pktcap_storage_open(&remote, x->remote_storage);
        if (rc == 0)
            rc = pktcap_session_set_storage(s, remote);
    }
    /* The id is copied before the capture starts: a started session has one. */
    if (rc == 0 && (rc = pktcap_session_start(s)) == 0 && pktcap_session_id(s)[0] == '\0')
        fail_msg("%s: a started session has no id", x->kind);
    if (rc == 0)
        rc = pktcap_session_wait(s, 60000);
    if (rc == 0 && pktcap_session_state(s) != PKTCAP_STATE_COMPLETE)
        rc = session_failure(x, s);
    if (rc == 0)
        assert_int_equal(pktcap_session_summary_count(s), x->summaries);
    if (rc == 0)
        rc = pktcap_storage_open(&out, x->final);
    if (rc == 0)
        rc = pktcap_session_fetch(s, out);
    x->fetched = rc == 0;
    if (rc == 0 && (pktcap_provider_caps(p) & PKTCAP_CAP_DELETE))
        rc = pktcap_session_delete(s);
    x->cleanup_from = walk_allocations_so_far();
    pktcap_session_free(s);
    pktcap_storage_free(out);
    pktcap_storage_free(remote);
    pktcap_provider_close(p);
    return rc;
}

static int lost_optional(void *arg, unsigned long k)
{
    struct remote_ctx *x = arg;
    return __atomic_load_n(&publication_lost, __ATOMIC_SEQ_CST) ||
           k > x->cleanup_from;
}

/* No temporary ever; the final file only once fetch returned 0, and then
 * byte for byte what the emulator served. */
static void after_lifecycle(void *arg, unsigned long k, int rc)
{
    struct remote_ctx *x = arg;
    (void)k;
    (void)rc;
    assert_int_equal(count_temporaries(x->dir), 0);
    if (x->fetched) {
        size_t size;
        uint8_t *got = read_whole(x->final, &size);
        assert_int_equal(size, x->served_size);
        assert_memory_equal(got, x->served, size);
        free(got);
    } else if (exists(x->final)) {
        fail_msg("%s: a failed fetch left %s", x->kind, x->final);
    }
    empty_dir(x->dir);
}

/* Starts the emulator serving `capture_rel` (and, for SD-WAN, summary rows
 * from `summary_json`). Its time runs 10 000 times faster, so a capture has
 * ended before the session's first status poll 200 ms after the start:
 * every run then makes the same requests, and the kth allocation is the
 * same one in every run. */
static void remote_setup(struct remote_ctx *x, const char *kind, const char *capture_rel,
                         const char *summary_json)
{
    const char *served = corpus_path(capture_rel);
    char rows[4200];
    /* Azure's Retry-After is not scaled by --time-scale: 0, or every delete
     * of the hundreds of runs would wait a second. */
    const char *args[12] = { "--time-scale", "0.0001", "--lifetime", "600", "--capture-file",
                             served, "--lro-retry-after", "0" };
    size_t n = strcmp(kind, "azure") == 0 ? 8 : 6;
    if (summary_json) {
        args[n++] = "--summary-json";
        args[n++] = rows;
    }
    args[n] = NULL;
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->served = read_whole(served, &x->served_size);
    x->dir = make_scratch_dir();
    snprintf(x->final, sizeof x->final, "%s/fetched.pcap", x->dir);
    snprintf(rows, sizeof rows, "%s/rows.json", x->dir);
    if (summary_json)
        write_whole(rows, summary_json, strlen(summary_json));
    emulator_start(&x->emu, kind, args);
    unlink(rows);
}

static void remote_teardown(struct remote_ctx *x)
{
    emulator_stop(&x->emu);
    remove_tree(x->dir);
    free(x->served);
}

/* Every k up to 2000, then every 7th: a session's life makes 80 to 300
 * allocations today (the walks take seconds), so every k is walked; a
 * future path of many thousands would still end in minutes. */
#define REMOTE_DENSE 2000
#define REMOTE_STRIDE 7

static void walk_remote(struct remote_ctx *x)
{
    char name[64];
    walk_stats st;
    snprintf(name, sizeof name, "%s session lifecycle", x->kind);
    walk_path path = { .name = name, .run = lifecycle, .after = after_lifecycle,
                       .optional = lost_optional, .ctx = x, .dense = REMOTE_DENSE,
                       .stride = REMOTE_STRIDE };
    walk_allocations(&path, &st);
    assert_true(st.nomem >= 50);
}

static void cloudflare_session_lifecycle(void **state)
{
    struct remote_ctx x;
    (void)state;
    remote_setup(&x, "cloudflare", "tcpdump/afs.pcap", NULL);
    snprintf(x.provider_uri, sizeof x.provider_uri, "%s?endpoint=%s&api_token=%s&poll_interval_ms=200",
             emulator_get(&x.emu, "provider_uri"), emulator_get(&x.emu, "endpoint"),
             emulator_get(&x.emu, "api_token"));
    x.target = "magic-transit";
    x.time_limit_ms = 1000;
    walk_remote(&x);
    remote_teardown(&x);
}

/* The appliance's answer: three summary rows, which the session keeps. */
#define SDWAN_ROW(n, sport, proto) \
    "{\"number\": \"" #n "\", \"time\": \"1718000000." #n "00000\", " \
    "\"src_mac\": \"02:00:00:00:00:01\", \"dst_mac\": \"02:00:00:00:00:02\", " \
    "\"src_ip\": \"10.0.0.1\", \"dst_ip\": \"2001:db8::2\", \"src_port\": \"" #sport "\", " \
    "\"dst_port\": \"53\", \"protocol\": \"" proto "\", \"length\": \"9" #n "\"}"
#define SDWAN_ROWS "[" SDWAN_ROW(1, 40001, "UDP") ", " SDWAN_ROW(2, 40002, "TCP") ", " \
                   SDWAN_ROW(3, 40003, "ICMPv6") "]"

static void sdwan_session_lifecycle(void **state)
{
    struct remote_ctx x;
    (void)state;
    remote_setup(&x, "sdwan", "pcapng-testgen/difficult/test202.pcapng", SDWAN_ROWS);
    x.summaries = 3;
    snprintf(x.provider_uri, sizeof x.provider_uri, "%s&username=%s&password=%s",
             emulator_get(&x.emu, "provider_uri"), emulator_get(&x.emu, "username"),
             emulator_get(&x.emu, "password"));
    x.target = "MGMT--1";
    x.time_limit_ms = 5000;
    walk_remote(&x);
    remote_teardown(&x);
}

/* The capture resource is deleted in the end: Azure is the one provider of
 * the three that can. */
static void azure_session_lifecycle(void **state)
{
    struct remote_ctx x;
    char sub[64], account[256];
    const char *watcher;
    (void)state;
    remote_setup(&x, "azure", "tcpdump/afs.pcap", NULL);
    watcher = emulator_get(&x.emu, "provider_uri");
    assert_int_equal(sscanf(watcher, "azure:///subscriptions/%63[^/]", sub), 1);
    snprintf(x.provider_uri, sizeof x.provider_uri,
             "%s?endpoint=%s&blob_endpoint=%s/blob/&poll_interval_ms=200&tenant_id=%s&client_id=%s"
             "&client_secret=%s&authority=%s", watcher, emulator_get(&x.emu, "url"),
             emulator_get(&x.emu, "url"), emulator_get(&x.emu, "tenant"),
             emulator_get(&x.emu, "client_id"), emulator_get(&x.emu, "client_secret"),
             emulator_get(&x.emu, "authority"));
    snprintf(x.target_buf, sizeof x.target_buf,
             "/subscriptions/%s/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1",
             sub);
    snprintf(account, sizeof account,
             "/subscriptions/%s/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/acct1",
             sub);
    x.target = x.target_buf;
    x.remote_storage = account;
    x.time_limit_ms = 1000;
    walk_remote(&x);
    remote_teardown(&x);
}

int main(void)
{
    /* PKTCAP_WALK_TEST=NAME runs the tests whose name matches (cmocka's pattern). */
    if (getenv("PKTCAP_WALK_TEST"))
        cmocka_set_test_filter(getenv("PKTCAP_WALK_TEST"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reading_a_pcap_file),
        cmocka_unit_test(reading_a_multi_section_pcapng_file),
        cmocka_unit_test(reading_a_multi_interface_pcapng_file),
        cmocka_unit_test(writing_a_pcapng_file),
        cmocka_unit_test(writing_a_pcap_file),
        cmocka_unit_test(writing_a_rotating_ring),
        cmocka_unit_test(summaries_and_their_formats),
        cmocka_unit_test(filters_from_text_to_matches),
        cmocka_unit_test(storage_and_provider_uris),
        cmocka_unit_test(cloudflare_session_lifecycle),
        cmocka_unit_test(sdwan_session_lifecycle),
        cmocka_unit_test(azure_session_lifecycle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
