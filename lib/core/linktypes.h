/* Internal: the LINKTYPE_ values (www.tcpdump.org/linktypes.html) the
 * library treats specially: the link layers the decoder and the filters
 * read, and those whose records libpcap allows beyond its general limit. */
#ifndef PKTCAP_CORE_LINKTYPES_H
#define PKTCAP_CORE_LINKTYPES_H

#define LINKTYPE_NULL 0u        /* BSD loopback, family in host byte order */
#define LINKTYPE_ETHERNET 1u
#define LINKTYPE_RAW 101u       /* raw IPv4 or IPv6 */
#define LINKTYPE_LOOP 108u      /* BSD loopback, family in network byte order */
#define LINKTYPE_LINUX_SLL 113u
#define LINKTYPE_IPV4 228u
#define LINKTYPE_IPV6 229u
#define LINKTYPE_DBUS 231u
#define LINKTYPE_USBPCAP 249u
#define LINKTYPE_LINUX_SLL2 276u
#define LINKTYPE_EBHSCR 279u

#endif
