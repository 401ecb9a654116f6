/* Classic pcap encoding, host byte order: a 24-byte file header, then a
 * 16-byte record header before each packet. */
#include "file/writer.h"

#include "file/format.h"

int pktcap__pcap_header(pktcap_writer *w)
{
    /* Interfaces share one link type (add_interface sees to it); the header
     * snaplen must admit the largest of theirs. A file without interfaces
     * still needs a link type: Ethernet, as most tools assume. */
    uint32_t linktype = w->if_count ? w->ifs[0].linktype : LINKTYPE_ETHERNET;
    uint32_t snaplen = w->if_count ? 0 : PCAP_MAX_SNAPLEN;
    for (uint32_t i = 0; i < w->if_count; i++)
        if (w->ifs[i].keep > snaplen)
            snaplen = w->ifs[i].keep;

    uint8_t *p;
    int rc = pktcap__writer_room(&p, w, PCAP_FILE_HEADER_LEN);
    if (rc != 0)
        return rc;
    p = put_u32(p, w->format == PKTCAP_FORMAT_PCAP_NSEC ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC);
    p = put_u16(p, 2); /* version 2.4 */
    p = put_u16(p, 4);
    p = put_u32(p, 0); /* thiszone: times are UTC */
    p = put_u32(p, 0); /* sigfigs */
    p = put_u32(p, snaplen);
    put_u32(p, linktype);
    return 0;
}

int pktcap__pcap_packet(pktcap_writer *w, const pktcap_packet *p, uint32_t caplen)
{
    uint32_t record[4] = {
        (uint32_t)p->ts_sec,
        w->format == PKTCAP_FORMAT_PCAP_NSEC ? p->ts_nsec : p->ts_nsec / 1000,
        caplen,
        p->len,
    };
    if (PCAP_RECORD_HEADER_LEN + (size_t)caplen <= writer_free_space(w)) {
        uint8_t *d = w->buf + w->used;
        memcpy(d, record, PCAP_RECORD_HEADER_LEN);
        if (caplen)
            memcpy(d + PCAP_RECORD_HEADER_LEN, p->data, caplen);
        w->used += PCAP_RECORD_HEADER_LEN + (size_t)caplen;
        return 0;
    }
    int rc = pktcap__writer_put(w, record, PCAP_RECORD_HEADER_LEN);
    return rc ? rc : pktcap__writer_put(w, p->data, caplen);
}
