/* The capture-file reader against hand-built files: every format, magic and
 * byte order, timestamp resolutions, sections and interfaces, every
 * malformation with its code and byte offset, every truncation point, and the
 * three inputs (memory, descriptor or pipe, standard input). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pktcap/pktcap.h>

#include "builder.h"
#include "core/alloc.h"
#include "file/reader.h"
#include "harness.h"

/* ------------------------------------------------------------------------ */
/* Classic pcap                                                              */
/* ------------------------------------------------------------------------ */

static void pcap_all_four_magics_give_every_field(void **state)
{
    static const struct {
        uint32_t magic;
        int big_endian;
        int format;
        uint32_t ns_per_unit;
        uint64_t tsresol;
    } cases[] = {
        { 0xa1b2c3d4u, 0, PKTCAP_FORMAT_PCAP, 1000, 1000000 },
        { 0xa1b2c3d4u, 1, PKTCAP_FORMAT_PCAP, 1000, 1000000 },
        { 0xa1b23c4du, 0, PKTCAP_FORMAT_PCAP_NSEC, 1, 1000000000 },
        { 0xa1b23c4du, 1, PKTCAP_FORMAT_PCAP_NSEC, 1, 1000000000 },
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        capture c;
        pktcap_reader *r;
        run *out;
        cap_init(&c, cases[i].big_endian);
        cap_pcap_header(&c, cases[i].magic, 2, 4, 65535, 1);
        cap_pcap_record(&c, 1700000000u, 5, 0, 0, NULL, 0);
        cap_pcap_record(&c, 1700000001u, 999999, 60, 60, bytes_of(1, 60), 0);
        cap_pcap_record(&c, 4000000000u, 123, 1514, 1600, bytes_of(2, 1514), 0);
        out = run_all_inputs(&c);
        assert_int_equal(out->rc, PKTCAP_E_END);
        assert_int_equal(out->n, 3);
        expect_packet(&out->p[0], 1700000000, 5 * cases[i].ns_per_unit, 0, 0, 0, 1);
        expect_packet(&out->p[1], 1700000001, 999999 * cases[i].ns_per_unit, 60, 60, 0, 1);
        expect_packet(&out->p[2], 4000000000, 123 * cases[i].ns_per_unit, 1514, 1600, 0, 1);
        assert_int_equal(out->p[1].sum, pattern_sum(1, 60));
        assert_int_equal(out->p[2].sum, pattern_sum(2, 1514));
        assert_int_equal(out->p[0].offset, 40);
        assert_int_equal(out->p[1].offset, 40 + 76);
        assert_int_equal(out->p[2].offset, c.len);
        assert_int_equal(out->p[2].flags, 0);
        assert_false(out->p[2].has_comment);
        free(out);

        assert_int_equal(pktcap_reader_open_memory(&r, c.data, c.len), 0);
        assert_int_equal(pktcap_reader_format(r), cases[i].format);
        assert_int_equal(pktcap_reader_interface_count(r), 1);
        assert_int_equal(pktcap_reader_interface_linktype(r, 0), 1);
        assert_int_equal(pktcap_reader_interface_snaplen(r, 0), 65535);
        assert_int_equal(pktcap_reader_interface_tsresol(r, 0), cases[i].tsresol);
        assert_null(pktcap_reader_interface_option(r, 0, "if_name"));
        assert_null(pktcap_reader_section_option(r, "shb_userappl"));
        assert_int_equal(pktcap_reader_offset(r), 24);
        assert_int_equal(pktcap__reader_section_count(r), 0);
        pktcap_reader_close(r);
        cap_free(&c);
    }
}

static void pcap_modified_format_has_24_byte_record_headers(void **state)
{
    capture c;
    pktcap_reader *r;
    run *out;
    int be;
    (void)state;
    for (be = 0; be <= 1; be++) {
        cap_init(&c, be);
        cap_pcap_header(&c, 0xa1b2cd34u, 2, 4, 100, 101);
        cap_pcap_record(&c, 10, 20, 40, 44, bytes_of(3, 40), 1);
        cap_pcap_record(&c, 11, 999999, 100, 1500, bytes_of(4, 100), 1);
        out = run_all_inputs(&c);
        assert_int_equal(out->rc, PKTCAP_E_END);
        assert_int_equal(out->n, 2);
        expect_packet(&out->p[0], 10, 20000, 40, 44, 0, 101);
        expect_packet(&out->p[1], 11, 999999000, 100, 1500, 0, 101);
        assert_int_equal(out->p[0].sum, pattern_sum(3, 40));
        assert_int_equal(out->p[1].sum, pattern_sum(4, 100));
        assert_int_equal(out->p[0].offset, 24 + 24 + 40);
        free(out);
        assert_int_equal(pktcap_reader_open_memory(&r, c.data, c.len), 0);
        assert_int_equal(pktcap_reader_format(r), PKTCAP_FORMAT_PCAP_MODIFIED);
        assert_int_equal(pktcap_reader_interface_tsresol(r, 0), 1000000);
        pktcap_reader_close(r);
        cap_free(&c);
    }
}

/* libpcap assumes Ethernet captures of that format may carry a 14-byte fake
 * header above the snaplen, and cuts there. */
static void pcap_modified_ethernet_keeps_14_bytes_above_snaplen(void **state)
{
    capture c;
    run *out;
    (void)state;
    cap_init(&c, 0);
    cap_pcap_header(&c, 0xa1b2cd34u, 2, 4, 50, 1);
    cap_pcap_record(&c, 1, 0, 64, 64, bytes_of(5, 64), 1);
    cap_pcap_record(&c, 2, 0, 60, 60, bytes_of(6, 60), 1);
    out = run_all_inputs(&c);
    assert_int_equal(out->n, 2);
    expect_packet(&out->p[0], 1, 0, 64, 64, 0, 1);
    expect_packet(&out->p[1], 2, 0, 60, 60, 0, 1);
    free(out);
    cap_free(&c);

    cap_init(&c, 0);
    cap_pcap_header(&c, 0xa1b2cd34u, 2, 4, 40, 1);
    cap_pcap_record(&c, 1, 0, 60, 60, bytes_of(5, 60), 1);
    out = run_all_inputs(&c);
    assert_int_equal(out->n, 1);
    expect_packet(&out->p[0], 1, 0, 54, 60, 0, 1);
    free(out);
    cap_free(&c);
}

/* As libpcap: a record longer than the header's snaplen is cut to it, and the
 * next record is found after the whole stored record. */
static void pcap_caplen_above_snaplen_is_cut_to_snaplen(void **state)
{
    capture c;
    run *out;
    (void)state;
    cap_init(&c, 0);
    cap_pcap_header(&c, 0xa1b2c3d4u, 2, 4, 13, 195);
    cap_pcap_record(&c, 1, 0, 38, 2086, bytes_of(7, 38), 0);
    cap_pcap_record(&c, 2, 0, 13, 20, bytes_of(8, 13), 0);
    out = run_all_inputs(&c);
    assert_int_equal(out->rc, PKTCAP_E_END);
    assert_int_equal(out->n, 2);
    expect_packet(&out->p[0], 1, 0, 13, 2086, 0, 195);
    assert_int_equal(out->p[0].sum, pattern_sum(7, 13));
    assert_int_equal(out->p[0].offset, 24 + 16 + 38);
    expect_packet(&out->p[1], 2, 0, 13, 20, 0, 195);
    assert_int_equal(out->p[1].sum, pattern_sum(8, 13));
    free(out);
    cap_free(&c);
}

static void pcap_snaplen_zero_or_huge_cuts_nothing(void **state)
{
    static const uint32_t snaplens[] = { 0, 0x80000000u, 0xffffffffu };
    size_t i;
    (void)state;
    for (i = 0; i < 3; i++) {
        capture c;
        run *out;
        cap_init(&c, 1);
        cap_pcap_header(&c, 0xa1b2c3d4u, 2, 4, snaplens[i], 1);
        cap_pcap_record(&c, 1, 0, 9000, 9000, bytes_of(9, 9000), 0);
        out = run_all_inputs(&c);
        assert_int_equal(out->n, 1);
        expect_packet(&out->p[0], 1, 0, 9000, 9000, 0, 1);
        free(out);
        cap_free(&c);
    }
}

/* Damaged files hold fractions of a second or more; the whole seconds are
 * carried over, both fields read unsigned (as the pcap draft says). */
static void pcap_timestamp_fields_are_unsigned_and_fractions_carry(void **state)
{
    capture c;
    run *out;
    (void)state;
    cap_init(&c, 0);
    cap_pcap_header(&c, 0xa1b2c3d4u, 2, 4, 65535, 113);
    cap_pcap_record(&c, 1418145370u, 1000000, 1, 1, bytes_of(1, 1), 0);
    cap_pcap_record(&c, 1418145370u, 2147483648u, 1, 1, bytes_of(1, 1), 0);
    cap_pcap_record(&c, 4291747200u, 0, 1, 1, bytes_of(1, 1), 0);
    cap_pcap_record(&c, 0xffffffffu, 0xffffffffu, 1, 1, bytes_of(1, 1), 0);
    out = run_all_inputs(&c);
    assert_int_equal(out->n, 4);
    expect_packet(&out->p[0], 1418145371, 0, 1, 1, 0, 113);
    expect_packet(&out->p[1], 1418147517, 483648000, 1, 1, 0, 113);
    expect_packet(&out->p[2], 4291747200, 0, 1, 1, 0, 113);
    expect_packet(&out->p[3], 4294967295LL + 4294, 967295000, 1, 1, 0, 113);
    free(out);
    cap_free(&c);

    cap_init(&c, 1);
    cap_pcap_header(&c, 0xa1b23c4du, 2, 4, 65535, 1);
    cap_pcap_record(&c, 5, 1999999999u, 0, 0, NULL, 0);
    out = run_all_inputs(&c);
    expect_packet(&out->p[0], 6, 999999999, 0, 0, 0, 1);
    free(out);
    cap_free(&c);
}

/* Versions before 2.3 (and DG/UX's 543.0) stored len before caplen; 2.3
 * files did either, told apart by caplen > len. As libpcap. */
static void pcap_old_versions_swap_caplen_and_len(void **state)
{
    static const struct {
        uint16_t major, minor;
        uint32_t first, second; /* as written */
        uint32_t caplen, len;   /* as read */
    } cases[] = {
        { 2, 2, 100, 40, 40, 100 }, { 2, 0, 100, 40, 40, 100 }, { 543, 0, 100, 40, 40, 100 },
        { 2, 3, 100, 40, 40, 100 }, { 2, 3, 40, 100, 40, 100 }, { 2, 4, 40, 100, 40, 100 },
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        capture c;
        run *out;
        cap_init(&c, 0);
        cap_pcap_header(&c, 0xa1b2c3d4u, cases[i].major, cases[i].minor, 65535, 1);
        /* The record is written with the stored order, data of the real caplen. */
        cap_u32(&c, 7);
        cap_u32(&c, 8);
        cap_u32(&c, cases[i].first);
        cap_u32(&c, cases[i].second);
        cap_bytes(&c, bytes_of(10, 40), 40);
        cap_pcap_record(&c, 9, 0, 2, 2, bytes_of(11, 2), 0);
        out = run_all_inputs(&c);
        assert_int_equal(out->rc, PKTCAP_E_END);
        assert_int_equal(out->n, 2);
        expect_packet(&out->p[0], 7, 8000, cases[i].caplen, cases[i].len, 0, 1);
        assert_int_equal(out->p[0].sum, pattern_sum(10, 40));
        expect_packet(&out->p[1], 9, 0, 2, 2, 0, 1);
        free(out);
        cap_free(&c);
    }
}

static void pcap_linktype_keeps_the_low_26_bits(void **state)
{
    capture c;
    run *out;
    (void)state;
    cap_init(&c, 0);
    cap_pcap_header(&c, 0xa1b2c3d4u, 2, 4, 65535, 0x04000001u); /* an FCS flag above */
    cap_pcap_record(&c, 1, 0, 4, 4, bytes_of(1, 4), 0);
    out = run_all_inputs(&c);
    expect_packet(&out->p[0], 1, 0, 4, 4, 0, 1);
    free(out);
    cap_free(&c);
}

static void pcap_caplen_over_the_limit_is_a_format_error(void **state)
{
    capture c;
    (void)state;
    cap_init(&c, 0);
    cap_pcap_header(&c, 0xa1b2c3d4u, 2, 4, 65535, 1);
    cap_pcap_record(&c, 1, 0, 4, 4, bytes_of(1, 4), 0);
    cap_u32(&c, 2);
    cap_u32(&c, 0);
    cap_u32(&c, 1048577);
    cap_u32(&c, 1048577);
    expect_failure(&c, 1, PKTCAP_E_FORMAT,
                   "record at byte offset 44: caplen 1048577 exceeds the limit of 1048576 bytes "
                   "for link type 1");
    cap_free(&c);
}

/* libpcap's larger limit for D-Bus messages (128 MiB) holds here too. */
static void pcap_dbus_records_may_exceed_a_mebibyte(void **state)
{
    const uint32_t big = 3u * 1024 * 1024 + 5;
    uint8_t *data = malloc(big);
    capture c;
    run *out;
    (void)state;
    assert_non_null(data);
    cap_pattern(data, big, 12);
    cap_init(&c, 0);
    cap_pcap_header(&c, 0xa1b2c3d4u, 2, 4, 0, 231);
    cap_pcap_record(&c, 1, 0, 10, 10, bytes_of(1, 10), 0);
    cap_pcap_record(&c, 2, 0, big, big, data, 0);
    cap_pcap_record(&c, 3, 0, 10, 10, bytes_of(1, 10), 0);
    out = run_all_inputs(&c); /* the buffered inputs must grow past 1 MiB */
    assert_int_equal(out->rc, PKTCAP_E_END);
    assert_int_equal(out->n, 3);
    expect_packet(&out->p[1], 2, 0, big, big, 0, 231);
    assert_int_equal(out->p[1].sum, fnv(data, big));
    expect_packet(&out->p[2], 3, 0, 10, 10, 0, 231);
    free(out);
    cap_free(&c);
    free(data);
}

static void pcap_header_problems_fail_open(void **state)
{
    capture c;
    run *out = new_run();
    (void)state;
    cap_init(&c, 0);
    cap_pcap_header(&c, 0xa1b2c3d4u, 3, 0, 65535, 1);
    run_memory(c.data, c.len, out);
    assert_int_equal(out->open_rc, PKTCAP_E_FORMAT);
    assert_string_equal(out->msg,
                        "<memory>: pcap file header at byte offset 0: unsupported version 3.0");
    cap_free(&c);

    cap_init(&c, 1);
    cap_pcap_header(&c, 0xa1b2c3d4u, 1, 0, 65535, 1);
    run_memory(c.data, c.len, out);
    assert_int_equal(out->open_rc, PKTCAP_E_FORMAT);
    run_memory(c.data, 20, out);
    assert_int_equal(out->open_rc, PKTCAP_E_TRUNCATED);
    assert_string_equal(out->msg, "<memory>: pcap file header at byte offset 0: cut short (20 of 24 bytes)");
    cap_free(&c);
    free(out);
}

static void pcap_truncated_records_report_their_offset(void **state)
{
    capture c;
    run *out = new_run();
    (void)state;
    cap_init(&c, 0);
    cap_pcap_header(&c, 0xa1b2c3d4u, 2, 4, 65535, 1);
    cap_pcap_record(&c, 1, 0, 100, 100, bytes_of(1, 100), 0);
    cap_pcap_record(&c, 2, 0, 100, 100, bytes_of(1, 100), 0);
    run_memory(c.data, c.len - 1, out);
    assert_int_equal(out->n, 1);
    assert_int_equal(out->rc, PKTCAP_E_TRUNCATED);
    assert_string_equal(out->msg,
                        "<memory>: record at byte offset 140: packet data cut short (99 of 100 bytes)");
    memset(out, 0, sizeof(*out));
    run_memory(c.data, 140 + 10, out);
    assert_int_equal(out->n, 1);
    assert_int_equal(out->rc, PKTCAP_E_TRUNCATED);
    assert_string_equal(out->msg,
                        "<memory>: record at byte offset 140: header cut short (10 of 16 bytes)");
    cap_free(&c);
    free(out);
}

/* ------------------------------------------------------------------------ */
/* Recognising the input                                                     */
/* ------------------------------------------------------------------------ */

static void empty_and_unknown_inputs_fail_open(void **state)
{
    static const struct {
        const char *bytes;
        size_t len;
        int code;
        const char *msg;
    } cases[] = {
        { "", 0, PKTCAP_E_TRUNCATED, "<memory>: input of 0 bytes is shorter than a capture-file header" },
        { "\xd4\xc3\xb2", 3, PKTCAP_E_TRUNCATED, "<memory>: input of 3 bytes is shorter than a capture-file header" },
        { "\x0a\x0d", 2, PKTCAP_E_TRUNCATED, "<memory>: input of 2 bytes is shorter than a capture-file header" },
        { "GIF", 3, PKTCAP_E_FORMAT, "<memory>: not a pcap or pcapng file" },
        { "GIF89a", 6, PKTCAP_E_FORMAT, "<memory>: not a pcap or pcapng file (starts with 47 49 46 38)" },
        { "\x0a\x0d\x0d\x0a\x1c\x00\x00\x00", 8, PKTCAP_E_TRUNCATED,
          "<memory>: SHB at byte offset 0: cut short (8 of at least 28 bytes)" },
    };
    size_t i;
    run *out = new_run();
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        run_memory(cases[i].bytes, cases[i].len, out);
        assert_int_equal(out->open_rc, cases[i].code);
        assert_string_equal(out->msg, cases[i].msg);
    }
    free(out);
}

/* ------------------------------------------------------------------------ */
/* pcapng                                                                    */
/* ------------------------------------------------------------------------ */

static void pcapng_both_byte_orders_give_every_field_and_option(void **state)
{
    int be;
    (void)state;
    for (be = 0; be <= 1; be++) {
        capture c;
        pktcap_reader *r;
        const pktcap_packet *p;
        run *out;
        size_t at, epb_at;
        cap_init(&c, be);
        cap_shb(&c, be, "pktcap tests", "Linux 6.1", "x86_64", "a section comment");
        at = cap_block_begin(&c, 1);
        cap_u16(&c, 1);
        cap_u16(&c, 0);
        cap_u32(&c, 262144);
        cap_option_str(&c, 2, "eth0");
        cap_option_str(&c, 3, "the uplink");
        cap_option(&c, 11, "\0tcp port 80", 12);
        cap_option_str(&c, 12, "Debian 12");
        cap_option_str(&c, 15, "virtio");
        cap_option(&c, 9, "\x09", 1);
        cap_option_end(&c);
        cap_block_end(&c, at, 0);
        epb_at = c.len;
        cap_epb(&c, 0, 1700000000123456789ull, 60, 64, bytes_of(20, 60), NULL, NULL);
        cap_epb(&c, 0, 1700000001000000000ull, 1, 1, bytes_of(21, 1), NULL, NULL);
        out = run_all_inputs(&c);
        assert_int_equal(out->rc, PKTCAP_E_END);
        assert_int_equal(out->n, 2);
        expect_packet(&out->p[0], 1700000000, 123456789, 60, 64, 0, 1);
        assert_int_equal(out->p[0].sum, pattern_sum(20, 60));
        expect_packet(&out->p[1], 1700000001, 0, 1, 1, 0, 1);
        assert_int_equal(out->p[1].sum, pattern_sum(21, 1));
        assert_int_equal(out->p[1].offset, c.len);
        free(out);

        assert_int_equal(pktcap_reader_open_memory(&r, c.data, c.len), 0);
        assert_int_equal(pktcap_reader_format(r), PKTCAP_FORMAT_PCAPNG);
        assert_string_equal(pktcap_reader_section_option(r, "shb_userappl"), "pktcap tests");
        assert_string_equal(pktcap_reader_section_option(r, "shb_os"), "Linux 6.1");
        assert_string_equal(pktcap_reader_section_option(r, "shb_hardware"), "x86_64");
        assert_string_equal(pktcap_reader_section_option(r, "shb_comment"), "a section comment");
        assert_null(pktcap_reader_section_option(r, "shb_unknown"));
        assert_null(pktcap_reader_section_option(r, NULL));
        assert_int_equal(pktcap_reader_interface_count(r), 0); /* not read yet */
        assert_int_equal(pktcap_reader_next(&p, r), 0);
        /* Zero copy: the packet is in the caller's buffer, after the EPB's 28 bytes. */
        assert_ptr_equal(p->data, c.data + epb_at + 28);
        assert_int_equal(pktcap_reader_interface_count(r), 1);
        assert_int_equal(pktcap_reader_interface_linktype(r, 0), 1);
        assert_int_equal(pktcap_reader_interface_snaplen(r, 0), 262144);
        assert_int_equal(pktcap_reader_interface_tsresol(r, 0), 1000000000);
        assert_string_equal(pktcap_reader_interface_option(r, 0, "if_name"), "eth0");
        assert_string_equal(pktcap_reader_interface_option(r, 0, "if_description"), "the uplink");
        assert_string_equal(pktcap_reader_interface_option(r, 0, "if_filter"), "tcp port 80");
        assert_string_equal(pktcap_reader_interface_option(r, 0, "if_os"), "Debian 12");
        assert_string_equal(pktcap_reader_interface_option(r, 0, "if_hardware"), "virtio");
        assert_null(pktcap_reader_interface_option(r, 0, "if_speed"));
        assert_null(pktcap_reader_interface_option(r, 1, "if_name"));
        assert_int_equal(pktcap_reader_interface_linktype(r, 1), 0);
        assert_int_equal(pktcap_reader_interface_snaplen(r, 1), 0);
        assert_int_equal(pktcap_reader_interface_tsresol(r, 1), 0);
        assert_int_equal(pktcap__reader_section_count(r), 1);
        pktcap_reader_close(r);
        cap_free(&c);
    }
}

static void pcapng_timestamp_resolutions_convert_exactly(void **state)
{
    static const struct {
        int tsresol; /* -1: no option */
        uint64_t ts;
        int64_t sec;
        uint32_t nsec;
        uint64_t units;
    } cases[] = {
        { -1, 1700000000123456ull, 1700000000, 123456000, 1000000 },
        { 6, 1700000000999999ull, 1700000000, 999999000, 1000000 },
        { 9, 1700000000123456789ull, 1700000000, 123456789, 1000000000 },
        { 3, 1700000000123ull, 1700000000, 123000000, 1000 },
        { 0, 42, 42, 0, 1 },
        { 1, 425, 42, 500000000, 10 },
        { 8, 170000000012345678ull, 1700000000, 123456780, 100000000 },
        { 12, 12345678901234567ull, 12345, 678901234, 1000000000000ull },
        { 19, UINT64_MAX, 1, 844674407, 10000000000000000000ull },
        { 20, UINT64_MAX, 0, 184467440, 0 },
        { 127, UINT64_MAX, 0, 0, 0 },
        { 0x80 | 10, 5 * 1024 + 512, 5, 500000000, 1024 },
        { 0x80 | 10, 5 * 1024 + 1, 5, 976562, 1024 },
        { 0x80 | 20, (7ull << 20) + 1, 7, 953, 1048576 },
        { 0x80 | 20, (7ull << 20) + (1ull << 20) - 1, 7, 999999046, 1048576 },
        { 0x80 | 0, 9, 9, 0, 1 },
        { 0x80 | 32, (3ull << 32) + (1ull << 31), 3, 500000000, 1ull << 32 },
        { 0x80 | 40, (2ull << 40) + 1, 2, 0, 1ull << 40 },
        { 0x80 | 63, (1ull << 63) - 1, 0, 999999999, 1ull << 63 },
        { 0x80 | 64, 1ull << 63, 0, 500000000, 0 },
        { 0x80 | 100, UINT64_MAX, 0, 0, 0 },
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        capture c;
        pktcap_reader *r;
        const pktcap_packet *p;
        cap_init(&c, (int)(i & 1));
        cap_shb(&c, (int)(i & 1), NULL, NULL, NULL, NULL);
        cap_idb(&c, 1, 0, cases[i].tsresol, NULL, NULL);
        cap_epb(&c, 0, cases[i].ts, 0, 0, NULL, NULL, NULL);
        assert_int_equal(pktcap_reader_open_memory(&r, c.data, c.len), 0);
        assert_int_equal(pktcap_reader_next(&p, r), 0);
        if (p->ts_sec != cases[i].sec || p->ts_nsec != cases[i].nsec)
            fail_msg("case %zu (tsresol 0x%02x, ts %llu): got %lld.%09u, wanted %lld.%09u", i,
                     (unsigned)cases[i].tsresol, (unsigned long long)cases[i].ts,
                     (long long)p->ts_sec, p->ts_nsec, (long long)cases[i].sec, cases[i].nsec);
        assert_int_equal(pktcap_reader_interface_tsresol(r, 0), cases[i].units);
        pktcap_reader_close(r);
        cap_free(&c);
    }
}

static void pcapng_tsoffset_adds_seconds(void **state)
{
    static const struct {
        int64_t offset;
        uint64_t ts;
        int tsresol;
        int64_t sec;
        uint32_t nsec;
    } cases[] = {
        { 1000000000, 1500000, -1, 1000000001, 500000000 },
        { -100, 10250000, -1, -90, 250000000 },
        { -100, 50, 0, -50, 0 },
        { 3600, (5ull << 10) + 256, 0x80 | 10, 3605, 250000000 },
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        capture c;
        run *out;
        cap_init(&c, (int)(i & 1));
        cap_shb(&c, (int)(i & 1), NULL, NULL, NULL, NULL);
        cap_idb(&c, 1, 0, cases[i].tsresol, &cases[i].offset, NULL);
        cap_epb(&c, 0, cases[i].ts, 0, 0, NULL, NULL, NULL);
        out = run_all_inputs(&c);
        assert_int_equal(out->n, 1);
        expect_packet(&out->p[0], cases[i].sec, cases[i].nsec, 0, 0, 0, 1);
        free(out);
        cap_free(&c);
    }
}

/* Interfaces are numbered across the file: section 2's interface 0 is the
 * file's interface 2. Each section brings its own byte order and options. */
static void pcapng_sections_number_interfaces_across_the_file(void **state)
{
    capture c;
    pktcap_reader *r;
    const pktcap_packet *p;
    run *out;
    (void)state;
    cap_init(&c, 0);
    cap_shb(&c, 0, "first", NULL, NULL, NULL);
    cap_idb(&c, 1, 0, 6, NULL, "eth0");
    cap_idb(&c, 101, 0, 9, NULL, "tun0");
    cap_epb(&c, 1, 5000000000ull, 20, 20, bytes_of(30, 20), NULL, NULL);
    cap_epb(&c, 0, 6000000ull, 30, 30, bytes_of(31, 30), NULL, NULL);
    cap_shb(&c, 1, "second", NULL, NULL, NULL);
    cap_idb(&c, 113, 0, 3, NULL, "any");
    cap_epb(&c, 0, 7000ull, 40, 40, bytes_of(32, 40), NULL, NULL);
    cap_shb(&c, 0, NULL, NULL, NULL, NULL);
    cap_idb(&c, 0, 0, -1, NULL, "lo");
    cap_idb(&c, 1, 0, -1, NULL, "eth1");
    cap_epb(&c, 1, 8000000ull, 1, 1, bytes_of(33, 1), NULL, NULL);
    out = run_all_inputs(&c);
    assert_int_equal(out->rc, PKTCAP_E_END);
    assert_int_equal(out->n, 4);
    expect_packet(&out->p[0], 5, 0, 20, 20, 1, 101);
    expect_packet(&out->p[1], 6, 0, 30, 30, 0, 1);
    expect_packet(&out->p[2], 7, 0, 40, 40, 2, 113);
    expect_packet(&out->p[3], 8, 0, 1, 1, 4, 1);
    assert_int_equal(out->p[2].sum, pattern_sum(32, 40));
    free(out);

    assert_int_equal(pktcap_reader_open_memory(&r, c.data, c.len), 0);
    assert_string_equal(pktcap_reader_section_option(r, "shb_userappl"), "first");
    assert_int_equal(pktcap_reader_next(&p, r), 0);
    assert_int_equal(pktcap_reader_interface_count(r), 2);
    assert_int_equal(pktcap_reader_next(&p, r), 0);
    assert_int_equal(pktcap_reader_next(&p, r), 0);
    assert_string_equal(pktcap_reader_section_option(r, "shb_userappl"), "second");
    assert_int_equal(pktcap_reader_interface_count(r), 3);
    assert_int_equal(pktcap__reader_section_count(r), 2);
    assert_int_equal(pktcap_reader_next(&p, r), 0);
    assert_null(pktcap_reader_section_option(r, "shb_userappl"));
    assert_int_equal(pktcap_reader_interface_count(r), 5);
    assert_int_equal(pktcap__reader_section_count(r), 3);
    assert_string_equal(pktcap_reader_interface_option(r, 0, "if_name"), "eth0");
    assert_string_equal(pktcap_reader_interface_option(r, 1, "if_name"), "tun0");
    assert_string_equal(pktcap_reader_interface_option(r, 2, "if_name"), "any");
    assert_string_equal(pktcap_reader_interface_option(r, 3, "if_name"), "lo");
    assert_string_equal(pktcap_reader_interface_option(r, 4, "if_name"), "eth1");
    assert_int_equal(pktcap_reader_interface_linktype(r, 2), 113);
    assert_int_equal(pktcap_reader_interface_tsresol(r, 2), 1000);
    assert_int_equal(pktcap_reader_next(&p, r), PKTCAP_E_END);
    pktcap_reader_close(r);
    cap_free(&c);
}

/* An SPB's caplen is its length cut to the section's first interface's
 * snaplen and to the bytes the block holds; it has no timestamp. */
static void pcapng_spb_caplen_is_the_least_of_len_snaplen_and_block(void **state)
{
    capture c;
    run *out;
    (void)state;
    cap_init(&c, 1);
    cap_shb(&c, 1, NULL, NULL, NULL, NULL);
    cap_idb(&c, 1, 0, -1, NULL, NULL);
    cap_shb(&c, 0, NULL, NULL, NULL, NULL);
    cap_idb(&c, 1, 128, 9, NULL, NULL);
    cap_idb(&c, 105, 0, -1, NULL, NULL);
    cap_spb(&c, 314, bytes_of(40, 128), 128);  /* cut by snaplen 128 */
    cap_spb(&c, 100, bytes_of(41, 100), 100);  /* whole */
    cap_spb(&c, 3, bytes_of(42, 3), 3);        /* len 3, padded to 4 in the block */
    cap_spb(&c, 1000, bytes_of(43, 60), 60);   /* cut by the block: 60 bytes stored */
    out = run_all_inputs(&c);
    assert_int_equal(out->rc, PKTCAP_E_END);
    assert_int_equal(out->n, 4);
    expect_packet(&out->p[0], 0, 0, 128, 314, 1, 1);
    assert_int_equal(out->p[0].sum, pattern_sum(40, 128));
    expect_packet(&out->p[1], 0, 0, 100, 100, 1, 1);
    expect_packet(&out->p[2], 0, 0, 3, 3, 1, 1);
    assert_int_equal(out->p[2].sum, pattern_sum(42, 3));
    expect_packet(&out->p[3], 0, 0, 60, 1000, 1, 1);
    free(out);
    cap_free(&c);
}

static void pcapng_obsolete_packet_block_is_read(void **state)
{
    capture c;
    run *out;
    int be;
    (void)state;
    for (be = 0; be <= 1; be++) {
        cap_init(&c, be);
        cap_shb(&c, be, NULL, NULL, NULL, NULL);
        cap_idb(&c, 1, 0, -1, NULL, NULL);
        cap_idb(&c, 6, 0, 9, NULL, NULL);
        cap_pb(&c, 1, 1234567890123456789ull, 50, 70, bytes_of(50, 50));
        cap_pb(&c, 0, 2000001ull, 3, 3, bytes_of(51, 3));
        out = run_all_inputs(&c);
        assert_int_equal(out->rc, PKTCAP_E_END);
        assert_int_equal(out->n, 2);
        expect_packet(&out->p[0], 1234567890, 123456789, 50, 70, 1, 6);
        assert_int_equal(out->p[0].sum, pattern_sum(50, 50));
        expect_packet(&out->p[1], 2, 1000, 3, 3, 0, 1);
        free(out);
        cap_free(&c);
    }
}

static void pcapng_epb_comment_and_flags_are_given(void **state)
{
    capture c;
    pktcap_reader *r;
    const pktcap_packet *p;
    run *out;
    uint32_t inbound = 1, outbound_fcs = 2 | (4u << 5);
    size_t at;
    (void)state;
    cap_init(&c, 1);
    cap_shb(&c, 1, NULL, NULL, NULL, NULL);
    cap_idb(&c, 1, 0, -1, NULL, NULL);
    cap_epb(&c, 0, 1, 5, 5, bytes_of(60, 5), "first comment", &inbound);
    cap_epb(&c, 0, 2, 4, 4, bytes_of(61, 4), NULL, NULL);
    cap_epb(&c, 0, 3, 0, 0, NULL, NULL, &outbound_fcs);
    /* Two comments and unknown options: the first comment counts. */
    at = cap_block_begin(&c, 6);
    cap_u32(&c, 0);
    cap_u32(&c, 0);
    cap_u32(&c, 4);
    cap_u32(&c, 7);
    cap_u32(&c, 7);
    cap_bytes(&c, bytes_of(62, 7), 7);
    cap_pad4(&c);
    cap_option(&c, 0x8123, "xyz", 3);
    cap_option_str(&c, 1, "one");
    cap_option_str(&c, 1, "two");
    cap_option(&c, 2988, "\0\0\0\x01pen", 7); /* custom option */
    cap_option_end(&c);
    cap_block_end(&c, at, 1);
    out = run_all_inputs(&c);
    assert_int_equal(out->rc, PKTCAP_E_END);
    assert_int_equal(out->n, 4);
    assert_true(out->p[0].has_comment);
    assert_int_equal(out->p[0].comment_len, 13);
    assert_memory_equal(out->p[0].comment, "first comment", 13);
    assert_int_equal(out->p[0].flags, 1);
    assert_int_equal(out->p[0].sum, pattern_sum(60, 5));
    assert_false(out->p[1].has_comment);
    assert_int_equal(out->p[1].comment_len, 0);
    assert_int_equal(out->p[1].flags, 0);
    assert_false(out->p[2].has_comment);
    assert_int_equal(out->p[2].flags, 2 | (4u << 5));
    assert_int_equal(out->p[3].comment_len, 3);
    assert_memory_equal(out->p[3].comment, "one", 3);
    expect_packet(&out->p[3], 0, 4000, 7, 7, 0, 1);
    free(out);

    /* The comment points into the caller's buffer. */
    assert_int_equal(pktcap_reader_open_memory(&r, c.data, c.len), 0);
    assert_int_equal(pktcap_reader_next(&p, r), 0);
    assert_true((const uint8_t *)p->comment > c.data &&
                (const uint8_t *)p->comment < c.data + c.len);
    assert_int_equal(p->flags & 3, PKTCAP_DIRECTION_INBOUND);
    pktcap_reader_close(r);
    cap_free(&c);
}

static void pcapng_skips_blocks_it_does_not_need(void **state)
{
    static const uint32_t types[] = {
        4,           /* NRB */
        5,           /* ISB */
        0x0A,        /* DSB */
        0x0BAD,      /* custom block */
        0x40000BAD,  /* custom block, not to be copied */
        0x80000001u, /* local use */
        0x12345678u, /* unknown */
    };
    capture c;
    run *out;
    size_t i, at;
    (void)state;
    cap_init(&c, 0);
    cap_shb(&c, 0, NULL, NULL, NULL, NULL);
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        at = cap_block_begin(&c, types[i]);
        cap_bytes(&c, bytes_of((unsigned)i, 4 * i + 1), 4 * i + 1);
        cap_block_end(&c, at, 0);
    }
    cap_idb(&c, 1, 0, -1, NULL, NULL);
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        at = cap_block_begin(&c, types[i]);
        cap_block_end(&c, at, 0);
        cap_epb(&c, 0, i, 1, 1, bytes_of(70, 1), NULL, NULL);
    }
    out = run_all_inputs(&c);
    assert_int_equal(out->rc, PKTCAP_E_END);
    assert_int_equal(out->n, 7);
    expect_packet(&out->p[6], 0, 6000, 1, 1, 0, 1);
    free(out);
    cap_free(&c);
}

/* Our invariant, as libpcap's for classic pcap: caplen never exceeds a
 * non-zero snaplen. */
static void pcapng_caplen_above_snaplen_is_cut_to_snaplen(void **state)
{
    capture c;
    run *out;
    (void)state;
    cap_init(&c, 0);
    cap_shb(&c, 0, NULL, NULL, NULL, NULL);
    cap_idb(&c, 1, 64, -1, NULL, NULL);
    cap_epb(&c, 0, 1, 100, 100, bytes_of(80, 100), NULL, NULL);
    out = run_all_inputs(&c);
    expect_packet(&out->p[0], 0, 1000, 64, 100, 0, 1);
    assert_int_equal(out->p[0].sum, pattern_sum(80, 64));
    free(out);
    cap_free(&c);
}

static void pcapng_version_1_2_is_read_and_2_0_refused(void **state)
{
    capture c;
    run *out = new_run();
    (void)state;
    cap_init(&c, 0);
    cap_shb(&c, 0, NULL, NULL, NULL, NULL);
    cap_idb(&c, 1, 0, -1, NULL, NULL);
    cap_epb(&c, 0, 1, 0, 0, NULL, NULL, NULL);
    c.data[14] = 2; /* minor */
    run_memory(c.data, c.len, out);
    assert_int_equal(out->rc, PKTCAP_E_END);
    assert_int_equal(out->n, 1);
    c.data[14] = 1;
    run_memory(c.data, c.len, out);
    assert_int_equal(out->open_rc, PKTCAP_E_FORMAT);
    assert_string_equal(out->msg, "<memory>: SHB at byte offset 0: unsupported pcapng version 1.1");
    c.data[14] = 0;
    c.data[12] = 2; /* major */
    run_memory(c.data, c.len, out);
    assert_int_equal(out->open_rc, PKTCAP_E_FORMAT);
    assert_string_equal(out->msg, "<memory>: SHB at byte offset 0: unsupported pcapng version 2.0");
    cap_free(&c);
    free(out);
}

/* A valid SHB + IDB (interfaces: 2) + one packet, to put a bad block after. */
static void start_good(capture *c, int be)
{
    cap_init(c, be);
    cap_shb(c, be, NULL, NULL, NULL, NULL);
    cap_idb(c, 1, 0, -1, NULL, NULL);
    cap_idb(c, 1, 0, -1, NULL, NULL);
    cap_epb(c, 0, 1, 4, 4, bytes_of(90, 4), NULL, NULL);
}

static void expect_bad_block(capture *c, size_t at, int code, const char *what, const char *detail)
{
    char needle[512];
    snprintf(needle, sizeof(needle), "<memory>: %s at byte offset %zu: %s", what, at, detail);
    {
        run *out = new_run();
        run_memory(c->data, c->len, out);
        assert_int_equal(out->open_rc, 0);
        assert_int_equal(out->n, 1);
        if (out->rc != code)
            fail_msg("got %s (%s), wanted %s", pktcap_error_name(out->rc), out->msg,
                     pktcap_error_name(code));
        assert_string_equal(out->msg, needle);
        free(out);
    }
    /* The same from a file and a pipe (the name differs). */
    snprintf(needle, sizeof(needle), "%s at byte offset %zu: %s", what, at, detail);
    expect_failure(c, 1, code, needle);
}

static void pcapng_malformed_blocks_name_their_offset(void **state)
{
    int be;
    (void)state;
    for (be = 0; be <= 1; be++) {
        capture c;
        size_t at;

        start_good(&c, be); /* block length 0 */
        at = cap_block_begin(&c, 6);
        cap_u32(&c, 0);
        expect_bad_block(&c, at, PKTCAP_E_FORMAT, "EPB",
                         "block length 0 is below the minimum of 12 (type 0x00000006)");
        cap_free(&c);

        start_good(&c, be); /* too small */
        at = cap_block_begin(&c, 5);
        cap_patch32(&c, at + 4, 8);
        expect_bad_block(&c, at, PKTCAP_E_FORMAT, "block",
                         "block length 8 is below the minimum of 12 (type 0x00000005)");
        cap_free(&c);

        start_good(&c, be); /* odd length */
        at = cap_block_begin(&c, 6);
        cap_patch32(&c, at + 4, 13);
        cap_u64(&c, 0);
        expect_bad_block(&c, at, PKTCAP_E_FORMAT, "EPB",
                         "block length 13 is not a multiple of 4 (type 0x00000006)");
        cap_free(&c);

        start_good(&c, be); /* overflow: near 2^32 */
        at = cap_block_begin(&c, 6);
        cap_patch32(&c, at + 4, 0xFFFFFFFCu);
        cap_u64(&c, 0);
        expect_bad_block(&c, at, PKTCAP_E_FORMAT, "EPB",
                         "block length 4294967292 exceeds the reader's limit of 64 MiB (type 0x00000006)");
        cap_free(&c);

        start_good(&c, be); /* trailer differs */
        at = c.len;
        cap_epb(&c, 0, 2, 4, 4, bytes_of(90, 4), NULL, NULL);
        cap_patch32(&c, c.len - 4, 40);
        expect_bad_block(&c, at, PKTCAP_E_FORMAT, "EPB",
                         "trailing block length 40 does not match the leading 36");
        cap_free(&c);
    }
}

static void pcapng_malformed_packets_name_their_offset(void **state)
{
    int be;
    (void)state;
    for (be = 0; be <= 1; be++) {
        capture c;
        size_t at;

        start_good(&c, be); /* interface out of range */
        at = c.len;
        cap_epb(&c, 3, 2, 4, 4, bytes_of(90, 4), NULL, NULL);
        expect_bad_block(&c, at, PKTCAP_E_FORMAT, "EPB", "interface 3 out of range (2 interfaces)");
        cap_free(&c);

        start_good(&c, be); /* PB interface out of range */
        at = c.len;
        cap_pb(&c, 2, 2, 4, 4, bytes_of(90, 4));
        expect_bad_block(&c, at, PKTCAP_E_FORMAT, "PB", "interface 2 out of range (2 interfaces)");
        cap_free(&c);

        start_good(&c, be); /* caplen past the block */
        at = c.len;
        cap_epb(&c, 0, 2, 8, 8, bytes_of(90, 8), NULL, NULL);
        cap_patch32(&c, at + 20, 9);
        expect_bad_block(&c, at, PKTCAP_E_FORMAT, "EPB",
                         "caplen 9 runs past the end of the block (room for 8)");
        cap_free(&c);

        start_good(&c, be); /* too short for the fixed fields */
        at = cap_block_begin(&c, 6);
        cap_u32(&c, 0);
        cap_u32(&c, 0);
        cap_block_end(&c, at, 0);
        expect_bad_block(&c, at, PKTCAP_E_FORMAT, "EPB", "block length 20 is too short for its fields");
        cap_free(&c);

        start_good(&c, be); /* SPB too short */
        at = cap_block_begin(&c, 3);
        cap_block_end(&c, at, 0);
        expect_bad_block(&c, at, PKTCAP_E_FORMAT, "SPB", "block length 12 is too short for its fields");
        cap_free(&c);

        start_good(&c, be); /* IDB too short */
        at = cap_block_begin(&c, 1);
        cap_u32(&c, 1);
        cap_block_end(&c, at, 0);
        expect_bad_block(&c, at, PKTCAP_E_FORMAT, "IDB", "block length 16 is too short for its fields");
        cap_free(&c);

        start_good(&c, be); /* an option running past the block */
        at = cap_block_begin(&c, 6);
        cap_u32(&c, 0);
        cap_u32(&c, 0);
        cap_u32(&c, 0);
        cap_u32(&c, 0);
        cap_u32(&c, 0);
        cap_u16(&c, 1);
        cap_u16(&c, 200);
        cap_u32(&c, 0);
        cap_block_end(&c, at, 0);
        {
            char detail[200];
            snprintf(detail, sizeof(detail),
                     "option 1 at byte offset %zu: length 200 runs past the end of the block "
                     "(4 bytes left)", at + 28);
            expect_bad_block(&c, at, PKTCAP_E_FORMAT, "EPB", detail);
        }
        cap_free(&c);

        start_good(&c, be); /* IDB option running past the block */
        at = cap_block_begin(&c, 1);
        cap_u32(&c, 1);
        cap_u32(&c, 0);
        cap_u16(&c, 2);
        cap_u16(&c, 5);
        cap_u32(&c, 0);
        cap_block_end(&c, at, 0);
        {
            char detail[200];
            snprintf(detail, sizeof(detail),
                     "option 2 at byte offset %zu: length 5 runs past the end of the block "
                     "(4 bytes left)", at + 16);
            expect_bad_block(&c, at, PKTCAP_E_FORMAT, "IDB", detail);
        }
        cap_free(&c);

        start_good(&c, be); /* if_tsresol of 2 bytes */
        at = cap_block_begin(&c, 1);
        cap_u32(&c, 1);
        cap_u32(&c, 0);
        cap_option(&c, 9, "\x06\x06", 2);
        cap_block_end(&c, at, 0);
        expect_bad_block(&c, at, PKTCAP_E_FORMAT, "IDB", "if_tsresol is not 1 byte long");
        cap_free(&c);

        start_good(&c, be); /* two if_tsresol */
        at = cap_block_begin(&c, 1);
        cap_u32(&c, 1);
        cap_u32(&c, 0);
        cap_option(&c, 9, "\x06", 1);
        cap_option(&c, 9, "\x09", 1);
        cap_block_end(&c, at, 0);
        expect_bad_block(&c, at, PKTCAP_E_FORMAT, "IDB", "more than one if_tsresol");
        cap_free(&c);

        start_good(&c, be); /* if_tsoffset of 4 bytes */
        at = cap_block_begin(&c, 1);
        cap_u32(&c, 1);
        cap_u32(&c, 0);
        cap_option(&c, 14, "\x01\x02\x03\x04", 4);
        cap_block_end(&c, at, 0);
        expect_bad_block(&c, at, PKTCAP_E_FORMAT, "IDB", "if_tsoffset is not 8 bytes long");
        cap_free(&c);

        start_good(&c, be); /* a second SHB with a bad byte-order magic */
        at = c.len;
        cap_shb(&c, be, NULL, NULL, NULL, NULL);
        c.data[at + 8] = 0x11;
        expect_bad_block(&c, at, PKTCAP_E_FORMAT, "SHB",
                         be ? "bad byte-order magic 11 2b 3c 4d" : "bad byte-order magic 11 3c 2b 1a");
        cap_free(&c);
    }
}

static void pcapng_packets_before_an_idb_are_refused(void **state)
{
    capture c;
    run *out = new_run();
    size_t at;
    (void)state;
    cap_init(&c, 0);
    cap_shb(&c, 0, NULL, NULL, NULL, NULL);
    at = c.len;
    cap_epb(&c, 0, 1, 0, 0, NULL, NULL, NULL);
    run_memory(c.data, c.len, out);
    assert_int_equal(out->n, 0);
    assert_int_equal(out->rc, PKTCAP_E_FORMAT);
    assert_int_equal(at, 28);
    assert_string_equal(out->msg, "<memory>: EPB at byte offset 28: packet before any IDB in its section");
    cap_free(&c);

    /* An IDB of an earlier section does not count. */
    cap_init(&c, 0);
    cap_shb(&c, 0, NULL, NULL, NULL, NULL);
    cap_idb(&c, 1, 0, -1, NULL, NULL);
    cap_shb(&c, 1, NULL, NULL, NULL, NULL);
    at = c.len;
    cap_spb(&c, 4, bytes_of(1, 4), 4);
    run_memory(c.data, c.len, out);
    assert_int_equal(out->n, 0);
    assert_int_equal(out->rc, PKTCAP_E_FORMAT);
    {
        char want[128];
        snprintf(want, sizeof(want), "<memory>: SPB at byte offset %zu: packet before any IDB in its section", at);
        assert_string_equal(out->msg, want);
    }
    cap_free(&c);
    free(out);
}

static void pcapng_bad_first_shb_fails_open(void **state)
{
    capture c;
    run *out = new_run();
    (void)state;
    cap_init(&c, 0);
    cap_shb(&c, 0, NULL, NULL, NULL, NULL);
    c.data[8] = 0x4e;
    run_memory(c.data, c.len, out);
    assert_int_equal(out->open_rc, PKTCAP_E_FORMAT);
    assert_string_equal(out->msg, "<memory>: SHB at byte offset 0: bad byte-order magic 4e 3c 2b 1a");
    cap_free(&c);

    cap_init(&c, 1);
    cap_shb(&c, 1, NULL, NULL, NULL, NULL);
    cap_patch32(&c, 4, 24);
    run_memory(c.data, c.len, out);
    assert_int_equal(out->open_rc, PKTCAP_E_FORMAT);
    assert_string_equal(out->msg, "<memory>: SHB at byte offset 0: block length 24 is below the "
                                  "minimum of 28 (type 0x0a0d0d0a)");
    cap_free(&c);

    cap_init(&c, 0);
    cap_shb(&c, 0, "app", NULL, NULL, NULL);
    c.data[26] = 0x40; /* shb_userappl's length: 64 bytes, past the block */
    run_memory(c.data, c.len, out);
    assert_int_equal(out->open_rc, PKTCAP_E_FORMAT);
    assert_string_equal(out->msg, "<memory>: SHB at byte offset 0: option 4 at byte offset 24: "
                                  "length 64 runs past the end of the block (8 bytes left)");
    cap_free(&c);
    free(out);
}

static void pcapng_truncated_blocks_report_their_offset(void **state)
{
    capture c;
    run *out = new_run();
    size_t at;
    char want[160];
    (void)state;
    start_good(&c, 0);
    at = c.len;
    cap_epb(&c, 0, 2, 36, 36, bytes_of(1, 36), NULL, NULL);
    run_memory(c.data, at + 40, out);
    assert_int_equal(out->n, 1);
    assert_int_equal(out->rc, PKTCAP_E_TRUNCATED);
    snprintf(want, sizeof(want), "<memory>: EPB at byte offset %zu: cut short (40 of 68 bytes)", at);
    assert_string_equal(out->msg, want);
    memset(out, 0, sizeof(*out));
    run_memory(c.data, at + 5, out);
    assert_int_equal(out->rc, PKTCAP_E_TRUNCATED);
    snprintf(want, sizeof(want), "<memory>: block at byte offset %zu: header cut short (5 of 8 bytes)", at);
    assert_string_equal(out->msg, want);
    cap_free(&c);
    free(out);
}

/* Blocks beyond the limit are refused from their header alone: a pipe that
 * announces 64 MiB + 4 and sends 100 bytes costs no big buffer. */
static void pcapng_block_limit_is_64_mib(void **state)
{
    capture c;
    run *out = new_run();
    const uint32_t big = 64u * 1024 * 1024;
    size_t at;
    (void)state;
    start_good(&c, 0);
    at = cap_block_begin(&c, 6);
    cap_patch32(&c, at + 4, big + 4);
    cap_bytes(&c, bytes_of(1, 92), 92);
    run_pipe(c.data, c.len, 4096, out);
    assert_int_equal(out->n, 1);
    assert_int_equal(out->rc, PKTCAP_E_FORMAT);
    assert_contains(out->msg, "block length 67108868 exceeds the reader's limit of 64 MiB");
    cap_free(&c);
    free(out);
}

static void pcapng_blocks_larger_than_the_read_buffer_are_read(void **state)
{
    const uint32_t big = 2u * 1024 * 1024 + 3;
    uint8_t *data = malloc(big);
    capture c;
    run *out;
    (void)state;
    assert_non_null(data);
    cap_pattern(data, big, 99);
    cap_init(&c, 1);
    cap_shb(&c, 1, NULL, NULL, NULL, NULL);
    cap_idb(&c, 1, 0, -1, NULL, NULL);
    cap_epb(&c, 0, 1, 10, 10, bytes_of(1, 10), NULL, NULL);
    cap_epb(&c, 0, 2, big, big, data, "after a big packet", NULL);
    cap_epb(&c, 0, 3, 10, 10, bytes_of(1, 10), NULL, NULL);
    out = run_all_inputs(&c);
    assert_int_equal(out->rc, PKTCAP_E_END);
    assert_int_equal(out->n, 3);
    expect_packet(&out->p[1], 0, 2000, big, big, 0, 1);
    assert_int_equal(out->p[1].sum, fnv(data, big));
    assert_memory_equal(out->p[1].comment, "after a big packet", 18);
    free(out);
    cap_free(&c);
    free(data);
}

static void pcapng_interface_table_is_bounded(void **state)
{
    capture c;
    run *out = new_run();
    unsigned i;
    (void)state;
    cap_init(&c, 0);
    cap_shb(&c, 0, NULL, NULL, NULL, NULL);
    c.nbound = 0; /* the builder's bounds are not needed here */
    for (i = 0; i <= PKTCAP__INTERFACE_MAX; i++) {
        cap_u32(&c, 1);
        cap_u32(&c, 20);
        cap_u32(&c, 1);
        cap_u32(&c, 0);
        cap_u32(&c, 20);
    }
    run_memory(c.data, c.len, out);
    assert_int_equal(out->rc, PKTCAP_E_FORMAT);
    {
        char want[160];
        snprintf(want, sizeof(want), "<memory>: IDB at byte offset %zu: more than %u interfaces "
                 "(the reader's limit)", (size_t)28 + 20u * PKTCAP__INTERFACE_MAX,
                 PKTCAP__INTERFACE_MAX);
        assert_string_equal(out->msg, want);
    }
    cap_free(&c);
    free(out);
}

/* ------------------------------------------------------------------------ */
/* Every truncation point                                                     */
/* ------------------------------------------------------------------------ */

typedef void (*build_fn)(capture *c);

static void build_pcap_le(capture *c)
{
    cap_init(c, 0);
    cap_pcap_header(c, 0xa1b2c3d4u, 2, 4, 65535, 1);
    cap_pcap_record(c, 1, 2, 5, 5, bytes_of(1, 5), 0);
    cap_pcap_record(c, 3, 4, 0, 10, NULL, 0);
    cap_pcap_record(c, 5, 6, 17, 20, bytes_of(2, 17), 0);
}

static void build_pcap_nsec_be(capture *c)
{
    cap_init(c, 1);
    cap_pcap_header(c, 0xa1b23c4du, 2, 4, 8, 101);
    cap_pcap_record(c, 1, 2, 10, 10, bytes_of(1, 10), 0);
    cap_pcap_record(c, 3, 4, 3, 3, bytes_of(2, 3), 0);
}

static void build_pcap_usec_be(capture *c)
{
    cap_init(c, 1);
    cap_pcap_header(c, 0xa1b2c3d4u, 2, 4, 0, 1);
    cap_pcap_record(c, 1, 1500000, 4, 4, bytes_of(1, 4), 0); /* a fraction to carry */
    cap_pcap_record(c, 3, 4, 2, 9, bytes_of(2, 2), 0);
}

static void build_pcap_nsec_le(capture *c)
{
    cap_init(c, 0);
    cap_pcap_header(c, 0xa1b23c4du, 2, 4, 65535, 113);
    cap_pcap_record(c, 1, 999999999, 3, 3, bytes_of(1, 3), 0);
    cap_pcap_record(c, 2, 0, 0, 0, NULL, 0);
}

static void build_pcap_modified_le(capture *c)
{
    cap_init(c, 0);
    cap_pcap_header(c, 0xa1b2cd34u, 2, 4, 4, 1);
    cap_pcap_record(c, 1, 2, 20, 20, bytes_of(1, 20), 1); /* cut at 4 + 14 */
    cap_pcap_record(c, 3, 4, 1, 1, bytes_of(2, 1), 1);
}

static void build_pcap_modified(capture *c)
{
    cap_init(c, 1);
    cap_pcap_header(c, 0xa1b2cd34u, 2, 4, 65535, 1);
    cap_pcap_record(c, 1, 2, 6, 6, bytes_of(1, 6), 1);
    cap_pcap_record(c, 3, 4, 9, 9, bytes_of(2, 9), 1);
}

static void build_pcap_old_version(capture *c)
{
    cap_init(c, 0);
    cap_pcap_header(c, 0xa1b2c3d4u, 2, 2, 65535, 1);
    cap_pcap_record(c, 1, 2, 6, 6, bytes_of(1, 6), 0);
}

static void build_pcapng_everything(capture *c)
{
    int64_t offset = -5;
    uint32_t flags = 1;
    size_t at;
    cap_init(c, 0);
    cap_shb(c, 0, "app", "os", "hw", "comment");
    at = cap_block_begin(c, 4); /* NRB */
    cap_u32(c, 0);
    cap_block_end(c, at, 0);
    cap_idb(c, 1, 1500, 0x80 | 10, &offset, "eth0");
    cap_epb(c, 0, 5000, 7, 7, bytes_of(1, 7), "c1", &flags);
    cap_spb(c, 9, bytes_of(2, 9), 9);
    cap_shb(c, 1, NULL, "os2", NULL, NULL);
    cap_idb(c, 113, 0, 9, NULL, NULL);
    cap_pb(c, 0, 12345, 5, 6, bytes_of(3, 5));
    at = cap_block_begin(c, 5); /* ISB */
    cap_u64(c, 0);
    cap_block_end(c, at, 0);
    cap_epb(c, 0, 77, 0, 0, NULL, NULL, NULL);
    at = cap_block_begin(c, 0x0BAD); /* custom block */
    cap_bytes(c, "\0\0\0\1data", 8);
    cap_block_end(c, at, 0);
}

static void build_pcapng_minimal_be(capture *c)
{
    cap_init(c, 1);
    cap_shb(c, 1, NULL, NULL, NULL, NULL);
    cap_idb(c, 1, 0, -1, NULL, NULL);
    cap_epb(c, 0, 1, 1, 1, bytes_of(1, 1), NULL, NULL);
}

/* A prefix ending where a record or block ends reads the packets before it
 * and then END; any other prefix reads as many packets and then TRUNCATED
 * (and one shorter than the header fails at open). Never anything else. */
static void every_truncation_gives_an_error_or_fewer_packets(void **state)
{
    static const build_fn builders[] = {
        build_pcap_le, build_pcap_usec_be, build_pcap_nsec_le, build_pcap_nsec_be,
        build_pcap_modified, build_pcap_modified_le, build_pcap_old_version,
        build_pcapng_everything, build_pcapng_minimal_be,
    };
    size_t b;
    run *out = new_run();
    run *full = new_run();
    (void)state;
    for (b = 0; b < sizeof(builders) / sizeof(builders[0]); b++) {
        capture c;
        size_t cut;
        builders[b](&c);
        run_memory(c.data, c.len, full);
        assert_int_equal(full->rc, PKTCAP_E_END);
        assert_int_equal(full->n, c.packets);
        for (cut = 0; cut < c.len; cut++) {
            unsigned k, packets = 0;
            int at_bound = 0, header_done = cut >= c.bound[0];
            for (k = 0; k < c.nbound && c.bound[k] <= cut; k++) {
                packets = c.packets_at[k];
                at_bound = c.bound[k] == cut;
            }
            memset(out, 0, sizeof(*out));
            run_memory(c.data, cut, out);
            if (!header_done) {
                if (out->open_rc != PKTCAP_E_TRUNCATED)
                    fail_msg("builder %zu cut at %zu: open gave %s (%s)", b, cut,
                             pktcap_error_name(out->open_rc), out->msg);
                continue;
            }
            assert_int_equal(out->open_rc, 0);
            if (out->n != packets || out->rc != (at_bound ? PKTCAP_E_END : PKTCAP_E_TRUNCATED))
                fail_msg("builder %zu cut at %zu: %u packets then %s (%s); wanted %u then %s", b,
                         cut, out->n, pktcap_error_name(out->rc), out->msg, packets,
                         at_bound ? "END" : "TRUNCATED");
            for (k = 0; k < out->n; k++)
                assert_memory_equal(&out->p[k], &full->p[k], sizeof(seen));
            {
                run *sized = new_run();
                run_sized(c.data, cut, 1 + cut % 7, sized);
                assert_same_runs(out, sized);
                free(sized);
            }
        }
        /* And through a pipe, a byte at a time, for a few cuts. */
        for (cut = 1; cut < c.len; cut += 13) {
            run *piped = new_run();
            memset(out, 0, sizeof(*out));
            run_memory(c.data, cut, out);
            run_pipe(c.data, cut, 1, piped);
            assert_same_runs(out, piped);
            free(piped);
        }
        cap_free(&c);
    }
    free(out);
    free(full);
}

/* ------------------------------------------------------------------------ */
/* Inputs and the API around them                                            */
/* ------------------------------------------------------------------------ */

/* Several MiB through a pipe in odd-sized pieces: records straddle the end of
 * the read buffer again and again. */
static void a_long_pipe_read_straddles_the_buffer(void **state)
{
    capture c;
    run *out = new_run();
    unsigned i;
    (void)state;
    cap_init(&c, 0);
    cap_shb(&c, 0, NULL, NULL, NULL, NULL);
    cap_idb(&c, 1, 0, 9, NULL, NULL);
    for (i = 0; i < 3500; i++) {
        uint32_t n = 1 + (i * 7919u) % 1600u;
        cap_epb(&c, 0, (uint64_t)i * 1000000001ull, n, n + 1, bytes_of(i, n), NULL, NULL);
        if (c.nbound == CAP_MAX_BOUNDS)
            c.nbound = 0;
    }
    assert_true(c.len > 2u * 1024 * 1024);
    run_pipe(c.data, c.len, 65537, out);
    assert_int_equal(out->rc, PKTCAP_E_END);
    assert_int_equal(out->n, 3500);
    for (i = 0; i < 3500; i++) {
        uint32_t n = 1 + (i * 7919u) % 1600u;
        expect_packet(&out->p[i], i, i, n, n + 1, 0, 1); /* i * (10^9 + 1) ns */
        assert_int_equal(out->p[i].sum, pattern_sum(i, n));
    }
    free(out);
    cap_free(&c);
}

static void dash_reads_standard_input(void **state)
{
    capture c;
    int fds[2], status;
    pid_t pid;
    (void)state;
    build_pcapng_everything(&c);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        pktcap_reader *r;
        const pktcap_packet *p;
        int rc, n = 0, ok;
        close(fds[1]);
        if (dup2(fds[0], STDIN_FILENO) < 0)
            _exit(10);
        close(fds[0]);
        rc = pktcap_reader_open(&r, "-");
        if (rc < 0)
            _exit(11);
        while ((rc = pktcap_reader_next(&p, r)) == 0)
            n++;
        ok = rc == PKTCAP_E_END && n == 4 && pktcap_reader_interface_count(r) == 2 &&
             strcmp(pktcap_reader_section_option(r, "shb_os"), "os2") == 0;
        pktcap_reader_close(r);
        /* stdin was not ours to close. */
        ok = ok && fcntl(STDIN_FILENO, F_GETFD) != -1;
        _exit(ok ? 0 : 12);
    }
    close(fds[0]);
    assert_int_equal(write(fds[1], c.data, c.len), (ssize_t)c.len);
    close(fds[1]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    cap_free(&c);
}

static void open_errors_map_errno_and_name_the_path(void **state)
{
    pktcap_reader *r = (pktcap_reader *)(uintptr_t)1;
    const char *missing = temp_path("missing.pcap");
    const char *secret = temp_path("secret.pcap");
    char want[256];
    int status;
    pid_t pid;
    (void)state;
    assert_int_equal(pktcap_reader_open(&r, missing), PKTCAP_E_NOTFOUND);
    assert_ptr_equal(r, (pktcap_reader *)(uintptr_t)1); /* untouched */
    snprintf(want, sizeof(want), "cannot open %s: No such file or directory", missing);
    assert_string_equal(pktcap_error_message(pktcap_error_last()), want);

    /* A directory opens but cannot be read. */
    assert_int_equal(pktcap_reader_open(&r, tmpdir), PKTCAP_E_IO);
    assert_contains(pktcap_error_message(pktcap_error_last()), tmpdir);

    /* EACCES: root reads everything, so a child drops to nobody first. */
    write_file(secret, "\xd4\xc3\xb2\xa1", 4);
    assert_int_equal(chmod(secret, 0600), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        pktcap_reader *rr;
        int rc;
        if (geteuid() == 0) {
            if (setgid(65534) != 0 || setuid(65534) != 0)
                _exit(20);
        } else if (chmod(secret, 0) != 0) {
            _exit(21);
        }
        rc = pktcap_reader_open(&rr, secret);
        if (rc != PKTCAP_E_PERM)
            _exit(22);
        _exit(strstr(pktcap_error_message(pktcap_error_last()), secret) &&
                      strstr(pktcap_error_message(pktcap_error_last()), "Permission denied")
                  ? 0
                  : 23);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    unlink(secret);
}

static void open_fd_leaves_the_descriptor_open(void **state)
{
    capture c;
    pktcap_reader *r;
    const pktcap_packet *p;
    const char *path = temp_path("fd.pcap");
    char name[64];
    int fd;
    (void)state;
    build_pcap_le(&c);
    write_file(path, c.data, c.len);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pktcap_reader_open_fd(&r, fd), 0);
    assert_int_equal(pktcap_reader_next(&p, r), 0);
    assert_int_equal(pktcap_reader_next(&p, r), 0);
    assert_int_equal(pktcap_reader_next(&p, r), 0);
    assert_int_equal(pktcap_reader_next(&p, r), PKTCAP_E_END);
    assert_int_equal(pktcap_reader_offset(r), c.len);
    pktcap_reader_close(r);
    assert_int_not_equal(fcntl(fd, F_GETFD), -1);
    close(fd);

    /* Messages name the descriptor. */
    write_file(path, c.data, 30);
    fd = open(path, O_RDONLY);
    assert_int_equal(pktcap_reader_open_fd(&r, fd), 0);
    assert_int_equal(pktcap_reader_next(&p, r), PKTCAP_E_TRUNCATED);
    snprintf(name, sizeof(name), "<fd %d>: record at byte offset 24", fd);
    assert_contains(pktcap_error_message(pktcap_error_last()), name);
    pktcap_reader_close(r);
    close(fd);
    unlink(path);
    cap_free(&c);
}

static void null_arguments_are_refused(void **state)
{
    pktcap_reader *r;
    const pktcap_packet *p;
    capture c;
    (void)state;
    assert_int_equal(pktcap_reader_open(NULL, "x"), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_reader_open(&r, NULL), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_reader_open_fd(&r, -1), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_reader_open_fd(NULL, 0), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_reader_open_memory(&r, NULL, 5), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_reader_open_memory(NULL, "x", 1), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_reader_next(&p, NULL), PKTCAP_E_INVAL);
    build_pcap_le(&c);
    assert_int_equal(pktcap_reader_open_memory(&r, c.data, c.len), 0);
    assert_int_equal(pktcap_reader_next(NULL, r), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_reader_next(&p, r), 0); /* not counted as a failure */
    pktcap_reader_close(r);
    pktcap_reader_close(NULL);
    assert_int_equal(pktcap_reader_format(NULL), PKTCAP_FORMAT_AUTO);
    assert_int_equal(pktcap_reader_interface_count(NULL), 0);
    assert_int_equal(pktcap_reader_interface_linktype(NULL, 0), 0);
    assert_int_equal(pktcap_reader_interface_snaplen(NULL, 0), 0);
    assert_int_equal(pktcap_reader_interface_tsresol(NULL, 0), 0);
    assert_null(pktcap_reader_interface_option(NULL, 0, "if_name"));
    assert_null(pktcap_reader_section_option(NULL, "shb_os"));
    assert_int_equal(pktcap_reader_offset(NULL), 0);
    cap_free(&c);
}

/* Every allocation the reader makes can fail: it reports NOMEM, frees what it
 * had (the sanitizer build checks for leaks) and works again afterwards. */
static void allocation_failures_are_reported(void **state)
{
    capture c;
    unsigned long nth;
    const char *path = temp_path("nomem.pcapng");
    int mode;
    (void)state;
    build_pcapng_everything(&c);
    write_file(path, c.data, c.len);
    for (mode = 0; mode <= 1; mode++) {
        for (nth = 1;; nth++) {
            pktcap_reader *r = NULL;
            const pktcap_packet *p;
            int rc, n = 0;
            pktcap__alloc_fail_at(nth);
            rc = mode ? pktcap_reader_open(&r, path) : pktcap_reader_open_memory(&r, c.data, c.len);
            if (rc == 0) {
                while ((rc = pktcap_reader_next(&p, r)) == 0)
                    n++;
                pktcap_reader_close(r);
            } else {
                assert_null(r);
            }
            pktcap__alloc_fail_at(0);
            if (rc == PKTCAP_E_NOMEM)
                continue;
            assert_int_equal(rc, PKTCAP_E_END);
            assert_int_equal(n, 4);
            break;
        }
        assert_true(nth > 5); /* name, reader, texts, interfaces: all were tried */
    }
    unlink(path);
    cap_free(&c);
}

/* A failed IDB does not leave half an interface behind. */
static void a_failed_idb_adds_no_interface(void **state)
{
    capture c;
    pktcap_reader *r;
    const pktcap_packet *p;
    size_t at;
    (void)state;
    start_good(&c, 0);
    at = cap_block_begin(&c, 1);
    cap_u32(&c, 1);
    cap_u32(&c, 0);
    cap_option_str(&c, 2, "eth9");
    cap_option(&c, 9, "\x06\x06", 2);
    cap_block_end(&c, at, 0);
    assert_int_equal(pktcap_reader_open_memory(&r, c.data, c.len), 0);
    assert_int_equal(pktcap_reader_next(&p, r), 0);
    assert_int_equal(pktcap_reader_next(&p, r), PKTCAP_E_FORMAT);
    assert_int_equal(pktcap_reader_interface_count(r), 2);
    assert_int_equal(pktcap_reader_offset(r), at); /* where the bad block starts */
    pktcap_reader_close(r);
    cap_free(&c);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/pktcap-reader-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(tmpdir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pcap_all_four_magics_give_every_field),
        cmocka_unit_test(pcap_modified_format_has_24_byte_record_headers),
        cmocka_unit_test(pcap_modified_ethernet_keeps_14_bytes_above_snaplen),
        cmocka_unit_test(pcap_caplen_above_snaplen_is_cut_to_snaplen),
        cmocka_unit_test(pcap_snaplen_zero_or_huge_cuts_nothing),
        cmocka_unit_test(pcap_timestamp_fields_are_unsigned_and_fractions_carry),
        cmocka_unit_test(pcap_old_versions_swap_caplen_and_len),
        cmocka_unit_test(pcap_linktype_keeps_the_low_26_bits),
        cmocka_unit_test(pcap_caplen_over_the_limit_is_a_format_error),
        cmocka_unit_test(pcap_dbus_records_may_exceed_a_mebibyte),
        cmocka_unit_test(pcap_header_problems_fail_open),
        cmocka_unit_test(pcap_truncated_records_report_their_offset),
        cmocka_unit_test(empty_and_unknown_inputs_fail_open),
        cmocka_unit_test(pcapng_both_byte_orders_give_every_field_and_option),
        cmocka_unit_test(pcapng_timestamp_resolutions_convert_exactly),
        cmocka_unit_test(pcapng_tsoffset_adds_seconds),
        cmocka_unit_test(pcapng_sections_number_interfaces_across_the_file),
        cmocka_unit_test(pcapng_spb_caplen_is_the_least_of_len_snaplen_and_block),
        cmocka_unit_test(pcapng_obsolete_packet_block_is_read),
        cmocka_unit_test(pcapng_epb_comment_and_flags_are_given),
        cmocka_unit_test(pcapng_skips_blocks_it_does_not_need),
        cmocka_unit_test(pcapng_caplen_above_snaplen_is_cut_to_snaplen),
        cmocka_unit_test(pcapng_version_1_2_is_read_and_2_0_refused),
        cmocka_unit_test(pcapng_malformed_blocks_name_their_offset),
        cmocka_unit_test(pcapng_malformed_packets_name_their_offset),
        cmocka_unit_test(pcapng_packets_before_an_idb_are_refused),
        cmocka_unit_test(pcapng_bad_first_shb_fails_open),
        cmocka_unit_test(pcapng_truncated_blocks_report_their_offset),
        cmocka_unit_test(pcapng_block_limit_is_64_mib),
        cmocka_unit_test(pcapng_blocks_larger_than_the_read_buffer_are_read),
        cmocka_unit_test(pcapng_interface_table_is_bounded),
        cmocka_unit_test(every_truncation_gives_an_error_or_fewer_packets),
        cmocka_unit_test(a_long_pipe_read_straddles_the_buffer),
        cmocka_unit_test(dash_reads_standard_input),
        cmocka_unit_test(open_errors_map_errno_and_name_the_path),
        cmocka_unit_test(open_fd_leaves_the_descriptor_open),
        cmocka_unit_test(null_arguments_are_refused),
        cmocka_unit_test(allocation_failures_are_reported),
        cmocka_unit_test(a_failed_idb_adds_no_interface),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
