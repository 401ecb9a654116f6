/* imix.h — a deterministic IMIX traffic generator for benchmarks.
 *
 * Produces Ethernet frames of 64, 576 and 1500 bytes in the ratio 7:4:1, about
 * 90 % IPv4 / 10 % IPv6, a TCP/UDP/ICMP mix and about 10 % of frames carrying an
 * 802.1Q tag. Traffic is flow-based between FIXED host pools (64 clients and
 * 16 servers per address family, 512 concurrent flows replaced as they end),
 * because tools such as tcpdump are quadratic in the number of distinct
 * addresses: random addresses would make comparisons meaningless.
 *
 * Every header is valid: IPv4 header checksum, TCP/UDP/ICMP/ICMPv6 checksums
 * with the pseudo-header, IP and UDP lengths. TCP flows start with SYN /
 * SYN-ACK and end with FIN; sequence and acknowledgement numbers follow the
 * payload. Control packets and IPv6 TCP in the 64-byte class are a little
 * longer or carry Ethernet padding where the headers do not fit exactly.
 * Timestamps start at 2024-01-01 00:00:00 UTC and increase by 1–20 µs (with
 * nanosecond digits) per packet, so they also increase strictly at
 * microsecond resolution.
 *
 * The output depends only on the seed: the same seed gives the same bytes on
 * every run and every machine (files are written little-endian).
 *
 * In-process use (e.g. a decoder benchmark that wants packets in memory):
 *
 *     imix_state g;
 *     uint8_t frame[IMIX_MAX_FRAME];
 *     uint32_t len; uint64_t ts_ns;
 *     imix_init(&g, IMIX_DEFAULT_SEED);
 *     for (i = 0; i < n; i++) { imix_next(&g, frame, &len, &ts_ns); ... }
 *
 * gen-imix.c is a thin command-line front end over imix_write_file().
 */
#ifndef PKTCAP_BENCH_IMIX_H
#define PKTCAP_BENCH_IMIX_H

#include <stdint.h>
#include <stdio.h>

/** Largest frame imix_next() produces (1500 + room for headers that do not fit). */
#define IMIX_MAX_FRAME 1536
/** Concurrent flows. */
#define IMIX_FLOWS 512
/** Hosts per pool and address family. */
#define IMIX_CLIENTS 64
#define IMIX_SERVERS 16
/** The seed gen-imix uses unless told otherwise. */
#define IMIX_DEFAULT_SEED UINT64_C(0x5eed0f1e11c0ffee)
/** First timestamp: 2024-01-01 00:00:00 UTC, in nanoseconds. */
#define IMIX_START_NS (UINT64_C(1704067200) * UINT64_C(1000000000))

enum imix_format {
    IMIX_FORMAT_PCAP = 0,      /* classic pcap, microsecond timestamps */
    IMIX_FORMAT_PCAP_NSEC = 1, /* classic pcap, nanosecond timestamps */
    IMIX_FORMAT_PCAPNG = 2     /* pcapng, one Ethernet interface, if_tsresol 9 */
};

/** What was generated, for a summary and for sanity checks. */
typedef struct imix_stats {
    uint64_t packets;
    uint64_t bytes;          /* sum of frame lengths */
    uint64_t size_class[3];  /* packets drawn as 64 / 576 / 1500 bytes */
    uint64_t ipv4, ipv6, vlan;
    uint64_t tcp, udp, icmp;
    uint64_t tcp_syn, tcp_fin;
    uint64_t flows_started;  /* flows created (initial ones included) */
} imix_stats;

typedef struct imix_flow {
    uint8_t proto;        /* 6, 17, 1 (ICMPv6 for IPv6 flows) */
    uint8_t ipv6;
    uint8_t state;        /* TCP: 0 SYN next, 1 SYN-ACK next, 2 established */
    uint8_t reserved;
    uint16_t vlan;        /* 802.1Q VLAN ID, 0 = untagged */
    uint16_t client, server;  /* indexes into the host pools */
    uint16_t cport, sport;    /* client (ephemeral) and server ports; ICMP id in cport */
    uint16_t ip_id[2];        /* next IPv4 identification per direction */
    uint16_t icmp_seq;
    uint32_t flow_label;      /* IPv6 */
    uint32_t seq[2];          /* TCP next sequence number, [0] client→server, [1] server→client */
    uint32_t left;            /* packets left before the flow ends */
} imix_flow;

/** Generator state: plain data, no allocation; copy it to fork a stream. */
typedef struct imix_state {
    uint64_t rng[4];          /* xoshiro256** */
    uint64_t ts_ns;           /* timestamp of the last packet */
    imix_stats stats;
    imix_flow flow[IMIX_FLOWS];
    uint8_t payload[4096];    /* pseudo-random payload bytes, copied from at random offsets */
} imix_state;

/** Start a stream; the same seed always gives the same packets. */
void imix_init(imix_state *g, uint64_t seed);

/**
 * Produce the next frame.
 * @param g the state.
 * @param buf at least IMIX_MAX_FRAME bytes; receives the Ethernet frame.
 * @param[out] len the frame length (caplen == wire length).
 * @param[out] ts_ns its timestamp, nanoseconds since 1970 (strictly increasing).
 */
void imix_next(imix_state *g, uint8_t *buf, uint32_t *len, uint64_t *ts_ns);

/**
 * Write @p count packets of the stream for @p seed as a capture file.
 * @param stats receives the summary (may be NULL).
 * @return 0, or -1 with errno set when writing failed.
 */
int imix_write_file(FILE *out, enum imix_format format, uint64_t count, uint64_t seed,
                    imix_stats *stats);

#endif
