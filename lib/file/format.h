/* Internal: numbers from the pcap and pcapng specifications that the reader
 * needs (draft-ietf-opsawg-pcap, draft-ietf-opsawg-pcapng). */
#ifndef PKTCAP_FILE_FORMAT_H
#define PKTCAP_FILE_FORMAT_H

/* Classic pcap magics, as read in the file's own byte order. */
#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_MAGIC_NSEC 0xa1b23c4du
#define PCAP_MAGIC_MODIFIED 0xa1b2cd34u /* Kuznetsov's patched libpcap */

#define PCAP_FILE_HEADER_LEN 24u
#define PCAP_RECORD_HEADER_LEN 16u
/* The modified format appends ifindex (4), protocol (2), pkt_type (1), pad (1). */
#define PCAP_MODIFIED_RECORD_HEADER_LEN 24u

/* The low 26 bits of the header's link-type field; the top 6 carry FCS
 * information (as libpcap's LT_LINKTYPE). */
#define PCAP_LINKTYPE_MASK 0x03FFFFFFu

/* pcapng block types. */
#define PCAPNG_BT_SHB 0x0A0D0D0Au
#define PCAPNG_BT_IDB 0x00000001u
#define PCAPNG_BT_PB 0x00000002u /* obsolete Packet Block */
#define PCAPNG_BT_SPB 0x00000003u
#define PCAPNG_BT_EPB 0x00000006u
#define PCAPNG_BYTE_ORDER_MAGIC 0x1A2B3C4Du

/* Block header (type, length) + trailer (length): the smallest block. */
#define PCAPNG_BLOCK_MIN 12u
/* SHB: header, byte-order magic, versions (2+2), section length (8), trailer. */
#define PCAPNG_SHB_MIN 28u
#define PCAPNG_IDB_FIXED 8u  /* linktype (2), reserved (2), snaplen (4) */
#define PCAPNG_EPB_FIXED 20u /* interface, ts high, ts low, caplen, len */
#define PCAPNG_PB_FIXED 20u  /* interface (2), drops (2), ts high, ts low, caplen, len */
#define PCAPNG_SPB_FIXED 4u  /* len */

/* Option codes. */
#define PCAPNG_OPT_END 0u
#define PCAPNG_OPT_COMMENT 1u
#define PCAPNG_OPT_SHB_HARDWARE 2u
#define PCAPNG_OPT_SHB_OS 3u
#define PCAPNG_OPT_SHB_USERAPPL 4u
#define PCAPNG_OPT_IF_NAME 2u
#define PCAPNG_OPT_IF_DESCRIPTION 3u
#define PCAPNG_OPT_IF_TSRESOL 9u
#define PCAPNG_OPT_IF_FILTER 11u
#define PCAPNG_OPT_IF_OS 12u
#define PCAPNG_OPT_IF_TSOFFSET 14u
#define PCAPNG_OPT_IF_HARDWARE 15u
#define PCAPNG_OPT_EPB_FLAGS 2u /* also pack_flags in the obsolete PB */

/* LINKTYPE_ETHERNET, and the link types whose records libpcap allows beyond
 * its general limit (LINKTYPE_DBUS, LINKTYPE_EBHSCR). */
#include "core/linktypes.h"

#endif
