/* Disk faults: a full device and a full file system under the writer,
 * rotation and a provider download. The error must reach the caller as
 * PKTCAP_E_IO naming the file, nothing may appear under the final name,
 * no temporary may stay, and files completed before the disk filled must
 * stay whole (read back with the library's reader and with capinfos).
 *
 * Each test but the first mounts a 256 KiB tmpfs on a fresh directory, so
 * the program must run as root: without root those tests FAIL (they are not
 * skipped). It first moves into a mount namespace of its own, so that no
 * tmpfs outlives it even if it crashes; teardown unmounts in any case.
 * capinfos must be installed. */
#define _GNU_SOURCE 1   /* unshare */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pktcap/pktcap.h>
#include <pktcap/session.h>

#include "../writer/util.h"
#include "util.h"

#define TMPFS_SIZE "256k"
#define PACKET_BYTES 1500

extern char **environ;

/* ---- the tmpfs ------------------------------------------------------------------------ */

static int mount_tmpfs(void **state)
{
    char *dir;
    if (geteuid() != 0) {
        print_error("test_disk_faults must run as root: it mounts a %s tmpfs (euid %u)\n",
                    TMPFS_SIZE, (unsigned)geteuid());
        return -1;
    }
    dir = strdup("/tmp/pktcap-faults-XXXXXX");
    if (!dir || !mkdtemp(dir)) {
        print_error("mkdtemp: %s\n", strerror(errno));
        return -1;
    }
    if (mount("tmpfs", dir, "tmpfs", 0, "size=" TMPFS_SIZE) != 0) {
        print_error("mount -t tmpfs -o size=%s %s: %s\n", TMPFS_SIZE, dir, strerror(errno));
        rmdir(dir);
        free(dir);
        return -1;
    }
    *state = dir;
    return 0;
}

static int unmount_tmpfs(void **state)
{
    char *dir = *state;
    int rc;
    if (!dir)
        return 0;
    empty_dir(dir);
    rc = umount(dir);
    if (rc != 0) {
        print_error("umount %s: %s\n", dir, strerror(errno));
        umount2(dir, MNT_DETACH);
    }
    rmdir(dir);
    free(dir);
    *state = NULL;
    return rc;
}

/* ---- checks ---------------------------------------------------------------------------- */

static const char *last_message_text(void)
{
    return pktcap_error_message(pktcap_error_last());
}

/* PKTCAP_E_IO whose message is "writing NAME: No space left on device", NAME
 * starting with `named` (a temporary's name is the final one's directory,
 * a dot and the final name, then a random part). */
static void assert_enospc(int rc, const char *named)
{
    const char *m = last_message_text();
    assert_int_equal(rc, PKTCAP_E_IO);
    if (strncmp(m, "writing ", 8) != 0 || strncmp(m + 8, named, strlen(named)) != 0 ||
        !strstr(m, ": No space left on device"))
        fail_msg("expected \"writing %s...: No space left on device\", got \"%s\"", named, m);
}

static void assert_dir_holds(const char *dir, size_t count)
{
    char **names = list_dir(dir);
    if (count_names(names) != count)
        fail_msg("%s holds %zu names (first: %s), not %zu", dir, count_names(names),
                 names[0] ? names[0] : "-", count);
    free_names(names);
}

/* What `capinfos -M -c FILE` says the packet count is; the test fails when
 * capinfos is missing or refuses the file. It runs without the sanitizer
 * runtime's variables: it is not our program. */
static long capinfos_count(const char *path)
{
    char *env[256], out[4096];
    size_t n = 0, got = 0;
    int pipefd[2], status;
    long count = -1;
    pid_t pid;
    for (char **e = environ; *e && n < 255; e++)
        if (strncmp(*e, "LD_PRELOAD=", 11) != 0 && strncmp(*e, "ASAN_OPTIONS=", 13) != 0)
            env[n++] = *e;
    env[n] = NULL;
    assert_int_equal(pipe(pipefd), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *argv[] = { "capinfos", "-M", "-c", (char *)path, NULL };
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        environ = env;
        execvp("capinfos", argv);
        _exit(127);
    }
    close(pipefd[1]);
    for (ssize_t r; (r = read(pipefd[0], out + got, sizeof out - 1 - got)) > 0;)
        got += (size_t)r;
    out[got] = '\0';
    close(pipefd[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        fail_msg("capinfos is missing (install wireshark's command-line tools, e.g. tshark)");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("capinfos refused %s: %s", path, out);
    const char *line = strstr(out, "Number of packets:");
    if (!line || sscanf(line, "Number of packets: %ld", &count) != 1)
        fail_msg("capinfos %s said no packet count: %s", path, out);
    return count;
}

/* ---- a full device --------------------------------------------------------------------- */

static pktcap_writer *writer_with_one_interface(pktcap_storage *st)
{
    pktcap_writer *w;
    assert_int_equal(pktcap_writer_open(&w, st, PKTCAP_FORMAT_AUTO), 0);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, "eth0", NULL), 0);
    return w;
}

/* Writes packets until one is refused (at most `max`); returns how many
 * were accepted and the error in *rc (0 if none). */
static int fill(pktcap_writer *w, int max, int *rc)
{
    int written = 0;
    *rc = 0;
    while (*rc == 0 && written < max) {
        pktcap_packet p = packet_of(0, written, 0, PACKET_BYTES, PACKET_BYTES, (uint8_t)written);
        *rc = pktcap_writer_write(w, &p);
        written += *rc == 0;
    }
    return written;
}

/* /dev/full itself, through a descriptor target (the file target never
 * writes to a final name before it is complete; see the next test). */
static void a_full_device_through_a_descriptor(void **state)
{
    char uri[32], name[32];
    pktcap_storage *st;
    pktcap_writer *w;
    int rc, fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    (void)state;
    if (fd < 0)
        fail_msg("/dev/full: %s", strerror(errno));
    snprintf(uri, sizeof uri, "fd:%d", fd);
    snprintf(name, sizeof name, "fd:%d", fd);
    assert_int_equal(pktcap_storage_open(&st, uri), 0);
    w = writer_with_one_interface(st);
    assert_int_equal(fill(w, 10, &rc), 10); /* buffered */
    assert_int_equal(rc, 0);
    assert_enospc(pktcap_writer_close(w), name);
    assert_int_equal(pktcap_storage_file_count(st), 0);
    pktcap_storage_free(st);
    close(fd);
}

/* The same device under a file name (a node made like /dev/full, in the
 * tmpfs): it is written in place, fails with ENOSPC naming it, and stays
 * the device it was; no temporary is made beside it. */
static void a_full_device_under_a_file_name(void **state)
{
    const char *dir = *state;
    char path[4200];
    struct stat sb;
    pktcap_storage *st;
    pktcap_writer *w;
    int rc;
    snprintf(path, sizeof path, "%s/full.pcapng", dir);
    if (mknod(path, S_IFCHR | 0666, makedev(1, 7)) != 0)
        fail_msg("mknod %s c 1 7: %s", path, strerror(errno));
    assert_int_equal(pktcap_storage_open(&st, path), 0);
    w = writer_with_one_interface(st);
    assert_int_equal(fill(w, 10, &rc), 10);
    assert_enospc(pktcap_writer_flush(w), path);
    assert_enospc(pktcap_writer_close(w), path);
    assert_int_equal(pktcap_storage_file_count(st), 0);
    pktcap_storage_free(st);
    assert_int_equal(lstat(path, &sb), 0);
    assert_true(S_ISCHR(sb.st_mode));
    assert_int_equal(sb.st_rdev, makedev(1, 7));
    assert_dir_holds(dir, 1);
}

/* ---- a full file system ---------------------------------------------------------------- */

/* 1000 packets of 1500 bytes do not fit in 256 KiB: the writer's 1 MiB
 * buffer first goes to the disk when it is full, and that write fails. */
static void the_writer_filling_the_disk_leaves_nothing(void **state)
{
    const char *dir = *state;
    char path[4200], temp_prefix[4200];
    pktcap_storage *st;
    pktcap_writer *w;
    int rc;
    snprintf(path, sizeof path, "%s/big.pcapng", dir);
    snprintf(temp_prefix, sizeof temp_prefix, "%s/.big.pcapng.", dir);
    assert_int_equal(pktcap_storage_open(&st, path), 0);
    w = writer_with_one_interface(st);
    fill(w, 1000, &rc);
    assert_enospc(rc, temp_prefix);
    assert_enospc(pktcap_writer_close(w), temp_prefix);
    assert_int_equal(pktcap_storage_file_count(st), 0);
    pktcap_storage_free(st);
    assert_dir_holds(dir, 0);
}

/* Files of 50 000 bytes: a file ends at the first packet at or past that
 * size, so each holds 33 packets (24 + 33 * 1516 = 50 052 bytes, 13 pages
 * of 4 KiB). Four fill 52 of the 64 pages; the fifth does not fit. */
#define RING_FILE_PACKETS 33
#define RING_FILES 4

static void rotation_filling_the_disk_keeps_the_earlier_files_whole(void **state)
{
    const char *dir = *state;
    char uri[4200], temp_prefix[4200];
    pktcap_storage *st;
    pktcap_writer *w;
    char **names;
    int rc, written;
    snprintf(uri, sizeof uri, "file://%s/ring.pcap?rotate_bytes=50000", dir);
    snprintf(temp_prefix, sizeof temp_prefix, "%s/.ring.pcap.", dir);
    assert_int_equal(pktcap_storage_open(&st, uri), 0);
    w = writer_with_one_interface(st);
    written = fill(w, 1000, &rc);
    assert_enospc(rc, temp_prefix);
    /* The packet that starts the sixth file ends the fifth, which does not fit. */
    assert_int_equal(written, (RING_FILES + 1) * RING_FILE_PACKETS);
    assert_enospc(pktcap_writer_close(w), temp_prefix);
    assert_int_equal(pktcap_storage_file_count(st), RING_FILES);
    pktcap_storage_free(st);

    names = list_dir(dir);
    assert_int_equal(count_names(names), RING_FILES);
    for (size_t f = 0; f < RING_FILES; f++) {
        char expect[64], path[4200];
        size_t first = f * RING_FILE_PACKETS;   /* its first packet's time, in seconds */
        capture cap;
        snprintf(expect, sizeof expect, "ring_%05zu_19700101%02zu%02zu%02zu.pcap", f + 1,
                 first / 3600, first / 60 % 60, first % 60);
        assert_string_equal(names[f], expect);
        snprintf(path, sizeof path, "%s/%s", dir, names[f]);
        capture_load(&cap, path);
        assert_int_equal(cap.count, RING_FILE_PACKETS);
        for (size_t i = 0; i < cap.count; i++) {
            size_t n = f * RING_FILE_PACKETS + i;
            assert_int_equal(cap.packets[i].ts_sec, (int64_t)n);
            assert_int_equal(cap.packets[i].caplen, PACKET_BYTES);
            assert_memory_equal(cap.packets[i].data, pattern_bytes((uint8_t)n, PACKET_BYTES),
                                PACKET_BYTES);
        }
        capture_free(&cap);
        assert_int_equal(capinfos_count(path), RING_FILE_PACKETS);
    }
    free_names(names);
}

/* A provider's capture (afs.pcap, 522 kB) fetched into the 256 KiB tmpfs. */
static void a_download_filling_the_disk_leaves_nothing(void **state)
{
    const char *dir = *state;
    const char *served = corpus_path("tcpdump/afs.pcap");
    const char *args[] = { "--time-scale", "0.0001", "--lifetime", "300", "--capture-file", served,
                           NULL };
    char uri[2048], path[4200], temp_prefix[4200];
    emulator emu;
    pktcap_provider *p;
    pktcap_session *s;
    pktcap_storage *out;
    emulator_start(&emu, "cloudflare", args);
    snprintf(uri, sizeof uri, "%s?endpoint=%s&api_token=%s&poll_interval_ms=50",
             emulator_get(&emu, "provider_uri"), emulator_get(&emu, "endpoint"),
             emulator_get(&emu, "api_token"));
    snprintf(path, sizeof path, "%s/fetched.pcap", dir);
    snprintf(temp_prefix, sizeof temp_prefix, "%s/.fetched.pcap.", dir);
    assert_int_equal(pktcap_provider_open(&p, uri), 0);
    assert_int_equal(pktcap_session_new(&s, p, "disk-full"), 0);
    assert_int_equal(pktcap_session_set_target(s, "magic-transit"), 0);
    assert_int_equal(pktcap_session_set_time_limit(s, 1000), 0);
    assert_int_equal(pktcap_session_start(s), 0);
    assert_int_equal(pktcap_session_wait(s, 60000), 0);
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_COMPLETE);
    assert_int_equal(pktcap_storage_open(&out, path), 0);
    assert_enospc(pktcap_session_fetch(s, out), temp_prefix);
    assert_int_equal(pktcap_storage_file_count(out), 0);
    assert_dir_holds(dir, 0);
    pktcap_storage_free(out);
    pktcap_session_free(s);
    pktcap_provider_close(p);
    emulator_stop(&emu);
}

int main(void)
{
    /* Mounts made from here on vanish with the program, whatever ends it. */
    if (geteuid() == 0 && unshare(CLONE_NEWNS) == 0)
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_full_device_through_a_descriptor),
        cmocka_unit_test_setup_teardown(a_full_device_under_a_file_name, mount_tmpfs, unmount_tmpfs),
        cmocka_unit_test_setup_teardown(the_writer_filling_the_disk_leaves_nothing, mount_tmpfs,
                                        unmount_tmpfs),
        cmocka_unit_test_setup_teardown(rotation_filling_the_disk_keeps_the_earlier_files_whole,
                                        mount_tmpfs, unmount_tmpfs),
        cmocka_unit_test_setup_teardown(a_download_filling_the_disk_leaves_nothing, mount_tmpfs,
                                        unmount_tmpfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
