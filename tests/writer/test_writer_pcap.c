/* The writer in classic pcap: exact bytes, libpcap round trips, snaplen,
 * link types, and the checks on every packet field. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pktcap/pktcap.h>
#include "util.h"

static pktcap_storage *open_mem(void)
{
    pktcap_storage *st = NULL;
    assert_int_equal(pktcap_storage_open(&st, "mem:"), 0);
    return st;
}

static pktcap_writer *open_writer(pktcap_storage *st, int format)
{
    pktcap_writer *w = NULL;
    assert_int_equal(pktcap_writer_open(&w, st, format), 0);
    assert_non_null(w);
    return w;
}

static void assert_memory_holds(const pktcap_storage *st, const struct golden *g)
{
    const void *data;
    size_t size;
    assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
    assert_int_equal(size, g->len);
    assert_memory_equal(data, g->data, g->len);
}

static void golden_pcap_header(struct golden *g, uint32_t magic, uint32_t snaplen, uint32_t linktype)
{
    golden_u32(g, magic);
    golden_u16(g, 2);
    golden_u16(g, 4);
    golden_u32(g, 0);
    golden_u32(g, 0);
    golden_u32(g, snaplen);
    golden_u32(g, linktype);
}

static void golden_record(struct golden *g, uint32_t sec, uint32_t frac, const pktcap_packet *p,
                          uint32_t caplen)
{
    golden_u32(g, sec);
    golden_u32(g, frac);
    golden_u32(g, caplen);
    golden_u32(g, p->len);
    golden_bytes(g, p->data, caplen);
}

static void a_small_pcap_file_has_exact_bytes(void **state)
{
    (void)state;
    static const uint8_t bytes[] = { 0xde, 0xad, 0xbe, 0xef };
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st, PKTCAP_FORMAT_PCAP);
    uint32_t index = 99;
    assert_int_equal(pktcap_writer_add_interface(&index, w, 1, 65535, "eth0", "ignored"), 0);
    assert_int_equal(index, 0);
    pktcap_packet p = packet_of(0, 1700000000, 123456789, 4, 60, 0);
    p.data = bytes;
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_close(w), 0);

    struct golden g = { .len = 0 };
    golden_pcap_header(&g, 0xa1b2c3d4, 65535, 1);
    golden_record(&g, 1700000000, 123456, &p, 4);
    assert_int_equal(g.len, 24 + 16 + 4);
    assert_memory_holds(st, &g);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    static const uint8_t le_magic[] = { 0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00 };
    assert_memory_equal(g.data, le_magic, sizeof(le_magic));
#endif
    pktcap_storage_free(st);
}

static void a_small_pcap_nsec_file_has_exact_bytes(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st, PKTCAP_FORMAT_PCAP_NSEC);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 113, 1500, NULL, NULL), 0);
    pktcap_packet p = packet_of(0, 86400, 999999999, 7, 7, 42);
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_close(w), 0);

    struct golden g = { .len = 0 };
    golden_pcap_header(&g, 0xa1b23c4d, 1500, 113);
    golden_record(&g, 86400, 999999999, &p, 7);
    assert_memory_holds(st, &g);
    pktcap_storage_free(st);
}

static void a_file_without_interfaces_says_ethernet_and_262144(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    assert_int_equal(pktcap_writer_close(open_writer(st, PKTCAP_FORMAT_PCAP)), 0);
    struct golden g = { .len = 0 };
    golden_pcap_header(&g, 0xa1b2c3d4, 262144, 1);
    assert_memory_holds(st, &g);
    pktcap_storage_free(st);
}

/* 64/576/1500-byte frames 7:4:1 plus the edges: empty, odd, jumbo. */
static uint32_t mixed_size(size_t i)
{
    static const uint32_t sizes[] = { 64, 576, 64, 1500, 64, 576, 64, 0, 1, 61, 9000, 576 };
    return sizes[i % (sizeof(sizes) / sizeof(sizes[0]))];
}

static void round_trip(int format, uint32_t ns_unit)
{
    char *dir = make_scratch_dir();
    const char *path = path_in(dir, "rt.pcap");
    char *file = strdup(path);
    pktcap_storage *st;
    assert_int_equal(pktcap_storage_open(&st, file), 0);
    pktcap_writer *w = open_writer(st, format);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    enum { N = 3000 };
    pktcap_packet *pk = calloc(N, sizeof(*pk));
    assert_non_null(pk);
    for (size_t i = 0; i < N; i++) {
        uint32_t size = mixed_size(i);
        pk[i] = packet_of(0, 1600000000 + (int64_t)i, (uint32_t)(i * 333333) % 1000000000u, size,
                          size + (uint32_t)(i % 3), (uint8_t)i);
        assert_int_equal(pktcap_writer_write(w, &pk[i]), 0);
    }
    assert_int_equal(pktcap_writer_close(w), 0);

    struct read_file f;
    read_with_libpcap(&f, file);
    assert_int_equal(f.linktype, 1);
    assert_int_equal(f.snaplen, 262144);
    assert_packets(&f, pk, N, ns_unit, 0);
    free_read_file(&f);
    free(pk);
    free(file);
    pktcap_storage_free(st);
    remove_tree(dir);
}

static void libpcap_reads_back_every_pcap_usec_packet(void **state)
{
    (void)state;
    round_trip(PKTCAP_FORMAT_PCAP, 1000);
}

static void libpcap_reads_back_every_pcap_nsec_packet_to_the_nanosecond(void **state)
{
    (void)state;
    round_trip(PKTCAP_FORMAT_PCAP_NSEC, 1);
}

static void snaplen_cuts_packets_and_keeps_their_length(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st, PKTCAP_FORMAT_PCAP_NSEC);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 100, NULL, NULL), 0);
    pktcap_packet pk[4] = {
        packet_of(0, 1, 0, 50, 400, 1), packet_of(0, 2, 0, 100, 400, 2),
        packet_of(0, 3, 0, 101, 400, 3), packet_of(0, 4, 0, 300, 400, 4),
    };
    for (int i = 0; i < 4; i++)
        assert_int_equal(pktcap_writer_write(w, &pk[i]), 0);
    assert_int_equal(pktcap_writer_close(w), 0);

    const void *data;
    size_t size;
    assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
    assert_int_equal(size, 24 + 4 * 16 + 50 + 100 + 100 + 100);
    struct read_file f;
    read_bytes_with_libpcap(&f, data, size);
    assert_int_equal(f.snaplen, 100);
    assert_packets(&f, pk, 4, 1, 100);
    assert_int_equal(f.packets[3].caplen, 100);
    assert_int_equal(f.packets[3].len, 400);
    free_read_file(&f);
    pktcap_storage_free(st);
}

static void snaplen_zero_is_262144_in_classic_pcap(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st, PKTCAP_FORMAT_PCAP);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    pktcap_packet p = packet_of(0, 5, 0, 300000, 300000, 9);
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_close(w), 0);

    const void *data;
    size_t size;
    assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
    assert_int_equal(size, 24 + 16 + 262144);
    struct read_file f;
    read_bytes_with_libpcap(&f, data, size);
    assert_int_equal(f.snaplen, 262144);
    assert_packets(&f, &p, 1, 1000, 262144);
    free_read_file(&f);
    pktcap_storage_free(st);
}

static void classic_pcap_refuses_a_second_link_type(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st, PKTCAP_FORMAT_PCAP);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, "eth0", NULL), 0);
    uint32_t index = 77;
    assert_int_equal(pktcap_writer_add_interface(&index, w, 113, 0, "any", NULL), PKTCAP_E_NOTSUP);
    assert_int_equal(index, 77);
    assert_int_equal(pktcap_error_code(pktcap_error_last()), PKTCAP_E_NOTSUP);
    assert_string_equal(last_message(),
                        "classic pcap holds one link type: interface 1 is LINUX_SLL (113) but the "
                        "file is EN10MB (1); write pcapng instead");
    /* The refusal changed nothing: interface 0 still takes packets. */
    pktcap_packet p = packet_of(0, 1, 0, 4, 4, 0);
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_close(w), 0);
    const void *data;
    size_t size;
    assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
    assert_int_equal(size, 24 + 16 + 4);
    pktcap_storage_free(st);
}

static void an_unnamed_link_type_is_given_by_number(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st, PKTCAP_FORMAT_PCAP);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 60000, 0, NULL, NULL), PKTCAP_E_NOTSUP);
    assert_string_equal(last_message(),
                        "classic pcap holds one link type: interface 1 is linktype 60000 but the "
                        "file is EN10MB (1); write pcapng instead");
    pktcap_writer_abort(w);
    pktcap_storage_free(st);
}

static void interfaces_of_one_link_type_share_the_file(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st, PKTCAP_FORMAT_PCAP_NSEC);
    uint32_t a = 9, b = 9;
    assert_int_equal(pktcap_writer_add_interface(&a, w, 1, 0, "eth0", NULL), 0);
    assert_int_equal(pktcap_writer_add_interface(&b, w, 1, 0, "eth1", NULL), 0);
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    pktcap_packet p[2] = { packet_of(0, 1, 5, 8, 8, 0), packet_of(1, 2, 6, 9, 9, 0) };
    assert_int_equal(pktcap_writer_write(w, &p[0]), 0);
    assert_int_equal(pktcap_writer_write(w, &p[1]), 0);
    assert_int_equal(pktcap_writer_close(w), 0);
    const void *data;
    size_t size;
    assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
    struct read_file f;
    read_bytes_with_libpcap(&f, data, size);
    assert_int_equal(f.linktype, 1);
    assert_packets(&f, p, 2, 1, 0);
    free_read_file(&f);
    pktcap_storage_free(st);
}

static void classic_pcap_takes_no_interface_after_its_header(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st, PKTCAP_FORMAT_PCAP);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    assert_int_equal(pktcap_writer_flush(w), 0);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), PKTCAP_E_STATE);
    assert_string_equal(last_message(),
                        "classic pcap: interfaces must be added before the file header is written "
                        "(first packet, flush or close)");
    assert_int_equal(pktcap_writer_close(w), 0);
    pktcap_storage_free(st);
}

/* The bytes of a file holding `count` copies of `good`. */
static void write_good(int format, const pktcap_packet *good, int count, void **out, size_t *size)
{
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st, format);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    for (int i = 0; i < count; i++)
        assert_int_equal(pktcap_writer_write(w, good), 0);
    assert_int_equal(pktcap_writer_close(w), 0);
    const void *data;
    assert_int_equal(pktcap_storage_memory(&data, size, st), 0);
    *out = malloc(*size);
    assert_non_null(*out);
    memcpy(*out, data, *size);
    pktcap_storage_free(st);
}

/* Each bad packet: its code and message, and a file that is exactly what it
 * would have been without the refused call. */
static void expect_refused(const pktcap_packet *p, int format, int code, const char *message)
{
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st, format);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    pktcap_packet good = packet_of(0, 1, 0, 10, 10, 0);
    assert_int_equal(pktcap_writer_write(w, &good), 0);
    assert_int_equal(pktcap_writer_write(w, p), code);
    assert_string_equal(last_message(), message);
    assert_int_equal(pktcap_error_code(pktcap_error_last()), code);
    assert_int_equal(pktcap_writer_write(w, &good), 0);
    assert_int_equal(pktcap_writer_close(w), 0);
    const void *data;
    size_t size;
    assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
    void *expected;
    size_t expected_size;
    write_good(format, &good, 2, &expected, &expected_size);
    assert_int_equal(size, expected_size);
    assert_memory_equal(data, expected, size);
    free(expected);
    pktcap_storage_free(st);
}

static void bad_packets_are_refused_naming_the_field_and_value(void **state)
{
    (void)state;
    pktcap_packet p;

    expect_refused(NULL, PKTCAP_FORMAT_PCAP, PKTCAP_E_INVAL, "pktcap_writer_write: packet is NULL");

    p = packet_of(0, 1, 0, 4, 4, 0);
    p.struct_size = 0;
    expect_refused(&p, PKTCAP_FORMAT_PCAP, PKTCAP_E_INVAL,
                   "packet struct_size 0 is smaller than pktcap_packet (56 bytes)");

    p = packet_of(1, 1, 0, 4, 4, 0);
    expect_refused(&p, PKTCAP_FORMAT_PCAP, PKTCAP_E_INVAL,
                   "packet interface 1 is not declared (the writer has 1)");

    p = packet_of(0, 1, 0, 61, 60, 0);
    expect_refused(&p, PKTCAP_FORMAT_PCAPNG, PKTCAP_E_INVAL, "packet caplen 61 is larger than len 60");

    p = packet_of(0, 1, 1000000000, 4, 4, 0);
    expect_refused(&p, PKTCAP_FORMAT_PCAP_NSEC, PKTCAP_E_INVAL,
                   "packet ts_nsec 1000000000 is not below 1000000000");

    p = packet_of(0, -1, 0, 4, 4, 0);
    expect_refused(&p, PKTCAP_FORMAT_PCAP, PKTCAP_E_INVAL,
                   "packet ts_sec -1 is negative: capture files hold times from 1970 on");

    p = packet_of(0, 4294967296LL, 0, 4, 4, 0);
    expect_refused(&p, PKTCAP_FORMAT_PCAP, PKTCAP_E_INVAL,
                   "packet ts_sec 4294967296 does not fit classic pcap's 32-bit seconds; write "
                   "pcapng instead");

    p = packet_of(0, 18446744074LL, 0, 4, 4, 0);
    expect_refused(&p, PKTCAP_FORMAT_PCAPNG, PKTCAP_E_INVAL,
                   "packet ts_sec 18446744074 does not fit pcapng's 64-bit nanoseconds");

    p = packet_of(0, 1, 0, 4, 4, 0);
    p.data = NULL;
    expect_refused(&p, PKTCAP_FORMAT_PCAP, PKTCAP_E_INVAL, "packet data is NULL with caplen 4");

    p = packet_of(0, 1, 0, 4, 4, 0);
    p.comment_len = 3;
    expect_refused(&p, PKTCAP_FORMAT_PCAPNG, PKTCAP_E_INVAL, "packet comment is NULL with comment_len 3");

    p = packet_of(0, 1, 0, 4, 4, 0);
    p.comment = (const char *)pattern_bytes('a', 65536);
    p.comment_len = 65536;
    expect_refused(&p, PKTCAP_FORMAT_PCAPNG, PKTCAP_E_INVAL,
                   "packet comment_len 65536 is more than a pcapng option holds (65535)");
}

static void the_largest_times_each_format_holds_are_written(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st, PKTCAP_FORMAT_PCAP_NSEC);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    pktcap_packet p = packet_of(0, 4294967295LL, 999999999, 0, 0, 0);
    p.data = NULL;
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_close(w), 0);
    struct golden g = { .len = 0 };
    golden_pcap_header(&g, 0xa1b23c4d, 262144, 1);
    golden_record(&g, 4294967295u, 999999999, &p, 0);
    assert_memory_holds(st, &g);
    pktcap_storage_free(st);
}

static void classic_pcap_leaves_out_comments_flags_and_statistics(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st, PKTCAP_FORMAT_PCAP);
    assert_int_equal(pktcap_writer_set_option(w, "shb_comment", "not in pcap"), 0);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    assert_int_equal(pktcap_writer_set_interface_stats(w, 0, 100, 5), 0);
    pktcap_packet p = packet_of(0, 7, 7000, 3, 3, 5);
    p.comment = "hello";
    p.comment_len = 5;
    p.flags = PKTCAP_DIRECTION_OUTBOUND;
    assert_int_equal(pktcap_writer_write(w, &p), 0);
    assert_int_equal(pktcap_writer_close(w), 0);
    struct golden g = { .len = 0 };
    golden_pcap_header(&g, 0xa1b2c3d4, 262144, 1);
    golden_record(&g, 7, 7, &p, 3);
    assert_memory_holds(st, &g);
    pktcap_storage_free(st);
}

static void packets_larger_than_the_buffer_go_around_it(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st, PKTCAP_FORMAT_PCAP_NSEC);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 3000000, NULL, NULL), 0);
    pktcap_packet pk[4] = {
        packet_of(0, 1, 0, 1000, 1000, 1),
        packet_of(0, 2, 0, 2500000, 2500000, 2),
        packet_of(0, 3, 0, 1048576 - 16, 1048576 - 16, 3), /* exactly one buffer with its header */
        packet_of(0, 4, 0, 17, 17, 4),
    };
    for (int i = 0; i < 4; i++)
        assert_int_equal(pktcap_writer_write(w, &pk[i]), 0);
    assert_int_equal(pktcap_writer_close(w), 0);

    const void *data;
    size_t size;
    assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
    size_t expect = 24;
    for (int i = 0; i < 4; i++)
        expect += 16 + pk[i].caplen;
    assert_int_equal(size, expect);
    const uint8_t *d = (const uint8_t *)data + 24;
    for (int i = 0; i < 4; i++) {
        uint32_t rec[4];
        memcpy(rec, d, 16);
        assert_int_equal(rec[0], (uint32_t)pk[i].ts_sec);
        assert_int_equal(rec[2], pk[i].caplen);
        assert_int_equal(rec[3], pk[i].len);
        assert_memory_equal(d + 16, pk[i].data, pk[i].caplen);
        d += 16 + pk[i].caplen;
    }
    pktcap_storage_free(st);
}

static void open_refuses_bad_arguments_and_a_busy_target(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = (pktcap_writer *)0x1;
    assert_int_equal(pktcap_writer_open(&w, st, PKTCAP_FORMAT_PCAP_MODIFIED), PKTCAP_E_INVAL);
    assert_string_equal(last_message(),
                        "writer format 4: the writer writes pcap (1), pcap-nsec (2) or pcapng (3)");
    assert_int_equal(pktcap_writer_open(&w, st, -3), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_writer_open(&w, NULL, PKTCAP_FORMAT_PCAP), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "pktcap_writer_open: storage is NULL");
    assert_int_equal(pktcap_writer_open(NULL, st, PKTCAP_FORMAT_PCAP), PKTCAP_E_INVAL);
    assert_ptr_equal(w, (pktcap_writer *)0x1);

    pktcap_writer *first = open_writer(st, PKTCAP_FORMAT_PCAP);
    assert_int_equal(pktcap_writer_open(&w, st, PKTCAP_FORMAT_PCAP), PKTCAP_E_STATE);
    assert_string_equal(last_message(), "storage 'mem:' is already in use by a writer");
    assert_ptr_equal(w, (pktcap_writer *)0x1);
    assert_int_equal(pktcap_writer_close(first), 0);
    /* Free again once the first writer is done. */
    assert_int_equal(pktcap_writer_close(open_writer(st, PKTCAP_FORMAT_PCAP)), 0);
    pktcap_storage_free(st);
}

static void calls_on_null_are_refused_or_ignored(void **state)
{
    (void)state;
    pktcap_packet p = packet_of(0, 1, 0, 1, 1, 0);
    assert_int_equal(pktcap_writer_write(NULL, &p), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "pktcap_writer_write: writer is NULL");
    assert_int_equal(pktcap_writer_flush(NULL), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_writer_set_option(NULL, "shb_os", "x"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_writer_add_interface(NULL, NULL, 1, 0, NULL, NULL), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_writer_set_interface_stats(NULL, 0, 0, 0), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_writer_close(NULL), 0);
    pktcap_writer_abort(NULL);
}

static void interfaces_are_checked(void **state)
{
    (void)state;
    pktcap_storage *st = open_mem();
    pktcap_writer *w = open_writer(st, PKTCAP_FORMAT_PCAPNG);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 65536, 0, NULL, NULL), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "linktype 65536 is not a link type (at most 65535)");
    pktcap_writer_abort(w);

    w = open_writer(st, PKTCAP_FORMAT_PCAPNG);
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), 0);
    assert_int_equal(pktcap_writer_set_interface_stats(w, 1, 0, 0), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "interface 1 is not declared (the writer has 1)");
    pktcap_writer_abort(w);

    w = open_writer(st, PKTCAP_FORMAT_PCAPNG);
    char *name = malloc(65537);
    assert_non_null(name);
    memset(name, 'n', 65536);
    name[65536] = '\0';
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, name, NULL), PKTCAP_E_INVAL);
    assert_string_equal(last_message(), "interface name is 65536 bytes; a pcapng option holds at most 65535");
    free(name);
    pktcap_writer_abort(w);

    w = open_writer(st, PKTCAP_FORMAT_PCAPNG);
    for (uint32_t i = 0; i < 65535; i++) {
        uint32_t index;
        assert_int_equal(pktcap_writer_add_interface(&index, w, 1, 0, NULL, NULL), 0);
        assert_int_equal(index, i);
    }
    assert_int_equal(pktcap_writer_add_interface(NULL, w, 1, 0, NULL, NULL), PKTCAP_E_LIMIT);
    assert_string_equal(last_message(), "a capture file holds at most 65535 interfaces");
    pktcap_writer_abort(w);
    pktcap_storage_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_small_pcap_file_has_exact_bytes),
        cmocka_unit_test(a_small_pcap_nsec_file_has_exact_bytes),
        cmocka_unit_test(a_file_without_interfaces_says_ethernet_and_262144),
        cmocka_unit_test(libpcap_reads_back_every_pcap_usec_packet),
        cmocka_unit_test(libpcap_reads_back_every_pcap_nsec_packet_to_the_nanosecond),
        cmocka_unit_test(snaplen_cuts_packets_and_keeps_their_length),
        cmocka_unit_test(snaplen_zero_is_262144_in_classic_pcap),
        cmocka_unit_test(classic_pcap_refuses_a_second_link_type),
        cmocka_unit_test(an_unnamed_link_type_is_given_by_number),
        cmocka_unit_test(interfaces_of_one_link_type_share_the_file),
        cmocka_unit_test(classic_pcap_takes_no_interface_after_its_header),
        cmocka_unit_test(bad_packets_are_refused_naming_the_field_and_value),
        cmocka_unit_test(the_largest_times_each_format_holds_are_written),
        cmocka_unit_test(classic_pcap_leaves_out_comments_flags_and_statistics),
        cmocka_unit_test(packets_larger_than_the_buffer_go_around_it),
        cmocka_unit_test(open_refuses_bad_arguments_and_a_busy_target),
        cmocka_unit_test(calls_on_null_are_refused_or_ignored),
        cmocka_unit_test(interfaces_are_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
