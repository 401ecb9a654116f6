/* Rotation like dumpcap -b: by size, by packet time, ring buffer, file
 * names, and what is left behind when something fails. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <pktcap/pktcap.h>
#include "util.h"

#define SHB 0x0A0D0D0Au
#define IDB 1u
#define ISB 5u
#define EPB 6u

static pktcap_storage *open_rotating(const char *dir, const char *name, const char *query)
{
    char uri[4400];
    snprintf(uri, sizeof(uri), "file://%s/%s?%s", dir, name, query);
    pktcap_storage *st = NULL;
    int rc = pktcap_storage_open(&st, uri);
    if (rc != 0)
        fail_msg("%s: %s", uri, last_message());
    return st;
}

static pktcap_writer *writer_on(pktcap_storage *st, int format, int interfaces)
{
    pktcap_writer *w;
    assert_int_equal(pktcap_writer_open(&w, st, format), 0);
    assert_int_equal(pktcap_writer_set_option(w, "shb_userappl", "t"), 0);
    assert_int_equal(pktcap_writer_set_option(w, "shb_os", NULL), 0);
    assert_int_equal(pktcap_writer_set_option(w, "shb_hardware", NULL), 0);
    for (int i = 0; i < interfaces; i++)
        assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    return w;
}

static void assert_completed(const pktcap_storage *st, const char *dir, const char *const *names,
                             size_t count)
{
    assert_int_equal(pktcap_storage_file_count(st), count);
    for (size_t i = 0; i < count; i++)
        assert_string_equal(pktcap_storage_file_path(st, i), path_in(dir, names[i]));
    assert_null(pktcap_storage_file_path(st, count));
}

static void assert_file_size(const char *path, off_t size)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_size, size);
}

/* pcap, 40-byte packets: a 24-byte header, then 56 bytes per packet. */
static void rotate_pcap_by_bytes(const char *limit, const size_t *per_file, size_t files)
{
    char *dir = make_scratch_dir();
    char query[64];
    snprintf(query, sizeof(query), "rotate_bytes=%s", limit);
    pktcap_storage *st = open_rotating(dir, "cap.pcap", query);
    pktcap_writer *w = writer_on(st, PKTCAP_FORMAT_AUTO, 1);
    pktcap_packet pk[5];
    for (int i = 0; i < 5; i++) {
        pk[i] = packet_of(0, 1700000000 + 60 * i, 0, 40, 40, (uint8_t)i);
        assert_int_equal(pktcap_writer_write(w, &pk[i]), 0);
    }
    assert_int_equal(pktcap_writer_close(w), 0);

    /* 1700000000 is 2023-11-14 22:13:20 UTC. */
    static const char *const minutes[] = { "13", "14", "15", "16", "17" };
    char names[5][64];
    const char *list[5];
    size_t first = 0;
    assert_int_equal(pktcap_storage_file_count(st), files);
    for (size_t f = 0; f < files; f++) {
        snprintf(names[f], sizeof(names[f]), "cap_%05zu_2023111422%s20.pcap", f + 1, minutes[first]);
        list[f] = names[f];
        const char *path = path_in(dir, names[f]);
        assert_file_size(path, 24 + 56 * (off_t)per_file[f]);
        struct read_file rf;
        read_with_libpcap(&rf, path);
        assert_packets(&rf, pk + first, per_file[f], 1000, 0);
        free_read_file(&rf);
        first += per_file[f];
    }
    assert_int_equal(first, 5);
    assert_completed(st, dir, list, files);
    char **all = list_dir(dir);
    assert_int_equal(count_names(all), files);
    free_names(all);
    pktcap_storage_free(st);
    remove_tree(dir);
}

static void a_file_ends_at_the_first_packet_that_reaches_rotate_bytes(void **state)
{
    (void)state;
    /* 80 bytes after one packet, 136 after two: 100 is reached by the second. */
    static const size_t per_file[] = { 2, 2, 1 };
    rotate_pcap_by_bytes("100", per_file, 3);
}

static void a_file_that_holds_exactly_rotate_bytes_is_full(void **state)
{
    (void)state;
    static const size_t per_file[] = { 2, 2, 1 };
    rotate_pcap_by_bytes("136", per_file, 3);
}

static void a_file_one_byte_short_of_rotate_bytes_takes_another_packet(void **state)
{
    (void)state;
    static const size_t per_file[] = { 3, 2 };
    rotate_pcap_by_bytes("137", per_file, 2);
}

static void a_limit_below_the_header_puts_one_packet_in_each_file(void **state)
{
    (void)state;
    static const size_t per_file[] = { 1, 1, 1, 1, 1 };
    rotate_pcap_by_bytes("1", per_file, 5);
}

/* Counts each block type in a pcapng file. */
static void count_blocks(const char *path, size_t *shb, size_t *idb, size_t *epb, size_t *isb)
{
    size_t size, off = 0;
    uint8_t *data = read_whole(path, &size);
    struct block b;
    *shb = *idb = *epb = *isb = 0;
    int first = 1;
    while (next_block(&b, data, size, &off)) {
        if (first)
            assert_int_equal(b.type, SHB);
        first = 0;
        *shb += b.type == SHB;
        *idb += b.type == IDB;
        *epb += b.type == EPB;
        *isb += b.type == ISB;
        if (b.type == ISB) {
            uint32_t iface;
            uint64_t recv;
            uint16_t len;
            memcpy(&iface, b.body, 4);
            const uint8_t *v = find_option(b.body + 12, b.body_len - 12, 4, &len);
            assert_non_null(v);
            memcpy(&recv, v, 8);
            assert_int_equal(recv, 1000 + iface);
        }
    }
    free(data);
}

static void each_rotated_pcapng_file_is_a_whole_section(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    pktcap_storage *st = open_rotating(dir, "ng.pcapng", "rotate_bytes=1k");
    pktcap_writer *w = writer_on(st, PKTCAP_FORMAT_AUTO, 2);
    assert_int_equal(pktcap_writer_set_interface_stats(w, 0, 1000, 1), 0);
    assert_int_equal(pktcap_writer_set_interface_stats(w, 1, 1001, 2), 0);
    pktcap_packet pk[20];
    for (int i = 0; i < 20; i++) {
        pk[i] = packet_of((uint32_t)i % 2, 1000 + i, 0, 100, 100, (uint8_t)i);
        assert_int_equal(pktcap_writer_write(w, &pk[i]), 0);
    }
    assert_int_equal(pktcap_writer_close(w), 0);

    /* SHB 40 + 2 IDBs of 32 = 104 bytes, then 132 per packet: 1000 is
     * reached by the 7th packet. */
    static const size_t per_file[] = { 7, 7, 6 };
    static const char *const names[] = {
        "ng_00001_19700101001640.pcapng",
        "ng_00002_19700101001647.pcapng",
        "ng_00003_19700101001654.pcapng",
    };
    assert_completed(st, dir, names, 3);
    size_t first = 0;
    for (int f = 0; f < 3; f++) {
        const char *path = path_in(dir, names[f]);
        size_t shb, idb, epb, isb;
        count_blocks(path, &shb, &idb, &epb, &isb);
        assert_int_equal(shb, 1);
        assert_int_equal(idb, 2);
        assert_int_equal(epb, per_file[f]);
        assert_int_equal(isb, 2);
        assert_file_size(path, 104 + 132 * (off_t)per_file[f] + 2 * 76);
        struct read_file rf;
        read_with_libpcap(&rf, path);
        assert_packets(&rf, pk + first, per_file[f], 1, 0);
        free_read_file(&rf);
        first += per_file[f];
    }
    pktcap_storage_free(st);
    remove_tree(dir);
}

static void rotate_seconds_counts_packet_time_from_the_files_first_packet(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    pktcap_storage *st = open_rotating(dir, "t.pcap", "rotate_seconds=10&format=pcap-nsec");
    pktcap_writer *w = writer_on(st, PKTCAP_FORMAT_AUTO, 1);
    pktcap_packet pk[7] = {
        packet_of(0, 1000, 0, 10, 10, 1),          packet_of(0, 1005, 0, 10, 10, 2),
        packet_of(0, 1009, 999999999, 10, 10, 3),  packet_of(0, 1010, 0, 10, 10, 4),
        packet_of(0, 1019, 500000000, 10, 10, 5),  packet_of(0, 1020, 0, 10, 10, 6),
        packet_of(0, 1015, 0, 10, 10, 7), /* earlier than the file's first: stays */
    };
    for (int i = 0; i < 7; i++)
        assert_int_equal(pktcap_writer_write(w, &pk[i]), 0);
    assert_int_equal(pktcap_writer_close(w), 0);

    static const char *const names[] = {
        "t_00001_19700101001640.pcap",
        "t_00002_19700101001650.pcap",
        "t_00003_19700101001700.pcap",
    };
    static const size_t per_file[] = { 3, 2, 2 };
    assert_completed(st, dir, names, 3);
    size_t first = 0;
    for (int f = 0; f < 3; f++) {
        struct read_file rf;
        read_with_libpcap(&rf, path_in(dir, names[f]));
        assert_packets(&rf, pk + first, per_file[f], 1, 0);
        free_read_file(&rf);
        first += per_file[f];
    }
    pktcap_storage_free(st);
    remove_tree(dir);
}

static void the_ring_buffer_deletes_only_its_own_oldest_files(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    /* Files that match the name pattern but were not made by this target. */
    static const char *const foreign[] = {
        "cap_00001_20000101000000.pcap",
        "cap_00003_19700101000000.pcap",
        "cap_00009_21000101000000.pcap",
        "other.txt",
    };
    for (int i = 0; i < 4; i++)
        write_whole(path_in(dir, foreign[i]), foreign[i], strlen(foreign[i]));

    pktcap_storage *st = open_rotating(dir, "cap.pcap", "rotate_bytes=100&rotate_files=2");
    pktcap_writer *w = writer_on(st, PKTCAP_FORMAT_AUTO, 1);
    for (int i = 0; i < 10; i++) {
        pktcap_packet p = packet_of(0, i, 0, 40, 40, (uint8_t)i);
        assert_int_equal(pktcap_writer_write(w, &p), 0);
    }
    assert_int_equal(pktcap_writer_close(w), 0);

    static const char *const made[] = {
        "cap_00001_19700101000000.pcap", "cap_00002_19700101000002.pcap",
        "cap_00003_19700101000004.pcap", "cap_00004_19700101000006.pcap",
        "cap_00005_19700101000008.pcap",
    };
    assert_completed(st, dir, made, 5);
    char **names = list_dir(dir);
    static const char *const left[] = {
        "cap_00001_20000101000000.pcap", "cap_00003_19700101000000.pcap",
        "cap_00004_19700101000006.pcap", "cap_00005_19700101000008.pcap",
        "cap_00009_21000101000000.pcap", "other.txt",
    };
    assert_int_equal(count_names(names), 6);
    for (int i = 0; i < 6; i++)
        assert_string_equal(names[i], left[i]);
    free_names(names);
    for (int i = 0; i < 4; i++) {
        size_t size;
        uint8_t *data = read_whole(path_in(dir, foreign[i]), &size);
        assert_int_equal(size, strlen(foreign[i]));
        assert_memory_equal(data, foreign[i], size);
        free(data);
    }
    pktcap_storage_free(st);
    remove_tree(dir);
}

static void a_rotated_name_never_replaces_an_existing_file(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    char *clash = strdup(path_in(dir, "cap_00002_19700101000002.pcap"));
    write_whole(clash, "mine", 4);
    char uri[4400];
    snprintf(uri, sizeof(uri), "file://%s/cap.pcap?rotate_bytes=100", dir);
    pktcap_storage *st;
    assert_int_equal(pktcap_storage_open(&st, uri), 0);
    pktcap_writer *w = writer_on(st, PKTCAP_FORMAT_AUTO, 1);
    pktcap_packet pk[5];
    int rc = 0;
    for (int i = 0; i < 5 && rc == 0; i++) {
        pk[i] = packet_of(0, i, 0, 40, 40, (uint8_t)i);
        rc = pktcap_writer_write(w, &pk[i]);
        if (i < 4)
            assert_int_equal(rc, 0);
    }
    /* The fifth packet ends the second file, whose name is taken. */
    assert_int_equal(rc, PKTCAP_E_EXISTS);
    char expect[4600];
    snprintf(expect, sizeof(expect),
             "storage '%s': %s already exists (rotated files never replace a file)", uri, clash);
    assert_string_equal(last_message(), expect);
    assert_int_equal(pktcap_writer_close(w), PKTCAP_E_EXISTS);
    assert_string_equal(last_message(), expect);

    static const char *const made[] = { "cap_00001_19700101000000.pcap" };
    assert_completed(st, dir, made, 1);
    struct read_file rf;
    read_with_libpcap(&rf, path_in(dir, made[0]));
    assert_packets(&rf, pk, 2, 1000, 0);
    free_read_file(&rf);
    size_t size;
    uint8_t *data = read_whole(clash, &size);
    assert_int_equal(size, 4);
    assert_memory_equal(data, "mine", 4);
    free(data);
    char **names = list_dir(dir);
    assert_int_equal(count_names(names), 2);
    free_names(names);
    pktcap_storage_free(st);
    free(clash);
    remove_tree(dir);
}

static void a_rotating_capture_without_packets_is_named_by_the_clock(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    pktcap_storage *st = open_rotating(dir, "empty", "rotate_files=3");
    time_t before = time(NULL);
    pktcap_writer *w = writer_on(st, PKTCAP_FORMAT_PCAP, 1);
    assert_int_equal(pktcap_writer_close(w), 0);
    time_t after = time(NULL);

    assert_int_equal(pktcap_storage_file_count(st), 1);
    char low[64], high[64];
    struct tm tm;
    strftime(low, sizeof(low), "empty_00001_%Y%m%d%H%M%S", gmtime_r(&before, &tm));
    strftime(high, sizeof(high), "empty_00001_%Y%m%d%H%M%S", gmtime_r(&after, &tm));
    char **names = list_dir(dir);
    assert_int_equal(count_names(names), 1);
    assert_true(strcmp(names[0], low) >= 0 && strcmp(names[0], high) <= 0);
    assert_int_equal(strlen(names[0]), strlen(low)); /* no extension to keep */
    assert_string_equal(pktcap_storage_file_path(st, 0), path_in(dir, names[0]));
    free_names(names);
    pktcap_storage_free(st);
    remove_tree(dir);
}

static void the_extension_is_taken_from_the_file_name_only(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    char sub[4200];
    snprintf(sub, sizeof(sub), "%s/x.d", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    pktcap_storage *st = open_rotating(sub, "capture", "rotate_seconds=1");
    pktcap_writer *w = writer_on(st, PKTCAP_FORMAT_PCAP, 1);
    pktcap_packet p = packet_of(0, 86400, 0, 4, 4, 0);
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_close(w), 0);
    char expect[4400];
    snprintf(expect, sizeof(expect), "%s/capture_00001_19700102000000", sub);
    assert_string_equal(pktcap_storage_file_path(st, 0), expect);
    assert_int_equal(unlink(expect), 0);
    assert_int_equal(rmdir(sub), 0);
    pktcap_storage_free(st);

    st = open_rotating(dir, ".hidden", "rotate_seconds=1");
    w = writer_on(st, PKTCAP_FORMAT_PCAP, 1);
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_close(w), 0);
    assert_string_equal(pktcap_storage_file_path(st, 0), path_in(dir, ".hidden_00001_19700102000000"));
    pktcap_storage_free(st);

    st = open_rotating(dir, "a.b.pcapng", "rotate_seconds=1");
    w = writer_on(st, PKTCAP_FORMAT_PCAP, 1);
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_close(w), 0);
    assert_string_equal(pktcap_storage_file_path(st, 0), path_in(dir, "a.b_00001_19700102000000.pcapng"));
    pktcap_storage_free(st);
    remove_tree(dir);
}

static void abort_keeps_completed_files_and_drops_the_current_one(void **state)
{
    (void)state;
    char *dir = make_scratch_dir();
    pktcap_storage *st = open_rotating(dir, "ab.pcap", "rotate_bytes=100");
    pktcap_writer *w = writer_on(st, PKTCAP_FORMAT_AUTO, 1);
    pktcap_packet pk[5];
    for (int i = 0; i < 5; i++) {
        pk[i] = packet_of(0, i, 0, 40, 40, (uint8_t)i);
        assert_int_equal(pktcap_writer_write(w, &pk[i]), 0);
    }
    assert_int_equal(pktcap_writer_flush(w), 0);
    assert_int_equal(count_suffix(dir, ".part"), 1);
    pktcap_writer_abort(w);
    static const char *const made[] = { "ab_00001_19700101000000.pcap", "ab_00002_19700101000002.pcap" };
    assert_completed(st, dir, made, 2);
    char **names = list_dir(dir);
    assert_int_equal(count_names(names), 2);
    assert_string_equal(names[0], made[0]);
    assert_string_equal(names[1], made[1]);
    free_names(names);
    for (int f = 0; f < 2; f++) {
        struct read_file rf;
        read_with_libpcap(&rf, path_in(dir, made[f]));
        assert_packets(&rf, pk + 2 * f, 2, 1000, 0);
        free_read_file(&rf);
    }
    pktcap_storage_free(st);
    remove_tree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_file_ends_at_the_first_packet_that_reaches_rotate_bytes),
        cmocka_unit_test(a_file_that_holds_exactly_rotate_bytes_is_full),
        cmocka_unit_test(a_file_one_byte_short_of_rotate_bytes_takes_another_packet),
        cmocka_unit_test(a_limit_below_the_header_puts_one_packet_in_each_file),
        cmocka_unit_test(each_rotated_pcapng_file_is_a_whole_section),
        cmocka_unit_test(rotate_seconds_counts_packet_time_from_the_files_first_packet),
        cmocka_unit_test(the_ring_buffer_deletes_only_its_own_oldest_files),
        cmocka_unit_test(a_rotated_name_never_replaces_an_existing_file),
        cmocka_unit_test(a_rotating_capture_without_packets_is_named_by_the_clock),
        cmocka_unit_test(the_extension_is_taken_from_the_file_name_only),
        cmocka_unit_test(abort_keeps_completed_files_and_drops_the_current_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
