/**
 * @file summary.h
 * @brief The packet-summary decoder: one record per packet, as text, JSON or CSV.
 *
 * pktcap_summarize() decodes a packet's link, network and transport headers
 * into a ::pktcap_summary: addresses, ports, protocol, lengths and flags. It
 * never reads past the packet's `caplen`, keeps no state between packets and
 * never fails on packet contents: what cannot be decoded is flagged.
 * pktcap_summary_format() prints a summary as a `tcpdump -nn`-like line, a
 * JSON object (the SD-WAN API's field names plus ours) or a CSV row.
 *
 * @code
 * pktcap_summary s = { .struct_size = sizeof s };
 * char line[512];
 * size_t n;
 * pktcap_summarize(&s, packet);
 * s.number = ++count;
 * if (pktcap_summary_format(&n, line, sizeof line, PKTCAP_SUMMARY_TEXT, &s) == 0)
 *     puts(line);
 * @endcode
 */
#ifndef PKTCAP_SUMMARY_H
#define PKTCAP_SUMMARY_H

#include <stddef.h>
#include <stdint.h>
#include <pktcap/common.h>
#include <pktcap/file.h>

PKTCAP_BEGIN_DECLS

/** @brief Bits of pktcap_summary.flags. */
typedef enum pktcap_summary_flag_t {
    /** The packet was cut short (`caplen < len`) and decoding stopped at a header it did not hold. */
    PKTCAP_SUMMARY_TRUNCATED = 1u << 0,
    /** A header contradicts itself or its container (bad IHL, length below the header, bad version). */
    PKTCAP_SUMMARY_MALFORMED = 1u << 1,
    /** An IP fragment (IPv4 MF/offset or an IPv6 Fragment header); ports only from the first one. */
    PKTCAP_SUMMARY_FRAGMENT = 1u << 2,
    /** The link type is not one the decoder knows: only lengths and time are set. */
    PKTCAP_SUMMARY_UNKNOWN_LINKTYPE = 1u << 3,
    /** src_mac and dst_mac are set (Ethernet; the source alone for Linux cooked captures, see below). */
    PKTCAP_SUMMARY_HAS_MAC = 1u << 4,
    /** src_ip and dst_ip are set (from IPv4/IPv6, or ARP's sender and target protocol addresses). */
    PKTCAP_SUMMARY_HAS_IP = 1u << 5,
    /** src_port and dst_port are set (TCP, UDP, SCTP). */
    PKTCAP_SUMMARY_HAS_PORTS = 1u << 6,
    /** icmp_type and icmp_code are set (ICMP, ICMPv6). */
    PKTCAP_SUMMARY_HAS_ICMP = 1u << 7,
    /** The frame is ARP: src_ip/dst_ip are its sender/target protocol addresses (IPv4). */
    PKTCAP_SUMMARY_ARP = 1u << 8,
    /** The summary came from a provider that does not report TCP flags (SD-WAN):
     *  tcp_flags means nothing, and the formats leave the flags out. Since 1.3. */
    PKTCAP_SUMMARY_NO_TCP_FLAGS = 1u << 9
} pktcap_summary_flag_t;

/** @brief Output formats of pktcap_summary_format(). */
typedef enum pktcap_summary_format_t {
    PKTCAP_SUMMARY_TEXT = 0, /**< One line like `tcpdump -nn`: time, addresses:ports, protocol, length, flags. */
    PKTCAP_SUMMARY_JSON = 1, /**< One JSON object (a JSON Lines record), no newline. */
    PKTCAP_SUMMARY_CSV = 2   /**< One CSV row (RFC 4180 quoting), no newline; see pktcap_summary_header(). */
} pktcap_summary_format_t;

/**
 * @brief The decoded view of one packet.
 *
 * Set `struct_size` to `sizeof(pktcap_summary)` before calling
 * pktcap_summarize(): the library fills only the fields that fit, so a
 * program built against an older, shorter struct keeps working. Fields whose
 * `HAS_*` flag is clear are zero. The project's doc/summary.md lists where the
 * decoder deliberately differs from tshark (tunnels are not entered, the
 * outermost headers are reported).
 */
typedef struct pktcap_summary {
    uint32_t struct_size;  /**< `sizeof(pktcap_summary)` as the caller knew it. */
    uint32_t flags;        /**< ::pktcap_summary_flag_t bits. */
    uint64_t number;       /**< Packet number, from 1. pktcap_summarize() sets 0; the caller numbers packets. */
    int64_t ts_sec;        /**< Timestamp: seconds since 1970-01-01 UTC. */
    uint32_t ts_nsec;      /**< Timestamp: nanoseconds. */
    uint32_t time_digits;  /**< Fraction digits the formats print (0–9). pktcap_summarize() sets 9; set it from the file's resolution to print like the file. */
    uint32_t linktype;     /**< LINKTYPE_* of the packet. */
    uint32_t wire_len;     /**< Length on the wire (the packet's `len`). */
    uint32_t cap_len;      /**< Bytes captured (the packet's `caplen`). */
    uint16_t ethertype;    /**< The innermost EtherType (after VLAN tags and before MPLS), 0 if none. */
    uint16_t vlan[2];      /**< VLAN ids, outer first (802.1ad S-tag then 802.1Q C-tag). */
    uint8_t vlan_count;    /**< How many of `vlan` are set (0–2; more tags are skipped, not recorded). */
    uint8_t mpls_count;    /**< MPLS labels skipped to reach the payload. */
    uint8_t src_mac[6];    /**< Source MAC address. */
    uint8_t dst_mac[6];    /**< Destination MAC address. */
    uint8_t ip_version;    /**< 4 or 6 when src_ip/dst_ip are set, else 0. */
    uint8_t ip_proto;      /**< IPv4 protocol / IPv6 final next header (after extension headers), 0 if none. */
    uint8_t src_ip[16];    /**< Source address: IPv4 in the first 4 bytes, or IPv6. */
    uint8_t dst_ip[16];    /**< Destination address, as src_ip. */
    uint16_t src_port;     /**< Source port (TCP/UDP/SCTP). */
    uint16_t dst_port;     /**< Destination port. */
    uint8_t icmp_type;     /**< ICMP/ICMPv6 type. */
    uint8_t icmp_code;     /**< ICMP/ICMPv6 code. */
    uint8_t tcp_flags;     /**< TCP flags byte (CWR ECE URG ACK PSH RST SYN FIN, bit 7 to 0). */
    uint8_t reserved;      /**< Zero. */
    char protocol[16];     /**< The highest layer decoded: "ARP", "IPv4", "IPv6", "ICMP", "ICMPv6", "IGMP", "TCP", "UDP", "SCTP", "GRE", "ESP", "AH", or the EtherType in hex ("0x88cc"); "" for an unknown link type. NUL-terminated. */
} pktcap_summary;

/**
 * @brief Decode a packet into a summary.
 *
 * Understands Ethernet (with 802.1Q/802.1ad tags and MPLS label stacks),
 * Linux cooked captures v1 and v2, raw IP (LINKTYPE_RAW, IPV4, IPV6), BSD
 * loopback (NULL, LOOP); IPv4 with options and fragments, IPv6 with its
 * extension headers (hop-by-hop, routing, fragment, destination options, AH)
 * walked to the transport header; TCP, UDP, SCTP ports; ICMP and ICMPv6 type
 * and code; ARP addresses. Never reads past `packet->caplen`.
 *
 * @param[in,out] summary its `struct_size` must be set; every other field is
 *        overwritten (`time_digits` becomes 9, `number` 0).
 * @param packet the packet (from pktcap_reader_next(), or built by the caller).
 * @return 0 — whatever the packet holds; ::PKTCAP_E_INVAL only for NULL
 *         arguments, a summary `struct_size` that does not reach the end of
 *         `protocol` (122 bytes: `sizeof` adds tail padding, which differs
 *         between ABIs), a packet `struct_size` below `sizeof(pktcap_packet)`,
 *         or NULL `data` with a non-zero `caplen`. The summary is untouched then.
 */
PKTCAP_API int pktcap_summarize(pktcap_summary *summary, const pktcap_packet *packet);

/**
 * @brief Print a summary in one of the ::pktcap_summary_format_t formats.
 *
 * The output has no newline. Fields follow the SD-WAN API's summary (number,
 * time, src_mac, dst_mac, src_ip, dst_ip, src_port, dst_port, protocol,
 * length) followed by ours; see the project's doc/summary.md for each format's
 * exact layout.
 *
 * @param[out] length the output's length in bytes, without the NUL — set even
 *        when @p buf is too small, so a caller can retry with a larger one.
 * @param buf where the NUL-terminated output goes (may be NULL when @p size is 0).
 * @param size bytes available at @p buf.
 * @param format a ::pktcap_summary_format_t.
 * @param summary the summary.
 * @return 0; ::PKTCAP_E_LIMIT when the output and its NUL need more than
 *         @p size bytes (then @p buf holds an empty string if @p size > 0);
 *         ::PKTCAP_E_INVAL for NULL arguments or an unknown format.
 */
PKTCAP_API int pktcap_summary_format(size_t *length, char *buf, size_t size, int format,
                                     const pktcap_summary *summary);

/**
 * @brief The header line of a format: the CSV column names; "" for text and JSON.
 * @param format a ::pktcap_summary_format_t.
 * @return a static string without newline; NULL for an unknown format.
 */
PKTCAP_API const char *pktcap_summary_header(int format);

PKTCAP_END_DECLS

#endif /* PKTCAP_SUMMARY_H */
