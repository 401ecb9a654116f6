/* Hand-built packets for the decoder's tests (see packets.h). */
#include "packets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { LENGTH_IPV4, LENGTH_IPV6, LENGTH_UDP };

const uint8_t MAC_A[6] = { 0x02, 0x00, 0x00, 0xaa, 0xaa, 0x01 };
const uint8_t MAC_B[6] = { 0x02, 0x00, 0x00, 0xbb, 0xbb, 0x02 };
const uint8_t IP4_A[4] = { 192, 0, 2, 1 };
const uint8_t IP4_B[4] = { 198, 51, 100, 2 };
const uint8_t IP6_A[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a };
const uint8_t IP6_B[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b };

static uint8_t *room(pkt *b, size_t n)
{
    if (n > PKT_MAX - b->len) {
        fprintf(stderr, "packets.c: a test packet outgrew %d bytes\n", PKT_MAX);
        abort();
    }
    uint8_t *p = b->data + b->len;
    b->len += n;
    return p;
}

static void record_length(pkt *b, int kind)
{
    if (b->length_count == PKT_MAX_LENGTHS)
        abort();
    b->lengths[b->length_count].at = b->len;
    b->lengths[b->length_count].kind = kind;
    b->length_count++;
}

void pkt_init(pkt *b)
{
    memset(b, 0, sizeof *b);
}

void pkt_bytes(pkt *b, const void *bytes, size_t n)
{
    memcpy(room(b, n), bytes, n);
}

void pkt_zeros(pkt *b, size_t n)
{
    memset(room(b, n), 0, n);
}

void pkt_u8(pkt *b, unsigned v)
{
    *room(b, 1) = (uint8_t)v;
}

void pkt_u16(pkt *b, unsigned v)
{
    uint8_t *p = room(b, 2);
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void pkt_u32(pkt *b, uint32_t v)
{
    pkt_u16(b, v >> 16);
    pkt_u16(b, v & 0xffff);
}

void pkt_put16(pkt *b, size_t at, unsigned v)
{
    if (at + 2 > b->len)
        abort();
    b->data[at] = (uint8_t)(v >> 8);
    b->data[at + 1] = (uint8_t)v;
}

void pkt_finish(pkt *b)
{
    for (size_t i = 0; i < b->length_count; i++) {
        size_t at = b->lengths[i].at;
        switch (b->lengths[i].kind) {
        case LENGTH_IPV4:
            pkt_put16(b, at + 2, (unsigned)(b->len - at));
            break;
        case LENGTH_IPV6:
            pkt_put16(b, at + 4, (unsigned)(b->len - at - 40));
            break;
        case LENGTH_UDP:
            pkt_put16(b, at + 4, (unsigned)(b->len - at));
            break;
        }
    }
}

/* --- link layers ---------------------------------------------------------- */

void pkt_ethernet(pkt *b, const uint8_t dst[6], const uint8_t src[6], unsigned type)
{
    pkt_bytes(b, dst, 6);
    pkt_bytes(b, src, 6);
    pkt_u16(b, type);
}

void pkt_vlan_tag(pkt *b, unsigned vid, unsigned next_type)
{
    pkt_u16(b, vid & 0x0fff);
    pkt_u16(b, next_type);
}

void pkt_mpls(pkt *b, uint32_t label, int bottom)
{
    pkt_u32(b, label << 12 | (uint32_t)(bottom ? 1 : 0) << 8 | 64);
}

void pkt_linux_sll(pkt *b, unsigned hatype, const uint8_t *address, unsigned address_len,
                   unsigned protocol)
{
    uint8_t padded[8] = { 0 };
    if (address_len)
        memcpy(padded, address, address_len < 8 ? address_len : 8);
    pkt_u16(b, 0); /* packet type: to us */
    pkt_u16(b, hatype);
    pkt_u16(b, address_len);
    pkt_bytes(b, padded, 8);
    pkt_u16(b, protocol);
}

void pkt_linux_sll2(pkt *b, unsigned protocol, unsigned hatype, const uint8_t *address,
                    unsigned address_len)
{
    uint8_t padded[8] = { 0 };
    if (address_len)
        memcpy(padded, address, address_len < 8 ? address_len : 8);
    pkt_u16(b, protocol);
    pkt_u16(b, 0);    /* reserved */
    pkt_u32(b, 3);    /* interface index */
    pkt_u16(b, hatype);
    pkt_u8(b, 4);     /* packet type: outgoing */
    pkt_u8(b, address_len);
    pkt_bytes(b, padded, 8);
}

void pkt_bsd_family(pkt *b, uint32_t family, int little_endian)
{
    if (!little_endian) {
        pkt_u32(b, family);
        return;
    }
    uint8_t le[4] = { (uint8_t)family, (uint8_t)(family >> 8), (uint8_t)(family >> 16),
                      (uint8_t)(family >> 24) };
    pkt_bytes(b, le, 4);
}

/* --- network layers --------------------------------------------------------- */

static void ipv4_header(pkt *b, unsigned proto, const uint8_t src[4], const uint8_t dst[4],
                        unsigned option_words, unsigned fragment)
{
    record_length(b, LENGTH_IPV4);
    pkt_u8(b, 0x40 | (5 + option_words));
    pkt_u8(b, 0);           /* DSCP/ECN */
    pkt_u16(b, 0);          /* total length: pkt_finish */
    pkt_u16(b, 0x1234);     /* identification */
    pkt_u16(b, fragment);
    pkt_u8(b, 64);          /* TTL */
    pkt_u8(b, proto);
    pkt_u16(b, 0);          /* checksum: the decoder does not check it */
    pkt_bytes(b, src, 4);
    pkt_bytes(b, dst, 4);
    for (unsigned i = 0; i < option_words; i++)
        pkt_u32(b, 0x01010101); /* NOPs */
}

void pkt_ipv4(pkt *b, unsigned proto, const uint8_t src[4], const uint8_t dst[4])
{
    ipv4_header(b, proto, src, dst, 0, 0);
}

void pkt_ipv4_options(pkt *b, unsigned proto, const uint8_t src[4], const uint8_t dst[4],
                      unsigned option_words)
{
    ipv4_header(b, proto, src, dst, option_words, 0);
}

void pkt_ipv4_fragment(pkt *b, unsigned proto, const uint8_t src[4], const uint8_t dst[4],
                       unsigned offset, int more)
{
    ipv4_header(b, proto, src, dst, 0, (more ? 0x2000u : 0) | (offset & 0x1fff));
}

void pkt_ipv6(pkt *b, unsigned next, const uint8_t src[16], const uint8_t dst[16])
{
    record_length(b, LENGTH_IPV6);
    pkt_u32(b, 0x60000000);
    pkt_u16(b, 0);          /* payload length: pkt_finish */
    pkt_u8(b, next);
    pkt_u8(b, 64);          /* hop limit */
    pkt_bytes(b, src, 16);
    pkt_bytes(b, dst, 16);
}

void pkt_ipv6_extension(pkt *b, unsigned next, unsigned units)
{
    pkt_u8(b, next);
    pkt_u8(b, units);
    /* A PadN option filling the header, so that it parses as options do. */
    pkt_u8(b, 1);
    pkt_u8(b, 4 + 8 * units);
    pkt_zeros(b, 4 + 8 * units);
}

void pkt_ipv6_fragment(pkt *b, unsigned next, unsigned offset, int more)
{
    pkt_u8(b, next);
    pkt_u8(b, 0);
    pkt_u16(b, (offset & 0x1fff) << 3 | (more ? 1u : 0));
    pkt_u32(b, 0xabcd0123); /* identification */
}

void pkt_ah(pkt *b, unsigned next, unsigned icv_words)
{
    pkt_u8(b, next);
    pkt_u8(b, 1 + icv_words); /* (12 + ICV) / 4 - 2 */
    pkt_u16(b, 0);
    pkt_u32(b, 0x00000100);   /* SPI */
    pkt_u32(b, 7);            /* sequence number */
    for (unsigned i = 0; i < icv_words; i++)
        pkt_u32(b, 0x11111111);
}

void pkt_arp(pkt *b, unsigned hardware_type, unsigned protocol_type, unsigned hardware_len,
             unsigned protocol_len, const uint8_t *sender_hw, const uint8_t *sender_proto,
             const uint8_t *target_hw, const uint8_t *target_proto)
{
    pkt_u16(b, hardware_type);
    pkt_u16(b, protocol_type);
    pkt_u8(b, hardware_len);
    pkt_u8(b, protocol_len);
    pkt_u16(b, 1); /* request */
    pkt_bytes(b, sender_hw, hardware_len);
    pkt_bytes(b, sender_proto, protocol_len);
    pkt_bytes(b, target_hw, hardware_len);
    pkt_bytes(b, target_proto, protocol_len);
}

/* --- transport layers ------------------------------------------------------- */

void pkt_tcp_options(pkt *b, unsigned src_port, unsigned dst_port, unsigned flags,
                     unsigned option_words)
{
    pkt_u16(b, src_port);
    pkt_u16(b, dst_port);
    pkt_u32(b, 1000);       /* sequence number */
    pkt_u32(b, 2000);       /* acknowledgement number */
    pkt_u8(b, (5 + option_words) << 4);
    pkt_u8(b, flags);
    pkt_u16(b, 65535);      /* window */
    pkt_u16(b, 0);          /* checksum */
    pkt_u16(b, 0);          /* urgent pointer */
    for (unsigned i = 0; i < option_words; i++)
        pkt_u32(b, 0x01010101);
}

void pkt_tcp(pkt *b, unsigned src_port, unsigned dst_port, unsigned flags)
{
    pkt_tcp_options(b, src_port, dst_port, flags, 0);
}

void pkt_udp(pkt *b, unsigned src_port, unsigned dst_port)
{
    record_length(b, LENGTH_UDP);
    pkt_u16(b, src_port);
    pkt_u16(b, dst_port);
    pkt_u16(b, 0); /* length: pkt_finish */
    pkt_u16(b, 0);
}

void pkt_sctp(pkt *b, unsigned src_port, unsigned dst_port)
{
    pkt_u16(b, src_port);
    pkt_u16(b, dst_port);
    pkt_u32(b, 0x01020304); /* verification tag */
    pkt_u32(b, 0);          /* checksum */
}

void pkt_icmp(pkt *b, unsigned type, unsigned code)
{
    pkt_u8(b, type);
    pkt_u8(b, code);
    pkt_u16(b, 0);
    pkt_u32(b, 0x00010001); /* identifier and sequence, say */
}
