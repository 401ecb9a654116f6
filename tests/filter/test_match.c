/* pktcap_filter_match on hand-built packets, and pktcap_filter_to_bpf's exact
 * text. Every match case is also run through libpcap (pcap_offline_filter of
 * the compiled rendering), which must give the same answer: the table states
 * libpcap's semantics as much as ours. libpcap compiles as tcpdump -r does:
 * on BSD loopback for a capture file (pcap_fopen_offline on a bare file
 * header) in this machine's byte order, or in the other one for packets
 * written in that order; on the other link types on pcap_open_dead, which
 * compiles the same for them. Packets are passed in heap copies of exactly
 * caplen bytes, so the sanitizers catch a read past the capture. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pcap/pcap.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <pktcap/pktcap.h>

#include "core/alloc.h"
#include "packets.h"

#define LT_NULL 0
#define LT_ETHERNET 1
#define LT_RAW 101
#define LT_LOOP 108
#define LT_SLL 113
#define LT_IEEE802_11 105
#define LT_IPV4 228
#define LT_IPV6 229
#define LT_SLL2 276

/* IP4_A = 192.0.2.1, IP4_B = 198.51.100.2, IP6_A = 2001:db8::a, IP6_B = 2001:db8:ff::b */
static const uint8_t IP4_C[4] = { 192, 0, 2, 77 };

/* ---- helpers ---------------------------------------------------------------- */

static pktcap_filter *parse(const char *text)
{
    pktcap_filter *f = NULL;
    int rc = pktcap_filter_parse(&f, text);
    if (rc != 0)
        fail_msg("pktcap_filter_parse(\"%s\"): %s", text, pktcap_error_message(pktcap_error_last()));
    return f;
}

static int dlt_of(uint32_t linktype)
{
    return linktype == LT_RAW ? DLT_RAW : (int)linktype;
}

static int host_little_endian(void)
{
    uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

/* The pcap handle tcpdump -r compiles with, for a capture file of `linktype`
 * in this machine's byte order, or in the other one when `swapped`. */
typedef struct handle {
    pcap_t *h;
    uint8_t header[24];   /* a BSD loopback handle reads from it until closed */
} handle;

static void handle_open(handle *hd, uint32_t linktype, int swapped)
{
    static const uint32_t fields[7] = { 0xa1b2c3d4, 2, 4, 0, 0, 262144, 0 };
    static const int widths[7] = { 4, 2, 2, 4, 4, 4, 4 };
    int big = host_little_endian() == swapped;
    uint8_t *f = hd->header;
    char err[PCAP_ERRBUF_SIZE];
    FILE *fp;
    if (linktype != LT_NULL && linktype != LT_LOOP) {
        hd->h = pcap_open_dead(dlt_of(linktype), 262144);
        assert_non_null(hd->h);
        return;
    }
    for (int i = 0; i < 7; f += widths[i++]) {
        uint32_t v = i == 6 ? linktype : fields[i];
        for (int k = 0; k < widths[i]; k++)
            f[big ? widths[i] - 1 - k : k] = (uint8_t)(v >> (8 * k));
    }
    fp = fmemopen(hd->header, sizeof hd->header, "rb");
    assert_non_null(fp);
    hd->h = pcap_fopen_offline(fp, err);
    if (!hd->h)
        fail_msg("pcap_fopen_offline: %s", err);
    assert_int_equal(pcap_is_swapped(hd->h), swapped);
}

/* libpcap's answer for the BPF rendering of f on this packet, from a capture
 * file in the other byte order than this machine's when `swapped`. */
static int libpcap_answer(const pktcap_filter *f, const pktcap_packet *p, int swapped)
{
    struct bpf_program prog;
    struct pcap_pkthdr h = { .caplen = p->caplen, .len = p->len };
    char *bpf;
    handle hd;
    int rc;
    handle_open(&hd, p->linktype, swapped);
    assert_int_equal(pktcap_filter_to_bpf(&bpf, f, p->linktype), 0);
    if (pcap_compile(hd.h, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0)
        fail_msg("\"%s\" does not compile for %u: %s", bpf, p->linktype, pcap_geterr(hd.h));
    rc = pcap_offline_filter(&prog, &h, p->data) != 0;
    pcap_freecode(&prog);
    pcap_close(hd.h);
    pktcap_free(bpf);
    return rc;
}

/* Match `filter` against the first caplen bytes of b (all when caplen is
 * -1) on `linktype`, in a capture file in the other byte order than this
 * machine's when `swapped`: ours must be `want`, and so must libpcap's. */
static void expect_file_cut(const char *filter, uint32_t linktype, int swapped, const pkt *b,
                            long caplen, int want)
{
    pktcap_filter *f = parse(filter);
    pktcap_packet p = { .struct_size = sizeof p };
    uint8_t *copy;
    int got;
    p.linktype = linktype;
    p.caplen = (uint32_t)(caplen < 0 ? (long)b->len : caplen);
    p.len = (uint32_t)b->len;
    copy = malloc(p.caplen ? p.caplen : 1);
    assert_non_null(copy);
    memcpy(copy, b->data, p.caplen);
    p.data = copy;
    got = pktcap_filter_match(f, &p);
    if (got != want)
        fail_msg("\"%s\" on link type %u, caplen %u: ours %d, expected %d", filter, linktype,
                 p.caplen, got, want);
    got = libpcap_answer(f, &p, swapped);
    if (got != want)
        fail_msg("\"%s\" on link type %u, caplen %u: libpcap %d, expected %d", filter,
                 linktype, p.caplen, got, want);
    free(copy);
    pktcap_filter_free(f);
}

static void expect_cut(const char *filter, uint32_t linktype, const pkt *b, long caplen, int want)
{
    expect_file_cut(filter, linktype, 0, b, caplen, want);
}

static void expect(const char *filter, uint32_t linktype, const pkt *b, int want)
{
    expect_file_cut(filter, linktype, 0, b, -1, want);
}

/* A packet of a capture file in the other byte order than this machine's. */
static void expect_swapped(const char *filter, uint32_t linktype, const pkt *b, int want)
{
    expect_file_cut(filter, linktype, 1, b, -1, want);
}

/* An Ethernet frame, optionally behind VLAN tags (TPIDs given), around an
 * IPv4 TCP/UDP segment. */
static void ether4(pkt *b, const unsigned *tpids, int ntags, unsigned proto,
                   const uint8_t src[4], const uint8_t dst[4], unsigned sport, unsigned dport)
{
    pkt_init(b);
    pkt_ethernet(b, MAC_B, MAC_A, ntags ? tpids[0] : 0x0800);
    for (int i = 0; i < ntags; i++)
        pkt_vlan_tag(b, 100 + (unsigned)i, i + 1 < ntags ? tpids[i + 1] : 0x0800);
    pkt_ipv4(b, proto, src, dst);
    if (proto == 6)
        pkt_tcp(b, sport, dport, TCP_ACK);
    else
        pkt_udp(b, sport, dport);
    pkt_finish(b);
}

static void tcp4(pkt *b, const uint8_t src[4], const uint8_t dst[4], unsigned sport,
                 unsigned dport)
{
    ether4(b, NULL, 0, 6, src, dst, sport, dport);
}

static void tcp6(pkt *b, const uint8_t src[16], const uint8_t dst[16], unsigned sport,
                 unsigned dport)
{
    pkt_init(b);
    pkt_ethernet(b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(b, 6, src, dst);
    pkt_tcp(b, sport, dport, TCP_ACK);
    pkt_finish(b);
}

static pktcap_packet packet_of(const pkt *b, uint32_t linktype)
{
    pktcap_packet p = { .struct_size = sizeof p };
    p.linktype = linktype;
    p.caplen = p.len = (uint32_t)b->len;
    p.data = b->data;
    return p;
}

/* ---- matching --------------------------------------------------------------- */

static void ipv4_tcp_and_udp(void **state)
{
    pkt tcp, udp;
    (void)state;
    tcp4(&tcp, IP4_A, IP4_B, 40000, 443);
    ether4(&udp, NULL, 0, 17, IP4_A, IP4_B, 40000, 443);
    expect("proto=tcp local=192.0.2.1 remote_port=443", LT_ETHERNET, &tcp, 1);
    expect("proto=tcp local=192.0.2.1 remote_port=443", LT_ETHERNET, &udp, 0);
    expect("proto=udp local=192.0.2.1 remote_port=443", LT_ETHERNET, &udp, 1);
    expect("proto=any remote_port=443", LT_ETHERNET, &tcp, 1);
    expect("proto=any remote_port=443", LT_ETHERNET, &udp, 1);
    expect("proto=tcp local=192.0.2.1 remote_port=80", LT_ETHERNET, &tcp, 0);
    expect("proto=tcp local_port=40000-40010", LT_ETHERNET, &tcp, 1);
    expect("proto=tcp local_port=40001-40010", LT_ETHERNET, &tcp, 0);
    expect("remote=198.51.100.0-198.51.100.2", LT_ETHERNET, &tcp, 1);
    expect("remote=198.51.100.3-198.51.100.200", LT_ETHERNET, &tcp, 0);
    expect("proto=udp", LT_ETHERNET, &tcp, 0);
    expect("remote=2001:db8::/32", LT_ETHERNET, &tcp, 0); /* IPv6 items never match IPv4 */
}

static void ipv6(void **state)
{
    pkt b;
    (void)state;
    tcp6(&b, IP6_A, IP6_B, 50000, 22);
    expect("local=2001:db8::a remote=2001:db8:ff::/48 remote_port=22", LT_ETHERNET, &b, 1);
    expect("remote=2001:db8::a", LT_ETHERNET, &b, 1); /* direction-free */
    expect("local=2001:db8::b", LT_ETHERNET, &b, 0);
    expect("local=2001:db8::-2001:db8::ffff proto=tcp", LT_ETHERNET, &b, 1);
    expect("local=192.0.2.1", LT_ETHERNET, &b, 0);
    expect("proto=udp remote_port=22", LT_ETHERNET, &b, 0);
}

static void vlan_tags(void **state)
{
    static const unsigned q[] = { 0x8100, 0x8100, 0x8100 };
    static const unsigned ad[] = { 0x88a8, 0x8100 };
    static const unsigned old[] = { 0x9100, 0x9100 };
    static const unsigned mpls[] = { 0x8847 };
    const char *filter = "local=192.0.2.1 remote_port=443";
    pkt b;
    (void)state;
    ether4(&b, q, 1, 6, IP4_A, IP4_B, 1234, 443);
    expect(filter, LT_ETHERNET, &b, 1);
    ether4(&b, ad, 2, 6, IP4_A, IP4_B, 1234, 443);
    expect(filter, LT_ETHERNET, &b, 1);
    ether4(&b, old, 2, 6, IP4_A, IP4_B, 1234, 443);
    expect(filter, LT_ETHERNET, &b, 1);
    ether4(&b, q, 3, 6, IP4_A, IP4_B, 1234, 443); /* three tags: never */
    expect(filter, LT_ETHERNET, &b, 0);
    ether4(&b, mpls, 1, 6, IP4_A, IP4_B, 1234, 443); /* not a VLAN TPID */
    expect(filter, LT_ETHERNET, &b, 0);
}

static void ipv4_fragments(void **state)
{
    pkt b;
    (void)state;
    /* A later fragment: addresses and protocol, but no ports. */
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4_fragment(&b, 6, IP4_A, IP4_B, 185, 1);
    pkt_tcp(&b, 1234, 443, 0); /* payload bytes that look like ports */
    pkt_finish(&b);
    expect("proto=tcp local=192.0.2.1", LT_ETHERNET, &b, 1);
    expect("proto=tcp remote_port=443", LT_ETHERNET, &b, 0);
    expect("proto=any remote_port=443", LT_ETHERNET, &b, 0);
    /* The first fragment has its ports. */
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4_fragment(&b, 6, IP4_A, IP4_B, 0, 1);
    pkt_tcp(&b, 1234, 443, 0);
    pkt_finish(&b);
    expect("proto=tcp remote_port=443", LT_ETHERNET, &b, 1);
}

static void ipv4_header_length_taken_as_is(void **state)
{
    pkt b;
    (void)state;
    /* IHL 6 with one option word: ports at 24. Then IHL 5 over the same
     * bytes: libpcap reads the "ports" from the option (0x0101 = 257). */
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4_options(&b, 6, IP4_A, IP4_B, 1);
    pkt_tcp(&b, 1234, 443, 0);
    pkt_finish(&b);
    expect("remote_port=443", LT_ETHERNET, &b, 1);
    b.data[14] = 0x45;
    expect("remote_port=443", LT_ETHERNET, &b, 0);
    expect("remote_port=257", LT_ETHERNET, &b, 1);
}

static void ipv6_extension_headers(void **state)
{
    pkt b;
    (void)state;
    /* TCP behind a Fragment header: `tcp` looks through it, ports do not. */
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(&b, 44, IP6_A, IP6_B);
    pkt_ipv6_fragment(&b, 6, 0, 1);
    pkt_tcp(&b, 1234, 443, 0);
    pkt_finish(&b);
    expect("proto=tcp", LT_ETHERNET, &b, 1);
    expect("proto=udp", LT_ETHERNET, &b, 0);
    expect("proto=tcp local=2001:db8::a", LT_ETHERNET, &b, 1);
    expect("proto=tcp remote_port=443", LT_ETHERNET, &b, 0);
    /* TCP behind hop-by-hop options: neither. */
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(&b, 0, IP6_A, IP6_B);
    pkt_ipv6_extension(&b, 6, 0);
    pkt_tcp(&b, 1234, 443, 0);
    pkt_finish(&b);
    expect("proto=tcp", LT_ETHERNET, &b, 0);
    expect("remote_port=443", LT_ETHERNET, &b, 0);
    expect("local=2001:db8::a", LT_ETHERNET, &b, 1);
}

static void direction_free(void **state)
{
    pkt out, in, inside;
    (void)state;
    tcp4(&out, IP4_A, IP4_B, 40000, 443);    /* local -> remote */
    tcp4(&in, IP4_B, IP4_A, 443, 40000);     /* remote -> local */
    tcp4(&inside, IP4_A, IP4_C, 40000, 443); /* local -> local */
    const char *both = "local=192.0.2.0/24 remote=198.51.100.2 remote_port=443";
    expect(both, LT_ETHERNET, &out, 1);
    expect(both, LT_ETHERNET, &in, 1);
    expect(both, LT_ETHERNET, &inside, 0);
    expect("remote=198.51.100.2", LT_ETHERNET, &inside, 0);
    expect("remote=198.51.100.2", LT_ETHERNET, &in, 1);
    /* The ports pair with their addresses: local port 443 is not remote 443. */
    expect("local=192.0.2.1 local_port=443", LT_ETHERNET, &out, 0);
    expect("local=192.0.2.1 local_port=443", LT_ETHERNET, &in, 0);
    expect("local=192.0.2.1 local_port=40000", LT_ETHERNET, &in, 1);
}

/* The same IPv4 TCP segment behind each supported link layer. */
static void link_header(pkt *b, uint32_t linktype, int family, uint32_t bsd_af, int little)
{
    unsigned type = family == 6 ? 0x86dd : 0x0800;
    pkt_init(b);
    switch (linktype) {
    case LT_SLL: pkt_linux_sll(b, 1, MAC_A, 6, type); break;
    case LT_SLL2: pkt_linux_sll2(b, type, 1, MAC_A, 6); break;
    case LT_NULL: pkt_bsd_family(b, bsd_af, little); break;
    case LT_LOOP: pkt_bsd_family(b, bsd_af, 0); break;
    default: break; /* RAW, IPV4, IPV6 */
    }
}

static void ip_segment(pkt *b, int family)
{
    if (family == 4)
        pkt_ipv4(b, 6, IP4_A, IP4_B);
    else
        pkt_ipv6(b, 6, IP6_A, IP6_B);
    pkt_tcp(b, 1234, 443, 0);
    pkt_finish(b);
}

static void every_link_type(void **state)
{
    static const uint32_t types[] = { LT_SLL, LT_SLL2, LT_RAW, LT_IPV4, LT_NULL, LT_LOOP };
    const char *f4 = "local=192.0.2.1 remote_port=443", *f6 = "local=2001:db8::a remote_port=443";
    int little = host_little_endian();
    pkt b;
    (void)state;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        link_header(&b, types[i], 4, 2, little);
        ip_segment(&b, 4);
        expect(f4, types[i], &b, 1);
        expect("proto=udp", types[i], &b, 0);
    }
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (types[i] == LT_IPV4)
            continue;
        link_header(&b, types[i], 6, 30, little); /* BSD loopback: Darwin's AF_INET6 */
        ip_segment(&b, 6);
        expect(f6, types[i], &b, 1);
    }
    link_header(&b, LT_IPV6, 6, 0, 0);
    ip_segment(&b, 6);
    expect(f6, LT_IPV6, &b, 1);
    expect(f4, LT_IPV6, &b, 0);

    /* LINKTYPE_IPV4 has no version check: IPv6 bytes read as IPv4. */
    link_header(&b, LT_IPV4, 4, 0, 0);
    ip_segment(&b, 6);
    expect("local=2001:db8::a", LT_IPV4, &b, 0);
    /* Raw IP goes by the version nibble. */
    expect("local=2001:db8::a", LT_RAW, &b, 1);
}

/* BSD loopback, as tcpdump -r compiles for a capture file: IPv4 is address
 * family 2, IPv6 24, 28 or 30 (the BSDs, FreeBSD, Darwin); NULL's family is
 * in the byte order of the machine that wrote the file, LOOP's in network
 * order whatever the file's. */
static void bsd_loopback(void **state)
{
    static const uint32_t bsd_inet6[] = { 24, 28, 30 };
    const char *f4 = "local=192.0.2.1 remote_port=443", *f6 = "local=2001:db8::a remote_port=443";
    int little = host_little_endian();
    pktcap_filter *f;
    pktcap_packet p;
    pkt b;
    (void)state;
    for (size_t i = 0; i < 3; i++) {
        /* NULL in this machine's order, and in the other one from a file in that order */
        link_header(&b, LT_NULL, 6, bsd_inet6[i], little);
        ip_segment(&b, 6);
        expect(f6, LT_NULL, &b, 1);
        expect("proto=udp", LT_NULL, &b, 0);
        link_header(&b, LT_NULL, 6, bsd_inet6[i], !little);
        ip_segment(&b, 6);
        expect_swapped(f6, LT_NULL, &b, 1);
        /* LOOP in network order, from a file in either order */
        link_header(&b, LT_LOOP, 6, bsd_inet6[i], 0);
        ip_segment(&b, 6);
        expect(f6, LT_LOOP, &b, 1);
        expect_swapped(f6, LT_LOOP, &b, 1);
    }
    link_header(&b, LT_NULL, 4, 2, !little);
    ip_segment(&b, 4);
    expect_swapped(f4, LT_NULL, &b, 1);
    expect_swapped("proto=tcp", LT_NULL, &b, 1);
    link_header(&b, LT_LOOP, 4, 2, 0);
    ip_segment(&b, 4);
    expect_swapped(f4, LT_LOOP, &b, 1);

    /* Linux's AF_INET6 (10) is not IPv6 there, in any byte order. */
    link_header(&b, LT_NULL, 6, 10, little);
    ip_segment(&b, 6);
    expect("local=2001:db8::a", LT_NULL, &b, 0);
    link_header(&b, LT_NULL, 6, 10, !little);
    ip_segment(&b, 6);
    expect_swapped("local=2001:db8::a", LT_NULL, &b, 0);
    link_header(&b, LT_LOOP, 6, 10, 0);
    ip_segment(&b, 6);
    expect("local=2001:db8::a", LT_LOOP, &b, 0);
    /* LOOP's family is never little-endian. */
    pkt_init(&b);
    pkt_bsd_family(&b, 2, 1);
    ip_segment(&b, 4);
    expect(f4, LT_LOOP, &b, 0);
    expect_swapped(f4, LT_LOOP, &b, 0);
    /* The family cut short: not IP. */
    link_header(&b, LT_NULL, 4, 2, little);
    ip_segment(&b, 4);
    expect_cut("local=192.0.2.1", LT_NULL, &b, 3, 0);

    /* The one difference from libpcap: the evaluator does not know the file's
     * byte order and takes NULL's family in either. A packet whose family is
     * in the other order than its own file's (no writer does this) is IP to
     * the evaluator, not to libpcap compiling for that file. */
    link_header(&b, LT_NULL, 4, 2, !little);
    ip_segment(&b, 4);
    f = parse(f4);
    p = packet_of(&b, LT_NULL);
    assert_int_equal(pktcap_filter_match(f, &p), 1);
    assert_int_equal(libpcap_answer(f, &p, 0), 0);
    assert_int_equal(libpcap_answer(f, &p, 1), 1);
    pktcap_filter_free(f);
}

static void unsupported_link_type(void **state)
{
    pktcap_filter *f = parse("proto=tcp"), *all = parse("");
    uint8_t bytes[64] = { 0 };
    pktcap_packet p = { .struct_size = sizeof p };
    (void)state;
    p.linktype = LT_IEEE802_11;
    p.caplen = p.len = sizeof bytes;
    p.data = bytes;
    assert_int_equal(pktcap_filter_match(f, &p), PKTCAP_E_NOTSUP);
    assert_non_null(strstr(pktcap_error_message(pktcap_error_last()), "IEEE802_11"));
    assert_non_null(strstr(pktcap_error_message(pktcap_error_last()), "supported: EN10MB"));
    p.linktype = 60000;
    assert_int_equal(pktcap_filter_match(f, &p), PKTCAP_E_NOTSUP);
    /* A filter that matches everything does so on any link type. */
    assert_int_equal(pktcap_filter_match(all, &p), 1);
    pktcap_filter_free(f);
    pktcap_filter_free(all);
}

static void empty_and_match_all_filters(void **state)
{
    pktcap_filter *empty = parse(""), *all = parse("proto=tcp or proto=any");
    pktcap_packet p = { .struct_size = sizeof p };
    (void)state;
    p.linktype = LT_ETHERNET; /* 0 bytes, no data */
    assert_int_equal(pktcap_filter_match(empty, &p), 1);
    assert_int_equal(pktcap_filter_match(all, &p), 1);
    p.linktype = 147;
    assert_int_equal(pktcap_filter_match(empty, &p), 1);
    pktcap_filter_free(empty);
    pktcap_filter_free(all);
}

static void invalid_arguments(void **state)
{
    pktcap_filter *f = parse("proto=tcp");
    pktcap_packet p = { .struct_size = sizeof p };
    char *s;
    (void)state;
    assert_int_equal(pktcap_filter_match(NULL, &p), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_filter_match(f, NULL), PKTCAP_E_INVAL);
    p.caplen = 10; /* bytes but no data */
    assert_int_equal(pktcap_filter_match(f, &p), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_filter_to_bpf(NULL, f, 1), PKTCAP_E_INVAL);
    assert_int_equal(pktcap_filter_to_bpf(&s, NULL, 1), PKTCAP_E_INVAL);
    pktcap_filter_free(f);
}

static void truncated_packets(void **state)
{
    pkt b;
    size_t ip = 14, ports = 14 + 20;
    (void)state;
    tcp4(&b, IP4_A, IP4_B, 40000, 443);
    /* IPv4 header cut: no rule sees the packet. */
    expect_cut("local=192.0.2.1", LT_ETHERNET, &b, (long)ip + 19, 0);
    expect_cut("local=192.0.2.1", LT_ETHERNET, &b, (long)ip + 20, 1);
    expect_cut("proto=tcp", LT_ETHERNET, &b, (long)ip + 19, 0);
    /* Ports cut: only filters that read ports care, but then the whole
     * filter rejects the packet, whichever rule would have matched. */
    expect_cut("local=192.0.2.1", LT_ETHERNET, &b, (long)ports + 3, 1);
    expect_cut("proto=tcp", LT_ETHERNET, &b, (long)ports + 3, 1);
    expect_cut("remote_port=443", LT_ETHERNET, &b, (long)ports + 3, 0);
    expect_cut("remote_port=443", LT_ETHERNET, &b, (long)ports + 4, 1);
    expect_cut("local=192.0.2.1 or remote_port=443", LT_ETHERNET, &b, (long)ports + 3, 0);
    expect_cut("local=192.0.2.1 or proto=udp remote_port=53", LT_ETHERNET, &b,
               (long)ports + 3, 1); /* the UDP ports guard does not apply to TCP */
    /* Link header cut. */
    expect_cut("local=192.0.2.1", LT_ETHERNET, &b, 13, 0);
    expect_cut("local=192.0.2.1", LT_ETHERNET, &b, 0, 0);
    /* IPv6: 40-byte header cut; ports cut. */
    tcp6(&b, IP6_A, IP6_B, 50000, 22);
    expect_cut("local=2001:db8::a", LT_ETHERNET, &b, 14 + 39, 0);
    expect_cut("local=2001:db8::a", LT_ETHERNET, &b, 14 + 40, 1);
    expect_cut("local=2001:db8::a or proto=tcp remote_port=22", LT_ETHERNET, &b, 14 + 43, 0);
    expect_cut("local=2001:db8::a or proto=tcp remote_port=22", LT_ETHERNET, &b, 14 + 44, 1);
}

/* ---- raw BPF filters -------------------------------------------------------- */

static void raw_bpf(void **state)
{
    pktcap_filter *f, *vlan;
    pkt eth, raw;
    pktcap_packet p;
    (void)state;
    assert_int_equal(pktcap_filter_new_bpf(&f, "tcp dst port 443"), 0);
    assert_int_equal(pktcap_filter_new_bpf(&vlan, "vlan"), 0);
    tcp4(&eth, IP4_A, IP4_B, 40000, 443);
    link_header(&raw, LT_RAW, 4, 0, 0);
    ip_segment(&raw, 4);
    p = packet_of(&eth, LT_ETHERNET);
    assert_int_equal(pktcap_filter_match(f, &p), 1);
    assert_int_equal(pktcap_filter_match(vlan, &p), 0);
    p = packet_of(&raw, LT_RAW); /* compiled again, for DLT_RAW */
    assert_int_equal(pktcap_filter_match(f, &p), 1);
    assert_int_equal(pktcap_filter_match(vlan, &p), PKTCAP_E_NOTSUP);
    assert_non_null(strstr(pktcap_error_message(pktcap_error_last()), "RAW"));
    /* cached, same answers */
    assert_int_equal(pktcap_filter_match(vlan, &p), PKTCAP_E_NOTSUP);
    p = packet_of(&eth, LT_ETHERNET);
    assert_int_equal(pktcap_filter_match(f, &p), 1);
    p.caplen = 20; /* libpcap rejects on a load past the capture */
    assert_int_equal(pktcap_filter_match(f, &p), 0);
    pktcap_filter_free(f);
    pktcap_filter_free(vlan);
}

/* On BSD loopback a raw BPF filter is compiled as tcpdump -r compiles it; for
 * NULL, each packet is run through the program for a file in the byte order
 * its family is in, so negations hold in both orders. */
static void raw_bpf_loopback(void **state)
{
    static const char *const filters[] = { "bpf:ip6", "bpf:not ip", "bpf:udp or ip",
                                           "bpf:not ip6 and not ip" };
    static const struct { uint32_t linktype; int family; uint32_t af; } cases[] = {
        { LT_NULL, 4, 2 }, { LT_NULL, 6, 24 }, { LT_NULL, 6, 28 }, { LT_NULL, 6, 30 },
        { LT_NULL, 6, 10 }, { LT_LOOP, 4, 2 }, { LT_LOOP, 6, 30 }, { LT_LOOP, 6, 10 },
    };
    int little = host_little_endian();
    pkt b;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int ip = cases[i].af == 2, ip6 = cases[i].af != 2 && cases[i].af != 10;
        int want[4] = { ip6, !ip, ip, !ip && !ip6 };
        for (int swapped = 0; swapped < 2; swapped++) {
            link_header(&b, cases[i].linktype, cases[i].family, cases[i].af,
                        swapped ? !little : little);
            ip_segment(&b, cases[i].family);
            for (size_t k = 0; k < 4; k++)
                expect_file_cut(filters[k], cases[i].linktype, swapped, &b, -1, want[k]);
        }
    }
}

static void raw_bpf_many_link_types(void **state)
{
    /* More link types than the cache holds: the rest compile each time. */
    static const uint32_t types[] = { 1, 101, 113, 276, 228, 229, 0, 108, 105, 127, 9, 104 };
    pktcap_filter *f;
    uint8_t zeros[128] = { 0 };
    (void)state;
    assert_int_equal(pktcap_filter_new_bpf(&f, "ip or ip6 or len >= 0"), 0);
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
            pktcap_packet p = { .struct_size = sizeof p };
            p.linktype = types[i];
            p.caplen = p.len = sizeof zeros;
            p.data = zeros;
            assert_int_equal(pktcap_filter_match(f, &p), 1);
        }
    }
    pktcap_filter_free(f);
}

struct thread_arg {
    const pktcap_filter *f;
    int failures;
};

static void *match_many(void *argp)
{
    struct thread_arg *arg = argp;
    pkt b;
    tcp4(&b, IP4_A, IP4_B, 40000, 443);
    for (int i = 0; i < 2000; i++) {
        pktcap_packet p = packet_of(&b, i % 3 == 0 ? LT_ETHERNET : i % 3 == 1 ? LT_SLL : 105);
        int want = i % 3 == 0 ? 1 : 0;
        if (p.linktype == LT_SLL) { /* the Ethernet bytes read as cooked: not TCP to 443 */
            want = 0;
        }
        if (pktcap_filter_match(arg->f, &p) != want)
            arg->failures++;
    }
    return NULL;
}

static void raw_bpf_from_several_threads(void **state)
{
    pktcap_filter *f;
    pthread_t t[4];
    struct thread_arg args[4];
    (void)state;
    assert_int_equal(pktcap_filter_new_bpf(&f, "tcp dst port 443"), 0);
    for (int i = 0; i < 4; i++) {
        args[i].f = f;
        args[i].failures = 0;
        assert_int_equal(pthread_create(&t[i], NULL, match_many, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(args[i].failures, 0);
    }
    pktcap_filter_free(f);
}

/* ---- the BPF text ----------------------------------------------------------- */

static void expect_bpf(const char *filter, uint32_t linktype, const char *want)
{
    pktcap_filter *f = parse(filter);
    struct bpf_program prog;
    handle hd;
    char *got;
    assert_int_equal(pktcap_filter_to_bpf(&got, f, linktype), 0);
    if (strcmp(got, want) != 0)
        fail_msg("\"%s\" for %u:\n  got:  %s\n  want: %s", filter, linktype, got, want);
    if (got[0]) {
        handle_open(&hd, linktype, 0);
        if (pcap_compile(hd.h, &prog, got, 1, PCAP_NETMASK_UNKNOWN) != 0)
            fail_msg("\"%s\" does not compile for %u: %s", got, linktype, pcap_geterr(hd.h));
        pcap_freecode(&prog);
        pcap_close(hd.h);
    }
    pktcap_free(got);
    pktcap_filter_free(f);
}

static void bpf_text(void **state)
{
    (void)state;
    expect_bpf("local=10.0.0.1", LT_RAW, "ip[19] >= 0 and ip host 10.0.0.1");
    expect_bpf("remote=10.0.0.0-10.0.0.9", LT_SLL,
               "ip[19] >= 0 and (ip net 10.0.0.0/29 or ip net 10.0.0.8/31)");
    expect_bpf("local=10.0.0.1;10.0.0.5;2001:db8::/64", LT_SLL2,
               "(ip[19] >= 0 or ip6[39] >= 0) and (ip host 10.0.0.1 or ip host 10.0.0.5 or "
               "ip6 net 2001:db8::/64)");
    expect_bpf("proto=tcp remote_port=443", LT_RAW,
               "((ip[19] >= 0 and (ip[9] != 6 or ip[6:2] & 0x1fff != 0 or tcp[3] >= 0)) or "
               "(ip6[39] >= 0 and (ip6[6] != 6 or ip6[43] >= 0))) and tcp port 443");
    expect_bpf("proto=udp local_port=1024-65535;53", LT_RAW,
               "((ip[19] >= 0 and (ip[9] != 17 or ip[6:2] & 0x1fff != 0 or udp[3] >= 0)) or "
               "(ip6[39] >= 0 and (ip6[6] != 17 or ip6[43] >= 0))) and "
               "(udp portrange 1024-65535 or udp port 53)");
    expect_bpf("proto=any remote_port=80", LT_IPV4,
               "ip[19] >= 0 and ((ip[9] != 6 and ip[9] != 17) or ip[6:2] & 0x1fff != 0 or "
               "tcp[3] >= 0 or udp[3] >= 0) and (tcp port 80 or udp port 80)");
    expect_bpf("proto=tcp local=10.0.0.1 remote=10.0.0.2 remote_port=443", LT_IPV4,
               "ip[19] >= 0 and (ip[9] != 6 or ip[6:2] & 0x1fff != 0 or tcp[3] >= 0) and "
               "((ip src host 10.0.0.1 and ip dst host 10.0.0.2 and tcp dst port 443) or "
               "(ip dst host 10.0.0.1 and ip src host 10.0.0.2 and tcp src port 443))");
    expect_bpf("proto=tcp remote=2001:db8::1", LT_IPV6,
               "ip6[39] >= 0 and (ip6[6] != 44 or ip6[43] >= 0) and tcp and ip6 host 2001:db8::1");
    expect_bpf("proto=udp or local=10.0.0.1", LT_IPV4,
               "ip[19] >= 0 and (udp or ip host 10.0.0.1)");
    expect_bpf("local=10.0.0.1 or proto=tcp local_port=22", LT_IPV4,
               "ip[19] >= 0 and (ip[9] != 6 or ip[6:2] & 0x1fff != 0 or tcp[3] >= 0) and "
               "(ip host 10.0.0.1 or tcp port 22)");
    /* VLAN alternatives on Ethernet only. */
    expect_bpf("local=10.0.0.1", LT_ETHERNET,
               "(ip[19] >= 0 and ip host 10.0.0.1) or (vlan and ((ip[19] >= 0 and "
               "ip host 10.0.0.1) or (vlan and ip[19] >= 0 and ip host 10.0.0.1)))");
    expect_bpf("local=10.0.0.1", LT_SLL, "ip[19] >= 0 and ip host 10.0.0.1");
    expect_bpf("proto=udp remote=2001:db8::1", LT_NULL,
               "ip6[39] >= 0 and (ip6[6] != 44 or ip6[43] >= 0) and udp and ip6 host 2001:db8::1");
    /* Matches everything, matches nothing on this link type, raw. */
    expect_bpf("", LT_ETHERNET, "");
    expect_bpf("proto=tcp or proto=any", LT_ETHERNET, "");
    expect_bpf("local=2001:db8::1", LT_IPV4, "len < 0");
    expect_bpf("local=10.0.0.1 remote=2001:db8::1", LT_ETHERNET, "len < 0");
    expect_bpf("bpf:tcp port 80 and not   host 10.0.0.1", LT_SLL,
               "tcp port 80 and not   host 10.0.0.1");
}

/* Every allocation failure on the way gives PKTCAP_E_NOMEM, leaks nothing
 * (the sanitizer build checks), and the next try succeeds. */
static void allocation_failures(void **state)
{
    pktcap_filter *rules = parse("proto=tcp local=10.0.0.0-10.0.0.9;2001:db8::1 remote_port=443 "
                                 "or proto=udp remote=192.0.2.1"), *raw;
    pkt b;
    pktcap_packet p;
    char *s = NULL;
    unsigned long n;
    int rc;
    (void)state;
    for (n = 1;; n++) {
        pktcap__alloc_fail_at(n);
        rc = pktcap_filter_to_bpf(&s, rules, LT_ETHERNET);
        pktcap__alloc_fail_at(0);
        if (rc == 0)
            break;
        assert_int_equal(rc, PKTCAP_E_NOMEM);
    }
    assert_true(n > 3);
    assert_non_null(strstr(s, "vlan"));
    pktcap_free(s);

    tcp4(&b, IP4_A, IP4_B, 40000, 443);
    p = packet_of(&b, LT_ETHERNET);
    assert_int_equal(pktcap_filter_new_bpf(&raw, "tcp port 443"), 0);
    for (n = 1;; n++) {
        pktcap__alloc_fail_at(n);
        rc = pktcap_filter_match(raw, &p);
        pktcap__alloc_fail_at(0);
        if (rc >= 0)
            break;
        assert_int_equal(rc, PKTCAP_E_NOMEM);
    }
    assert_int_equal(rc, 1);
    /* rule filters never allocate */
    pktcap__alloc_fail_at(1);
    assert_int_equal(pktcap_filter_match(rules, &p), 0);
    pktcap__alloc_fail_at(0);
    pktcap_filter_free(raw);
    pktcap_filter_free(rules);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_tcp_and_udp),
        cmocka_unit_test(ipv6),
        cmocka_unit_test(vlan_tags),
        cmocka_unit_test(ipv4_fragments),
        cmocka_unit_test(ipv4_header_length_taken_as_is),
        cmocka_unit_test(ipv6_extension_headers),
        cmocka_unit_test(direction_free),
        cmocka_unit_test(every_link_type),
        cmocka_unit_test(bsd_loopback),
        cmocka_unit_test(unsupported_link_type),
        cmocka_unit_test(empty_and_match_all_filters),
        cmocka_unit_test(invalid_arguments),
        cmocka_unit_test(truncated_packets),
        cmocka_unit_test(raw_bpf),
        cmocka_unit_test(raw_bpf_loopback),
        cmocka_unit_test(raw_bpf_many_link_types),
        cmocka_unit_test(raw_bpf_from_several_threads),
        cmocka_unit_test(bpf_text),
        cmocka_unit_test(allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
