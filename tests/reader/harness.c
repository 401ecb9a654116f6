/* Reading hand-built captures through every input (see harness.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pktcap/pktcap.h>

#include "file/reader.h"
#include "harness.h"

uint32_t fnv(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;
    for (i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

uint32_t pattern_sum(unsigned seed, size_t n)
{
    uint8_t *b = malloc(n ? n : 1);
    uint32_t s;
    assert_non_null(b);
    cap_pattern(b, n, seed);
    s = fnv(b, n);
    free(b);
    return s;
}

run *new_run(void)
{
    run *out = calloc(1, sizeof(run));
    assert_non_null(out);
    return out;
}

/* Reads every packet; then checks that the reader keeps giving the same answer. */
static void drain(pktcap_reader *r, run *out)
{
    const pktcap_packet *p;
    int rc;
    while ((rc = pktcap_reader_next(&p, r)) == 0) {
        seen *s;
        assert_true(out->n < MAX_SEEN);
        s = &out->p[out->n++];
        memset(s, 0, sizeof(*s));
        assert_int_equal(p->struct_size, sizeof(pktcap_packet));
        s->sec = p->ts_sec;
        s->nsec = p->ts_nsec;
        s->caplen = p->caplen;
        s->len = p->len;
        s->iface = p->interface;
        s->linktype = p->linktype;
        s->flags = p->flags;
        s->has_comment = p->comment != NULL;
        s->comment_len = p->comment_len;
        if (p->comment) {
            assert_true(p->comment_len < sizeof(s->comment));
            memcpy(s->comment, p->comment, p->comment_len);
        }
        s->sum = fnv(p->data, p->caplen);
        s->offset = pktcap_reader_offset(r);
        assert_true(p->ts_nsec < 1000000000u);
    }
    out->rc = rc;
    if (rc != PKTCAP_E_END)
        snprintf(out->msg, sizeof(out->msg), "%s", pktcap_error_message(pktcap_error_last()));
    /* Sticky: the same code (and message) again. */
    pktcap_error_clear();
    assert_int_equal(pktcap_reader_next(&p, r), rc);
    if (rc != PKTCAP_E_END) {
        assert_int_equal(pktcap_error_code(pktcap_error_last()), rc);
        assert_string_equal(pktcap_error_message(pktcap_error_last()), out->msg);
    }
}

static void reset(run *out)
{
    out->open_rc = 0;
    out->rc = 0;
    out->msg[0] = '\0';
    out->n = 0;
}

static void open_failed(run *out, int rc)
{
    out->open_rc = rc;
    out->rc = rc;
    snprintf(out->msg, sizeof(out->msg), "%s", pktcap_error_message(pktcap_error_last()));
}

/* From a heap copy of exactly len bytes, so the sanitizer sees any over-read. */
void run_memory(const void *data, size_t len, run *out)
{
    pktcap_reader *r = NULL;
    void *copy = malloc(len ? len : 1);
    int rc;
    reset(out);
    assert_non_null(copy);
    if (len)
        memcpy(copy, data, len);
    rc = pktcap_reader_open_memory(&r, copy, len);
    if (rc < 0) {
        assert_null(r);
        open_failed(out, rc);
    } else {
        drain(r, out);
        pktcap_reader_close(r);
    }
    free(copy);
}

char tmpdir[64];

const char *temp_path(const char *name)
{
    static char path[128];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    return path;
}

void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

void run_file(const void *data, size_t len, run *out)
{
    const char *path = temp_path("in.cap");
    pktcap_reader *r = NULL;
    int rc;
    reset(out);
    write_file(path, data, len);
    rc = pktcap_reader_open(&r, path);
    if (rc < 0)
        open_failed(out, rc);
    else {
        drain(r, out);
        pktcap_reader_close(r);
    }
    unlink(path);
}

/* From a file through a read buffer of `buffer` bytes: records straddle it
 * and it grows. */
void run_sized(const void *data, size_t len, size_t buffer, run *out)
{
    const char *path = temp_path("sized.cap");
    pktcap_reader *r = NULL;
    int fd, rc;
    reset(out);
    write_file(path, data, len);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    rc = pktcap__reader_open_fd_sized(&r, fd, buffer);
    if (rc < 0)
        open_failed(out, rc);
    else {
        drain(r, out);
        pktcap_reader_close(r);
    }
    close(fd);
    unlink(path);
}

struct feed {
    int fd;
    const uint8_t *data;
    size_t len;
    size_t chunk;
};

static void *feeder(void *arg)
{
    struct feed *f = arg;
    size_t off = 0;
    while (off < f->len) {
        size_t n = f->len - off < f->chunk ? f->len - off : f->chunk;
        ssize_t w = write(f->fd, f->data + off, n);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(f->fd);
    return NULL;
}

/* Through a pipe written `chunk` bytes at a time by another thread. */
void run_pipe(const void *data, size_t len, size_t chunk, run *out)
{
    struct feed f;
    pthread_t t;
    pktcap_reader *r = NULL;
    int fds[2], rc;
    char sink[4096];
    reset(out);
    assert_int_equal(pipe(fds), 0);
    f.fd = fds[1];
    f.data = data;
    f.len = len;
    f.chunk = chunk;
    assert_int_equal(pthread_create(&t, NULL, feeder, &f), 0);
    rc = pktcap_reader_open_fd(&r, fds[0]);
    if (rc < 0)
        open_failed(out, rc);
    else {
        drain(r, out);
        pktcap_reader_close(r);
    }
    /* The reader left the descriptor open: empty it so the writer finishes. */
    assert_int_not_equal(fcntl(fds[0], F_GETFD), -1);
    while (read(fds[0], sink, sizeof(sink)) > 0)
        ;
    assert_int_equal(pthread_join(t, NULL), 0);
    close(fds[0]);
}

void assert_same_runs(const run *a, const run *b)
{
    unsigned i;
    assert_int_equal(a->rc, b->rc);
    assert_int_equal(a->open_rc, b->open_rc);
    assert_int_equal(a->n, b->n);
    for (i = 0; i < a->n; i++) {
        assert_int_equal(a->p[i].sec, b->p[i].sec);
        assert_int_equal(a->p[i].nsec, b->p[i].nsec);
        assert_int_equal(a->p[i].caplen, b->p[i].caplen);
        assert_int_equal(a->p[i].len, b->p[i].len);
        assert_int_equal(a->p[i].iface, b->p[i].iface);
        assert_int_equal(a->p[i].linktype, b->p[i].linktype);
        assert_int_equal(a->p[i].flags, b->p[i].flags);
        assert_int_equal(a->p[i].sum, b->p[i].sum);
        assert_int_equal(a->p[i].offset, b->p[i].offset);
    }
}

/* Memory, file, a pipe fed 7 bytes at a time and a 5-byte read buffer must
 * all read the same. */
run *run_all_inputs(const capture *c)
{
    run *m = new_run(), *other = new_run();
    run_memory(c->data, c->len, m);
    run_file(c->data, c->len, other);
    assert_same_runs(m, other);
    run_pipe(c->data, c->len, 7, other);
    assert_same_runs(m, other);
    run_sized(c->data, c->len, 5, other);
    assert_same_runs(m, other);
    free(other);
    return m;
}

void assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("\"%s\" does not contain \"%s\"", text, needle);
}

/* Reading fails after `packets` packets with `code`, the message containing `needle`. */
void expect_failure(const capture *c, unsigned packets, int code, const char *needle)
{
    run *out = run_all_inputs(c);
    assert_int_equal(out->n, packets);
    if (out->rc != code)
        fail_msg("got %s (%s), wanted %s", pktcap_error_name(out->rc), out->msg,
                 pktcap_error_name(code));
    assert_contains(out->msg, needle);
    free(out);
}

void expect_packet(const seen *s, int64_t sec, uint32_t nsec, uint32_t caplen, uint32_t len,
                          uint32_t iface, uint32_t linktype)
{
    assert_int_equal(s->sec, sec);
    assert_int_equal(s->nsec, nsec);
    assert_int_equal(s->caplen, caplen);
    assert_int_equal(s->len, len);
    assert_int_equal(s->iface, iface);
    assert_int_equal(s->linktype, linktype);
}

const uint8_t *bytes_of(unsigned seed, size_t n)
{
    static uint8_t buf[4][70000];
    static int next;
    uint8_t *b = buf[next++ % 4];
    assert_true(n <= sizeof(buf[0]));
    cap_pattern(b, n, seed);
    return b;
}
