/* The writer in pcapng: exact blocks, option padding, section and interface
 * options, several interfaces and link types, statistics blocks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include <pktcap/pktcap.h>
#include "util.h"

#define SHB 0x0A0D0D0Au
#define IDB 1u
#define ISB 5u
#define EPB 6u

static pktcap_storage *open_mem(void)
{
    pktcap_storage *st = NULL;
    assert_int_equal(pktcap_storage_open(&st, "mem:"), 0);
    return st;
}

static pktcap_writer *open_writer(pktcap_storage *st)
{
    pktcap_writer *w = NULL;
    assert_int_equal(pktcap_writer_open(&w, st, PKTCAP_FORMAT_PCAPNG), 0);
    return w;
}

/* The writer's bytes, as pktcap_storage_memory hands them out. */
static const uint8_t *bytes_of(const pktcap_storage *st, size_t *size)
{
    const void *data;
    assert_int_equal(pktcap_storage_memory(&data, size, st), 0);
    return data;
}

static void golden_time_option(struct golden *g, uint16_t code, uint64_t ns)
{
    uint32_t words[2] = { (uint32_t)(ns >> 32), (uint32_t)ns };
    golden_option(g, code, words, 8);
}

static void golden_length(struct golden *g, size_t start)
{
    uint32_t total = (uint32_t)(g->len - start + 4);
    memcpy(g->data + start + 4, &total, 4);
    golden_u32(g, total);
}

static void a_small_pcapng_file_has_exact_bytes(void **state)
{
    (void)state;
    static const uint8_t bytes[] = { 1, 2, 3, 4, 5 };
    const uint64_t ts = 1700000000123456789ULL;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st);
    assert_int_equal(pktcap_writer_set_option(w, "shb_userappl", "tester"), 0);
    assert_int_equal(pktcap_writer_set_option(w, "shb_os", "TestOS 1"), 0);
    assert_int_equal(pktcap_writer_set_option(w, "shb_hardware", "arm64"), 0);
    assert_int_equal(pktcap_writer_set_option(w, "shb_comment", "c"), 0);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 65535, "eth0", "uplink"), 0);
    assert_int_equal(pktcap_writer_set_interface_stats(w, 0, 1000, 7), 0);
    pktcap_packet p = packet_of(0, 1700000000, 123456789, 5, 64, 0);
    p.data = bytes;
    p.comment = "abc";
    p.comment_len = 3;
    p.flags = PKTCAP_DIRECTION_INBOUND;
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_close(w), 0);

    struct golden g = { .len = 0 };
    size_t start = g.len;
    golden_u32(&g, SHB);
    golden_u32(&g, 0);
    golden_u32(&g, 0x1A2B3C4D);
    golden_u16(&g, 1);
    golden_u16(&g, 0);
    golden_u64(&g, UINT64_MAX);
    golden_option(&g, 1, "c", 1);
    golden_option(&g, 2, "arm64", 5);
    golden_option(&g, 3, "TestOS 1", 8);
    golden_option(&g, 4, "tester", 6);
    golden_u32(&g, 0);
    golden_length(&g, start);
    assert_int_equal(g.len - start, 76);

    start = g.len;
    golden_u32(&g, IDB);
    golden_u32(&g, 0);
    golden_u16(&g, 1);
    golden_u16(&g, 0);
    golden_u32(&g, 65535);
    golden_option(&g, 2, "eth0", 4);
    golden_option(&g, 3, "uplink", 6);
    golden_option(&g, 9, "\x09", 1);
    golden_u32(&g, 0);
    golden_length(&g, start);
    assert_int_equal(g.len - start, 52);

    start = g.len;
    golden_u32(&g, EPB);
    golden_u32(&g, 0);
    golden_u32(&g, 0);
    golden_u32(&g, (uint32_t)(ts >> 32));
    golden_u32(&g, (uint32_t)ts);
    golden_u32(&g, 5);
    golden_u32(&g, 64);
    golden_bytes(&g, bytes, 5);
    golden_bytes(&g, "\0\0\0", 3);
    golden_option(&g, 1, "abc", 3);
    uint32_t flags = 1;
    golden_option(&g, 2, &flags, 4);
    golden_u32(&g, 0);
    golden_length(&g, start);
    assert_int_equal(g.len - start, 60);

    start = g.len;
    golden_u32(&g, ISB);
    golden_u32(&g, 0);
    golden_u32(&g, 0);
    golden_u32(&g, (uint32_t)(ts >> 32));
    golden_u32(&g, (uint32_t)ts);
    golden_time_option(&g, 2, ts);
    golden_time_option(&g, 3, ts);
    uint64_t recv = 1000, drop = 7;
    golden_option(&g, 4, &recv, 8);
    golden_option(&g, 5, &drop, 8);
    golden_u32(&g, 0);
    golden_length(&g, start);
    assert_int_equal(g.len - start, 76);

    size_t size;
    const uint8_t *data = bytes_of(st, &size);
    assert_int_equal(size, g.len);
    assert_memory_equal(data, g.data, g.len);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* The comment option as it sits in the EPB: code 1, length 3, one pad byte. */
    static const uint8_t comment_option[] = { 1, 0, 3, 0, 'a', 'b', 'c', 0 };
    assert_memory_equal(data + 76 + 52 + 28 + 8, comment_option, sizeof(comment_option));
#endif
    pktcap_storage_free(st);
}

static void options_and_packet_bytes_are_padded_to_32_bits_with_zeros(void **state)
{
    (void)state;
    static const char text[] = "abcdefgh";
    static uint8_t ones[1500];
    memset(ones, 0xff, sizeof(ones));
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    /* More than the buffer holds, so the packets below land on reused,
     * non-zero buffer bytes and their padding has to be written. */
    pktcap_packet filler = packet_of(0, 0, 0, sizeof(ones), sizeof(ones), 0);
    filler.data = ones;
    for (int i = 0; i < 1000; i++)
        assert_int_equal(pktcap_writer_write(w, &filler), 0);
    for (uint32_t n = 1; n <= 8; n++) {
        pktcap_packet p = packet_of(0, n, 0, n, n, 0xff);
        p.data = pattern_bytes(0xf0, n); /* non-zero bytes, so padding stands out */
        p.comment = text;
        p.comment_len = n;
        assert_int_equal(pktcap_writer_write(w, &p), 0);
    }
    assert_int_equal(pktcap_writer_close(w), 0);

    size_t size, off = 0;
    const uint8_t *data = bytes_of(st, &size);
    struct block b;
    uint32_t n = 0, fillers = 0;
    while (next_block(&b, data, size, &off)) {
        if (b.type != EPB || fillers++ < 1000)
            continue;
        n++;
        size_t padded = (n + 3) & ~3u;
        assert_int_equal(b.length, 32 + padded + 4 + padded + 4);
        const uint8_t *pkt = b.body + 20;
        assert_memory_equal(pkt, pattern_bytes(0xf0, n), n);
        for (size_t i = n; i < padded; i++)
            assert_int_equal(pkt[i], 0);
        const uint8_t *opt = pkt + padded;
        uint16_t code, len;
        memcpy(&code, opt, 2);
        memcpy(&len, opt + 2, 2);
        assert_int_equal(code, 1);
        assert_int_equal(len, n);
        assert_memory_equal(opt + 4, text, n);
        for (size_t i = n; i < padded; i++)
            assert_int_equal(opt[4 + i], 0);
        uint32_t end;
        memcpy(&end, opt + 4 + padded, 4);
        assert_int_equal(end, 0);
    }
    assert_int_equal(n, 8);
    pktcap_storage_free(st);
}

static void the_section_says_who_wrote_it_by_default(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    assert_int_equal(pktcap_writer_close(open_writer(st)), 0);
    size_t size, off = 0;
    const uint8_t *data = bytes_of(st, &size);
    struct block b;
    assert_true(next_block(&b, data, size, &off));
    assert_int_equal(b.type, SHB);
    assert_int_equal(off, size); /* no interfaces, no statistics */
    const uint8_t *opts = b.body + 16;
    size_t opts_len = b.body_len - 16;

    struct utsname u;
    assert_int_equal(uname(&u), 0);
    char expect[512];
    uint16_t len;
    const uint8_t *v = find_option(opts, opts_len, 4, &len);
    snprintf(expect, sizeof(expect), "libpktcap %s", pktcap_version());
    assert_non_null(v);
    assert_int_equal(len, strlen(expect));
    assert_memory_equal(v, expect, len);
    v = find_option(opts, opts_len, 3, &len);
    snprintf(expect, sizeof(expect), "%s %s", u.sysname, u.release);
    assert_non_null(v);
    assert_int_equal(len, strlen(expect));
    assert_memory_equal(v, expect, len);
    v = find_option(opts, opts_len, 2, &len);
    assert_non_null(v);
    assert_int_equal(len, strlen(u.machine));
    assert_memory_equal(v, u.machine, len);
    assert_null(find_option(opts, opts_len, 1, &len));
    pktcap_storage_free(st);
}

static void section_options_set_to_null_or_empty_are_left_out(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st);
    assert_int_equal(pktcap_writer_set_option(w, "shb_userappl", NULL), 0);
    assert_int_equal(pktcap_writer_set_option(w, "shb_os", ""), 0);
    assert_int_equal(pktcap_writer_set_option(w, "shb_hardware", NULL), 0);
    assert_int_equal(pktcap_writer_set_option(w, "shb_comment", "first"), 0);
    assert_int_equal(pktcap_writer_set_option(w, "shb_comment", NULL), 0);
    assert_int_equal(pktcap_writer_close(w), 0);

    struct golden g = { .len = 0 };
    golden_u32(&g, SHB);
    golden_u32(&g, 28);
    golden_u32(&g, 0x1A2B3C4D);
    golden_u16(&g, 1);
    golden_u16(&g, 0);
    golden_u64(&g, UINT64_MAX);
    golden_u32(&g, 28);
    size_t size;
    const uint8_t *data = bytes_of(st, &size);
    assert_int_equal(size, g.len);
    assert_memory_equal(data, g.data, g.len);
    pktcap_storage_free(st);
}

static void section_options_are_checked(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st);
    assert_int_equal(pktcap_writer_set_option(w, "if_name", "x"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(),
                        "unknown writer option 'if_name' (known: shb_userappl, shb_os, shb_hardware, "
                        "shb_comment)");
    pktcap_writer_abort(w);

    w = open_writer(st);
    char *big = malloc(70001);
    assert_non_null(big);
    memset(big, 'x', 70000);
    big[70000] = '\0';
    assert_int_equal(pktcap_writer_set_option(w, "shb_comment", big), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "shb_comment is 70000 bytes; a pcapng option holds at most 65535");
    free(big);
    pktcap_writer_abort(w);

    w = open_writer(st);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    pktcap_packet p = packet_of(0, 1, 0, 1, 1, 0);
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_set_option(w, "shb_comment", "late"), PKTCAP_E_STATE);
    assert_string_equal(last_message(),
                        "writer option 'shb_comment' must be set before the file header is written "
                        "(first packet, flush or close)");
    assert_int_equal(pktcap_writer_set_option(w, NULL, "x"), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "pktcap_writer_set_option: key is NULL");
    pktcap_writer_abort(w);
    pktcap_storage_free(st);
}

static void libpcap_reads_back_every_pcapng_packet_to_the_nanosecond(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, "eth0", NULL), 0);
    enum { N = 2000 };
    static const uint32_t sizes[] = { 64, 576, 64, 1500, 0, 1, 2, 3, 9000, 65535 };
    pktcap_packet *pk = calloc(N, sizeof(*pk));
    assert_non_null(pk);
    for (size_t i = 0; i < N; i++) {
        uint32_t size = sizes[i % 10];
        pk[i] = packet_of(0, 1000000000 + (int64_t)i * 7, (uint32_t)(i * 499999) % 1000000000u, size,
                          size + 4, (uint8_t)(i * 3));
        if (i % 5 == 0) {
            pk[i].comment = "note";
            pk[i].comment_len = 4;
            pk[i].flags = (uint32_t)(i % 3);
        }
        assert_int_equal(pktcap_writer_write(w, &pk[i]), 0);
    }
    assert_int_equal(pktcap_writer_set_interface_stats(w, 0, N, 0), 0);
    assert_int_equal(pktcap_writer_close(w), 0);

    size_t size;
    const uint8_t *data = bytes_of(st, &size);
    struct read_file f;
    read_bytes_with_libpcap(&f, data, size);
    assert_int_equal(f.linktype, 1);
    assert_packets(&f, pk, N, 1, 0);
    free_read_file(&f);
    free(pk);
    pktcap_storage_free(st);
}

static void interfaces_of_different_link_types_get_one_idb_each(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st);
    uint32_t a, b;
    assert_int_equal(pktcap_writer_add_interface(&a, w, 1, 128, "eth0", NULL), 0);
    assert_int_equal(pktcap_writer_add_interface(&b, w, 113, 0, "any", "cooked"), 0);
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    pktcap_packet p0 = packet_of(0, 1, 0, 200, 200, 1);
    pktcap_packet p1 = packet_of(1, 2, 0, 200, 200, 2);
    assert_int_equal(pktcap_writer_write(w, &p0), 0);
    assert_int_equal(pktcap_writer_write(w, &p1), 0);
    assert_int_equal(pktcap_writer_close(w), 0);

    size_t size, off = 0;
    const uint8_t *data = bytes_of(st, &size);
    struct block blk;
    uint32_t types[8];
    size_t n = 0;
    while (next_block(&blk, data, size, &off)) {
        assert_true(n < 8);
        types[n++] = blk.type;
        uint32_t v32;
        uint16_t v16, len;
        if (blk.type == IDB) {
            memcpy(&v16, blk.body, 2);
            memcpy(&v32, blk.body + 4, 4);
            assert_int_equal(v16, n == 2 ? 1 : 113);
            assert_int_equal(v32, n == 2 ? 128 : 0);
            const uint8_t *name = find_option(blk.body + 8, blk.body_len - 8, 2, &len);
            assert_non_null(name);
            assert_memory_equal(name, n == 2 ? "eth0" : "any", len);
            const uint8_t *res = find_option(blk.body + 8, blk.body_len - 8, 9, &len);
            assert_non_null(res);
            assert_int_equal(len, 1);
            assert_int_equal(res[0], 9);
        } else if (blk.type == EPB) {
            memcpy(&v32, blk.body, 4);
            assert_int_equal(v32, n == 4 ? 0 : 1);
            memcpy(&v32, blk.body + 12, 4);
            assert_int_equal(v32, n == 4 ? 128 : 200); /* interface 0 cuts to its snaplen */
        }
    }
    assert_int_equal(n, 5);
    assert_int_equal(types[0], SHB);
    assert_int_equal(types[1], IDB);
    assert_int_equal(types[2], IDB);
    assert_int_equal(types[3], EPB);
    assert_int_equal(types[4], EPB);
    pktcap_storage_free(st);
}

static void an_interface_added_after_packets_gets_its_idb_in_place(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    pktcap_packet p0 = packet_of(0, 1, 0, 10, 10, 1);
    assert_int_equal(pktcap_writer_write(w, &p0), 0);
    uint32_t idx;
    assert_int_equal(pktcap_writer_add_interface(&idx, w, 101, 0, "tun0", NULL), 0);
    assert_int_equal(idx, 1);
    pktcap_packet p1 = packet_of(1, 2, 0, 10, 10, 2);
    assert_int_equal(pktcap_writer_write(w, &p1), 0);
    assert_int_equal(pktcap_writer_close(w), 0);

    size_t size, off = 0;
    const uint8_t *data = bytes_of(st, &size);
    struct block b;
    const uint32_t expect[] = { SHB, IDB, EPB, IDB, EPB };
    size_t n = 0;
    while (next_block(&b, data, size, &off)) {
        assert_true(n < 5);
        assert_int_equal(b.type, expect[n++]);
    }
    assert_int_equal(n, 5);
    pktcap_storage_free(st);
}

static void flags_are_written_only_when_not_zero(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    pktcap_packet p = packet_of(0, 1, 0, 4, 4, 1);
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    p.flags = PKTCAP_DIRECTION_OUTBOUND;
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    p.flags = 0;
    p.comment = "";
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_close(w), 0);

    size_t size, off = 0;
    const uint8_t *data = bytes_of(st, &size);
    struct block b;
    uint32_t lengths[3];
    size_t n = 0;
    while (next_block(&b, data, size, &off)) {
        if (b.type != EPB)
            continue;
        assert_true(n < 3);
        lengths[n] = b.length;
        if (n == 1) {
            uint16_t len;
            const uint8_t *v = find_option(b.body + 24, b.body_len - 24, 2, &len);
            assert_non_null(v);
            assert_int_equal(len, 4);
            uint32_t flags;
            memcpy(&flags, v, 4);
            assert_int_equal(flags, 2);
        }
        n++;
    }
    assert_int_equal(n, 3);
    assert_int_equal(lengths[0], 36);
    assert_int_equal(lengths[1], 36 + 8 + 4);
    assert_int_equal(lengths[2], 36);
    pktcap_storage_free(st);
}

static void statistics_blocks_go_only_to_interfaces_with_counters(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    assert_int_equal(pktcap_writer_set_interface_stats(w, 1, 5, 6), 0);
    assert_int_equal(pktcap_writer_set_interface_stats(w, 1, 50, 60), 0); /* the last values count */
    pktcap_packet a = packet_of(0, 100, 5, 4, 4, 1);
    pktcap_packet b = packet_of(1, 200, 7, 4, 4, 1);
    assert_int_equal(pktcap_writer_write(w, &a), 0);
    assert_int_equal(pktcap_writer_write(w, &b), 0);
    assert_int_equal(pktcap_writer_close(w), 0);

    size_t size, off = 0;
    const uint8_t *data = bytes_of(st, &size);
    struct block blk;
    size_t isbs = 0;
    while (next_block(&blk, data, size, &off)) {
        if (blk.type != ISB)
            continue;
        isbs++;
        assert_int_equal(blk.length, 76);
        uint32_t v[3];
        memcpy(v, blk.body, 12);
        assert_int_equal(v[0], 1);
        uint64_t when = ((uint64_t)v[1] << 32) | v[2];
        assert_int_equal(when, 200000000007ULL);
        const uint8_t *opts = blk.body + 12;
        size_t olen = blk.body_len - 12;
        uint16_t len;
        uint32_t words[2];
        uint64_t value;
        memcpy(words, find_option(opts, olen, 2, &len), 8);
        assert_int_equal(((uint64_t)words[0] << 32) | words[1], 100000000005ULL);
        memcpy(words, find_option(opts, olen, 3, &len), 8);
        assert_int_equal(((uint64_t)words[0] << 32) | words[1], 200000000007ULL);
        memcpy(&value, find_option(opts, olen, 4, &len), 8);
        assert_int_equal(value, 50);
        memcpy(&value, find_option(opts, olen, 5, &len), 8);
        assert_int_equal(value, 60);
    }
    assert_int_equal(isbs, 1);
    pktcap_storage_free(st);
}

static void statistics_without_packets_are_stamped_with_the_current_time(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    assert_int_equal(pktcap_writer_set_interface_stats(w, 0, 3, 4), 0);
    struct timespec before, after;
    clock_gettime(CLOCK_REALTIME, &before);
    assert_int_equal(pktcap_writer_close(w), 0);
    clock_gettime(CLOCK_REALTIME, &after);

    size_t size, off = 0;
    const uint8_t *data = bytes_of(st, &size);
    struct block blk;
    int found = 0;
    while (next_block(&blk, data, size, &off)) {
        if (blk.type != ISB)
            continue;
        found = 1;
        assert_int_equal(blk.length, 24 + 12 + 12 + 4); /* no start or end time */
        uint32_t v[3];
        memcpy(v, blk.body, 12);
        uint64_t when = ((uint64_t)v[1] << 32) | v[2];
        uint64_t lo = (uint64_t)before.tv_sec * 1000000000u + (uint64_t)before.tv_nsec;
        uint64_t hi = (uint64_t)after.tv_sec * 1000000000u + (uint64_t)after.tv_nsec;
        assert_in_range(when, lo, hi);
    }
    assert_true(found);
    pktcap_storage_free(st);
}

static void a_packet_larger_than_the_buffer_is_one_whole_block(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    pktcap_packet small = packet_of(0, 1, 0, 100, 100, 1);
    pktcap_packet big = packet_of(0, 2, 0, 3000001, 3000001, 2);
    big.comment = "big one";
    big.comment_len = 7;
    big.flags = 1;
    assert_int_equal(pktcap_writer_write(w, &small), 0);
    assert_int_equal(pktcap_writer_write(w, &big), 0);
    assert_int_equal(pktcap_writer_write(w, &small), 0);
    assert_int_equal(pktcap_writer_close(w), 0);

    size_t size, off = 0;
    const uint8_t *data = bytes_of(st, &size);
    struct block b;
    size_t epbs = 0;
    while (next_block(&b, data, size, &off)) {
        if (b.type != EPB)
            continue;
        const pktcap_packet *e = epbs == 1 ? &big : &small;
        uint32_t caplen;
        memcpy(&caplen, b.body + 12, 4);
        assert_int_equal(caplen, e->caplen);
        assert_memory_equal(b.body + 20, e->data, caplen);
        if (epbs == 1) {
            size_t padded = (caplen + 3) & ~3u;
            assert_int_equal(b.length, 32 + padded + 12 + 8 + 4);
            uint16_t len;
            const uint8_t *c = find_option(b.body + 20 + padded, b.body_len - 20 - padded, 1, &len);
            assert_non_null(c);
            assert_int_equal(len, 7);
            assert_memory_equal(c, "big one", 7);
        }
        epbs++;
    }
    assert_int_equal(epbs, 3);
    pktcap_storage_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_small_pcapng_file_has_exact_bytes),
        cmocka_unit_test(options_and_packet_bytes_are_padded_to_32_bits_with_zeros),
        cmocka_unit_test(the_section_says_who_wrote_it_by_default),
        cmocka_unit_test(section_options_set_to_null_or_empty_are_left_out),
        cmocka_unit_test(section_options_are_checked),
        cmocka_unit_test(libpcap_reads_back_every_pcapng_packet_to_the_nanosecond),
        cmocka_unit_test(interfaces_of_different_link_types_get_one_idb_each),
        cmocka_unit_test(an_interface_added_after_packets_gets_its_idb_in_place),
        cmocka_unit_test(flags_are_written_only_when_not_zero),
        cmocka_unit_test(statistics_blocks_go_only_to_interfaces_with_counters),
        cmocka_unit_test(statistics_without_packets_are_stamped_with_the_current_time),
        cmocka_unit_test(a_packet_larger_than_the_buffer_is_one_whole_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
