/* Hand-built packets for the decoder's tests.
 *
 * A packet is built outside in, one header at a time, into a fixed buffer:
 *
 *     pkt b;
 *     pkt_init(&b);
 *     pkt_ethernet(&b, MAC_B, MAC_A, 0x0800);
 *     pkt_ipv4(&b, 6, IP4_A, IP4_B);
 *     pkt_tcp(&b, 40000, 443, TCP_SYN);
 *     pkt_finish(&b);
 *
 * pkt_finish() fills in the length fields (IPv4 total length, IPv6 payload
 * length, UDP length) of every header added, from where it starts to the end
 * of the packet. A test that wants a wrong length sets it afterwards with
 * pkt_put16(). Multi-byte fields are written in network byte order. */
#ifndef PKTCAP_TESTS_DECODE_PACKETS_H
#define PKTCAP_TESTS_DECODE_PACKETS_H

#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 512
#define PKT_MAX_LENGTHS 8

typedef struct pkt {
    uint8_t data[PKT_MAX];
    size_t len;
    /* Headers whose length field pkt_finish() fills in. */
    struct { size_t at; int kind; } lengths[PKT_MAX_LENGTHS];
    size_t length_count;
} pkt;

/* Addresses used throughout the tests. */
extern const uint8_t MAC_A[6], MAC_B[6];
extern const uint8_t IP4_A[4], IP4_B[4];
extern const uint8_t IP6_A[16], IP6_B[16];

/* TCP flag bits. */
enum { TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04, TCP_PSH = 0x08, TCP_ACK = 0x10 };

void pkt_init(pkt *b);
void pkt_bytes(pkt *b, const void *bytes, size_t n);
void pkt_zeros(pkt *b, size_t n);
void pkt_u8(pkt *b, unsigned v);
void pkt_u16(pkt *b, unsigned v);
void pkt_u32(pkt *b, uint32_t v);
/* Overwrites two bytes at `at`, big-endian. */
void pkt_put16(pkt *b, size_t at, unsigned v);
/* Fills in the recorded length fields; call once, after the last header. */
void pkt_finish(pkt *b);

/* Link layers. */
void pkt_ethernet(pkt *b, const uint8_t dst[6], const uint8_t src[6], unsigned type);
/* A tag's TCI (priority 0) and the EtherType after it; the tag's own type
 * is the EtherType before it. */
void pkt_vlan_tag(pkt *b, unsigned vid, unsigned next_type);
void pkt_mpls(pkt *b, uint32_t label, int bottom);
/* LINKTYPE_LINUX_SLL: address_len bytes of `address` (at most 8) are used. */
void pkt_linux_sll(pkt *b, unsigned hatype, const uint8_t *address, unsigned address_len,
                   unsigned protocol);
/* LINKTYPE_LINUX_SLL2. */
void pkt_linux_sll2(pkt *b, unsigned protocol, unsigned hatype, const uint8_t *address,
                    unsigned address_len);
/* LINKTYPE_NULL's family in little- or big-endian order; LINKTYPE_LOOP is
 * always big-endian. */
void pkt_bsd_family(pkt *b, uint32_t family, int little_endian);

/* Network layers. pkt_ipv4_options adds an IPv4 header with `option_words`
 * 4-byte words of NOP options (IHL = 5 + option_words). */
void pkt_ipv4(pkt *b, unsigned proto, const uint8_t src[4], const uint8_t dst[4]);
void pkt_ipv4_options(pkt *b, unsigned proto, const uint8_t src[4], const uint8_t dst[4],
                      unsigned option_words);
/* An IPv4 fragment: `offset` in 8-byte units, `more` the MF bit. */
void pkt_ipv4_fragment(pkt *b, unsigned proto, const uint8_t src[4], const uint8_t dst[4],
                       unsigned offset, int more);
void pkt_ipv6(pkt *b, unsigned next, const uint8_t src[16], const uint8_t dst[16]);
/* Hop-by-hop (0), routing (43) or destination options (60): `units` 8-byte
 * units beyond the first (the header's length field). */
void pkt_ipv6_extension(pkt *b, unsigned next, unsigned units);
void pkt_ipv6_fragment(pkt *b, unsigned next, unsigned offset, int more);
/* An Authentication Header with `icv_words` 4-byte words of ICV. */
void pkt_ah(pkt *b, unsigned next, unsigned icv_words);
void pkt_arp(pkt *b, unsigned hardware_type, unsigned protocol_type, unsigned hardware_len,
             unsigned protocol_len, const uint8_t *sender_hw, const uint8_t *sender_proto,
             const uint8_t *target_hw, const uint8_t *target_proto);

/* Transport layers. */
void pkt_tcp(pkt *b, unsigned src_port, unsigned dst_port, unsigned flags);
/* TCP with `option_words` 4-byte words of NOP options (data offset 5 + that). */
void pkt_tcp_options(pkt *b, unsigned src_port, unsigned dst_port, unsigned flags,
                     unsigned option_words);
void pkt_udp(pkt *b, unsigned src_port, unsigned dst_port);
void pkt_sctp(pkt *b, unsigned src_port, unsigned dst_port);
/* ICMP or ICMPv6: type, code, checksum (0) and 4 bytes of rest of header. */
void pkt_icmp(pkt *b, unsigned type, unsigned code);

#endif
