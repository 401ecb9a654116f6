/* Hand-built capture files for the reader tests: classic pcap records and
 * pcapng blocks, in either byte order, with the offsets where each record or
 * block ends (so a test knows what a cut at any byte must give). */
#ifndef PKTCAP_TESTS_READER_BUILDER_H
#define PKTCAP_TESTS_READER_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#define CAP_MAX_BOUNDS 512

typedef struct capture {
    uint8_t *data;
    size_t len;
    size_t cap;
    int big_endian;                  /* how fields are written from now on */
    size_t bound[CAP_MAX_BOUNDS];    /* offsets where a header, record or block ends */
    unsigned packets_at[CAP_MAX_BOUNDS]; /* packets complete at that offset */
    unsigned nbound;
    unsigned packets;
} capture;

void cap_init(capture *c, int big_endian);
void cap_free(capture *c);

void cap_u8(capture *c, uint8_t v);
void cap_u16(capture *c, uint16_t v);
void cap_u32(capture *c, uint32_t v);
void cap_u64(capture *c, uint64_t v);
void cap_bytes(capture *c, const void *p, size_t n);
void cap_pad4(capture *c);
void cap_patch32(capture *c, size_t at, uint32_t v);
/* Marks the end of a header, record or block; `packet` counts one more packet. */
void cap_bound(capture *c, int packet);

/* Classic pcap. `magic` is written in the capture's byte order. */
void cap_pcap_header(capture *c, uint32_t magic, uint16_t major, uint16_t minor,
                     uint32_t snaplen, uint32_t linktype);
/* Writes `caplen` bytes of data; `modified` adds the 8 bytes of Kuznetsov's
 * format (ifindex 7, protocol 0x0800, pkt_type 4). */
void cap_pcap_record(capture *c, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len,
                     const uint8_t *data, int modified);

/* pcapng. cap_block_begin returns the block's offset for cap_block_end,
 * which pads the body, writes the trailer and patches the length. */
size_t cap_block_begin(capture *c, uint32_t type);
void cap_block_end(capture *c, size_t at, int packet);
void cap_option(capture *c, uint16_t code, const void *value, uint16_t len);
void cap_option_str(capture *c, uint16_t code, const char *s);
void cap_option_end(capture *c);

/* An SHB in the given byte order (it sets c->big_endian); NULL text is left out. */
void cap_shb(capture *c, int big_endian, const char *userappl, const char *os,
             const char *hardware, const char *comment);
/* tsresol < 0: no if_tsresol option; tsoffset NULL: no if_tsoffset; name NULL: no if_name. */
void cap_idb(capture *c, uint16_t linktype, uint32_t snaplen, int tsresol,
             const int64_t *tsoffset, const char *name);
void cap_epb(capture *c, uint32_t iface, uint64_t ts, uint32_t caplen, uint32_t len,
             const uint8_t *data, const char *comment, const uint32_t *flags);
/* `stored` bytes of data follow the length field. */
void cap_spb(capture *c, uint32_t len, const uint8_t *data, uint32_t stored);
void cap_pb(capture *c, uint16_t iface, uint64_t ts, uint32_t caplen, uint32_t len,
            const uint8_t *data);

/* Deterministic packet bytes: out[i] depends on seed and i. */
void cap_pattern(uint8_t *out, size_t n, unsigned seed);

#endif
