/* Reading classic pcap: the four magics and the modified (Kuznetsov) format.
 *
 * The per-packet path is one function instantiated for native and swapped
 * byte order, chosen once when the header is read; rarer variants (modified
 * record header, versions that swapped caplen and len) take a general copy. */
#include <limits.h>

#include "file/format.h"
#include "file/reader.h"

/* The largest caplen we take in a record. libpcap 1.10 refuses anything
 * above 262144 bytes for most link types ("invalid packet capture length");
 * we allow 1 MiB, a margin for captures of jumbo/GSO frames written with a
 * large snaplen, and keep libpcap's own larger limits for D-Bus (128 MiB) and
 * EBHSCR (8 MiB). */
#define PCAP_CAPLEN_MAX (1024u * 1024u)

static uint32_t caplen_max_for(uint32_t linktype)
{
    switch (linktype) {
    case LINKTYPE_DBUS:
        return 128u * 1024u * 1024u;
    case LINKTYPE_EBHSCR:
        return 8u * 1024u * 1024u;
    default:
        return PCAP_CAPLEN_MAX;
    }
}

/* Hands out the record whose header is at h (hlen bytes, data present). */
static PKTCAP__ALWAYS_INLINE void deliver(pktcap_reader *r, const uint8_t *h, size_t hlen,
                                          uint32_t sec, uint32_t frac, uint32_t caplen,
                                          uint32_t len)
{
    pktcap_packet *p = &r->packet;
    uint32_t cap_limit = r->ifaces[0].cap_limit;
    p->data = h + hlen;
    p->caplen = caplen < cap_limit ? caplen : cap_limit;
    p->len = len;
    if (PKTCAP__LIKELY(frac < r->frac_units)) {
        p->ts_sec = sec;
        p->ts_nsec = frac * r->frac_mult;
    } else {
        /* An out-of-range fraction (damaged or fuzzed files have them) is
         * carried into the seconds, keeping ts_nsec below 10^9. */
        p->ts_sec = (int64_t)sec + frac / r->frac_units;
        p->ts_nsec = (frac % r->frac_units) * r->frac_mult;
    }
    r->pos += hlen + caplen;
}

/* Every case: refills, old versions' swapped lengths, the modified format's
 * longer header, errors. */
static PKTCAP__NOINLINE int read_record(pktcap_reader *r, int swapped, int general)
{
    const size_t hlen = general ? r->record_len : PCAP_RECORD_HEADER_LEN;
    size_t avail = r->end - r->pos;
    const uint8_t *h;
    uint32_t sec, frac, caplen, len;

    if (avail < hlen) {
        long n = pktcap__reader_fill(r, hlen);
        if (n <= 0)
            return n == 0 ? PKTCAP_E_END : (int)n;
        if ((size_t)n < hlen)
            return pktcap__reader_error(r, PKTCAP_E_TRUNCATED, "record", pktcap__reader_tell(r),
                                        "header cut short (%ld of %zu bytes)", n, hlen);
        avail = (size_t)n;
    }
    h = r->buf + r->pos;
    sec = pktcap__get32(h, swapped);
    frac = pktcap__get32(h + 4, swapped);
    caplen = pktcap__get32(h + 8, swapped);
    len = pktcap__get32(h + 12, swapped);
    if (general && r->lengths_swapped && (r->lengths_swapped == 1 || caplen > len)) {
        uint32_t t = caplen;
        caplen = len;
        len = t;
    }
    if (caplen > r->caplen_max)
        return pktcap__reader_error(r, PKTCAP_E_FORMAT, "record", pktcap__reader_tell(r),
                                    "caplen %u exceeds the limit of %u bytes for link type %u",
                                    caplen, r->caplen_max, r->packet.linktype);
    if (avail - hlen < caplen) {
        long n = pktcap__reader_fill(r, hlen + caplen);
        if (n < 0)
            return (int)n;
        if ((size_t)n < hlen + caplen)
            return pktcap__reader_error(r, PKTCAP_E_TRUNCATED, "record", pktcap__reader_tell(r),
                                        "packet data cut short (%lu of %u bytes)",
                                        (unsigned long)((size_t)n - hlen), caplen);
        h = r->buf + r->pos;
    }
    deliver(r, h, hlen, sec, frac, caplen, len);
    return 0;
}

/* The usual case, kept free of calls so it needs no stack frame: a 16-byte
 * header and its data already in the window. */
static PKTCAP__ALWAYS_INLINE int read_record_fast(pktcap_reader *r, const int swapped)
{
    size_t avail = r->end - r->pos;
    if (PKTCAP__LIKELY(avail >= PCAP_RECORD_HEADER_LEN)) {
        const uint8_t *h = r->buf + r->pos;
        uint32_t caplen = pktcap__get32(h + 8, swapped);
        PKTCAP__PREFETCH(h);
        if (PKTCAP__LIKELY(caplen <= r->caplen_max && avail - PCAP_RECORD_HEADER_LEN >= caplen)) {
            deliver(r, h, PCAP_RECORD_HEADER_LEN, pktcap__get32(h, swapped),
                    pktcap__get32(h + 4, swapped), caplen, pktcap__get32(h + 12, swapped));
            return 0;
        }
    }
    return read_record(r, swapped, 0);
}

static int next_native(pktcap_reader *r)
{
    return read_record_fast(r, 0);
}

static int next_swapped(pktcap_reader *r)
{
    return read_record_fast(r, 1);
}

static int next_general(pktcap_reader *r)
{
    return read_record(r, r->swapped, 1);
}

static int is_pcap_magic(uint32_t m)
{
    return m == PCAP_MAGIC_USEC || m == PCAP_MAGIC_NSEC || m == PCAP_MAGIC_MODIFIED;
}

/* Versions 2.0-2.2 (and DG/UX's 543.0) wrote len before caplen; some 2.3
 * writers did too, recognisable by caplen > len. As libpcap. */
static int lengths_swapped_for(uint16_t major, uint16_t minor)
{
    if (major == 543 || minor < 3)
        return 1;
    return minor == 3 ? 2 : 0;
}

int pktcap__reader_pcap_start(pktcap_reader *r)
{
    struct pktcap__iface *f;
    const uint8_t *h;
    uint32_t magic, snaplen, linktype, snapshot;
    uint16_t major, minor;
    long n = pktcap__reader_fill(r, PCAP_FILE_HEADER_LEN);
    if (n < 0)
        return (int)n;
    h = r->buf + r->pos;
    magic = pktcap__get32(h, 0);
    r->swapped = !is_pcap_magic(magic);
    if (r->swapped)
        magic = PKTCAP__BSWAP32(magic);
    if ((size_t)n < PCAP_FILE_HEADER_LEN)
        return pktcap__reader_error(r, PKTCAP_E_TRUNCATED, "pcap file header", 0,
                                    "cut short (%ld of %u bytes)", n, PCAP_FILE_HEADER_LEN);
    major = pktcap__get16(h + 4, r->swapped);
    minor = pktcap__get16(h + 6, r->swapped);
    snaplen = pktcap__get32(h + 16, r->swapped);
    linktype = pktcap__get32(h + 20, r->swapped) & PCAP_LINKTYPE_MASK;
    if (!((major == 2 && minor <= 4) || (major == 543 && minor == 0)))
        return pktcap__reader_error(r, PKTCAP_E_FORMAT, "pcap file header", 0,
                                    "unsupported version %u.%u", major, minor);

    int rc = pktcap__reader_add_iface(r, 0, &f);
    if (rc < 0)
        return rc;
    r->format = magic == PCAP_MAGIC_NSEC       ? PKTCAP_FORMAT_PCAP_NSEC
                : magic == PCAP_MAGIC_MODIFIED ? PKTCAP_FORMAT_PCAP_MODIFIED
                                               : PKTCAP_FORMAT_PCAP;
    r->record_len = magic == PCAP_MAGIC_MODIFIED ? PCAP_MODIFIED_RECORD_HEADER_LEN
                                                 : PCAP_RECORD_HEADER_LEN;
    r->caplen_max = caplen_max_for(linktype);
    r->lengths_swapped = lengths_swapped_for(major, minor);
    r->frac_units = magic == PCAP_MAGIC_NSEC ? 1000000000u : 1000000u;
    r->frac_mult = magic == PCAP_MAGIC_NSEC ? 1u : 1000u;

    f->linktype = linktype;
    f->snaplen = snaplen;
    f->ts_kind = magic == PCAP_MAGIC_NSEC ? PKTCAP__TS_NSEC : PKTCAP__TS_USEC;
    f->ts_exp = magic == PCAP_MAGIC_NSEC ? 9 : 6;
    f->ts_units = r->frac_units;
    /* libpcap's snapshot rule: packets are cut to the header's snaplen (a
     * bogus 0 or > INT_MAX means the link type's maximum); the modified
     * format's Ethernet captures may hold a 14-byte fake header on top. */
    snapshot = snaplen == 0 || snaplen > INT_MAX ? r->caplen_max : snaplen;
    if (magic == PCAP_MAGIC_MODIFIED && linktype == LINKTYPE_ETHERNET)
        snapshot = snapshot <= INT_MAX - 14 ? snapshot + 14 : INT_MAX;
    f->cap_limit = snapshot;

    r->packet.linktype = linktype;
    r->packet.interface = 0;
    r->pos += PCAP_FILE_HEADER_LEN;
    if (r->record_len != PCAP_RECORD_HEADER_LEN || r->lengths_swapped)
        r->next = next_general;
    else
        r->next = r->swapped ? next_swapped : next_native;
    return 0;
}
