/* Internal to the writer: the object shared by writer.c (life cycle,
 * checks, buffer) and the two encoders, writer_pcap.c and writer_pcapng.c. */
#ifndef PKTCAP_FILE_WRITER_H
#define PKTCAP_FILE_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pktcap/file.h>

/* Large enough that write(2) costs little per packet; packets bigger than
 * the whole buffer bypass it. Every non-packet block fits in it (a block
 * holds at most a few 64 KiB options). */
#define WRITER_BUFFER_SIZE ((size_t)1 << 20)
/* libpcap's and Wireshark's limit for a classic pcap record: what snaplen 0
 * ("no limit") means in that format. */
#define PCAP_MAX_SNAPLEN 262144u
#define PCAPNG_OPTION_MAX 65535u

/* Section options, in the order of their pcapng codes (1 … 4). */
enum writer_section_option {
    SECTION_COMMENT,
    SECTION_HARDWARE,
    SECTION_OS,
    SECTION_USERAPPL,
    SECTION_OPTION_COUNT
};

struct writer_interface {
    uint32_t linktype;
    uint32_t snaplen;   /* as declared: 0 = no limit */
    uint32_t keep;      /* most bytes of a packet written, after the format's limit */
    char *name;
    char *description;
    int has_stats;
    uint64_t received;
    uint64_t dropped;
};

struct pktcap_writer {
    pktcap_storage *storage;
    int format;
    int rotating;
    int error;          /* the first error; the writer refuses everything after it */
    int started;        /* a file header was written: the section is fixed */
    int in_unit;        /* a file is open in the target */
    uint8_t *buf;
    size_t used;
    uint64_t unit_flushed;  /* bytes of the current file handed to the target */
    /* The current file's first and last packet times, in nanoseconds. */
    int unit_has_packet;
    uint64_t unit_first_ns;
    uint64_t unit_last_ns;
    struct writer_interface *ifs;
    uint32_t if_count;
    size_t if_cap;
    char *section[SECTION_OPTION_COUNT];
    char message[1024]; /* the first error's message, repeated with it */
};

/* Hands the buffer to the target. */
int pktcap__writer_drain(pktcap_writer *w);
/* Appends bytes; what is larger than the buffer goes to the target directly. */
int pktcap__writer_put(pktcap_writer *w, const void *data, size_t size);
/* Makes room for `size` (≤ WRITER_BUFFER_SIZE) bytes and counts them as
 * used: the caller fills them through *out. */
int pktcap__writer_room(uint8_t **out, pktcap_writer *w, size_t size);

static inline size_t writer_free_space(const pktcap_writer *w)
{
    return WRITER_BUFFER_SIZE - w->used;
}

static inline uint8_t *put_u16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, sizeof(v));
    return p + sizeof(v);
}

static inline uint8_t *put_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof(v));
    return p + sizeof(v);
}

/* Classic pcap (writer_pcap.c). */
int pktcap__pcap_header(pktcap_writer *w);
int pktcap__pcap_packet(pktcap_writer *w, const pktcap_packet *p, uint32_t caplen);

/* pcapng (writer_pcapng.c). */
int pktcap__pcapng_section(pktcap_writer *w);                  /* SHB and every IDB */
int pktcap__pcapng_interface(pktcap_writer *w, uint32_t index); /* one IDB */
int pktcap__pcapng_packet(pktcap_writer *w, const pktcap_packet *p, uint32_t caplen, uint64_t ts_ns);
int pktcap__pcapng_statistics(pktcap_writer *w);               /* ISBs of interfaces with counters */

#endif
