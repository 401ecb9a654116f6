/* pcapng encoding, host byte order (draft-ietf-opsawg-pcapng): one section
 * per file, an IDB per interface with nanosecond resolution, an EPB per
 * packet, and ISBs at the end of each file. Options are padded to 32 bits
 * and every option list ends with opt_endofopt. */
#include "file/writer.h"

#include <time.h>

#include "core/error.h"
#include "file/format.h"

/* Not in format.h, which holds what the reader needs. */
#define PCAPNG_BT_ISB 0x00000005u
#define PCAPNG_OPT_ISB_STARTTIME 2u
#define PCAPNG_OPT_ISB_ENDTIME 3u
#define PCAPNG_OPT_ISB_IFRECV 4u
#define PCAPNG_OPT_ISB_IFDROP 5u

/* Block sizes without options: header and trailer plus the fixed fields. */
#define IDB_SIZE (PCAPNG_BLOCK_MIN + PCAPNG_IDB_FIXED)
#define EPB_SIZE (PCAPNG_BLOCK_MIN + PCAPNG_EPB_FIXED)
#define ISB_SIZE (PCAPNG_BLOCK_MIN + 12u) /* interface, ts high, ts low */
#define TSRESOL_NANOSECONDS 9

static size_t padded(size_t len)
{
    return (len + 3) & ~(size_t)3;
}

static size_t option_size(size_t len)
{
    return 4 + padded(len);
}

static uint8_t *put_option(uint8_t *p, uint16_t code, const void *value, size_t len)
{
    p = put_u16(p, code);
    p = put_u16(p, (uint16_t)len);
    if (len)
        memcpy(p, value, len);
    memset(p + len, 0, padded(len) - len);
    return p + padded(len);
}

static uint8_t *put_string_option(uint8_t *p, uint16_t code, const char *value)
{
    return value ? put_option(p, code, value, strlen(value)) : p;
}

static size_t string_option_size(const char *value)
{
    return value ? option_size(strlen(value)) : 0;
}

/* Timestamps are two 32-bit words, the high one first, in if_tsresol units. */
static uint8_t *put_time(uint8_t *p, uint64_t ns)
{
    p = put_u32(p, (uint32_t)(ns >> 32));
    return put_u32(p, (uint32_t)ns);
}

static uint8_t *put_time_option(uint8_t *p, uint16_t code, uint64_t ns)
{
    p = put_u16(p, code);
    p = put_u16(p, 8);
    return put_time(p, ns);
}

static int section_header(pktcap_writer *w)
{
    size_t options = 0;
    for (int i = 0; i < SECTION_OPTION_COUNT; i++)
        options += string_option_size(w->section[i]);
    if (options)
        options += 4;
    size_t total = PCAPNG_SHB_MIN + options;
    uint8_t *p;
    int rc = pktcap__writer_room(&p, w, total);
    if (rc != 0)
        return rc;
    p = put_u32(p, PCAPNG_BT_SHB);
    p = put_u32(p, (uint32_t)total);
    p = put_u32(p, PCAPNG_BYTE_ORDER_MAGIC);
    p = put_u16(p, 1);
    p = put_u16(p, 0);
    /* Section length -1: unknown, since the file is written as a stream. */
    p = put_u32(p, UINT32_MAX);
    p = put_u32(p, UINT32_MAX);
    for (int i = 0; i < SECTION_OPTION_COUNT; i++)
        p = put_string_option(p, (uint16_t)(PCAPNG_OPT_COMMENT + i), w->section[i]);
    if (options)
        p = put_u32(p, PCAPNG_OPT_END);
    put_u32(p, (uint32_t)total);
    return 0;
}

int pktcap__pcapng_interface(pktcap_writer *w, uint32_t index)
{
    const struct writer_interface *in = &w->ifs[index];
    uint8_t resolution = TSRESOL_NANOSECONDS;
    size_t total = IDB_SIZE + string_option_size(in->name) + string_option_size(in->description) +
                   option_size(1) + 4;
    uint8_t *p;
    int rc = pktcap__writer_room(&p, w, total);
    if (rc != 0)
        return rc;
    p = put_u32(p, PCAPNG_BT_IDB);
    p = put_u32(p, (uint32_t)total);
    p = put_u16(p, (uint16_t)in->linktype);
    p = put_u16(p, 0);
    p = put_u32(p, in->snaplen);
    p = put_string_option(p, PCAPNG_OPT_IF_NAME, in->name);
    p = put_string_option(p, PCAPNG_OPT_IF_DESCRIPTION, in->description);
    p = put_option(p, PCAPNG_OPT_IF_TSRESOL, &resolution, 1);
    p = put_u32(p, PCAPNG_OPT_END);
    put_u32(p, (uint32_t)total);
    return 0;
}

int pktcap__pcapng_section(pktcap_writer *w)
{
    int rc = section_header(w);
    for (uint32_t i = 0; rc == 0 && i < w->if_count; i++)
        rc = pktcap__pcapng_interface(w, i);
    return rc;
}

/* What follows the packet bytes: their padding, the options, the trailing
 * length. `p` has room for all of it; the padding is at most 3 bytes and is
 * written as 4 zeros, the rest overwritten by what follows. */
static void put_packet_tail(uint8_t *p, const pktcap_packet *pkt, size_t pad, uint32_t total)
{
    memset(p, 0, 4);
    p += pad;
    if (pkt->comment_len || pkt->flags) {
        if (pkt->comment_len)
            p = put_option(p, PCAPNG_OPT_COMMENT, pkt->comment, pkt->comment_len);
        if (pkt->flags)
            p = put_option(p, PCAPNG_OPT_EPB_FLAGS, &pkt->flags, sizeof(pkt->flags));
        p = put_u32(p, PCAPNG_OPT_END);
    }
    put_u32(p, total);
}

int pktcap__pcapng_packet(pktcap_writer *w, const pktcap_packet *pkt, uint32_t caplen, uint64_t ts_ns)
{
    size_t pad = padded(caplen) - caplen;
    size_t options = 0;
    if (pkt->comment_len || pkt->flags)
        options = (pkt->comment_len ? option_size(pkt->comment_len) : 0) +
                  (pkt->flags ? option_size(sizeof(pkt->flags)) : 0) + 4;
    size_t tail = pad + options + 4;
    uint64_t total = EPB_SIZE + (uint64_t)caplen + pad + options;
    if (total > UINT32_MAX)
        return pktcap__error_set(PKTCAP_E_LIMIT,
                                 "packet of %u bytes does not fit a pcapng block (at most 4 GiB)", caplen);
    uint32_t head[7] = {
        PCAPNG_BT_EPB, (uint32_t)total, pkt->interface, (uint32_t)(ts_ns >> 32), (uint32_t)ts_ns, caplen,
        pkt->len,
    };
    if (total <= writer_free_space(w)) {
        uint8_t *d = w->buf + w->used;
        memcpy(d, head, sizeof(head));
        if (caplen)
            memcpy(d + sizeof(head), pkt->data, caplen);
        put_packet_tail(d + sizeof(head) + caplen, pkt, pad, (uint32_t)total);
        w->used += (size_t)total;
        return 0;
    }
    uint8_t *t;
    int rc = pktcap__writer_put(w, head, sizeof(head));
    if (rc == 0)
        rc = pktcap__writer_put(w, pkt->data, caplen);
    if (rc == 0)
        rc = pktcap__writer_room(&t, w, tail);
    if (rc == 0)
        put_packet_tail(t, pkt, pad, (uint32_t)total);
    return rc;
}

static uint64_t now_ns(void)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}

int pktcap__pcapng_statistics(pktcap_writer *w)
{
    /* Counters are as of the file's last packet; start and end times say
     * which span of the capture this file covers. */
    uint64_t when = w->unit_has_packet ? w->unit_last_ns : now_ns();
    size_t times = w->unit_has_packet ? 2 * option_size(8) : 0;
    size_t total = ISB_SIZE + times + 2 * option_size(8) + 4;
    for (uint32_t i = 0; i < w->if_count; i++) {
        const struct writer_interface *in = &w->ifs[i];
        if (!in->has_stats)
            continue;
        uint8_t *p;
        int rc = pktcap__writer_room(&p, w, total);
        if (rc != 0)
            return rc;
        p = put_u32(p, PCAPNG_BT_ISB);
        p = put_u32(p, (uint32_t)total);
        p = put_u32(p, i);
        p = put_time(p, when);
        if (times) {
            p = put_time_option(p, PCAPNG_OPT_ISB_STARTTIME, w->unit_first_ns);
            p = put_time_option(p, PCAPNG_OPT_ISB_ENDTIME, w->unit_last_ns);
        }
        p = put_option(p, PCAPNG_OPT_ISB_IFRECV, &in->received, 8);
        p = put_option(p, PCAPNG_OPT_ISB_IFDROP, &in->dropped, 8);
        p = put_u32(p, PCAPNG_OPT_END);
        put_u32(p, (uint32_t)total);
    }
    return 0;
}
