/* Decoding a packet into a pktcap_summary (summary.h).
 *
 * One pass over the headers, link layer to transport, with no state kept
 * between packets and no allocation. A cursor carries the bytes a layer may
 * look at and which flag a header that does not fit raises: TRUNCATED while
 * the limit is the end of a capture that was cut (caplen < len), MALFORMED
 * when the limit is a length field (an IP total or payload length) or the end
 * of a frame that was captured whole. Every layer checks its bytes before it
 * reads them, so nothing past caplen is ever touched. It is one file, and
 * each step has one caller, so that the compiler inlines the whole walk into
 * pktcap_summarize() and keeps the cursor in registers: split into separate
 * functions taking the cursor's address it ran at half the speed.
 *
 * What gets recorded, so that cut packets read as tshark shows them:
 * - MACs, IP addresses and ARP addresses need their whole fixed header
 *   (Ethernet 14, IPv4 20, IPv6 40, ARP's 8 bytes and four addresses), ICMP
 *   type and code the 4 bytes every ICMP message starts with, SCTP ports the
 *   12-byte common header; TCP and UDP ports only their first 4 bytes and
 *   TCP flags 14, as tshark shows the ports of a TCP or UDP header cut short.
 * - `protocol` names the highest layer identified, whether by an EtherType,
 *   an address family, a version nibble or an IP protocol number, even when
 *   its header then proves cut or malformed (the flags say so). A frame whose
 *   link header holds an EtherType that nothing here follows is named by it
 *   in hex, "0x88cc". IEEE 802.3 frames (a length, not a type, in that field:
 *   below 0x600, where tshark shows no eth.type either) and Linux cooked
 *   protocol numbers below 0x600 carry no EtherType: `ethertype` is 0 and
 *   `protocol` "0x0000" (tshark names these after their LLC payload). Links
 *   without an EtherType (raw IP, BSD loopback) whose payload is not IP
 *   leave `protocol` "", as does a link header cut short.
 * - `ip_proto` is the IPv4 header's protocol field (51 for AH, which is
 *   walked like an IPv6 extension header to reach the ports, as tshark does)
 *   and the IPv6 final next header; where IPv6 decoding stops inside its
 *   extension headers, the type of the header it could not pass.
 *
 * Where we deliberately differ from tshark (`tshark -T fields`, 4.0), for
 * the corpus comparison:
 * 1. Tunnels are not entered: GRE (and ERSPAN in it), IP-in-IP (4, 41),
 *    UDP-borne ones (VXLAN, Geneve, MPLS over UDP) and the packet quoted in
 *    ICMP and ICMPv6 errors. We report the outer headers; tshark lists outer
 *    and inner values comma-separated (eth.src, ip.src, ip.proto) and shows
 *    the inner packet's tcp/udp ports, which we leave unset.
 * 2. MPLS payloads are guessed from the first nibble only (4, 6); tshark
 *    also tries an Ethernet pseudowire (with or without control word) and
 *    then shows its inner MACs after the outer ones.
 * 3. IEEE 802.3/LLC frames are not decoded further, not even SNAP with an
 *    EtherType (tshark decodes IP in RFC 1042 SNAP). Cisco ISL is not
 *    recognised: for an ISL frame tshark's eth.src/eth.dst are the
 *    encapsulated frame's (the ISL header's are isl.*), ours the ISL
 *    header's.
 * 4. An 802.1ad tag's id is vlan[0]; tshark keeps it in ieee8021ad.id and
 *    only 802.1Q and 0x9100 tags in vlan.id. We record two tags; tshark all.
 * 5. Linux cooked captures: the link-layer address (when it is 6 bytes long,
 *    whatever the hardware type) is src_mac with HAS_MAC set and dst_mac
 *    zero; tshark shows it as sll.src.eth, never as eth.src. For hardware
 *    type 778 (IP over GRE) tshark shows the protocol as sll.gretype, not
 *    sll.etype; it is an EtherType all the same and is our `ethertype`.
 * 6. ARP and RARP: sender/target protocol addresses go to src_ip/dst_ip
 *    (tshark: arp.src.proto_ipv4/arp.dst.proto_ipv4, no ip.src).
 * 7. IPv6 ip_proto is the final next header; tshark's ipv6.nxt is the fixed
 *    header's, the final one is the last of ipv6.hopopts.nxt,
 *    ipv6.routing.nxt, ipv6.fraghdr.nxt, ipv6.dstopts.nxt, ah.next_header.
 * 8. IP fragments are never reassembled: the first fragment has ports, the
 *    others have none. tshark reassembles by default (then the last fragment
 *    shows the datagram's ports); with -o ip.defragment:FALSE
 *    -o ipv6.defragment:FALSE it agrees with us.
 * 9. A version nibble that contradicts the link layer (an IPv6 packet under
 *    EtherType 0x0800, LINKTYPE_IPV4 or BSD family 2) is MALFORMED and
 *    decoded no further; tshark decodes IPv6 behind a bogus IPv4 layer
 *    (frame.protocols "ip:ipv6").
 * 10. A header cut inside its fixed part: tshark shows the fields its
 *    dissector had added when the bytes ran out (ip.src of a 19-byte IPv4
 *    header, ipv6.src of a 39-byte one, icmpv6.type from 1 byte but
 *    icmp.type only from 6 to 8), we the fields of the rule above. A TCP
 *    header cut between its ports and its flags gives ports and tcp_flags
 *    0; tshark has no tcp.flags then. An IPv6 extension header cut before
 *    its end: tshark still shows its next-header field, our ip_proto is the
 *    cut header's own type (0, 43, 44, 51, 60).
 * Agreements that may look surprising: an IPv4 total length of 0 is taken
 * as "the rest of the frame" (TCP segmentation offload), an IPv6 payload
 * length of 0 as an empty payload unless a hop-by-hop header follows (a
 * jumbogram: the rest of the frame), as tshark reads them. */
#include <pktcap/summary.h>

#include "core/error.h"
#include "core/linktypes.h"

#include <stddef.h>
#include <string.h>

#define ETHERTYPE_MIN 0x0600 /* below: an IEEE 802.3 length */
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define ETHERTYPE_RARP 0x8035
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_MPLS 0x8847
#define ETHERTYPE_MPLS_MULTICAST 0x8848
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100

#define ARP_HARDWARE_ATM 19

/* BSD address families seen in NULL/LOOP headers: AF_INET everywhere, and
 * AF_INET6 as NetBSD/OpenBSD, FreeBSD and Darwin number it. */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24
#define BSD_AF_INET6_FREEBSD 28
#define BSD_AF_INET6_DARWIN 30

#define IP_PROTO_HOPOPTS 0
#define IP_PROTO_ICMP 1
#define IP_PROTO_IGMP 2
#define IP_PROTO_TCP 6
#define IP_PROTO_UDP 17
#define IP_PROTO_ROUTING 43
#define IP_PROTO_FRAGMENT 44
#define IP_PROTO_GRE 47
#define IP_PROTO_ESP 50
#define IP_PROTO_AH 51
#define IP_PROTO_ICMPV6 58
#define IP_PROTO_NONE 59
#define IP_PROTO_DSTOPTS 60
#define IP_PROTO_SCTP 132

/* The first version of pktcap_summary ends with `protocol`. A caller built
 * against it passes at least this; sizeof may be larger by tail padding,
 * which differs between ABIs (i386 aligns uint64_t to 4), so the end of the
 * last field is the portable minimum. */
#define SUMMARY_V1_END \
    (offsetof(pktcap_summary, protocol) + sizeof(((pktcap_summary *)0)->protocol))

/* The names `protocol` takes, padded so that one 8-byte copy sets a name
 * and its NUL (the rest of the field was zeroed). */
enum protocol_name {
    NAME_ARP, NAME_IPV4, NAME_IPV6, NAME_ICMP, NAME_ICMPV6, NAME_IGMP,
    NAME_TCP, NAME_UDP, NAME_SCTP, NAME_GRE, NAME_ESP, NAME_AH
};

static const char protocol_names[][8] = {
    "ARP", "IPv4", "IPv6", "ICMP", "ICMPv6", "IGMP", "TCP", "UDP", "SCTP", "GRE", "ESP", "AH",
};

typedef struct cursor {
    const uint8_t *p;
    size_t left;        /* bytes at p this layer may decode */
    size_t uncaptured;  /* bytes of the frame beyond the captured ones (len - caplen) */
    uint32_t shortage;  /* the flag raised when a header needs more than `left` */
    uint32_t flags;     /* the summary's flags, kept here (in a register) until the end */
} cursor;

/* What the link layer found above it. */
enum network { NET_NONE, NET_IPV4, NET_IPV6, NET_ARP };

static inline uint16_t load_be16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void set_name(pktcap_summary *s, enum protocol_name name)
{
    memcpy(s->protocol, protocol_names[name], sizeof protocol_names[0]);
}

static void set_hex_name(pktcap_summary *s, uint16_t type)
{
    static const char hex[] = "0123456789abcdef";
    s->protocol[0] = '0';
    s->protocol[1] = 'x';
    s->protocol[2] = hex[type >> 12];
    s->protocol[3] = hex[(type >> 8) & 0xf];
    s->protocol[4] = hex[(type >> 4) & 0xf];
    s->protocol[5] = hex[type & 0xf];
    s->protocol[6] = '\0';
}

/* Whether `n` bytes are there; if not, the cursor's shortage is flagged and
 * the caller stops. */
static inline int have(cursor *c, size_t n)
{
    if (c->left >= n)
        return 1;
    c->flags |= c->shortage;
    return 0;
}

static inline void skip(cursor *c, size_t n)
{
    c->p += n;
    c->left -= n;
}

/* --- link layers ------------------------------------------------------------
 * Each reads its header and hands on an EtherType (Ethernet, Linux cooked)
 * or says outright what follows (raw IP, BSD loopback). */

/* Returns 0 when the header is not all there. */
static int decode_ethernet(pktcap_summary *s, cursor *c, uint16_t *type)
{
    if (!have(c, 14))
        return 0;
    memcpy(s->dst_mac, c->p, 6);
    memcpy(s->src_mac, c->p + 6, 6);
    c->flags |= PKTCAP_SUMMARY_HAS_MAC;
    *type = load_be16(c->p + 12);
    skip(c, 14);
    return 1;
}

/* Linux cooked captures keep the sender's link-layer address only. */
static void set_cooked_source(pktcap_summary *s, cursor *c, const uint8_t *address, size_t length)
{
    if (length != 6)
        return;
    memcpy(s->src_mac, address, 6);
    c->flags |= PKTCAP_SUMMARY_HAS_MAC;
}

/* LINKTYPE_LINUX_SLL: packet type, ARPHRD type, address length, 8 address
 * bytes, protocol. */
static int decode_linux_sll(pktcap_summary *s, cursor *c, uint16_t *type)
{
    if (!have(c, 16))
        return 0;
    set_cooked_source(s, c, c->p + 6, load_be16(c->p + 4));
    *type = load_be16(c->p + 14);
    skip(c, 16);
    return 1;
}

/* LINKTYPE_LINUX_SLL2: protocol, reserved, interface index, ARPHRD type,
 * packet type, address length, 8 address bytes. */
static int decode_linux_sll2(pktcap_summary *s, cursor *c, uint16_t *type)
{
    if (!have(c, 20))
        return 0;
    set_cooked_source(s, c, c->p + 12, c->p[11]);
    *type = load_be16(c->p);
    skip(c, 20);
    return 1;
}

/* Raw IP: the version nibble is all there is. */
static enum network decode_raw_ip(cursor *c)
{
    if (!have(c, 1))
        return NET_NONE;
    switch (c->p[0] >> 4) {
    case 4:
        return NET_IPV4;
    case 6:
        return NET_IPV6;
    default:
        c->flags |= PKTCAP_SUMMARY_MALFORMED;
        return NET_NONE;
    }
}

/* NULL and LOOP: a 4-byte address family. NULL writes it in the capturing
 * host's byte order, so a family that does not fit 16 bits is read swapped
 * (what tshark does); LOOP writes it in network order. */
static enum network decode_bsd_loopback(cursor *c, int host_order)
{
    if (!have(c, 4))
        return NET_NONE;
    uint32_t family = load_be32(c->p);
    if (host_order && family > 0xffff)
        family = (family >> 24) | ((family >> 8) & 0xff00) | ((family << 8) & 0xff0000) |
                 (family << 24);
    skip(c, 4);
    switch (family) {
    case BSD_AF_INET:
        return NET_IPV4;
    case BSD_AF_INET6_BSD:
    case BSD_AF_INET6_FREEBSD:
    case BSD_AF_INET6_DARWIN:
        return NET_IPV6;
    default:
        return NET_NONE;
    }
}

/* --- between link and network ------------------------------------------------ */

/* A label stack (RFC 3032) up to its bottom entry, then IP if the first
 * nibble says so; there is no type field to say more. */
static enum network decode_mpls(pktcap_summary *s, cursor *c)
{
    int bottom;
    do {
        if (!have(c, 4))
            return NET_NONE;
        if (s->mpls_count < UINT8_MAX)
            s->mpls_count++;
        bottom = c->p[2] & 1;
        skip(c, 4);
    } while (!bottom);
    if (!have(c, 1))
        return NET_NONE;
    switch (c->p[0] >> 4) {
    case 4:
        return NET_IPV4;
    case 6:
        return NET_IPV6;
    default:
        return NET_NONE;
    }
}

static inline int is_vlan(uint16_t type)
{
    return type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD;
}

/* What follows an EtherType: VLAN tags, then the protocol. */
static enum network decode_ethertype(pktcap_summary *s, cursor *c, uint16_t type)
{
    if (type == ETHERTYPE_IPV4) {
        s->ethertype = type;
        return NET_IPV4;
    }
    while (is_vlan(type)) {
        if (!have(c, 4)) {
            s->ethertype = type;
            set_hex_name(s, type);
            return NET_NONE;
        }
        if (s->vlan_count < 2)
            s->vlan[s->vlan_count++] = load_be16(c->p) & 0x0fff;
        type = load_be16(c->p + 2);
        skip(c, 4);
    }
    if (type < ETHERTYPE_MIN) {
        /* IEEE 802.3 (a length, then LLC), or a Linux cooked protocol
         * number: no EtherType. */
        set_hex_name(s, 0);
        return NET_NONE;
    }
    s->ethertype = type;
    switch (type) {
    case ETHERTYPE_IPV4:
        return NET_IPV4;
    case ETHERTYPE_IPV6:
        return NET_IPV6;
    case ETHERTYPE_ARP:
    case ETHERTYPE_RARP:
        return NET_ARP;
    case ETHERTYPE_MPLS:
    case ETHERTYPE_MPLS_MULTICAST:
        set_hex_name(s, type);
        return decode_mpls(s, c);
    default:
        set_hex_name(s, type);
        return NET_NONE;
    }
}

static enum network decode_link(pktcap_summary *s, cursor *c, uint32_t linktype)
{
    uint16_t type;
    int found;
    if (linktype == LINKTYPE_ETHERNET) {
        found = decode_ethernet(s, c, &type);
    } else {
        switch (linktype) {
        case LINKTYPE_LINUX_SLL:
            found = decode_linux_sll(s, c, &type);
            break;
        case LINKTYPE_LINUX_SLL2:
            found = decode_linux_sll2(s, c, &type);
            break;
        case LINKTYPE_RAW:
            return decode_raw_ip(c);
        case LINKTYPE_IPV4:
            return NET_IPV4;
        case LINKTYPE_IPV6:
            return NET_IPV6;
        case LINKTYPE_NULL:
        case LINKTYPE_LOOP:
            return decode_bsd_loopback(c, linktype == LINKTYPE_NULL);
        default:
            c->flags |= PKTCAP_SUMMARY_UNKNOWN_LINKTYPE;
            return NET_NONE;
        }
    }
    return found ? decode_ethertype(s, c, type) : NET_NONE;
}

/* ARP and RARP (RFC 826): sender and target protocol addresses, when they
 * are IPv4. The hardware addresses are not the frame's MACs. Hardware type
 * 19 is ATMARP (RFC 2225), whose length fields and addresses are laid out
 * otherwise; its addresses are not read (nor does tshark read them as ARP's). */
static void decode_arp(pktcap_summary *s, cursor *c)
{
    set_name(s, NAME_ARP);
    c->flags |= PKTCAP_SUMMARY_ARP;
    if (!have(c, 8))
        return;
    size_t hardware = c->p[4], protocol = c->p[5];
    if (load_be16(c->p) == ARP_HARDWARE_ATM)
        return;
    if (!have(c, 8 + 2 * (hardware + protocol)))
        return;
    if (load_be16(c->p + 2) != ETHERTYPE_IPV4 || protocol != 4)
        return;
    memcpy(s->src_ip, c->p + 8 + hardware, 4);
    memcpy(s->dst_ip, c->p + 8 + 2 * hardware + 4, 4);
    s->ip_version = 4;
    c->flags |= PKTCAP_SUMMARY_HAS_IP;
}

/* --- IP -------------------------------------------------------------------- */

/* Narrows the cursor to an IP datagram of `length` bytes counted from c->p. A
 * length beyond the captured bytes is a cut capture, unless it also exceeds
 * what the frame had on the wire. */
static void limit_to(cursor *c, size_t length)
{
    if (length <= c->left) {
        c->left = length;
        c->shortage = PKTCAP_SUMMARY_MALFORMED;
    } else if (length - c->left > c->uncaptured) {
        c->flags |= PKTCAP_SUMMARY_MALFORMED;
    }
}

/* Steps over an Authentication Header (RFC 4302: its length in 4-byte units,
 * minus 2). Returns 0 when it is not all there. */
static inline int skip_ah(pktcap_summary *s, cursor *c, uint8_t *next)
{
    set_name(s, NAME_AH);
    if (!have(c, 2))
        return 0;
    size_t length = ((size_t)c->p[1] + 2) * 4;
    if (!have(c, length))
        return 0;
    *next = c->p[0];
    skip(c, length);
    return 1;
}

/* Returns 1 with the cursor on the transport header and its protocol in
 * *proto, or 0 where decoding stops. The version nibble must say 4: where
 * the link layer announced IPv4 and it does not, that is a contradiction
 * (tshark then tries IPv6 behind a bogus IPv4 layer; we do not). */
static int decode_ipv4(pktcap_summary *s, cursor *c, uint8_t *proto)
{
    const uint8_t *h = c->p;
    set_name(s, NAME_IPV4);
    if (!have(c, 1))
        return 0;
    size_t header = (size_t)(h[0] & 0x0f) * 4;
    if (h[0] >> 4 != 4 || header < 20) {
        c->flags |= PKTCAP_SUMMARY_MALFORMED;
        return 0;
    }
    if (!have(c, 20))
        return 0;
    size_t total = load_be16(h + 2);
    if (total != 0 && total < header) {
        c->flags |= PKTCAP_SUMMARY_MALFORMED;
        return 0;
    }
    s->ip_version = 4;
    s->ip_proto = h[9];
    memcpy(s->src_ip, h + 12, 4);
    memcpy(s->dst_ip, h + 16, 4);
    c->flags |= PKTCAP_SUMMARY_HAS_IP;
    /* A total length of 0 comes from segmentation offload, where it was never
     * filled in: the datagram is the rest of the frame (tshark and tcpdump
     * read it so too). */
    if (total != 0)
        limit_to(c, total);

    uint16_t fragment = load_be16(h + 6);
    if (fragment & 0x3fff) /* MF or an offset */
        c->flags |= PKTCAP_SUMMARY_FRAGMENT;
    if (!have(c, header))
        return 0;
    if (fragment & 0x1fff) /* later fragments hold no transport header */
        return 0;
    skip(c, header);
    uint8_t next = h[9];
    while (next == IP_PROTO_AH)
        if (!skip_ah(s, c, &next))
            return 0;
    *proto = next;
    return 1;
}

/* As decode_ipv4, walking the extension headers; s->ip_proto follows the
 * chain, so where the walk stops it names the header it could not pass. */
static int decode_ipv6(pktcap_summary *s, cursor *c, uint8_t *proto)
{
    const uint8_t *h = c->p;
    set_name(s, NAME_IPV6);
    if (!have(c, 1))
        return 0;
    if (h[0] >> 4 != 6) {
        c->flags |= PKTCAP_SUMMARY_MALFORMED;
        return 0;
    }
    if (!have(c, 40))
        return 0;
    uint8_t next = h[6];
    s->ip_version = 6;
    s->ip_proto = next;
    memcpy(s->src_ip, h + 8, 16);
    memcpy(s->dst_ip, h + 24, 16);
    c->flags |= PKTCAP_SUMMARY_HAS_IP;
    skip(c, 40);
    size_t payload = load_be16(h + 4);
    /* A jumbogram (RFC 2675) has a payload length of 0 and its length in a
     * hop-by-hop option; like tshark, read the rest of the frame. Otherwise a
     * length of 0 means an empty payload, as tshark reads it. */
    if (payload != 0 || next != IP_PROTO_HOPOPTS)
        limit_to(c, payload);

    for (;;) {
        size_t length;
        switch (next) {
        case IP_PROTO_HOPOPTS:
        case IP_PROTO_ROUTING:
        case IP_PROTO_DSTOPTS:
            if (!have(c, 2))
                return 0;
            length = ((size_t)c->p[1] + 1) * 8;
            if (!have(c, length))
                return 0;
            next = c->p[0];
            skip(c, length);
            break;
        case IP_PROTO_FRAGMENT:
            c->flags |= PKTCAP_SUMMARY_FRAGMENT;
            if (!have(c, 8))
                return 0;
            next = c->p[0];
            s->ip_proto = next;
            if (load_be16(c->p + 2) & 0xfff8) /* a later fragment */
                return 0;
            skip(c, 8);
            continue;
        case IP_PROTO_AH:
            if (!skip_ah(s, c, &next))
                return 0;
            break;
        case IP_PROTO_NONE:
            return 0;
        default:
            *proto = next;
            return 1;
        }
        s->ip_proto = next;
    }
}

/* --- transport ------------------------------------------------------------ */

static inline void decode_ports(pktcap_summary *s, cursor *c)
{
    s->src_port = load_be16(c->p);
    s->dst_port = load_be16(c->p + 2);
    c->flags |= PKTCAP_SUMMARY_HAS_PORTS;
}

static void decode_tcp(pktcap_summary *s, cursor *c)
{
    set_name(s, NAME_TCP);
    if (!have(c, 4))
        return;
    decode_ports(s, c);
    if (!have(c, 14))
        return;
    s->tcp_flags = c->p[13];
    size_t header = (size_t)(c->p[12] >> 4) * 4;
    if (header < 20) {
        c->flags |= PKTCAP_SUMMARY_MALFORMED;
        return;
    }
    (void)have(c, header);
}

static void decode_udp(pktcap_summary *s, cursor *c)
{
    set_name(s, NAME_UDP);
    if (!have(c, 4))
        return;
    decode_ports(s, c);
    if (have(c, 8) && load_be16(c->p + 4) < 8)
        c->flags |= PKTCAP_SUMMARY_MALFORMED;
}

/* SCTP's ports need its whole 12-byte common header, as in tshark. */
static void decode_sctp(pktcap_summary *s, cursor *c)
{
    set_name(s, NAME_SCTP);
    if (have(c, 12))
        decode_ports(s, c);
}

/* ICMP and ICMPv6 share the general format: type, code, checksum. */
static void decode_icmp(pktcap_summary *s, cursor *c, enum protocol_name name)
{
    set_name(s, name);
    if (!have(c, 4))
        return;
    s->icmp_type = c->p[0];
    s->icmp_code = c->p[1];
    c->flags |= PKTCAP_SUMMARY_HAS_ICMP;
}

/* The layer above IP (and its extension headers). IGMP, GRE and ESP are
 * named from the protocol number only: nothing of theirs is recorded, and
 * tunnels are not entered. */
static void decode_transport(pktcap_summary *s, cursor *c, uint8_t proto)
{
    switch (proto) {
    case IP_PROTO_TCP:
        decode_tcp(s, c);
        break;
    case IP_PROTO_UDP:
        decode_udp(s, c);
        break;
    case IP_PROTO_ICMP:
        decode_icmp(s, c, NAME_ICMP);
        break;
    case IP_PROTO_ICMPV6:
        decode_icmp(s, c, NAME_ICMPV6);
        break;
    case IP_PROTO_SCTP:
        decode_sctp(s, c);
        break;
    case IP_PROTO_IGMP:
        set_name(s, NAME_IGMP);
        break;
    case IP_PROTO_GRE:
        set_name(s, NAME_GRE);
        break;
    case IP_PROTO_ESP:
        set_name(s, NAME_ESP);
        break;
    default:
        break;
    }
}

/* --- the walk ---------------------------------------------------------------- */

/* Every field of the first version is defined, so what a packet does not set
 * reads 0. Field by field rather than one memset: the fields are contiguous,
 * so the compiler merges these into a few wide stores, where a memset of this
 * odd size becomes `rep stos` (a quarter of the decoder's time). */
static void clear_v1_fields(pktcap_summary *s)
{
    s->number = 0;
    s->ethertype = 0;
    s->vlan[0] = 0;
    s->vlan[1] = 0;
    s->vlan_count = 0;
    s->mpls_count = 0;
    memset(s->src_mac, 0, sizeof s->src_mac);
    memset(s->dst_mac, 0, sizeof s->dst_mac);
    s->ip_version = 0;
    s->ip_proto = 0;
    memset(s->src_ip, 0, sizeof s->src_ip);
    memset(s->dst_ip, 0, sizeof s->dst_ip);
    s->src_port = 0;
    s->dst_port = 0;
    s->icmp_type = 0;
    s->icmp_code = 0;
    s->tcp_flags = 0;
    s->reserved = 0;
    memset(s->protocol, 0, sizeof s->protocol);
}

int pktcap_summarize(pktcap_summary *summary, const pktcap_packet *packet)
{
    if (!summary || !packet)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_summarize: %s is NULL",
                                 summary ? "packet" : "summary");
    if (summary->struct_size < SUMMARY_V1_END)
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "pktcap_summarize: summary struct_size %u is smaller than "
                                 "the first pktcap_summary (%zu bytes)",
                                 summary->struct_size, (size_t)SUMMARY_V1_END);
    if (packet->struct_size < sizeof(pktcap_packet))
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "pktcap_summarize: packet struct_size %u is smaller than "
                                 "pktcap_packet (%zu bytes)",
                                 packet->struct_size, sizeof(pktcap_packet));
    if (!packet->data && packet->caplen > 0)
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "pktcap_summarize: packet data is NULL with caplen %u",
                                 packet->caplen);

    /* Fields appended in later versions go after `protocol`; write each only
     * when summary->struct_size reaches its end. */
    pktcap_summary *s = summary;
    clear_v1_fields(s);
    s->ts_sec = packet->ts_sec;
    s->ts_nsec = packet->ts_nsec;
    s->time_digits = 9;
    s->linktype = packet->linktype;
    s->wire_len = packet->len;
    s->cap_len = packet->caplen;

    cursor c;
    c.p = packet->data;
    c.left = packet->caplen;
    c.uncaptured = packet->len > packet->caplen ? packet->len - packet->caplen : 0;
    c.shortage = c.uncaptured ? PKTCAP_SUMMARY_TRUNCATED : PKTCAP_SUMMARY_MALFORMED;
    c.flags = 0;

    uint8_t proto;
    int transport;
    switch (decode_link(s, &c, packet->linktype)) {
    case NET_IPV4:
        transport = decode_ipv4(s, &c, &proto);
        break;
    case NET_IPV6:
        transport = decode_ipv6(s, &c, &proto);
        break;
    case NET_ARP:
        decode_arp(s, &c);
        transport = 0;
        break;
    default:
        transport = 0;
        break;
    }
    if (transport)
        decode_transport(s, &c, proto);
    s->flags = c.flags;
    return 0;
}
