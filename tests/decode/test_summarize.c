/* pktcap_summarize() against hand-built packets.
 *
 * Every packet of the catalog below is decoded whole, and cut at every byte
 * offset from 0 to its length (caplen = cut, len = the whole length), each
 * time from a heap buffer of exactly caplen bytes, so that AddressSanitizer
 * sees any read past caplen. Each catalog entry has an expectation function
 * that says, for a cut, exactly what the summary must hold: the fields of
 * every header (or part of one) the cut leaves, and TRUNCATED exactly when a
 * header the decoder needs is incomplete. The rules it encodes are the
 * decoder's (lib/decode/summarize.c): MACs and addresses need their whole
 * fixed header; TCP and UDP ports their first 4 bytes, TCP flags 14;
 * `protocol` names a layer once an EtherType, family, version nibble or IP
 * protocol number has announced it.
 *
 * Then the cases no well-formed packet reaches: malformed headers,
 * fragments, unknown link types and the API's argument checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pktcap/pktcap.h>

#include "packets.h"

enum {
    LINKTYPE_NULL = 0,
    LINKTYPE_ETHERNET = 1,
    LINKTYPE_RAW = 101,
    LINKTYPE_LOOP = 108,
    LINKTYPE_LINUX_SLL = 113,
    LINKTYPE_IPV4 = 228,
    LINKTYPE_IPV6 = 229,
    LINKTYPE_LINUX_SLL2 = 276
};

#define TS_SEC INT64_C(1700000000)
#define TS_NSEC 123456789u

/* The end of the first version's last field: the smallest struct_size accepted. */
#define SUMMARY_V1_END \
    (offsetof(pktcap_summary, protocol) + sizeof(((pktcap_summary *)0)->protocol))

#define F_TRUNCATED PKTCAP_SUMMARY_TRUNCATED
#define F_MALFORMED PKTCAP_SUMMARY_MALFORMED
#define F_FRAGMENT PKTCAP_SUMMARY_FRAGMENT
#define F_UNKNOWN PKTCAP_SUMMARY_UNKNOWN_LINKTYPE
#define F_MAC PKTCAP_SUMMARY_HAS_MAC
#define F_IP PKTCAP_SUMMARY_HAS_IP
#define F_PORTS PKTCAP_SUMMARY_HAS_PORTS
#define F_ICMP PKTCAP_SUMMARY_HAS_ICMP
#define F_ARP PKTCAP_SUMMARY_ARP

/* --- running the decoder ---------------------------------------------------- */

/* Decodes the first `caplen` bytes of `data` (a packet of `len` bytes on the
 * wire) from a heap copy of exactly caplen bytes, into a summary first
 * filled with 0xa5 so that a field left unwritten shows. */
static int summarize(pktcap_summary *s, uint32_t linktype, const uint8_t *data, size_t caplen,
                     size_t len)
{
    uint8_t *copy = NULL;
    if (caplen > 0) {
        copy = malloc(caplen);
        assert_non_null(copy);
        memcpy(copy, data, caplen);
    }
    pktcap_packet packet;
    memset(&packet, 0, sizeof packet);
    packet.struct_size = sizeof packet;
    packet.ts_sec = TS_SEC;
    packet.ts_nsec = TS_NSEC;
    packet.caplen = (uint32_t)caplen;
    packet.len = (uint32_t)len;
    packet.linktype = linktype;
    packet.data = copy;
    memset(s, 0xa5, sizeof *s);
    s->struct_size = sizeof *s;
    int rc = pktcap_summarize(s, &packet);
    free(copy);
    return rc;
}

static const char *flag_names(uint32_t flags, char *buf, size_t size)
{
    static const char *const names[] = { "TRUNCATED", "MALFORMED", "FRAGMENT", "UNKNOWN_LINKTYPE",
                                         "HAS_MAC", "HAS_IP", "HAS_PORTS", "HAS_ICMP", "ARP" };
    size_t used = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < 32; i++) {
        if (!(flags & (1u << i)))
            continue;
        used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? "|" : "",
                                 i < sizeof names / sizeof names[0] ? names[i] : "?");
        if (used >= size)
            break;
    }
    return buf;
}

#define CHECK_INT(field)                                                                        \
    do {                                                                                        \
        if (got->field != want->field)                                                          \
            fail_msg("%s: " #field " is %lld, expected %lld", what, (long long)got->field,      \
                     (long long)want->field);                                                   \
    } while (0)

#define CHECK_BYTES(field)                                                                      \
    do {                                                                                        \
        if (memcmp(got->field, want->field, sizeof got->field) != 0)                            \
            fail_msg("%s: " #field " differs from the expected one", what);                     \
    } while (0)

/* Every field, exactly. */
static void assert_summary(const pktcap_summary *got, const pktcap_summary *want, const char *what)
{
    if (got->flags != want->flags) {
        char a[160], b[160];
        fail_msg("%s: flags are %s, expected %s", what, flag_names(got->flags, a, sizeof a),
                 flag_names(want->flags, b, sizeof b));
    }
    if (memcmp(got->protocol, want->protocol, sizeof got->protocol) != 0)
        fail_msg("%s: protocol is \"%.16s\", expected \"%.16s\"", what, got->protocol,
                 want->protocol);
    CHECK_INT(struct_size);
    CHECK_INT(number);
    CHECK_INT(ts_sec);
    CHECK_INT(ts_nsec);
    CHECK_INT(time_digits);
    CHECK_INT(linktype);
    CHECK_INT(wire_len);
    CHECK_INT(cap_len);
    CHECK_INT(ethertype);
    CHECK_INT(vlan_count);
    CHECK_INT(vlan[0]);
    CHECK_INT(vlan[1]);
    CHECK_INT(mpls_count);
    CHECK_BYTES(src_mac);
    CHECK_BYTES(dst_mac);
    CHECK_INT(ip_version);
    CHECK_INT(ip_proto);
    CHECK_BYTES(src_ip);
    CHECK_BYTES(dst_ip);
    CHECK_INT(src_port);
    CHECK_INT(dst_port);
    CHECK_INT(icmp_type);
    CHECK_INT(icmp_code);
    CHECK_INT(tcp_flags);
    CHECK_INT(reserved);
}

/* --- expectations, header by header ------------------------------------------
 * Each takes the cut (caplen) and where its header starts; the ones that can
 * be followed by another return where that starts, or 0 when the cut or the
 * header itself ends the decoding there. */

static void want_start(pktcap_summary *w, uint32_t linktype, size_t cut, size_t len)
{
    memset(w, 0, sizeof *w);
    w->struct_size = sizeof *w;
    w->ts_sec = TS_SEC;
    w->ts_nsec = TS_NSEC;
    w->time_digits = 9;
    w->linktype = linktype;
    w->wire_len = (uint32_t)len;
    w->cap_len = (uint32_t)cut;
}

static void want_protocol(pktcap_summary *w, const char *name)
{
    memset(w->protocol, 0, sizeof w->protocol);
    memcpy(w->protocol, name, strlen(name));
}

static void want_hex(pktcap_summary *w, unsigned type)
{
    char name[8];
    snprintf(name, sizeof name, "0x%04x", type);
    want_protocol(w, name);
}

/* Whether the `need` bytes at `at` were captured; if not, decoding stops
 * there for lack of bytes. */
static int captured(pktcap_summary *w, size_t cut, size_t at, size_t need)
{
    if (cut >= at + need)
        return 1;
    w->flags |= F_TRUNCATED;
    return 0;
}

static size_t want_ethernet(pktcap_summary *w, size_t cut, const uint8_t dst[6],
                            const uint8_t src[6])
{
    if (!captured(w, cut, 0, 14))
        return 0;
    memcpy(w->dst_mac, dst, 6);
    memcpy(w->src_mac, src, 6);
    w->flags |= F_MAC;
    return 14;
}

/* A tag whose TPID is `tpid`; a cut inside it leaves that as the EtherType. */
static size_t want_vlan(pktcap_summary *w, size_t cut, size_t at, unsigned tpid, unsigned vid)
{
    if (!captured(w, cut, at, 4)) {
        w->ethertype = (uint16_t)tpid;
        want_hex(w, tpid);
        return 0;
    }
    if (w->vlan_count < 2)
        w->vlan[w->vlan_count++] = (uint16_t)vid;
    return at + 4;
}

static void want_ethertype(pktcap_summary *w, unsigned type)
{
    w->ethertype = (uint16_t)type;
    want_hex(w, type);
}

/* A label stack of `labels` entries, then the first nibble of the payload. */
static size_t want_mpls(pktcap_summary *w, size_t cut, size_t at, unsigned type, unsigned labels)
{
    want_ethertype(w, type);
    for (unsigned i = 0; i < labels; i++) {
        if (!captured(w, cut, at, 4))
            return 0;
        w->mpls_count++;
        at += 4;
    }
    return captured(w, cut, at, 1) ? at : 0;
}

static size_t want_linux_sll(pktcap_summary *w, size_t cut, const uint8_t *address,
                             unsigned address_len)
{
    if (!captured(w, cut, 0, 16))
        return 0;
    if (address_len == 6) {
        memcpy(w->src_mac, address, 6);
        w->flags |= F_MAC;
    }
    return 16;
}

static size_t want_linux_sll2(pktcap_summary *w, size_t cut, const uint8_t *address,
                              unsigned address_len)
{
    if (!captured(w, cut, 0, 20))
        return 0;
    if (address_len == 6) {
        memcpy(w->src_mac, address, 6);
        w->flags |= F_MAC;
    }
    return 20;
}

/* IPv4 with a header of `header` bytes. `later_fragment`: a fragment with an
 * offset, which has no transport header. */
static size_t want_ipv4_at(pktcap_summary *w, size_t cut, size_t at, size_t header,
                           unsigned proto, int fragment, int later_fragment)
{
    want_protocol(w, "IPv4");
    if (!captured(w, cut, at, 20))
        return 0;
    w->ip_version = 4;
    w->ip_proto = (uint8_t)proto;
    memcpy(w->src_ip, IP4_A, 4);
    memcpy(w->dst_ip, IP4_B, 4);
    w->flags |= F_IP | (fragment ? F_FRAGMENT : 0);
    if (!captured(w, cut, at, header) || later_fragment)
        return 0;
    return at + header;
}

static size_t want_ipv4(pktcap_summary *w, size_t cut, size_t at, unsigned proto)
{
    return want_ipv4_at(w, cut, at, 20, proto, 0, 0);
}

static size_t want_ipv6(pktcap_summary *w, size_t cut, size_t at, unsigned next)
{
    want_protocol(w, "IPv6");
    if (!captured(w, cut, at, 40))
        return 0;
    w->ip_version = 6;
    w->ip_proto = (uint8_t)next;
    memcpy(w->src_ip, IP6_A, 16);
    memcpy(w->dst_ip, IP6_B, 16);
    w->flags |= F_IP;
    return at + 40;
}

/* Hop-by-hop, routing or destination options of `length` bytes. */
static size_t want_extension(pktcap_summary *w, size_t cut, size_t at, size_t length,
                             unsigned next)
{
    if (!captured(w, cut, at, 2) || !captured(w, cut, at, length))
        return 0;
    w->ip_proto = (uint8_t)next;
    return at + length;
}

static size_t want_ipv6_fragment(pktcap_summary *w, size_t cut, size_t at, unsigned next,
                                 int later)
{
    w->flags |= F_FRAGMENT;
    if (!captured(w, cut, at, 8))
        return 0;
    w->ip_proto = (uint8_t)next;
    return later ? 0 : at + 8;
}

/* An AH of `length` bytes; in IPv6 it moves ip_proto on, in IPv4 not. */
static size_t want_ah(pktcap_summary *w, size_t cut, size_t at, size_t length, unsigned next,
                      int in_ipv6)
{
    want_protocol(w, "AH");
    if (!captured(w, cut, at, 2) || !captured(w, cut, at, length))
        return 0;
    if (in_ipv6)
        w->ip_proto = (uint8_t)next;
    return at + length;
}

static void want_tcp(pktcap_summary *w, size_t cut, size_t at, unsigned src_port,
                     unsigned dst_port, unsigned flags, size_t header)
{
    want_protocol(w, "TCP");
    if (!captured(w, cut, at, 4))
        return;
    w->src_port = (uint16_t)src_port;
    w->dst_port = (uint16_t)dst_port;
    w->flags |= F_PORTS;
    if (!captured(w, cut, at, 14))
        return;
    w->tcp_flags = (uint8_t)flags;
    (void)captured(w, cut, at, header);
}

static void want_udp(pktcap_summary *w, size_t cut, size_t at, unsigned src_port,
                     unsigned dst_port)
{
    want_protocol(w, "UDP");
    if (!captured(w, cut, at, 4))
        return;
    w->src_port = (uint16_t)src_port;
    w->dst_port = (uint16_t)dst_port;
    w->flags |= F_PORTS;
    (void)captured(w, cut, at, 8);
}

static void want_sctp(pktcap_summary *w, size_t cut, size_t at, unsigned src_port,
                      unsigned dst_port)
{
    want_protocol(w, "SCTP");
    if (!captured(w, cut, at, 12))
        return;
    w->src_port = (uint16_t)src_port;
    w->dst_port = (uint16_t)dst_port;
    w->flags |= F_PORTS;
}

static void want_icmp(pktcap_summary *w, size_t cut, size_t at, const char *name, unsigned type,
                      unsigned code)
{
    want_protocol(w, name);
    if (!captured(w, cut, at, 4))
        return;
    w->icmp_type = (uint8_t)type;
    w->icmp_code = (uint8_t)code;
    w->flags |= F_ICMP;
}

/* ARP with IPv4 addresses (IP4_A asks for IP4_B) and `hardware_len`-byte
 * hardware addresses. */
static void want_arp(pktcap_summary *w, size_t cut, size_t at, size_t hardware_len, int ipv4)
{
    want_protocol(w, "ARP");
    w->flags |= F_ARP;
    if (!captured(w, cut, at, 8) || !captured(w, cut, at, 8 + 2 * (hardware_len + 4)))
        return;
    if (!ipv4)
        return;
    w->ip_version = 4;
    memcpy(w->src_ip, IP4_A, 4);
    memcpy(w->dst_ip, IP4_B, 4);
    w->flags |= F_IP;
}

/* --- the catalog ------------------------------------------------------------- */

typedef struct packet_case {
    const char *name;
    uint32_t linktype;
    void (*build)(pkt *b);
    void (*expect)(pktcap_summary *w, size_t cut, size_t len);
} packet_case;

static const uint8_t PAYLOAD[6] = { 'h', 'e', 'l', 'l', 'o', '!' };

/* Ethernet, IPv4, TCP SYN from A:40000 to B:443, 6 bytes of payload. */
static void build_ethernet_ipv4_tcp(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4(b, 6, IP4_A, IP4_B);
    pkt_tcp(b, 40000, 443, TCP_SYN);
    pkt_bytes(b, PAYLOAD, sizeof PAYLOAD);
}

static void expect_ethernet_ipv4_tcp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x0800);
    if ((at = want_ipv4(w, cut, at, 6)))
        want_tcp(w, cut, at, 40000, 443, TCP_SYN, 20);
}

/* TCP with 12 bytes of options after an IPv4 header with 8 bytes of options. */
static void build_ethernet_ipv4_options_tcp_options(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4_options(b, 6, IP4_A, IP4_B, 2);
    pkt_tcp_options(b, 22, 51000, TCP_PSH | TCP_ACK, 3);
    pkt_bytes(b, PAYLOAD, sizeof PAYLOAD);
}

static void expect_ethernet_ipv4_options_tcp_options(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x0800);
    if ((at = want_ipv4_at(w, cut, at, 28, 6, 0, 0)))
        want_tcp(w, cut, at, 22, 51000, TCP_PSH | TCP_ACK, 32);
}

static void build_ethernet_ipv4_udp(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4(b, 17, IP4_A, IP4_B);
    pkt_udp(b, 5353, 53);
    pkt_bytes(b, PAYLOAD, sizeof PAYLOAD);
}

static void expect_ethernet_ipv4_udp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x0800);
    if ((at = want_ipv4(w, cut, at, 17)))
        want_udp(w, cut, at, 5353, 53);
}

static void build_ethernet_ipv4_icmp(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4(b, 1, IP4_A, IP4_B);
    pkt_icmp(b, 8, 0);
    pkt_bytes(b, PAYLOAD, sizeof PAYLOAD);
}

static void expect_ethernet_ipv4_icmp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x0800);
    if ((at = want_ipv4(w, cut, at, 1)))
        want_icmp(w, cut, at, "ICMP", 8, 0);
}

/* An ICMP error quoting a UDP datagram: the quoted packet is not decoded. */
static void build_ethernet_ipv4_icmp_error(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4(b, 1, IP4_A, IP4_B);
    pkt_icmp(b, 3, 3);
    pkt_ipv4(b, 17, IP4_B, IP4_A);
    pkt_udp(b, 53, 5353);
}

static void expect_ethernet_ipv4_icmp_error(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x0800);
    if ((at = want_ipv4(w, cut, at, 1)))
        want_icmp(w, cut, at, "ICMP", 3, 3);
}

static void build_ethernet_ipv4_sctp(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4(b, 132, IP4_A, IP4_B);
    pkt_sctp(b, 2905, 2906);
    pkt_bytes(b, PAYLOAD, sizeof PAYLOAD);
}

static void expect_ethernet_ipv4_sctp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x0800);
    if ((at = want_ipv4(w, cut, at, 132)))
        want_sctp(w, cut, at, 2905, 2906);
}

/* IGMP, GRE and ESP are named from the protocol number; nothing of them is
 * read, so no cut inside them is a truncation. */
static void build_ethernet_ipv4_igmp(pkt *b)
{
    static const uint8_t report[8] = { 0x16, 0, 0, 0, 224, 0, 0, 251 };
    pkt_ethernet(b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4(b, 2, IP4_A, IP4_B);
    pkt_bytes(b, report, sizeof report);
}

static void expect_named_transport(pktcap_summary *w, size_t cut, size_t len, unsigned proto,
                                   const char *name)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x0800);
    if (want_ipv4(w, cut, at, proto))
        want_protocol(w, name);
}

static void expect_ethernet_ipv4_igmp(pktcap_summary *w, size_t cut, size_t len)
{
    expect_named_transport(w, cut, len, 2, "IGMP");
}

/* GRE carrying IPv4 carrying TCP: the tunnel is not entered. */
static void build_ethernet_ipv4_gre(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4(b, 47, IP4_A, IP4_B);
    pkt_u16(b, 0);
    pkt_u16(b, 0x0800);
    pkt_ipv4(b, 6, IP4_B, IP4_A);
    pkt_tcp(b, 1, 2, TCP_ACK);
}

static void expect_ethernet_ipv4_gre(pktcap_summary *w, size_t cut, size_t len)
{
    expect_named_transport(w, cut, len, 47, "GRE");
}

static void build_ethernet_ipv4_esp(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4(b, 50, IP4_A, IP4_B);
    pkt_u32(b, 0x1000);
    pkt_u32(b, 1);
    pkt_bytes(b, PAYLOAD, sizeof PAYLOAD);
}

static void expect_ethernet_ipv4_esp(pktcap_summary *w, size_t cut, size_t len)
{
    expect_named_transport(w, cut, len, 50, "ESP");
}

/* A protocol the decoder does not know (OSPF): IPv4 is the highest layer. */
static void build_ethernet_ipv4_ospf(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4(b, 89, IP4_A, IP4_B);
    pkt_bytes(b, PAYLOAD, sizeof PAYLOAD);
}

static void expect_ethernet_ipv4_ospf(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x0800);
    (void)want_ipv4(w, cut, at, 89);
}

/* IPv4, AH (with 12 bytes of ICV), TCP: ip_proto stays the IPv4 header's 51,
 * the ports are read behind the AH. */
static void build_ethernet_ipv4_ah_tcp(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4(b, 51, IP4_A, IP4_B);
    pkt_ah(b, 6, 3);
    pkt_tcp(b, 179, 34567, TCP_ACK);
}

static void expect_ethernet_ipv4_ah_tcp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x0800);
    if ((at = want_ipv4(w, cut, at, 51)) && (at = want_ah(w, cut, at, 24, 6, 0)))
        want_tcp(w, cut, at, 179, 34567, TCP_ACK, 20);
}

static void build_ethernet_ipv4_first_fragment(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4_fragment(b, 17, IP4_A, IP4_B, 0, 1);
    pkt_udp(b, 5000, 6000);
    pkt_bytes(b, PAYLOAD, sizeof PAYLOAD);
}

static void expect_ethernet_ipv4_first_fragment(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x0800);
    if ((at = want_ipv4_at(w, cut, at, 20, 17, 1, 0)))
        want_udp(w, cut, at, 5000, 6000);
}

/* A later fragment: its bytes are the middle of the datagram, not UDP. */
static void build_ethernet_ipv4_later_fragment(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4_fragment(b, 17, IP4_A, IP4_B, 185, 1);
    pkt_udp(b, 5000, 6000); /* bytes that look like UDP */
}

static void expect_ethernet_ipv4_later_fragment(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x0800);
    (void)want_ipv4_at(w, cut, at, 20, 17, 1, 1);
}

static void build_ethernet_ipv6_tcp(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(b, 6, IP6_A, IP6_B);
    pkt_tcp(b, 50000, 80, TCP_FIN | TCP_ACK);
}

static void expect_ethernet_ipv6_tcp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x86dd);
    if ((at = want_ipv6(w, cut, at, 6)))
        want_tcp(w, cut, at, 50000, 80, TCP_FIN | TCP_ACK, 20);
}

static void build_ethernet_ipv6_icmpv6(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(b, 58, IP6_A, IP6_B);
    pkt_icmp(b, 135, 0);
    pkt_bytes(b, IP6_B, 16);
}

static void expect_ethernet_ipv6_icmpv6(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x86dd);
    if ((at = want_ipv6(w, cut, at, 58)))
        want_icmp(w, cut, at, "ICMPv6", 135, 0);
}

/* Hop-by-hop (8 bytes), routing (24), destination options (16), AH (16),
 * then UDP: ip_proto is the final 17. */
static void build_ethernet_ipv6_extensions_udp(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(b, 0, IP6_A, IP6_B);
    pkt_ipv6_extension(b, 43, 0);
    pkt_ipv6_extension(b, 60, 2);
    pkt_ipv6_extension(b, 51, 1);
    pkt_ah(b, 17, 1);
    pkt_udp(b, 547, 546);
    pkt_bytes(b, PAYLOAD, sizeof PAYLOAD);
}

static void expect_ethernet_ipv6_extensions_udp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x86dd);
    if ((at = want_ipv6(w, cut, at, 0)) && (at = want_extension(w, cut, at, 8, 43)) &&
        (at = want_extension(w, cut, at, 24, 60)) && (at = want_extension(w, cut, at, 16, 51)) &&
        (at = want_ah(w, cut, at, 16, 17, 1)))
        want_udp(w, cut, at, 547, 546);
}

/* Destination options, then No Next Header: nothing follows. */
static void build_ethernet_ipv6_no_next_header(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(b, 60, IP6_A, IP6_B);
    pkt_ipv6_extension(b, 59, 0);
}

static void expect_ethernet_ipv6_no_next_header(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x86dd);
    if ((at = want_ipv6(w, cut, at, 60)))
        (void)want_extension(w, cut, at, 8, 59);
}

/* Hop-by-hop, then ESP: decoding stops at ESP. */
static void build_ethernet_ipv6_esp(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(b, 0, IP6_A, IP6_B);
    pkt_ipv6_extension(b, 50, 0);
    pkt_u32(b, 0x2000);
    pkt_u32(b, 9);
}

static void expect_ethernet_ipv6_esp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x86dd);
    if ((at = want_ipv6(w, cut, at, 0)) && want_extension(w, cut, at, 8, 50))
        want_protocol(w, "ESP");
}

/* AH followed by a protocol the decoder does not know: AH is the highest. */
static void build_ethernet_ipv6_ah_ospf(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(b, 51, IP6_A, IP6_B);
    pkt_ah(b, 89, 3);
    pkt_bytes(b, PAYLOAD, sizeof PAYLOAD);
}

static void expect_ethernet_ipv6_ah_ospf(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x86dd);
    if ((at = want_ipv6(w, cut, at, 51)))
        (void)want_ah(w, cut, at, 24, 89, 1);
}

static void build_ethernet_ipv6_first_fragment(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(b, 44, IP6_A, IP6_B);
    pkt_ipv6_fragment(b, 17, 0, 1);
    pkt_udp(b, 4500, 4500);
    pkt_bytes(b, PAYLOAD, sizeof PAYLOAD);
}

static void expect_ethernet_ipv6_first_fragment(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x86dd);
    if ((at = want_ipv6(w, cut, at, 44)) && (at = want_ipv6_fragment(w, cut, at, 17, 0)))
        want_udp(w, cut, at, 4500, 4500);
}

static void build_ethernet_ipv6_later_fragment(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(b, 44, IP6_A, IP6_B);
    pkt_ipv6_fragment(b, 17, 181, 0);
    pkt_udp(b, 4500, 4500); /* bytes that look like UDP */
}

static void expect_ethernet_ipv6_later_fragment(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x86dd);
    if ((at = want_ipv6(w, cut, at, 44)))
        (void)want_ipv6_fragment(w, cut, at, 17, 1);
}

static void build_ethernet_vlan_ipv4_udp(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x8100);
    pkt_vlan_tag(b, 42, 0x0800);
    pkt_ipv4(b, 17, IP4_A, IP4_B);
    pkt_udp(b, 123, 123);
}

static void expect_ethernet_vlan_ipv4_udp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)) || !(at = want_vlan(w, cut, at, 0x8100, 42)))
        return;
    want_ethertype(w, 0x0800);
    if ((at = want_ipv4(w, cut, at, 17)))
        want_udp(w, cut, at, 123, 123);
}

/* 802.1ad S-tag 100, 802.1Q C-tag 200: outer first. */
static void build_ethernet_qinq_ipv6_tcp(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x88a8);
    pkt_vlan_tag(b, 100, 0x8100);
    pkt_vlan_tag(b, 200, 0x86dd);
    pkt_ipv6(b, 6, IP6_A, IP6_B);
    pkt_tcp(b, 8080, 60000, TCP_RST);
}

static void expect_ethernet_qinq_ipv6_tcp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)) || !(at = want_vlan(w, cut, at, 0x88a8, 100)) ||
        !(at = want_vlan(w, cut, at, 0x8100, 200)))
        return;
    want_ethertype(w, 0x86dd);
    if ((at = want_ipv6(w, cut, at, 6)))
        want_tcp(w, cut, at, 8080, 60000, TCP_RST, 20);
}

/* Three tags (0x9100, 0x8100, 0x8100): the first two are recorded, the third
 * skipped. */
static void build_ethernet_three_tags_arp(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x9100);
    pkt_vlan_tag(b, 10, 0x8100);
    pkt_vlan_tag(b, 20, 0x8100);
    pkt_vlan_tag(b, 30, 0x0806);
    pkt_arp(b, 1, 0x0800, 6, 4, MAC_A, IP4_A, MAC_B, IP4_B);
}

static void expect_ethernet_three_tags_arp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)) || !(at = want_vlan(w, cut, at, 0x9100, 10)) ||
        !(at = want_vlan(w, cut, at, 0x8100, 20)) || !(at = want_vlan(w, cut, at, 0x8100, 30)))
        return;
    want_ethertype(w, 0x0806);
    want_arp(w, cut, at, 6, 1);
}

static void build_ethernet_mpls_ipv4_udp(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x8847);
    pkt_mpls(b, 16, 0);
    pkt_mpls(b, 17, 1);
    pkt_ipv4(b, 17, IP4_A, IP4_B);
    pkt_udp(b, 3503, 3503);
}

static void expect_ethernet_mpls_ipv4_udp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)) || !(at = want_mpls(w, cut, at, 0x8847, 2)))
        return;
    if ((at = want_ipv4(w, cut, at, 17)))
        want_udp(w, cut, at, 3503, 3503);
}

static void build_ethernet_mpls_multicast_ipv6_icmpv6(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x8848);
    pkt_mpls(b, 1000, 1);
    pkt_ipv6(b, 58, IP6_A, IP6_B);
    pkt_icmp(b, 128, 0);
}

static void expect_ethernet_mpls_multicast_ipv6_icmpv6(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)) || !(at = want_mpls(w, cut, at, 0x8848, 1)))
        return;
    if ((at = want_ipv6(w, cut, at, 58)))
        want_icmp(w, cut, at, "ICMPv6", 128, 0);
}

/* An Ethernet pseudowire under the label (first nibble 0): not guessed. */
static void build_ethernet_mpls_pseudowire(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x8847);
    pkt_mpls(b, 99, 1);
    pkt_u32(b, 0); /* control word */
    pkt_ethernet(b, MAC_A, MAC_B, 0x0800);
    pkt_ipv4(b, 17, IP4_A, IP4_B);
}

static void expect_ethernet_mpls_pseudowire(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if ((at = want_ethernet(w, cut, MAC_B, MAC_A)))
        (void)want_mpls(w, cut, at, 0x8847, 1);
}

static void build_ethernet_arp(pkt *b)
{
    static const uint8_t unknown[6] = { 0 };
    pkt_ethernet(b, MAC_B, MAC_A, 0x0806);
    pkt_arp(b, 1, 0x0800, 6, 4, MAC_A, IP4_A, unknown, IP4_B);
    pkt_zeros(b, 18); /* padding to 60 bytes */
}

static void expect_ethernet_arp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x0806);
    want_arp(w, cut, at, 6, 1);
}

/* RARP has ARP's layout; its addresses are read alike. A hardware type
 * other than Ethernet (IEEE 1394, 16-byte addresses) moves them. */
static void build_ethernet_rarp_ieee1394(pkt *b)
{
    static const uint8_t hw_a[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
    static const uint8_t hw_b[16] = { 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1 };
    pkt_ethernet(b, MAC_B, MAC_A, 0x8035);
    pkt_arp(b, 24, 0x0800, 16, 4, hw_a, IP4_A, hw_b, IP4_B);
}

static void expect_ethernet_rarp_ieee1394(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x8035);
    want_arp(w, cut, at, 16, 1);
}

/* ARP for a protocol that is not IPv4: no addresses. */
static void build_ethernet_arp_not_ipv4(pkt *b)
{
    static const uint8_t addr[4] = { 9, 9, 9, 9 };
    pkt_ethernet(b, MAC_B, MAC_A, 0x0806);
    pkt_arp(b, 1, 0x0801, 6, 4, MAC_A, addr, MAC_B, addr);
}

static void expect_ethernet_arp_not_ipv4(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x0806);
    want_arp(w, cut, at, 6, 0);
}

/* ATMARP (hardware type 19) lays its addresses out otherwise: not read. */
static void build_ethernet_atmarp(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x0806);
    pkt_arp(b, 19, 0x0800, 6, 4, MAC_A, IP4_A, MAC_B, IP4_B);
}

static void expect_ethernet_atmarp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (!(at = want_ethernet(w, cut, MAC_B, MAC_A)))
        return;
    want_ethertype(w, 0x0806);
    want_protocol(w, "ARP");
    w->flags |= F_ARP;
    (void)captured(w, cut, at, 8);
}

/* IEEE 802.3 with LLC (spanning tree): a length, no EtherType. */
static void build_ethernet_llc(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 38);
    pkt_u8(b, 0x42);
    pkt_u8(b, 0x42);
    pkt_u8(b, 0x03);
    pkt_zeros(b, 35);
}

static void expect_ethernet_llc(pktcap_summary *w, size_t cut, size_t len)
{
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (want_ethernet(w, cut, MAC_B, MAC_A))
        want_hex(w, 0);
}

/* The largest value that is still a length: 0x05ff. */
static void build_ethernet_vlan_llc(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x8100);
    pkt_vlan_tag(b, 7, 0x05ff);
    pkt_zeros(b, 10);
}

static void expect_ethernet_vlan_llc(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if ((at = want_ethernet(w, cut, MAC_B, MAC_A)) && want_vlan(w, cut, at, 0x8100, 7))
        want_hex(w, 0);
}

/* LLDP: an EtherType the decoder does not follow is the protocol, in hex. */
static void build_ethernet_lldp(pkt *b)
{
    pkt_ethernet(b, MAC_B, MAC_A, 0x88cc);
    pkt_zeros(b, 20);
}

static void expect_ethernet_lldp(pktcap_summary *w, size_t cut, size_t len)
{
    want_start(w, LINKTYPE_ETHERNET, cut, len);
    if (want_ethernet(w, cut, MAC_B, MAC_A))
        want_ethertype(w, 0x88cc);
}

/* Linux cooked v1 with a 6-byte address: the source MAC alone. */
static void build_linux_sll_ipv4_tcp(pkt *b)
{
    pkt_linux_sll(b, 1, MAC_A, 6, 0x0800);
    pkt_ipv4(b, 6, IP4_A, IP4_B);
    pkt_tcp(b, 33000, 22, TCP_ACK);
}

static void expect_linux_sll_ipv4_tcp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_LINUX_SLL, cut, len);
    if (!(at = want_linux_sll(w, cut, MAC_A, 6)))
        return;
    want_ethertype(w, 0x0800);
    if ((at = want_ipv4(w, cut, at, 6)))
        want_tcp(w, cut, at, 33000, 22, TCP_ACK, 20);
}

/* A tunnel device has no link-layer address: no MAC. */
static void build_linux_sll_no_address_ipv6_udp(pkt *b)
{
    pkt_linux_sll(b, 65534, NULL, 0, 0x86dd);
    pkt_ipv6(b, 17, IP6_A, IP6_B);
    pkt_udp(b, 51820, 51820);
}

static void expect_linux_sll_no_address_ipv6_udp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_LINUX_SLL, cut, len);
    if (!(at = want_linux_sll(w, cut, NULL, 0)))
        return;
    want_ethertype(w, 0x86dd);
    if ((at = want_ipv6(w, cut, at, 17)))
        want_udp(w, cut, at, 51820, 51820);
}

/* A VLAN tag kept in a cooked capture is followed like Ethernet's. */
static void build_linux_sll_vlan_ipv4_udp(pkt *b)
{
    pkt_linux_sll(b, 1, MAC_A, 6, 0x8100);
    pkt_vlan_tag(b, 5, 0x0800);
    pkt_ipv4(b, 17, IP4_A, IP4_B);
    pkt_udp(b, 67, 68);
}

static void expect_linux_sll_vlan_ipv4_udp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_LINUX_SLL, cut, len);
    if (!(at = want_linux_sll(w, cut, MAC_A, 6)) || !(at = want_vlan(w, cut, at, 0x8100, 5)))
        return;
    want_ethertype(w, 0x0800);
    if ((at = want_ipv4(w, cut, at, 17)))
        want_udp(w, cut, at, 67, 68);
}

/* Linux protocol numbers below 0x600 (here ETH_P_802_2) are no EtherType. */
static void build_linux_sll_llc(pkt *b)
{
    pkt_linux_sll(b, 1, MAC_A, 6, 0x0004);
    pkt_u8(b, 0x42);
    pkt_u8(b, 0x42);
    pkt_u8(b, 0x03);
    pkt_zeros(b, 10);
}

static void expect_linux_sll_llc(pktcap_summary *w, size_t cut, size_t len)
{
    want_start(w, LINKTYPE_LINUX_SLL, cut, len);
    if (want_linux_sll(w, cut, MAC_A, 6))
        want_hex(w, 0);
}

static void build_linux_sll2_ipv4_udp(pkt *b)
{
    pkt_linux_sll2(b, 0x0800, 1, MAC_B, 6);
    pkt_ipv4(b, 17, IP4_A, IP4_B);
    pkt_udp(b, 514, 514);
}

static void expect_linux_sll2_ipv4_udp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_LINUX_SLL2, cut, len);
    if (!(at = want_linux_sll2(w, cut, MAC_B, 6)))
        return;
    want_ethertype(w, 0x0800);
    if ((at = want_ipv4(w, cut, at, 17)))
        want_udp(w, cut, at, 514, 514);
}

/* An IP-over-GRE device's 4-byte address is not a MAC. */
static void build_linux_sll2_ipgre_ipv6_tcp(pkt *b)
{
    pkt_linux_sll2(b, 0x86dd, 778, IP4_A, 4);
    pkt_ipv6(b, 6, IP6_A, IP6_B);
    pkt_tcp(b, 179, 179, TCP_PSH | TCP_ACK);
}

static void expect_linux_sll2_ipgre_ipv6_tcp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_LINUX_SLL2, cut, len);
    if (!(at = want_linux_sll2(w, cut, IP4_A, 4)))
        return;
    want_ethertype(w, 0x86dd);
    if ((at = want_ipv6(w, cut, at, 6)))
        want_tcp(w, cut, at, 179, 179, TCP_PSH | TCP_ACK, 20);
}

/* Raw IP (LINKTYPE_RAW): the version nibble picks the protocol. */
static void build_raw_ipv4_udp(pkt *b)
{
    pkt_ipv4(b, 17, IP4_A, IP4_B);
    pkt_udp(b, 161, 162);
}

static void expect_raw_ipv4_udp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_RAW, cut, len);
    if (captured(w, cut, 0, 1) && (at = want_ipv4(w, cut, 0, 17)))
        want_udp(w, cut, at, 161, 162);
}

static void build_raw_ipv6_tcp(pkt *b)
{
    pkt_ipv6(b, 6, IP6_A, IP6_B);
    pkt_tcp(b, 443, 41000, TCP_SYN | TCP_ACK);
}

static void expect_raw_ipv6_tcp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_RAW, cut, len);
    if (captured(w, cut, 0, 1) && (at = want_ipv6(w, cut, 0, 6)))
        want_tcp(w, cut, at, 443, 41000, TCP_SYN | TCP_ACK, 20);
}

static void build_linktype_ipv4_icmp(pkt *b)
{
    pkt_ipv4(b, 1, IP4_A, IP4_B);
    pkt_icmp(b, 0, 0);
}

static void expect_linktype_ipv4_icmp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_IPV4, cut, len);
    if ((at = want_ipv4(w, cut, 0, 1)))
        want_icmp(w, cut, at, "ICMP", 0, 0);
}

static void build_linktype_ipv6_sctp(pkt *b)
{
    pkt_ipv6(b, 132, IP6_A, IP6_B);
    pkt_sctp(b, 36412, 36412);
}

static void expect_linktype_ipv6_sctp(pktcap_summary *w, size_t cut, size_t len)
{
    size_t at;
    want_start(w, LINKTYPE_IPV6, cut, len);
    if ((at = want_ipv6(w, cut, 0, 132)))
        want_sctp(w, cut, at, 36412, 36412);
}

/* BSD loopback: NULL in either byte order, LOOP in network order. */
static void build_null_ipv4_little_endian(pkt *b)
{
    pkt_bsd_family(b, 2, 1);
    pkt_ipv4(b, 17, IP4_A, IP4_B);
    pkt_udp(b, 53, 53);
}

static void expect_bsd_ipv4_udp(pktcap_summary *w, uint32_t linktype, size_t cut, size_t len)
{
    size_t at;
    want_start(w, linktype, cut, len);
    if (captured(w, cut, 0, 4) && (at = want_ipv4(w, cut, 4, 17)))
        want_udp(w, cut, at, 53, 53);
}

static void expect_null_ipv4_little_endian(pktcap_summary *w, size_t cut, size_t len)
{
    expect_bsd_ipv4_udp(w, LINKTYPE_NULL, cut, len);
}

static void build_null_ipv4_big_endian(pkt *b)
{
    pkt_bsd_family(b, 2, 0);
    pkt_ipv4(b, 17, IP4_A, IP4_B);
    pkt_udp(b, 53, 53);
}

static void expect_null_ipv4_big_endian(pktcap_summary *w, size_t cut, size_t len)
{
    expect_bsd_ipv4_udp(w, LINKTYPE_NULL, cut, len);
}

static void expect_bsd_ipv6_tcp(pktcap_summary *w, uint32_t linktype, size_t cut, size_t len)
{
    size_t at;
    want_start(w, linktype, cut, len);
    if (captured(w, cut, 0, 4) && (at = want_ipv6(w, cut, 4, 6)))
        want_tcp(w, cut, at, 631, 50000, TCP_ACK, 20);
}

/* AF_INET6 as NetBSD/OpenBSD (24), FreeBSD (28) and Darwin (30) number it. */
static void build_null_ipv6_24_big_endian(pkt *b)
{
    pkt_bsd_family(b, 24, 0);
    pkt_ipv6(b, 6, IP6_A, IP6_B);
    pkt_tcp(b, 631, 50000, TCP_ACK);
}

static void expect_null_ipv6(pktcap_summary *w, size_t cut, size_t len)
{
    expect_bsd_ipv6_tcp(w, LINKTYPE_NULL, cut, len);
}

static void build_null_ipv6_28_little_endian(pkt *b)
{
    pkt_bsd_family(b, 28, 1);
    pkt_ipv6(b, 6, IP6_A, IP6_B);
    pkt_tcp(b, 631, 50000, TCP_ACK);
}

static void build_null_ipv6_30_little_endian(pkt *b)
{
    pkt_bsd_family(b, 30, 1);
    pkt_ipv6(b, 6, IP6_A, IP6_B);
    pkt_tcp(b, 631, 50000, TCP_ACK);
}

/* A family that is not IP (here Linux's AF_INET6, 10, which BSD loopback
 * never writes): nothing is decoded, and that is no fault. */
static void build_null_other_family(pkt *b)
{
    pkt_bsd_family(b, 10, 1);
    pkt_ipv6(b, 6, IP6_A, IP6_B);
}

static void expect_null_other_family(pktcap_summary *w, size_t cut, size_t len)
{
    want_start(w, LINKTYPE_NULL, cut, len);
    (void)captured(w, cut, 0, 4);
}

static void build_loop_ipv4_udp(pkt *b)
{
    pkt_bsd_family(b, 2, 0);
    pkt_ipv4(b, 17, IP4_A, IP4_B);
    pkt_udp(b, 53, 53);
}

static void expect_loop_ipv4_udp(pktcap_summary *w, size_t cut, size_t len)
{
    expect_bsd_ipv4_udp(w, LINKTYPE_LOOP, cut, len);
}

static void build_loop_ipv6_tcp(pkt *b)
{
    pkt_bsd_family(b, 24, 0);
    pkt_ipv6(b, 6, IP6_A, IP6_B);
    pkt_tcp(b, 631, 50000, TCP_ACK);
}

static void expect_loop_ipv6_tcp(pktcap_summary *w, size_t cut, size_t len)
{
    expect_bsd_ipv6_tcp(w, LINKTYPE_LOOP, cut, len);
}

/* LOOP is always in network order: a little-endian 2 is family 0x02000000. */
static void build_loop_little_endian_family(pkt *b)
{
    pkt_bsd_family(b, 2, 1);
    pkt_ipv4(b, 17, IP4_A, IP4_B);
}

static void expect_loop_little_endian_family(pktcap_summary *w, size_t cut, size_t len)
{
    want_start(w, LINKTYPE_LOOP, cut, len);
    (void)captured(w, cut, 0, 4);
}

#define CASE(name, linktype) { #name, linktype, build_##name, expect_##name }

static const packet_case catalog[] = {
    CASE(ethernet_ipv4_tcp, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv4_options_tcp_options, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv4_udp, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv4_icmp, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv4_icmp_error, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv4_sctp, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv4_igmp, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv4_gre, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv4_esp, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv4_ospf, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv4_ah_tcp, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv4_first_fragment, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv4_later_fragment, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv6_tcp, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv6_icmpv6, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv6_extensions_udp, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv6_no_next_header, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv6_esp, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv6_ah_ospf, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv6_first_fragment, LINKTYPE_ETHERNET),
    CASE(ethernet_ipv6_later_fragment, LINKTYPE_ETHERNET),
    CASE(ethernet_vlan_ipv4_udp, LINKTYPE_ETHERNET),
    CASE(ethernet_qinq_ipv6_tcp, LINKTYPE_ETHERNET),
    CASE(ethernet_three_tags_arp, LINKTYPE_ETHERNET),
    CASE(ethernet_mpls_ipv4_udp, LINKTYPE_ETHERNET),
    CASE(ethernet_mpls_multicast_ipv6_icmpv6, LINKTYPE_ETHERNET),
    CASE(ethernet_mpls_pseudowire, LINKTYPE_ETHERNET),
    CASE(ethernet_arp, LINKTYPE_ETHERNET),
    CASE(ethernet_rarp_ieee1394, LINKTYPE_ETHERNET),
    CASE(ethernet_arp_not_ipv4, LINKTYPE_ETHERNET),
    CASE(ethernet_atmarp, LINKTYPE_ETHERNET),
    CASE(ethernet_llc, LINKTYPE_ETHERNET),
    CASE(ethernet_vlan_llc, LINKTYPE_ETHERNET),
    CASE(ethernet_lldp, LINKTYPE_ETHERNET),
    CASE(linux_sll_ipv4_tcp, LINKTYPE_LINUX_SLL),
    CASE(linux_sll_no_address_ipv6_udp, LINKTYPE_LINUX_SLL),
    CASE(linux_sll_vlan_ipv4_udp, LINKTYPE_LINUX_SLL),
    CASE(linux_sll_llc, LINKTYPE_LINUX_SLL),
    CASE(linux_sll2_ipv4_udp, LINKTYPE_LINUX_SLL2),
    CASE(linux_sll2_ipgre_ipv6_tcp, LINKTYPE_LINUX_SLL2),
    CASE(raw_ipv4_udp, LINKTYPE_RAW),
    CASE(raw_ipv6_tcp, LINKTYPE_RAW),
    CASE(linktype_ipv4_icmp, LINKTYPE_IPV4),
    CASE(linktype_ipv6_sctp, LINKTYPE_IPV6),
    CASE(null_ipv4_little_endian, LINKTYPE_NULL),
    CASE(null_ipv4_big_endian, LINKTYPE_NULL),
    { "null_ipv6_24_big_endian", LINKTYPE_NULL, build_null_ipv6_24_big_endian, expect_null_ipv6 },
    { "null_ipv6_28_little_endian", LINKTYPE_NULL, build_null_ipv6_28_little_endian,
      expect_null_ipv6 },
    { "null_ipv6_30_little_endian", LINKTYPE_NULL, build_null_ipv6_30_little_endian,
      expect_null_ipv6 },
    CASE(null_other_family, LINKTYPE_NULL),
    CASE(loop_ipv4_udp, LINKTYPE_LOOP),
    CASE(loop_ipv6_tcp, LINKTYPE_LOOP),
    CASE(loop_little_endian_family, LINKTYPE_LOOP),
};

#define CATALOG_SIZE (sizeof catalog / sizeof catalog[0])

static void build_case(const packet_case *c, pkt *b)
{
    pkt_init(b);
    c->build(b);
    pkt_finish(b);
}

/* The whole packet: every field as the expectation says. */
static void test_case_whole(void **state)
{
    const packet_case *c = *state;
    pkt b;
    pktcap_summary got, want;
    char what[128];
    build_case(c, &b);
    c->expect(&want, b.len, b.len);
    snprintf(what, sizeof what, "%s (whole, %zu bytes)", c->name, b.len);
    assert_int_equal(summarize(&got, c->linktype, b.data, b.len, b.len), 0);
    assert_summary(&got, &want, what);
    assert_int_equal(got.flags & (F_TRUNCATED | F_MALFORMED), 0);
}

/* Cut at every byte offset: what the cut leaves, TRUNCATED when it falls in
 * a header, never a read past caplen. */
static void test_case_every_cut(void **state)
{
    const packet_case *c = *state;
    pkt b;
    pktcap_summary got, want;
    char what[128];
    build_case(c, &b);
    for (size_t cut = 0; cut < b.len; cut++) {
        c->expect(&want, cut, b.len);
        snprintf(what, sizeof what, "%s cut at %zu of %zu bytes", c->name, cut, b.len);
        assert_int_equal(summarize(&got, c->linktype, b.data, cut, b.len), 0);
        assert_summary(&got, &want, what);
        assert_int_equal(got.flags & F_MALFORMED, 0);
    }
}

/* --- whole packets, spelled out ---------------------------------------------------
 * Two catalog entries with every expected value written as a literal, so
 * that the expectation helpers are checked too. */

static void test_ethernet_ipv4_tcp_spelled_out(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    build_case(&catalog[0], &b);
    assert_int_equal(b.len, 60);
    assert_int_equal(summarize(&s, LINKTYPE_ETHERNET, b.data, b.len, b.len), 0);
    assert_int_equal(s.struct_size, sizeof s);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS);
    assert_int_equal(s.number, 0);
    assert_int_equal(s.ts_sec, 1700000000);
    assert_int_equal(s.ts_nsec, 123456789);
    assert_int_equal(s.time_digits, 9);
    assert_int_equal(s.linktype, 1);
    assert_int_equal(s.wire_len, 60);
    assert_int_equal(s.cap_len, 60);
    assert_int_equal(s.ethertype, 0x0800);
    assert_int_equal(s.vlan_count, 0);
    assert_int_equal(s.vlan[0], 0);
    assert_int_equal(s.vlan[1], 0);
    assert_int_equal(s.mpls_count, 0);
    assert_memory_equal(s.src_mac, "\x02\x00\x00\xaa\xaa\x01", 6);
    assert_memory_equal(s.dst_mac, "\x02\x00\x00\xbb\xbb\x02", 6);
    assert_int_equal(s.ip_version, 4);
    assert_int_equal(s.ip_proto, 6);
    assert_memory_equal(s.src_ip, "\xc0\x00\x02\x01\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    assert_memory_equal(s.dst_ip, "\xc6\x33\x64\x02\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    assert_int_equal(s.src_port, 40000);
    assert_int_equal(s.dst_port, 443);
    assert_int_equal(s.icmp_type, 0);
    assert_int_equal(s.icmp_code, 0);
    assert_int_equal(s.tcp_flags, 0x02);
    assert_int_equal(s.reserved, 0);
    assert_memory_equal(s.protocol, "TCP\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
}

static void test_qinq_ipv6_tcp_spelled_out(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    pkt_init(&b);
    build_ethernet_qinq_ipv6_tcp(&b);
    pkt_finish(&b);
    assert_int_equal(summarize(&s, LINKTYPE_ETHERNET, b.data, b.len, b.len), 0);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS);
    assert_int_equal(s.ethertype, 0x86dd);
    assert_int_equal(s.vlan_count, 2);
    assert_int_equal(s.vlan[0], 100);
    assert_int_equal(s.vlan[1], 200);
    assert_int_equal(s.ip_version, 6);
    assert_int_equal(s.ip_proto, 6);
    assert_memory_equal(s.src_ip, IP6_A, 16);
    assert_memory_equal(s.dst_ip, IP6_B, 16);
    assert_int_equal(s.src_port, 8080);
    assert_int_equal(s.dst_port, 60000);
    assert_int_equal(s.tcp_flags, 0x04);
    assert_string_equal(s.protocol, "TCP");
}

/* --- malformed packets (captured whole) -------------------------------------- */

static void decode_whole(pktcap_summary *s, uint32_t linktype, const pkt *b)
{
    assert_int_equal(summarize(s, linktype, b->data, b->len, b->len), 0);
}

static void build_ethernet_ipv4(pkt *b, unsigned proto)
{
    pkt_init(b);
    pkt_ethernet(b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4(b, proto, IP4_A, IP4_B);
}

static void test_ipv4_header_length_below_5_is_malformed(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    build_ethernet_ipv4(&b, 17);
    pkt_udp(&b, 1, 2);
    pkt_finish(&b);
    b.data[14] = 0x44;
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_MALFORMED);
    assert_int_equal(s.ethertype, 0x0800);
    assert_string_equal(s.protocol, "IPv4");
    assert_int_equal(s.ip_version, 0);
    assert_int_equal(s.ip_proto, 0);
    assert_int_equal(s.src_port, 0);
}

static void test_ipv4_total_length_below_header_is_malformed(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    build_ethernet_ipv4(&b, 17);
    pkt_udp(&b, 1, 2);
    pkt_finish(&b);
    pkt_put16(&b, 16, 19);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_MALFORMED);
    assert_string_equal(s.protocol, "IPv4");
    assert_int_equal(s.ip_version, 0);

    /* With options, the header is 24 bytes: 23 is too short too. */
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4_options(&b, 17, IP4_A, IP4_B, 1);
    pkt_udp(&b, 1, 2);
    pkt_finish(&b);
    pkt_put16(&b, 16, 23);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_MALFORMED);
}

/* A total length of 0 comes from segmentation offload: the rest of the
 * frame is the datagram (as tshark and tcpdump read it). */
static void test_ipv4_total_length_0_reads_the_frame(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    build_ethernet_ipv4(&b, 6);
    pkt_tcp(&b, 1, 2, TCP_ACK);
    pkt_finish(&b);
    pkt_put16(&b, 16, 0);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS);
    assert_int_equal(s.src_port, 1);
    assert_int_equal(s.tcp_flags, TCP_ACK);

    /* ... and a cut capture of such a frame is truncated, not malformed. */
    assert_int_equal(summarize(&s, LINKTYPE_ETHERNET, b.data, 40, b.len), 0);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS | F_TRUNCATED);
}

static void test_ipv4_total_length_beyond_the_frame_is_malformed(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    build_ethernet_ipv4(&b, 17);
    pkt_udp(&b, 1, 2);
    pkt_finish(&b);
    pkt_put16(&b, 16, 200);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS | F_MALFORMED);
    assert_int_equal(s.src_port, 1);

    /* The same length in a capture cut short, whose frame was long enough:
     * only truncated. */
    assert_int_equal(summarize(&s, LINKTYPE_ETHERNET, b.data, b.len, 14 + 200), 0);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS);
    /* ... and one whose frame was not: malformed still. */
    assert_int_equal(summarize(&s, LINKTYPE_ETHERNET, b.data, b.len, 14 + 198), 0);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS | F_MALFORMED);
}

/* Ethernet pads short frames to 60 bytes: bytes after the datagram are no
 * part of it, and no fault. */
static void test_ethernet_padding_after_the_datagram_is_ignored(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    build_ethernet_ipv4(&b, 17);
    pkt_udp(&b, 7, 9);
    pkt_finish(&b);
    pkt_zeros(&b, 18);
    assert_int_equal(b.len, 60);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS);
    assert_int_equal(s.dst_port, 9);
}

/* A datagram length that ends inside the transport header contradicts it:
 * MALFORMED, even though the bytes are there. */
static void test_ipv4_length_cutting_the_tcp_header_is_malformed(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    build_ethernet_ipv4(&b, 6);
    pkt_tcp(&b, 1000, 2000, TCP_SYN);
    pkt_finish(&b);
    pkt_put16(&b, 16, 20 + 10);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS | F_MALFORMED);
    assert_int_equal(s.src_port, 1000);
    assert_int_equal(s.tcp_flags, 0);
    assert_string_equal(s.protocol, "TCP");

    /* In a cut capture too: the length field, not the cut, ends it. */
    assert_int_equal(summarize(&s, LINKTYPE_ETHERNET, b.data, b.len - 2, b.len), 0);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS | F_MALFORMED);
}

static void test_ipv6_extension_header_past_the_packet_is_malformed(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(&b, 0, IP6_A, IP6_B);
    pkt_ipv6_extension(&b, 17, 0);
    pkt_udp(&b, 1, 2);
    pkt_finish(&b);
    b.data[14 + 40 + 1] = 10; /* 88 bytes of hop-by-hop, where 16 remain */
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_MALFORMED);
    assert_int_equal(s.ip_version, 6);
    assert_int_equal(s.ip_proto, 0);
    assert_string_equal(s.protocol, "IPv6");

    /* Past the payload length, though the frame holds it. */
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(&b, 60, IP6_A, IP6_B);
    pkt_ipv6_extension(&b, 6, 1);
    pkt_tcp(&b, 1, 2, TCP_SYN);
    pkt_finish(&b);
    pkt_put16(&b, 14 + 4, 8);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_MALFORMED);
    assert_int_equal(s.ip_proto, 60);
}

/* An IPv6 payload length of 0 means an empty payload (tshark reads it so),
 * unless a hop-by-hop header follows: a jumbogram, read to the frame's end. */
static void test_ipv6_payload_length_0(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(&b, 17, IP6_A, IP6_B);
    pkt_udp(&b, 1, 2);
    pkt_finish(&b);
    pkt_put16(&b, 14 + 4, 0);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_MALFORMED);
    assert_string_equal(s.protocol, "UDP");

    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(&b, 0, IP6_A, IP6_B);
    pkt_u8(&b, 17); /* hop-by-hop with a Jumbo Payload option */
    pkt_u8(&b, 0);
    pkt_u8(&b, 0xc2);
    pkt_u8(&b, 4);
    pkt_u32(&b, 40);
    pkt_udp(&b, 3, 4);
    pkt_finish(&b);
    pkt_put16(&b, 14 + 4, 0);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS);
    assert_int_equal(s.ip_proto, 17);
    assert_int_equal(s.dst_port, 4);
}

static void test_tcp_data_offset_below_5_is_malformed(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    build_ethernet_ipv4(&b, 6);
    pkt_tcp(&b, 1000, 2000, TCP_SYN);
    pkt_finish(&b);
    b.data[14 + 20 + 12] = 4 << 4;
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS | F_MALFORMED);
    assert_int_equal(s.src_port, 1000);
    assert_int_equal(s.dst_port, 2000);
    assert_int_equal(s.tcp_flags, TCP_SYN);
}

static void test_tcp_data_offset_past_the_datagram_is_malformed(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    build_ethernet_ipv4(&b, 6);
    pkt_tcp(&b, 1000, 2000, TCP_ACK);
    pkt_finish(&b);
    b.data[14 + 20 + 12] = 15 << 4;
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS | F_MALFORMED);
    assert_int_equal(s.tcp_flags, TCP_ACK);
}

static void test_udp_length_below_8_is_malformed(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    build_ethernet_ipv4(&b, 17);
    pkt_udp(&b, 1000, 2000);
    pkt_finish(&b);
    pkt_put16(&b, 14 + 20 + 4, 4);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS | F_MALFORMED);
    assert_int_equal(s.src_port, 1000);
}

/* Where the link layer announced IPv4 or IPv6 and the version nibble says
 * otherwise, nothing more is decoded. */
static void test_wrong_version_nibble_is_malformed(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;

    /* EtherType IPv4, an IPv6 packet (tshark would try IPv6 behind a bogus
     * IPv4 layer). */
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x0800);
    pkt_ipv6(&b, 17, IP6_A, IP6_B);
    pkt_udp(&b, 1, 2);
    pkt_finish(&b);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_MALFORMED);
    assert_int_equal(s.ethertype, 0x0800);
    assert_string_equal(s.protocol, "IPv4");
    assert_int_equal(s.ip_version, 0);

    /* EtherType IPv6, an IPv4 packet. */
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv4(&b, 17, IP4_A, IP4_B);
    pkt_udp(&b, 1, 2);
    pkt_finish(&b);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_MALFORMED);
    assert_string_equal(s.protocol, "IPv6");

    /* LINKTYPE_IPV4 and LINKTYPE_IPV6 likewise. */
    pkt_init(&b);
    pkt_ipv6(&b, 17, IP6_A, IP6_B);
    pkt_finish(&b);
    decode_whole(&s, LINKTYPE_IPV4, &b);
    assert_int_equal(s.flags, F_MALFORMED);
    assert_string_equal(s.protocol, "IPv4");
    pkt_init(&b);
    pkt_ipv4(&b, 17, IP4_A, IP4_B);
    pkt_finish(&b);
    decode_whole(&s, LINKTYPE_IPV6, &b);
    assert_int_equal(s.flags, F_MALFORMED);
    assert_string_equal(s.protocol, "IPv6");

    /* Raw IP whose nibble is neither 4 nor 6: no protocol at all. */
    pkt_init(&b);
    pkt_ipv4(&b, 17, IP4_A, IP4_B);
    pkt_finish(&b);
    b.data[0] = 0x55;
    decode_whole(&s, LINKTYPE_RAW, &b);
    assert_int_equal(s.flags, F_MALFORMED);
    assert_string_equal(s.protocol, "");

    /* A BSD loopback family 2 carrying version 5. */
    pkt_init(&b);
    pkt_bsd_family(&b, 2, 1);
    pkt_ipv4(&b, 17, IP4_A, IP4_B);
    pkt_finish(&b);
    b.data[4] = 0x55;
    decode_whole(&s, LINKTYPE_NULL, &b);
    assert_int_equal(s.flags, F_MALFORMED);
    assert_string_equal(s.protocol, "IPv4");
}

/* A frame captured whole but shorter than its own headers is malformed, not
 * truncated: nothing was lost in the capture. */
static void test_runt_frames_captured_whole_are_malformed(void **state)
{
    (void)state;
    pktcap_summary s;
    static const uint8_t ten[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    assert_int_equal(summarize(&s, LINKTYPE_ETHERNET, ten, 10, 10), 0);
    assert_int_equal(s.flags, F_MALFORMED);
    assert_string_equal(s.protocol, "");
    assert_int_equal(summarize(&s, LINKTYPE_ETHERNET, NULL, 0, 0), 0);
    assert_int_equal(s.flags, F_MALFORMED);

    pkt b;
    build_ethernet_ipv4(&b, 6);
    pkt_u16(&b, 80);
    pkt_finish(&b);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_MALFORMED);
    assert_string_equal(s.protocol, "TCP");
}

/* A record whose caplen exceeds its len (a broken file): the captured bytes
 * are decoded, and running out of them is a malformation, not a cut. */
static void test_caplen_above_len(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    build_ethernet_ipv4(&b, 17);
    pkt_udp(&b, 1, 2);
    pkt_finish(&b);
    assert_int_equal(summarize(&s, LINKTYPE_ETHERNET, b.data, b.len, 20), 0);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS);
    assert_int_equal(s.wire_len, 20);
    assert_int_equal(s.cap_len, b.len);
    assert_int_equal(s.dst_port, 2);
    assert_int_equal(summarize(&s, LINKTYPE_ETHERNET, b.data, b.len - 6, 20), 0);
    assert_int_equal(s.flags, F_MAC | F_IP | F_MALFORMED);
}

/* --- fragments ----------------------------------------------------------------- */

static void test_ipv4_fragments(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;

    /* The first fragment (MF, offset 0) has the ports. */
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4_fragment(&b, 17, IP4_A, IP4_B, 0, 1);
    pkt_udp(&b, 5000, 6000);
    pkt_finish(&b);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS | F_FRAGMENT);
    assert_int_equal(s.src_port, 5000);
    assert_string_equal(s.protocol, "UDP");

    /* A middle one (MF, offset 185) does not. */
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4_fragment(&b, 17, IP4_A, IP4_B, 185, 1);
    pkt_udp(&b, 5000, 6000);
    pkt_finish(&b);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_FRAGMENT);
    assert_int_equal(s.ip_proto, 17);
    assert_int_equal(s.src_port, 0);
    assert_string_equal(s.protocol, "IPv4");

    /* Nor the last (no MF, offset 370). */
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4_fragment(&b, 6, IP4_A, IP4_B, 370, 0);
    pkt_tcp(&b, 1, 2, TCP_SYN);
    pkt_finish(&b);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_FRAGMENT);
    assert_int_equal(s.tcp_flags, 0);

    /* Don't Fragment alone is no fragment. */
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x0800);
    pkt_ipv4(&b, 17, IP4_A, IP4_B);
    pkt_udp(&b, 5000, 6000);
    pkt_finish(&b);
    pkt_put16(&b, 14 + 6, 0x4000);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS);
}

static void test_ipv6_fragment_header(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;

    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(&b, 44, IP6_A, IP6_B);
    pkt_ipv6_fragment(&b, 6, 0, 1);
    pkt_tcp(&b, 80, 9000, TCP_ACK);
    pkt_finish(&b);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS | F_FRAGMENT);
    assert_int_equal(s.ip_proto, 6);
    assert_int_equal(s.src_port, 80);

    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(&b, 0, IP6_A, IP6_B);
    pkt_ipv6_extension(&b, 44, 0);
    pkt_ipv6_fragment(&b, 6, 1, 0);
    pkt_tcp(&b, 80, 9000, TCP_ACK);
    pkt_finish(&b);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_FRAGMENT);
    assert_int_equal(s.ip_proto, 6);
    assert_int_equal(s.src_port, 0);
    assert_string_equal(s.protocol, "IPv6");

    /* An atomic fragment (offset 0, no MF) is still a Fragment header. */
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x86dd);
    pkt_ipv6(&b, 44, IP6_A, IP6_B);
    pkt_ipv6_fragment(&b, 17, 0, 0);
    pkt_udp(&b, 1, 2);
    pkt_finish(&b);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS | F_FRAGMENT);
}

/* --- MPLS, tags, link types ------------------------------------------------------ */

static void test_mpls_count_saturates(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    pkt_init(&b);
    pkt_ethernet(&b, MAC_B, MAC_A, 0x8847);
    for (int i = 0; i < 100; i++)
        pkt_mpls(&b, (uint32_t)i + 16, i == 99);
    pkt_ipv4(&b, 17, IP4_A, IP4_B);
    pkt_udp(&b, 1, 2);
    pkt_finish(&b);
    decode_whole(&s, LINKTYPE_ETHERNET, &b);
    assert_int_equal(s.mpls_count, 100);
    assert_int_equal(s.flags, F_MAC | F_IP | F_PORTS);
    assert_int_equal(s.ethertype, 0x8847);
}

static void test_unknown_link_type_sets_only_lengths_and_time(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    build_ethernet_ipv4(&b, 17);
    pkt_udp(&b, 1, 2);
    pkt_finish(&b);
    const uint32_t linktypes[] = { 105, 127, 12, 2, 65535, 0xffffffffu };
    for (size_t i = 0; i < sizeof linktypes / sizeof linktypes[0]; i++) {
        pktcap_summary want;
        want_start(&want, linktypes[i], b.len, b.len + 3);
        want.flags = F_UNKNOWN;
        assert_int_equal(summarize(&s, linktypes[i], b.data, b.len, b.len + 3), 0);
        assert_summary(&s, &want, "unknown link type");
    }
}

/* --- the API ------------------------------------------------------------------------ */

static pktcap_packet sample_packet(const pkt *b)
{
    pktcap_packet p;
    memset(&p, 0, sizeof p);
    p.struct_size = sizeof p;
    p.linktype = LINKTYPE_ETHERNET;
    p.caplen = p.len = (uint32_t)b->len;
    p.data = b->data;
    return p;
}

static void test_null_arguments_are_invalid(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    build_ethernet_ipv4(&b, 17);
    pktcap_packet p = sample_packet(&b);
    s.struct_size = sizeof s;
    assert_int_equal(pktcap_summarize(NULL, &p), PKTCAP_E_INVAL);
    assert_non_null(strstr(pktcap_error_message(pktcap_error_last()), "summary"));
    assert_int_equal(pktcap_summarize(&s, NULL), PKTCAP_E_INVAL);
    assert_non_null(strstr(pktcap_error_message(pktcap_error_last()), "packet"));
    assert_int_equal(pktcap_summarize(NULL, NULL), PKTCAP_E_INVAL);

    /* Bytes promised but no pointer to them. */
    p.data = NULL;
    assert_int_equal(pktcap_summarize(&s, &p), PKTCAP_E_INVAL);
    assert_non_null(strstr(pktcap_error_message(pktcap_error_last()), "NULL"));
    /* No bytes, no pointer: an empty packet. */
    p.caplen = 0;
    assert_int_equal(pktcap_summarize(&s, &p), 0);
    assert_int_equal(s.flags, F_TRUNCATED);
}

static void test_struct_size_below_the_first_version_is_invalid(void **state)
{
    (void)state;
    pkt b;
    build_ethernet_ipv4(&b, 17);
    pkt_finish(&b);
    pktcap_packet p = sample_packet(&b);
    const uint32_t sizes[] = { 0, 4, 8, 100, (uint32_t)SUMMARY_V1_END - 1 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        pktcap_summary s, before;
        memset(&s, 0x5a, sizeof s);
        s.struct_size = sizes[i];
        before = s;
        assert_int_equal(pktcap_summarize(&s, &p), PKTCAP_E_INVAL);
        assert_non_null(strstr(pktcap_error_message(pktcap_error_last()), "struct_size"));
        assert_memory_equal(&s, &before, sizeof s); /* untouched on failure */
    }
}

/* A caller of the first version may pass the end of its last field rather
 * than sizeof (which adds tail padding): accepted, and nothing past it is
 * written. A caller built against a later, longer struct is accepted too,
 * and what this version does not know stays as it was. */
static void test_struct_size_bounds_what_is_written(void **state)
{
    (void)state;
    pkt b;
    build_ethernet_ipv4(&b, 17);
    pkt_udp(&b, 1, 2);
    pkt_finish(&b);
    pktcap_packet p = sample_packet(&b);

    union {
        pktcap_summary s;
        uint8_t bytes[sizeof(pktcap_summary) + 64];
    } u;
    memset(&u, 0x5a, sizeof u);
    u.s.struct_size = (uint32_t)SUMMARY_V1_END;
    assert_int_equal(pktcap_summarize(&u.s, &p), 0);
    assert_int_equal(u.s.struct_size, SUMMARY_V1_END);
    assert_int_equal(u.s.flags, F_MAC | F_IP | F_PORTS);
    assert_string_equal(u.s.protocol, "UDP");
    for (size_t i = SUMMARY_V1_END; i < sizeof u.bytes; i++)
        assert_int_equal(u.bytes[i], 0x5a);

    memset(&u, 0x5a, sizeof u);
    u.s.struct_size = (uint32_t)sizeof u.bytes;
    assert_int_equal(pktcap_summarize(&u.s, &p), 0);
    assert_int_equal(u.s.struct_size, sizeof u.bytes);
    assert_int_equal(u.s.dst_port, 2);
    for (size_t i = SUMMARY_V1_END; i < sizeof u.bytes; i++)
        assert_int_equal(u.bytes[i], 0x5a);
}

static void test_packet_struct_size_too_small_is_invalid(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    build_ethernet_ipv4(&b, 17);
    pkt_finish(&b);
    pktcap_packet p = sample_packet(&b);
    p.struct_size = 0;
    s.struct_size = sizeof s;
    assert_int_equal(pktcap_summarize(&s, &p), PKTCAP_E_INVAL);
    assert_non_null(strstr(pktcap_error_message(pktcap_error_last()), "struct_size"));
}

/* What the caller set is overwritten: number becomes 0, time_digits 9. */
static void test_every_field_is_overwritten(void **state)
{
    (void)state;
    pkt b;
    pktcap_summary s;
    build_ethernet_ipv4(&b, 17);
    pkt_udp(&b, 1, 2);
    pkt_finish(&b);
    pktcap_packet p = sample_packet(&b);
    memset(&s, 0xff, sizeof s);
    s.struct_size = sizeof s;
    assert_int_equal(pktcap_summarize(&s, &p), 0);
    assert_int_equal(s.number, 0);
    assert_int_equal(s.time_digits, 9);
    assert_int_equal(s.icmp_type, 0);
    assert_int_equal(s.vlan[1], 0);
    assert_int_equal(s.reserved, 0);
    assert_memory_equal(s.src_ip + 4, "\0\0\0\0\0\0\0\0\0\0\0\0", 12);
    assert_memory_equal(s.protocol, "UDP\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_ethernet_ipv4_tcp_spelled_out),
        cmocka_unit_test(test_qinq_ipv6_tcp_spelled_out),
        cmocka_unit_test(test_ipv4_header_length_below_5_is_malformed),
        cmocka_unit_test(test_ipv4_total_length_below_header_is_malformed),
        cmocka_unit_test(test_ipv4_total_length_0_reads_the_frame),
        cmocka_unit_test(test_ipv4_total_length_beyond_the_frame_is_malformed),
        cmocka_unit_test(test_ethernet_padding_after_the_datagram_is_ignored),
        cmocka_unit_test(test_ipv4_length_cutting_the_tcp_header_is_malformed),
        cmocka_unit_test(test_ipv6_extension_header_past_the_packet_is_malformed),
        cmocka_unit_test(test_ipv6_payload_length_0),
        cmocka_unit_test(test_tcp_data_offset_below_5_is_malformed),
        cmocka_unit_test(test_tcp_data_offset_past_the_datagram_is_malformed),
        cmocka_unit_test(test_udp_length_below_8_is_malformed),
        cmocka_unit_test(test_wrong_version_nibble_is_malformed),
        cmocka_unit_test(test_runt_frames_captured_whole_are_malformed),
        cmocka_unit_test(test_caplen_above_len),
        cmocka_unit_test(test_ipv4_fragments),
        cmocka_unit_test(test_ipv6_fragment_header),
        cmocka_unit_test(test_mpls_count_saturates),
        cmocka_unit_test(test_unknown_link_type_sets_only_lengths_and_time),
        cmocka_unit_test(test_null_arguments_are_invalid),
        cmocka_unit_test(test_struct_size_below_the_first_version_is_invalid),
        cmocka_unit_test(test_struct_size_bounds_what_is_written),
        cmocka_unit_test(test_packet_struct_size_too_small_is_invalid),
        cmocka_unit_test(test_every_field_is_overwritten),
    };
    enum { FIXED = sizeof fixed / sizeof fixed[0] };
    static struct CMUnitTest tests[FIXED + 2 * CATALOG_SIZE];
    static char names[2 * CATALOG_SIZE][96];
    size_t n = 0;
    for (size_t i = 0; i < CATALOG_SIZE; i++) {
        snprintf(names[2 * i], sizeof names[0], "%s_whole", catalog[i].name);
        snprintf(names[2 * i + 1], sizeof names[0], "%s_cut_at_every_byte", catalog[i].name);
        tests[n++] = (struct CMUnitTest){ names[2 * i], test_case_whole, NULL, NULL,
                                          (void *)&catalog[i] };
        tests[n++] = (struct CMUnitTest){ names[2 * i + 1], test_case_every_cut, NULL, NULL,
                                          (void *)&catalog[i] };
    }
    for (size_t i = 0; i < FIXED; i++)
        tests[n++] = fixed[i];
    assert_true(n == sizeof tests / sizeof tests[0]);
    return cmocka_run_group_tests_name("summarize", tests, NULL, NULL);
}
