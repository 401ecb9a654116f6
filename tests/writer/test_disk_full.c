/* A full file system: a 64 KiB tmpfs fills up under a file target. The
 * error must reach the caller, the unfinished file must go, and files
 * completed by rotation must stay whole.
 *
 * Mounting needs root. Under CI (the CI environment variable set) a missing
 * privilege fails the test, so it cannot pass by not running; elsewhere the
 * program exits 77, which meson reports as skipped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <pktcap/pktcap.h>
#include "util.h"

/* Why a 64 KiB tmpfs cannot be mounted here, or NULL when it can. */
static const char *cannot_mount(char **dir)
{
    static char why[256];
    *dir = make_scratch_dir();
    if (geteuid() != 0)
        snprintf(why, sizeof(why), "it must run as root to mount a tmpfs");
    else if (mount("tmpfs", *dir, "tmpfs", 0, "size=64k") != 0)
        snprintf(why, sizeof(why), "mount: %s", strerror(errno));
    else
        return NULL;
    rmdir(*dir);
    free(*dir);
    *dir = NULL;
    return why;
}

static int mount_small_tmpfs(void **state)
{
    char *dir;
    const char *why = cannot_mount(&dir);
    if (why) {
        print_error("cannot mount a 64 KiB tmpfs: %s\n", why);
        return -1;
    }
    *state = dir;
    return 0;
}

static int unmount_tmpfs(void **state)
{
    char *dir = *state;
    if (!dir)
        return 0;
    char **names = list_dir(dir);
    for (size_t i = 0; names[i]; i++)
        unlink(path_in(dir, names[i]));
    free_names(names);
    int rc = umount(dir);
    if (rc != 0)
        print_error("umount %s: %s\n", dir, strerror(errno));
    rmdir(dir);
    free(dir);
    return rc;
}

static pktcap_writer *writer_on(pktcap_storage *st)
{
    pktcap_writer *w;
    assert_int_equal(pktcap_writer_open(&w, st, PKTCAP_FORMAT_AUTO), 0);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    return w;
}

static void assert_enospc(int rc)
{
    assert_int_equal(rc, PKTCAP_E_IO);
    const char *m = last_message();
    if (!strstr(m, "No space left on device"))
        fail_msg("message without ENOSPC: %s", m);
}

static void assert_empty(const char *dir)
{
    char **names = list_dir(dir);
    assert_int_equal(count_names(names), 0);
    free_names(names);
}

/* `how`: 0 fails at a write (the buffer fills first), 1 at flush, 2 at close. */
static void fill_up(const char *dir, int how)
{
    pktcap_storage *st;
    assert_int_equal(pktcap_storage_open(&st, path_in(dir, "full.pcap")), 0);
    pktcap_writer *w = writer_on(st);
    pktcap_packet p = packet_of(0, 1, 0, 1500, 1500, 0);
    int rc = 0, written = 0;
    int count = how == 0 ? 100000 : 60; /* 60 packets: 91 KiB, more than the disk */
    while (rc == 0 && written < count) {
        rc = pktcap_writer_write(w, &p);
        written += rc == 0;
    }
    if (how == 0) {
        assert_enospc(rc);
        /* The buffer is 1 MiB: the first write(2) came when it was full. */
        assert_int_equal(written, (1048576 - 24) / 1516);
        assert_enospc(pktcap_writer_write(w, &p));
    } else {
        assert_int_equal(rc, 0);
        if (how == 1)
            assert_enospc(pktcap_writer_flush(w));
    }
    assert_enospc(pktcap_writer_close(w));
    assert_int_equal(pktcap_storage_file_count(st), 0);
    pktcap_storage_free(st);
    assert_empty(dir);
}

static void a_full_disk_fails_the_write_and_leaves_nothing(void **state)
{
    fill_up(*state, 0);
}

static void a_full_disk_fails_flush_and_leaves_nothing(void **state)
{
    fill_up(*state, 1);
}

static void a_full_disk_fails_close_and_leaves_nothing(void **state)
{
    fill_up(*state, 2);
}

static void files_completed_before_the_disk_filled_stay_whole(void **state)
{
    const char *dir = *state;
    char uri[4200];
    snprintf(uri, sizeof(uri), "file://%s/ring.pcap?rotate_bytes=20000", dir);
    pktcap_storage *st;
    assert_int_equal(pktcap_storage_open(&st, uri), 0);
    pktcap_writer *w = writer_on(st);
    int rc = 0, written = 0;
    while (rc == 0 && written < 1000) {
        pktcap_packet p = packet_of(0, written, 0, 1500, 1500, (uint8_t)written);
        rc = pktcap_writer_write(w, &p);
        written += rc == 0;
    }
    assert_enospc(rc);
    assert_enospc(pktcap_writer_close(w));

    /* 24 + 14 * 1516 = 21248 bytes (6 pages) per file: two fit in 16 pages. */
    size_t files = pktcap_storage_file_count(st);
    assert_int_equal(files, 2);
    char **names = list_dir(dir);
    assert_int_equal(count_names(names), files);
    for (size_t f = 0; f < files; f++) {
        char expect[64];
        snprintf(expect, sizeof(expect), "ring_%05zu_19700101%06zu.pcap", f + 1, (size_t)(f * 14));
        assert_string_equal(names[f], expect);
        struct read_file rf;
        read_with_libpcap(&rf, path_in(dir, names[f]));
        assert_int_equal(rf.count, 14);
        for (size_t i = 0; i < 14; i++) {
            assert_int_equal(rf.packets[i].sec, (int64_t)(f * 14 + i));
            assert_int_equal(rf.packets[i].caplen, 1500);
            assert_memory_equal(rf.packets[i].data, pattern_bytes((uint8_t)(f * 14 + i), 1500), 1500);
        }
        free_read_file(&rf);
    }
    free_names(names);
    pktcap_storage_free(st);
}

int main(void)
{
    char *probe;
    const char *why = cannot_mount(&probe);
    if (why) {
        if (getenv("CI")) {
            fprintf(stderr, "disk-full tests cannot mount a 64 KiB tmpfs (%s); CI is set, so that is "
                            "a failure\n", why);
            return 1;
        }
        fprintf(stderr, "skipping the disk-full tests: cannot mount a 64 KiB tmpfs (%s)\n", why);
        return 77; /* meson's "skipped" */
    }
    umount(probe);
    rmdir(probe);
    free(probe);

    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_full_disk_fails_the_write_and_leaves_nothing,
                                        mount_small_tmpfs, unmount_tmpfs),
        cmocka_unit_test_setup_teardown(a_full_disk_fails_flush_and_leaves_nothing, mount_small_tmpfs,
                                        unmount_tmpfs),
        cmocka_unit_test_setup_teardown(a_full_disk_fails_close_and_leaves_nothing, mount_small_tmpfs,
                                        unmount_tmpfs),
        cmocka_unit_test_setup_teardown(files_completed_before_the_disk_filled_stay_whole,
                                        mount_small_tmpfs, unmount_tmpfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
