/* Hand-built capture files for the reader tests (see builder.h). */
#include "builder.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cap_init(capture *c, int big_endian)
{
    memset(c, 0, sizeof(*c));
    c->big_endian = big_endian;
}

void cap_free(capture *c)
{
    free(c->data);
    c->data = NULL;
    c->len = c->cap = 0;
}

void cap_bytes(capture *c, const void *p, size_t n)
{
    if (c->len + n > c->cap) {
        size_t cap = c->cap ? c->cap : 256;
        while (cap < c->len + n)
            cap *= 2;
        c->data = realloc(c->data, cap);
        if (!c->data) {
            fprintf(stderr, "builder: out of memory\n");
            abort();
        }
        c->cap = cap;
    }
    if (n)
        memcpy(c->data + c->len, p, n);
    c->len += n;
}

void cap_u8(capture *c, uint8_t v)
{
    cap_bytes(c, &v, 1);
}

static void put_uint(capture *c, uint64_t v, int n)
{
    uint8_t b[8];
    int i;
    for (i = 0; i < n; i++)
        b[c->big_endian ? n - 1 - i : i] = (uint8_t)(v >> (8 * i));
    cap_bytes(c, b, (size_t)n);
}

void cap_u16(capture *c, uint16_t v)
{
    put_uint(c, v, 2);
}

void cap_u32(capture *c, uint32_t v)
{
    put_uint(c, v, 4);
}

void cap_u64(capture *c, uint64_t v)
{
    put_uint(c, v, 8);
}

void cap_pad4(capture *c)
{
    while (c->len % 4)
        cap_u8(c, 0);
}

void cap_patch32(capture *c, size_t at, uint32_t v)
{
    size_t end = c->len;
    c->len = at;
    cap_u32(c, v);
    c->len = end;
}

void cap_bound(capture *c, int packet)
{
    if (c->nbound == CAP_MAX_BOUNDS) {
        fprintf(stderr, "builder: too many records\n");
        abort();
    }
    if (packet)
        c->packets++;
    c->bound[c->nbound] = c->len;
    c->packets_at[c->nbound] = c->packets;
    c->nbound++;
}

void cap_pcap_header(capture *c, uint32_t magic, uint16_t major, uint16_t minor,
                     uint32_t snaplen, uint32_t linktype)
{
    cap_u32(c, magic);
    cap_u16(c, major);
    cap_u16(c, minor);
    cap_u32(c, 0); /* thiszone */
    cap_u32(c, 0); /* sigfigs */
    cap_u32(c, snaplen);
    cap_u32(c, linktype);
    cap_bound(c, 0);
}

void cap_pcap_record(capture *c, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len,
                     const uint8_t *data, int modified)
{
    cap_u32(c, sec);
    cap_u32(c, frac);
    cap_u32(c, caplen);
    cap_u32(c, len);
    if (modified) {
        cap_u32(c, 7);
        cap_u16(c, 0x0800);
        cap_u8(c, 4);
        cap_u8(c, 0);
    }
    cap_bytes(c, data, caplen);
    cap_bound(c, 1);
}

size_t cap_block_begin(capture *c, uint32_t type)
{
    size_t at = c->len;
    cap_u32(c, type);
    cap_u32(c, 0);
    return at;
}

void cap_block_end(capture *c, size_t at, int packet)
{
    uint32_t total;
    cap_pad4(c);
    total = (uint32_t)(c->len + 4 - at);
    cap_u32(c, total);
    cap_patch32(c, at + 4, total);
    cap_bound(c, packet);
}

void cap_option(capture *c, uint16_t code, const void *value, uint16_t len)
{
    cap_u16(c, code);
    cap_u16(c, len);
    cap_bytes(c, value, len);
    cap_pad4(c);
}

void cap_option_str(capture *c, uint16_t code, const char *s)
{
    cap_option(c, code, s, (uint16_t)strlen(s));
}

void cap_option_end(capture *c)
{
    cap_u16(c, 0);
    cap_u16(c, 0);
}

void cap_shb(capture *c, int big_endian, const char *userappl, const char *os,
             const char *hardware, const char *comment)
{
    size_t at;
    c->big_endian = big_endian;
    at = cap_block_begin(c, 0x0A0D0D0A);
    cap_u32(c, 0x1A2B3C4D);
    cap_u16(c, 1);
    cap_u16(c, 0);
    cap_u64(c, UINT64_MAX); /* section length: not given */
    if (comment)
        cap_option_str(c, 1, comment);
    if (hardware)
        cap_option_str(c, 2, hardware);
    if (os)
        cap_option_str(c, 3, os);
    if (userappl)
        cap_option_str(c, 4, userappl);
    if (comment || hardware || os || userappl)
        cap_option_end(c);
    cap_block_end(c, at, 0);
}

void cap_idb(capture *c, uint16_t linktype, uint32_t snaplen, int tsresol,
             const int64_t *tsoffset, const char *name)
{
    size_t at = cap_block_begin(c, 1);
    cap_u16(c, linktype);
    cap_u16(c, 0);
    cap_u32(c, snaplen);
    if (name)
        cap_option_str(c, 2, name);
    if (tsresol >= 0) {
        uint8_t r = (uint8_t)tsresol;
        cap_option(c, 9, &r, 1);
    }
    if (tsoffset) {
        cap_u16(c, 14);
        cap_u16(c, 8);
        cap_u64(c, (uint64_t)*tsoffset);
    }
    if (name || tsresol >= 0 || tsoffset)
        cap_option_end(c);
    cap_block_end(c, at, 0);
}

void cap_epb(capture *c, uint32_t iface, uint64_t ts, uint32_t caplen, uint32_t len,
             const uint8_t *data, const char *comment, const uint32_t *flags)
{
    size_t at = cap_block_begin(c, 6);
    cap_u32(c, iface);
    cap_u32(c, (uint32_t)(ts >> 32));
    cap_u32(c, (uint32_t)ts);
    cap_u32(c, caplen);
    cap_u32(c, len);
    cap_bytes(c, data, caplen);
    cap_pad4(c);
    if (comment)
        cap_option_str(c, 1, comment);
    if (flags) {
        cap_u16(c, 2);
        cap_u16(c, 4);
        cap_u32(c, *flags);
    }
    if (comment || flags)
        cap_option_end(c);
    cap_block_end(c, at, 1);
}

void cap_spb(capture *c, uint32_t len, const uint8_t *data, uint32_t stored)
{
    size_t at = cap_block_begin(c, 3);
    cap_u32(c, len);
    cap_bytes(c, data, stored);
    cap_block_end(c, at, 1);
}

void cap_pb(capture *c, uint16_t iface, uint64_t ts, uint32_t caplen, uint32_t len,
            const uint8_t *data)
{
    size_t at = cap_block_begin(c, 2);
    cap_u16(c, iface);
    cap_u16(c, 3); /* drops */
    cap_u32(c, (uint32_t)(ts >> 32));
    cap_u32(c, (uint32_t)ts);
    cap_u32(c, caplen);
    cap_u32(c, len);
    cap_bytes(c, data, caplen);
    cap_block_end(c, at, 1);
}

void cap_pattern(uint8_t *out, size_t n, unsigned seed)
{
    size_t i;
    uint32_t x = seed * 2654435761u + 1u;
    for (i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        out[i] = (uint8_t)(x >> 16);
    }
}
