/* Round trips: every corpus capture our reader reads to its end survives
 * pcap/pcapng -> pcapng -> pcap (nanosecond) -> read with every packet's bytes,
 * timestamp (to the nanosecond), lengths, interface and link type intact. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pktcap/pktcap.h>

struct packets {
    pktcap_packet *p;
    uint8_t **bytes;
    size_t n, cap;
    uint32_t ifaces;
    uint32_t linktypes[64];
    uint32_t snaplens[64];
};

static void packets_free(struct packets *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        free(ps->bytes[i]);
    free(ps->p);
    free(ps->bytes);
    memset(ps, 0, sizeof(*ps));
}

/* Reads a whole capture into memory; returns the reader's final status. */
static int read_all(pktcap_reader *r, struct packets *ps)
{
    const pktcap_packet *p;
    int rc;
    while ((rc = pktcap_reader_next(&p, r)) == 0) {
        if (ps->n == ps->cap) {
            ps->cap = ps->cap ? ps->cap * 2 : 64;
            ps->p = realloc(ps->p, ps->cap * sizeof(*ps->p));
            ps->bytes = realloc(ps->bytes, ps->cap * sizeof(*ps->bytes));
            assert_non_null(ps->p);
            assert_non_null(ps->bytes);
        }
        ps->p[ps->n] = *p;
        ps->bytes[ps->n] = malloc(p->caplen ? p->caplen : 1);
        assert_non_null(ps->bytes[ps->n]);
        memcpy(ps->bytes[ps->n], p->data, p->caplen);
        ps->p[ps->n].data = ps->bytes[ps->n];
        ps->p[ps->n].comment = NULL; /* comments are not compared: pcap drops them */
        ps->p[ps->n].comment_len = 0;
        ps->n++;
    }
    ps->ifaces = pktcap_reader_interface_count(r);
    for (uint32_t i = 0; i < ps->ifaces && i < 64; i++) {
        ps->linktypes[i] = pktcap_reader_interface_linktype(r, i);
        ps->snaplens[i] = pktcap_reader_interface_snaplen(r, i);
    }
    return rc;
}

static const char *current_file;

/* Writes packets in `format` to memory and reads them back. */
static int rewrite(const struct packets *in, int format, struct packets *out)
{
    pktcap_storage *st;
    pktcap_writer *w;
    assert_int_equal(pktcap_storage_open(&st, "mem:"), 0);
    assert_int_equal(pktcap_writer_open(&w, st, format), 0);
    for (uint32_t i = 0; i < in->ifaces; i++) {
        /* snaplen 0: never cut what the original file holds. */
        int rc = pktcap_writer_add_interface(NULL, w, in->linktypes[i], 0, NULL, NULL);
        if (rc < 0) {
            pktcap_writer_abort(w);
            pktcap_storage_free(st);
            return rc;
        }
    }
    for (size_t i = 0; i < in->n; i++) {
        int rc = pktcap_writer_write(w, &in->p[i]);
        if (rc != 0)
            fail_msg("%s: writing packet %zu: %s", current_file, i + 1,
                     pktcap_error_message(pktcap_error_last()));
    }
    assert_int_equal(pktcap_writer_close(w), 0);

    const void *data;
    size_t size;
    pktcap_reader *r;
    assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
    assert_int_equal(pktcap_reader_open_memory(&r, data, size), 0);
    assert_int_equal(read_all(r, out), PKTCAP_E_END);
    pktcap_reader_close(r);
    pktcap_storage_free(st);
    return 0;
}

static void assert_same(const char *file, const char *stage, const struct packets *a,
                        const struct packets *b)
{
    if (a->n != b->n)
        fail_msg("%s (%s): %zu packets became %zu", file, stage, a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const pktcap_packet *x = &a->p[i], *y = &b->p[i];
        if (x->ts_sec != y->ts_sec || x->ts_nsec != y->ts_nsec || x->caplen != y->caplen ||
            x->len != y->len || x->interface != y->interface || x->linktype != y->linktype ||
            memcmp(x->data, y->data, x->caplen) != 0)
            fail_msg("%s (%s): packet %zu differs: %lld.%09u %u/%u if %u lt %u vs "
                     "%lld.%09u %u/%u if %u lt %u",
                     file, stage, i + 1, (long long)x->ts_sec, x->ts_nsec, x->caplen, x->len,
                     x->interface, x->linktype, (long long)y->ts_sec, y->ts_nsec, y->caplen,
                     y->len, y->interface, y->linktype);
    }
}

/* Classic pcap stores seconds in 32 bits. */
static int fits_classic_pcap(const struct packets *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        if (ps->p[i].ts_sec > (int64_t)UINT32_MAX)
            return 0;
    return 1;
}

static int single_linktype(const struct packets *ps)
{
    for (uint32_t i = 1; i < ps->ifaces; i++)
        if (ps->linktypes[i] != ps->linktypes[0])
            return 0;
    return 1;
}

/* True when the capture can be written at all: the writer refuses what the
 * format cannot represent (caplen > len, out-of-range interfaces are reader
 * errors already). */
static int writable(const struct packets *ps)
{
    for (size_t i = 0; i < ps->n; i++)
        if (ps->p[i].caplen > ps->p[i].len || ps->p[i].ts_sec < 0)
            return 0;
    return ps->ifaces <= 64;
}

static unsigned files_checked, files_skipped;

static void check_file(const char *path)
{
    pktcap_reader *r;
    struct packets orig = { 0 }, ng = { 0 }, back = { 0 };
    if (pktcap_reader_open(&r, path) != 0)
        return;
    current_file = path;
    int rc = read_all(r, &orig);
    pktcap_reader_close(r);
    if (rc != PKTCAP_E_END || !writable(&orig)) {
        files_skipped++;
        packets_free(&orig);
        return;
    }
    assert_int_equal(rewrite(&orig, PKTCAP_FORMAT_PCAPNG, &ng), 0);
    assert_same(path, "to pcapng", &orig, &ng);
    if (!fits_classic_pcap(&ng)) {
        files_checked++;
        packets_free(&orig);
        packets_free(&ng);
        return;
    }
    if (single_linktype(&ng)) {
        assert_int_equal(rewrite(&ng, PKTCAP_FORMAT_PCAP_NSEC, &back), 0);
        /* pcap has one interface: every packet comes back on interface 0. */
        for (size_t i = 0; i < ng.n; i++)
            ng.p[i].interface = 0;
        assert_same(path, "pcapng to pcap-nsec", &ng, &back);
    } else {
        assert_int_equal(rewrite(&ng, PKTCAP_FORMAT_PCAP_NSEC, &back), PKTCAP_E_NOTSUP);
    }
    files_checked++;
    packets_free(&orig);
    packets_free(&ng);
    packets_free(&back);
}

static void walk(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        size_t len = strlen(e->d_name);
        if (e->d_type == DT_DIR)
            walk(path);
        else if ((len > 5 && strcmp(e->d_name + len - 5, ".pcap") == 0) ||
                 (len > 7 && strcmp(e->d_name + len - 7, ".pcapng") == 0))
            check_file(path);
    }
    closedir(d);
}

static void every_readable_corpus_file_survives_a_round_trip(void **state)
{
    (void)state;
    const char *corpus = getenv("PKTCAP_CORPUS");
    assert_non_null(corpus);
    walk(corpus);
    print_message("round trip: %u files checked, %u not read to their end or not writable\n",
                  files_checked, files_skipped);
    assert_true(files_checked > 300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_readable_corpus_file_survives_a_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
