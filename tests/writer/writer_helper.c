/* writer-helper SCENARIO URI: writes a capture with libpktcap for
 * test_interop.py, which has capinfos, tshark and editcap judge it.
 *
 * Prints one line per packet written, "IFACE SEC.NSEC CAPLEN LEN FLAGS
 * COMMENT" (COMMENT "-" when none; CAPLEN as written, after snaplen), then
 * one "FILE PATH" line per completed file. Exits 1 with the error on stderr.
 *
 * Scenarios:
 *   imix       500 IMIX packets (64/576/1500 bytes, 7:4:1) on one Ethernet
 *              interface; every 10th has a comment, every 3rd a direction;
 *              interface counters 600 received / 7 dropped.
 *   two-links  packets alternating between an Ethernet and a Linux cooked
 *              interface (pcapng only).
 *   snaplen    the imix packets on an interface with snaplen 100. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pktcap/pktcap.h>

static uint8_t frame[1500];

static int fail(const char *what, int rc)
{
    fprintf(stderr, "writer-helper: %s: %s: %s\n", what, pktcap_error_name(rc),
            pktcap_error_message(pktcap_error_last()));
    return 1;
}

/* An Ethernet + IPv4 + UDP frame, so tshark has something real to dissect. */
static void build_frame(void)
{
    static const uint8_t head[] = {
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00,
        10, 0, 0, 1, 10, 0, 0, 2, 0x30, 0x39, 0x00, 0x35,
    };
    memcpy(frame, head, sizeof(head));
    for (size_t i = sizeof(head); i < sizeof(frame); i++)
        frame[i] = (uint8_t)i;
}

static uint32_t imix_size(int i)
{
    static const uint32_t sizes[12] = { 64, 576, 64, 64, 1500, 576, 64, 64, 576, 64, 576, 64 };
    return sizes[i % 12];
}

static int write_packets(pktcap_writer *w, const char *scenario, uint32_t snaplen)
{
    int two = strcmp(scenario, "two-links") == 0;
    for (int i = 0; i < 500; i++) {
        char comment[32];
        pktcap_packet p;
        memset(&p, 0, sizeof(p));
        p.struct_size = sizeof(p);
        p.interface = two ? (uint32_t)(i % 2) : 0;
        p.ts_sec = 1700000000 + i / 7;
        p.ts_nsec = (uint32_t)(i % 7) * 123456789u + (uint32_t)i;
        p.len = imix_size(i);
        p.caplen = p.len;
        p.data = frame;
        if (i % 10 == 0) {
            snprintf(comment, sizeof(comment), "packet %d", i);
            p.comment = comment;
            p.comment_len = (uint32_t)strlen(comment);
        }
        if (i % 3 == 0)
            p.flags = i % 2 ? PKTCAP_DIRECTION_OUTBOUND : PKTCAP_DIRECTION_INBOUND;
        int rc = pktcap_writer_write(w, &p);
        if (rc != 0)
            return fail("write", rc);
        uint32_t caplen = snaplen && p.caplen > snaplen ? snaplen : p.caplen;
        printf("%u %" PRId64 ".%09u %u %u %u %s\n", p.interface, p.ts_sec, p.ts_nsec, caplen, p.len,
               p.flags, p.comment ? comment : "-");
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: writer-helper imix|two-links|snaplen URI\n");
        return 2;
    }
    const char *scenario = argv[1];
    uint32_t snaplen = strcmp(scenario, "snaplen") == 0 ? 100 : 0;
    build_frame();

    pktcap_storage *st;
    pktcap_writer *w;
    int rc = pktcap_storage_open(&st, argv[2]);
    if (rc != 0)
        return fail("storage", rc);
    if ((rc = pktcap_writer_open(&w, st, PKTCAP_FORMAT_AUTO)) != 0)
        return fail("open", rc);
    if ((rc = pktcap_writer_set_option(w, "shb_comment", "written by writer-helper")) != 0)
        return fail("shb_comment", rc);
    if ((rc = pktcap_writer_add_interface(NULL, w, 1, snaplen, "eth0", "first port")) != 0)
        return fail("interface", rc);
    if (strcmp(scenario, "two-links") == 0 &&
        (rc = pktcap_writer_add_interface(NULL, w, 113, 0, "any", "cooked")) != 0)
        return fail("second interface", rc);
    if ((rc = pktcap_writer_set_interface_stats(w, 0, 600, 7)) != 0)
        return fail("stats", rc);
    if (write_packets(w, scenario, snaplen) != 0) {
        pktcap_writer_abort(w);
        return 1;
    }
    if ((rc = pktcap_writer_close(w)) != 0)
        return fail("close", rc);
    for (size_t i = 0; i < pktcap_storage_file_count(st); i++)
        printf("FILE %s\n", pktcap_storage_file_path(st, i));
    pktcap_storage_free(st);
    return 0;
}
