/* The writer's I/O: flush, close and abort on file targets, write errors
 * (/dev/full), short writes and EINTR, and the poisoned writer. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <pktcap/pktcap.h>
#include "core/alloc.h"
#include "util.h"

static pktcap_writer *writer_on(pktcap_storage *st, int format)
{
    pktcap_writer *w;
    assert_int_equal(pktcap_writer_open(&w, st, format), 0);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, "eth0", NULL), 0);
    return w;
}

/* The one temporary file in `dir`: .NAME.XXXXXX.part. */
static char *find_temp(const char *dir, const char *name)
{
    char **names = list_dir(dir);
    assert_int_equal(count_names(names), 1);
    size_t n = strlen(name);
    const char *t = names[0];
    assert_int_equal(strlen(t), 1 + n + 1 + 6 + 5);
    assert_int_equal(t[0], '.');
    assert_memory_equal(t + 1, name, n);
    assert_int_equal(t[1 + n], '.');
    assert_string_equal(t + 1 + n + 1 + 6, ".part");
    char *path = strdup(path_in(dir, t));
    free_names(names);
    return path;
}

static void flush_makes_the_temporary_file_a_readable_capture(int format, const char *name)
{
    char *dir = make_scratch_dir();
    char *final = strdup(path_in(dir, name));
    pktcap_storage *st;
    assert_int_equal(pktcap_storage_open(&st, final), 0);
    pktcap_writer *w = writer_on(st, format);
    pktcap_packet pk[7];
    for (int i = 0; i < 7; i++)
        pk[i] = packet_of(0, 100 + i, 1000u * (uint32_t)i, 80, 90, (uint8_t)i);
    for (int i = 0; i < 5; i++)
        assert_int_equal(pktcap_writer_write(w, &pk[i]), 0);
    assert_int_equal(pktcap_writer_flush(w), 0);

    char *temp = find_temp(dir, name);
    struct read_file f;
    read_with_libpcap(&f, temp);
    assert_packets(&f, pk, 5, 1000, 0);
    free_read_file(&f);
    assert_int_equal(access(final, F_OK), -1);

    for (int i = 5; i < 7; i++)
        assert_int_equal(pktcap_writer_write(w, &pk[i]), 0);
    assert_int_equal(pktcap_writer_flush(w), 0);
    read_with_libpcap(&f, temp);
    assert_packets(&f, pk, 7, 1000, 0);
    free_read_file(&f);

    assert_int_equal(pktcap_writer_close(w), 0);
    assert_int_equal(access(temp, F_OK), -1);
    read_with_libpcap(&f, final);
    assert_packets(&f, pk, 7, 1000, 0);
    free_read_file(&f);
    char **names = list_dir(dir);
    assert_int_equal(count_names(names), 1);
    assert_string_equal(names[0], name);
    free_names(names);
    pktcap_storage_free(st);
    free(temp);
    free(final);
    remove_tree(dir);
}

static void flush_makes_a_readable_pcap_file(void **state)
{
    (void)state;
    flush_makes_the_temporary_file_a_readable_capture(PKTCAP_FORMAT_PCAP, "flushed.pcap");
}

static void flush_makes_a_readable_pcapng_file(void **state)
{
    (void)state;
    flush_makes_the_temporary_file_a_readable_capture(PKTCAP_FORMAT_PCAPNG, "flushed.pcapng");
}

static void flush_before_any_packet_writes_the_header(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    pktcap_storage *st;
    assert_int_equal(pktcap_storage_open(&st, path_in(dir, "h.pcap")), 0);
    pktcap_writer *w = writer_on(st, PKTCAP_FORMAT_AUTO);
    assert_int_equal(pktcap_writer_flush(w), 0);
    char *temp = find_temp(dir, "h.pcap");
    struct stat sb;
    assert_int_equal(stat(temp, &sb), 0);
    assert_int_equal(sb.st_size, 24);
    struct read_file f;
    read_with_libpcap(&f, temp);
    assert_int_equal(f.count, 0);
    free_read_file(&f);
    pktcap_writer_abort(w);
    char **names = list_dir(dir);
    assert_int_equal(count_names(names), 0);
    free_names(names);
    pktcap_storage_free(st);
    free(temp);
    remove_tree(dir);
}

static void abort_removes_the_unfinished_file(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    pktcap_storage *st;
    assert_int_equal(pktcap_storage_open(&st, path_in(dir, "gone.pcapng")), 0);
    pktcap_writer *w = writer_on(st, PKTCAP_FORMAT_AUTO);
    pktcap_packet p = packet_of(0, 1, 0, 1500, 1500, 0);
    for (int i = 0; i < 2000; i++) /* past the buffer: bytes are on disk */
        assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(count_suffix(dir, ".part"), 1);
    pktcap_writer_abort(w);
    char **names = list_dir(dir);
    assert_int_equal(count_names(names), 0);
    free_names(names);
    assert_int_equal(pktcap_storage_file_count(st), 0);
    pktcap_storage_free(st);
    remove_tree(dir);
}

static void a_refused_packet_changes_nothing_and_the_file_completes(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    pktcap_storage *st;
    assert_int_equal(pktcap_storage_open(&st, path_in(dir, "ok.pcap")), 0);
    pktcap_writer *w = writer_on(st, PKTCAP_FORMAT_AUTO);
    pktcap_packet p = packet_of(0, 1, 0, 10, 10, 0);
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    p.len = 5;
    assert_int_equal(pktcap_writer_write(w, &p), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "packet caplen 10 is larger than len 5");
    p.len = 10;
    p.ts_sec = 2;
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_close(w), 0);
    char **names = list_dir(dir);
    assert_int_equal(count_names(names), 1);
    assert_string_equal(names[0], "ok.pcap");
    free_names(names);
    /* Exactly the two accepted packets: 24-byte header + 2 × (16 + 10). */
    struct stat sb;
    assert_int_equal(stat(path_in(dir, "ok.pcap"), &sb), 0);
    assert_int_equal(sb.st_size, 24 + 2 * (16 + 10));
    pktcap_storage_free(st);
    remove_tree(dir);
}

static void close_reports_a_final_name_that_cannot_be_taken(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    char *final = strdup(path_in(dir, "taken.pcap"));
    assert_int_equal(mkdir(final, 0755), 0);
    pktcap_storage *st;
    assert_int_equal(pktcap_storage_open(&st, final), 0);
    pktcap_writer *w = writer_on(st, PKTCAP_FORMAT_AUTO);
    pktcap_packet p = packet_of(0, 1, 0, 10, 10, 0);
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_close(w), PKTCAP_E_IO);
    const char *m = last_message();
    assert_non_null(strstr(m, "renaming "));
    assert_non_null(strstr(m, ".part to "));
    assert_non_null(strstr(m, "taken.pcap: Is a directory"));
    assert_int_equal(count_suffix(dir, ".part"), 0);
    assert_int_equal(pktcap_storage_file_count(st), 0);
    assert_int_equal(rmdir(final), 0);
    pktcap_storage_free(st);
    free(final);
    remove_tree(dir);
}

static int open_dev_full(void)
{
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        fail_msg("/dev/full: %s", strerror(errno));
    return fd;
}

static pktcap_storage *storage_on_fd(int fd, char *uri, size_t size)
{
    snprintf(uri, size, "fd:%d", fd);
    pktcap_storage *st;
    assert_int_equal(pktcap_storage_open(&st, uri), 0);
    return st;
}

static void a_full_device_fails_flush_and_close_with_enospc(void **state)
{
    (void)state;
    char uri[32], expect[128];
    int fd = open_dev_full();
    pktcap_storage *st = storage_on_fd(fd, uri, sizeof(uri));
    snprintf(expect, sizeof(expect), "writing %s: No space left on device", uri);
    pktcap_writer *w = writer_on(st, PKTCAP_FORMAT_PCAPNG);
    pktcap_packet p = packet_of(0, 1, 0, 100, 100, 0);
    assert_int_equal(pktcap_writer_write(w, &p), 0); /* buffered */
    assert_int_equal(pktcap_writer_flush(w), PKTCAP_E_IO);
    assert_string_equal(last_message(), expect);
    pktcap_error_clear();
    assert_int_equal(pktcap_writer_write(w, &p), PKTCAP_E_IO);
    assert_string_equal(last_message(), expect);
    assert_int_equal(pktcap_writer_flush(w), PKTCAP_E_IO);
    assert_int_equal(pktcap_writer_close(w), PKTCAP_E_IO);
    assert_string_equal(last_message(), expect);
    pktcap_storage_free(st);

    /* Without a flush, close is where the error shows. */
    st = storage_on_fd(fd, uri, sizeof(uri));
    w = writer_on(st, PKTCAP_FORMAT_PCAP);
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_close(w), PKTCAP_E_IO);
    assert_string_equal(last_message(), expect);
    pktcap_storage_free(st);

    /* A packet bigger than the buffer is written at once, and fails at once. */
    st = storage_on_fd(fd, uri, sizeof(uri));
    w = writer_on(st, PKTCAP_FORMAT_PCAPNG);
    pktcap_packet big = packet_of(0, 1, 0, 2000000, 2000000, 0);
    assert_int_equal(pktcap_writer_write(w, &big), PKTCAP_E_IO);
    assert_string_equal(last_message(), expect);
    pktcap_writer_abort(w);
    pktcap_storage_free(st);

    assert_true(fcntl(fd, F_GETFD) >= 0); /* still ours */
    close(fd);
}

/* ---- short writes and EINTR, through a pipe read slowly while a timer
 * interrupts the writer ---- */

struct drain {
    int fd;
    uint8_t *bytes;
    size_t size;
};

static void *read_slowly(void *arg)
{
    struct drain *d = arg;
    size_t cap = 1 << 20;
    d->bytes = malloc(cap);
    assert_non_null(d->bytes);
    for (;;) {
        if (d->size + 4096 > cap) {
            cap *= 2;
            d->bytes = realloc(d->bytes, cap);
            assert_non_null(d->bytes);
        }
        ssize_t n = read(d->fd, d->bytes + d->size, 4096);
        if (n < 0 && errno == EINTR)
            continue;
        assert_true(n >= 0);
        if (n == 0)
            return NULL;
        d->size += (size_t)n;
        if (d->size % 65536 < 4096)
            usleep(200);
    }
}

static volatile sig_atomic_t ticks;

static void on_tick(int sig)
{
    (void)sig;
    ticks++;
}

static void interrupted_and_short_writes_are_completed(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    sigset_t alarm_set, old;
    sigemptyset(&alarm_set);
    sigaddset(&alarm_set, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alarm_set, &old);
    struct drain d = { .fd = fds[0] };
    pthread_t reader;
    assert_int_equal(pthread_create(&reader, NULL, read_slowly, &d), 0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    struct sigaction sa, old_sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_tick; /* no SA_RESTART: write(2) returns early */
    sigaction(SIGALRM, &sa, &old_sa);
    struct itimerval every = { { 0, 500 }, { 0, 500 } }, off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_REAL, &every, NULL);

    char uri[32];
    pktcap_storage *st = storage_on_fd(fds[1], uri, sizeof(uri));
    pktcap_storage *mem;
    assert_int_equal(pktcap_storage_open(&mem, "mem:"), 0);
    pktcap_writer *w = writer_on(st, PKTCAP_FORMAT_PCAPNG);
    pktcap_writer *m = writer_on(mem, PKTCAP_FORMAT_PCAPNG);
    for (int i = 0; i < 6000; i++) {
        pktcap_packet p = packet_of(0, i, 0, i % 500 == 0 ? 1500000 : 1500, 1500000, (uint8_t)i);
        assert_int_equal(pktcap_writer_write(w, &p), 0);
        assert_int_equal(pktcap_writer_write(m, &p), 0);
    }
    assert_int_equal(pktcap_writer_close(w), 0);
    assert_int_equal(pktcap_writer_close(m), 0);
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old_sa, NULL);
    close(fds[1]);
    assert_int_equal(pthread_join(reader, NULL), 0);
    close(fds[0]);

    const void *data;
    size_t size;
    assert_int_equal(pktcap_storage_memory(&data, &size, mem), 0);
    assert_true(ticks > 0);
    assert_int_equal(d.size, size);
    assert_memory_equal(d.bytes, data, size);
    free(d.bytes);
    pktcap_storage_free(st);
    pktcap_storage_free(mem);
}

/* The whole life of a rotating file target and its writer; returns the
 * first error, having released everything. */
static int rotating_capture(const char *dir)
{
    char uri[4200];
    snprintf(uri, sizeof(uri), "file://%s/ring.pcapng?rotate_bytes=300&rotate_files=2", dir);
    pktcap_storage *st;
    pktcap_writer *w;
    int rc = pktcap_storage_open(&st, uri);
    if (rc != 0)
        return rc;
    if ((rc = pktcap_writer_open(&w, st, PKTCAP_FORMAT_AUTO)) != 0) {
        pktcap_storage_free(st);
        return rc;
    }
    if (rc == 0)
        rc = pktcap_writer_set_option(w, "shb_comment", "allocations");
    for (uint32_t i = 0; rc == 0 && i < 6; i++)
        rc = pktcap_writer_add_interface(NULL, w, 1, 0, "eth", "port");
    for (int i = 0; rc == 0 && i < 12; i++) {
        pktcap_packet p = packet_of((uint32_t)i % 6, i, 0, 100, 100, 0);
        rc = pktcap_writer_write(w, &p);
    }
    int closed = pktcap_writer_close(w);
    pktcap_storage_free(st);
    return rc ? rc : closed;
}

static void every_failed_allocation_is_reported_and_cleaned_up(void **state)
{
    (void)state;
    pktcap__alloc_fail_at(0);
    char *dir = make_scratch_dir();
    assert_int_equal(rotating_capture(dir), 0);
    unsigned long needed = pktcap__alloc_fail_at(0);
    assert_true(needed > 10);
    char **names = list_dir(dir);
    for (size_t i = 0; names[i]; i++)
        unlink(path_in(dir, names[i]));
    free_names(names);

    for (unsigned long nth = 1; nth <= needed; nth++) {
        pktcap__alloc_fail_at(nth);
        int rc = rotating_capture(dir);
        pktcap__alloc_fail_at(0);
        assert_int_equal(rc, PKTCAP_E_NOMEM);
        assert_int_equal(count_suffix(dir, ".part"), 0);
        names = list_dir(dir);
        for (size_t i = 0; names[i]; i++)
            unlink(path_in(dir, names[i]));
        free_names(names);
    }
    remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flush_makes_a_readable_pcap_file),
        cmocka_unit_test(flush_makes_a_readable_pcapng_file),
        cmocka_unit_test(flush_before_any_packet_writes_the_header),
        cmocka_unit_test(abort_removes_the_unfinished_file),
        cmocka_unit_test(a_refused_packet_changes_nothing_and_the_file_completes),
        cmocka_unit_test(close_reports_a_final_name_that_cannot_be_taken),
        cmocka_unit_test(a_full_device_fails_flush_and_close_with_enospc),
        cmocka_unit_test(interrupted_and_short_writes_are_completed),
        cmocka_unit_test(every_failed_allocation_is_reported_and_cleaned_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
