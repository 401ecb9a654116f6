/* Internal: the capture-file reader, shared by its input layer (reader.c)
 * and its two decoders (reader_pcap.c, reader_pcapng.c).
 *
 * The input is a window buf[0, end) over the stream, starting at stream offset
 * `base`; pos is the next unread byte. For a memory reader the window is the
 * caller's whole buffer. For a descriptor it is our read buffer, refilled by
 * pktcap__reader_fill(), which may move the unread tail to the front: pointers
 * into the window stay valid only until the next fill. */
#ifndef PKTCAP_FILE_READER_H
#define PKTCAP_FILE_READER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <pktcap/file.h>

#include "core/error.h"

/* Reads from a descriptor go through a buffer this big: large reads keep the
 * per-packet cost of a read() call near zero (mmap is slower here: the page
 * faults cost more than the copy). */
#define PKTCAP__READ_BUFFER_SIZE (1024u * 1024u)

/* The largest pcapng block accepted, and so the most a descriptor reader's
 * buffer grows: far above any real block (libpcap stops at 16 MiB), small
 * enough that a corrupt length cannot make us allocate without bound. */
#define PKTCAP__BLOCK_MAX (64u * 1024u * 1024u)
#define PKTCAP__BLOCK_MAX_TEXT "64 MiB"

/* pcapng allows 2^32 interfaces; we stop at a number no real capture
 * approaches, so the interface table stays bounded. */
#define PKTCAP__INTERFACE_MAX (1u << 20)

enum pktcap__if_text {
    PKTCAP__IF_NAME,
    PKTCAP__IF_DESCRIPTION,
    PKTCAP__IF_OS,
    PKTCAP__IF_HARDWARE,
    PKTCAP__IF_FILTER,
    PKTCAP__IF_TEXT_COUNT
};

enum pktcap__shb_text {
    PKTCAP__SHB_USERAPPL,
    PKTCAP__SHB_OS,
    PKTCAP__SHB_HARDWARE,
    PKTCAP__SHB_COMMENT,
    PKTCAP__SHB_TEXT_COUNT
};

/* How an interface's timestamp units become seconds + nanoseconds. */
enum pktcap__ts_kind {
    PKTCAP__TS_USEC,    /* 10^-6: the default; division by a constant */
    PKTCAP__TS_NSEC,    /* 10^-9 */
    PKTCAP__TS_DEC_UP,  /* 10^-n, n < 9: ns = fraction * ts_scale */
    PKTCAP__TS_DEC_DOWN,/* 10^-n, n > 9: ns = fraction / ts_scale (0: always 0) */
    PKTCAP__TS_BIN      /* 2^-n: ns = fraction * 10^9 >> n, in 96 bits */
};

struct pktcap__iface {
    uint32_t linktype;
    uint32_t snaplen;   /* as declared; 0 = not limited */
    uint32_t cap_limit; /* caplen is cut to this (libpcap's snapshot rule) */
    uint8_t ts_kind;    /* enum pktcap__ts_kind */
    uint8_t ts_exp;     /* n of 10^-n or 2^-n */
    uint64_t ts_units;  /* units per second; 0 when it does not fit in 64 bits */
    uint64_t ts_scale;
    uint64_t ts_offset; /* if_tsoffset, seconds (signed in the file; added modulo 2^64) */
    char *text[PKTCAP__IF_TEXT_COUNT];
};

struct pktcap_reader {
    int (*next)(pktcap_reader *r); /* the decoder: fills r->packet or fails */

    const uint8_t *buf;
    size_t pos;
    size_t end;
    uint64_t base;
    uint8_t *owned;      /* our read buffer (NULL for a memory reader) */
    size_t cap;
    int fd;              /* -1 for a memory reader */
    int own_fd;          /* close fd at the end (we opened it) */
    int eof;

    int format;          /* pktcap_format_t */
    int swapped;         /* the file (or section) is in the other byte order */
    int failed;          /* 0, or the code every later next() returns */
    char *name;          /* the path, or <stdin>, <fd N>, <memory>: for messages */
    pktcap_packet packet;

    /* classic pcap */
    uint32_t record_len; /* record header: 16, or 24 for the modified format */
    uint32_t caplen_max; /* above it a record is malformed */
    uint32_t frac_mult;  /* nanoseconds per unit of the fraction field: 1000 or 1 */
    uint32_t frac_units; /* units of the fraction field per second */
    int lengths_swapped; /* 0 no, 1 yes, 2 when caplen > len (versions 2.0-2.3) */

    /* interfaces: 1 for classic pcap; pcapng numbers them across sections */
    struct pktcap__iface *ifaces;
    uint32_t iface_count;
    size_t iface_alloc;
    uint32_t section_first; /* index of the current section's first interface */
    uint32_t section_count;
    char *shb_text[PKTCAP__SHB_TEXT_COUNT];

    char message[1024]; /* the failure's message, replayed by later calls */
};

/* Makes at least `want` bytes available at buf + pos, reading (and growing
 * the buffer, up to `want`) as needed. Returns how many bytes are available
 * (fewer than `want` only at the end of the input) or a negative code with
 * the error recorded. */
long pktcap__reader_fill(pktcap_reader *r, size_t want);

/* Records "NAME: WHAT at byte offset OFFSET: DETAIL" and returns code. */
int pktcap__reader_error(const pktcap_reader *r, int code, const char *what,
                         uint64_t offset, const char *fmt, ...) PKTCAP__PRINTF(5, 6);

/* Stream offset of the next unread byte. */
static inline uint64_t pktcap__reader_tell(const pktcap_reader *r)
{
    return r->base + r->pos;
}

/* Decoders: called by open with the magic checked, nothing consumed yet. */
int pktcap__reader_pcap_start(pktcap_reader *r);
int pktcap__reader_pcapng_start(pktcap_reader *r);

/* Adds an interface (zeroed, timestamps in microseconds, no caplen cut) at
 * *out; fails with the error recorded when the table is full (PKTCAP_E_FORMAT,
 * naming the IDB at `offset`) or memory ran out. */
int pktcap__reader_add_iface(pktcap_reader *r, uint64_t offset, struct pktcap__iface **out);

/* pktcap_reader_open_fd() with a read buffer of `buffer_size` bytes (at least
 * 1) instead of the usual one: tests and the fuzz target use a tiny buffer so
 * that records straddle it and make it grow all the time. */
int pktcap__reader_open_fd_sized(pktcap_reader **out, int fd, size_t buffer_size);

/* How many pcapng sections (SHBs) have been read; 0 for classic pcap. For
 * tests that compare with a file's known block counts. */
uint32_t pktcap__reader_section_count(const pktcap_reader *r);

/* The per-packet paths are written once and instantiated per byte order
 * (always inlined with a constant); their rare cases live out of line so the
 * usual one needs no stack frame. */
#if defined(__GNUC__)
#  define PKTCAP__ALWAYS_INLINE inline __attribute__((always_inline))
#  define PKTCAP__NOINLINE __attribute__((noinline))
#  define PKTCAP__LIKELY(x) __builtin_expect(!!(x), 1)
#else
#  define PKTCAP__ALWAYS_INLINE inline
#  define PKTCAP__NOINLINE
#  define PKTCAP__LIKELY(x) (x)
#endif

/* Walking a large memory buffer is bound by memory latency: each record's
 * length says where the next one is, and hardware prefetchers stop at page
 * boundaries. Asking for the bytes a few KiB ahead keeps them coming. The
 * address is computed as an integer: it may lie past the buffer, which a
 * prefetch (unlike a pointer) may do. */
#if defined(__GNUC__)
#  define PKTCAP__PREFETCH(p) __builtin_prefetch((const void *)((uintptr_t)(p) + 4096))
#else
#  define PKTCAP__PREFETCH(p) ((void)0)
#endif

/* Field access in the file's byte order. */
#if defined(__GNUC__)
#  define PKTCAP__BSWAP16(x) __builtin_bswap16(x)
#  define PKTCAP__BSWAP32(x) __builtin_bswap32(x)
#  define PKTCAP__BSWAP64(x) __builtin_bswap64(x)
#else
#  define PKTCAP__BSWAP16(x) ((uint16_t)(((x) >> 8) | ((x) << 8)))
#  define PKTCAP__BSWAP32(x) \
    ((((x) & 0xffu) << 24) | (((x) & 0xff00u) << 8) | (((x) >> 8) & 0xff00u) | ((x) >> 24))
#  define PKTCAP__BSWAP64(x) \
    (((uint64_t)PKTCAP__BSWAP32((uint32_t)(x)) << 32) | PKTCAP__BSWAP32((uint32_t)((x) >> 32)))
#endif

static inline uint16_t pktcap__get16(const uint8_t *p, int swapped)
{
    uint16_t v;
    memcpy(&v, p, sizeof(v));
    return swapped ? (uint16_t)PKTCAP__BSWAP16(v) : v;
}

static inline uint32_t pktcap__get32(const uint8_t *p, int swapped)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return swapped ? PKTCAP__BSWAP32(v) : v;
}

static inline uint64_t pktcap__get64(const uint8_t *p, int swapped)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return swapped ? PKTCAP__BSWAP64(v) : v;
}

#endif
