/**
 * @file file.h
 * @brief Capture files: the pcap/pcapng writer and reader.
 *
 * The writer encodes packets as classic pcap (microsecond or nanosecond
 * timestamps) or pcapng into a ::pktcap_storage target and reports every I/O
 * error (unlike `pcap_dump`). The reader decodes classic pcap (all four magics
 * and the modified/Kuznetsov variant) and pcapng (both byte orders, several
 * sections and interfaces, EPB/SPB/obsolete PB) from a file, a memory buffer or
 * a non-seekable stream, handing out packet bytes without copying them.
 *
 * @code
 * pktcap_reader *r;
 * const pktcap_packet *p;
 * int rc = pktcap_reader_open(&r, "in.pcapng");
 * while (rc == 0 && (rc = pktcap_reader_next(&p, r)) == 0)
 *     printf("%lld.%09u %u/%u bytes\n", (long long)p->ts_sec, p->ts_nsec, p->caplen, p->len);
 * if (rc != PKTCAP_E_END)
 *     fprintf(stderr, "%s\n", pktcap_error_message(pktcap_error_last()));
 * pktcap_reader_close(r);
 * @endcode
 */
#ifndef PKTCAP_FILE_H
#define PKTCAP_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <pktcap/common.h>
#include <pktcap/storage.h>

PKTCAP_BEGIN_DECLS

/** @brief Capture file formats. */
typedef enum pktcap_format_t {
    PKTCAP_FORMAT_AUTO = 0,      /**< Writer: the storage target's `format` option. Reader: never returned. */
    PKTCAP_FORMAT_PCAP = 1,      /**< Classic pcap, microsecond timestamps (magic 0xa1b2c3d4). */
    PKTCAP_FORMAT_PCAP_NSEC = 2, /**< Classic pcap, nanosecond timestamps (magic 0xa1b23c4d). */
    PKTCAP_FORMAT_PCAPNG = 3,    /**< pcapng. The writer uses nanosecond resolution (if_tsresol 9). */
    PKTCAP_FORMAT_PCAP_MODIFIED = 4 /**< Reader only: Kuznetsov's modified pcap (magic 0xa1b2cd34). */
} pktcap_format_t;

/** @brief pcapng `epb_flags` direction bits (flags & 3). */
typedef enum pktcap_direction_t {
    PKTCAP_DIRECTION_UNKNOWN = 0,  /**< Direction not recorded. */
    PKTCAP_DIRECTION_INBOUND = 1,  /**< Received by the interface. */
    PKTCAP_DIRECTION_OUTBOUND = 2  /**< Sent by the interface. */
} pktcap_direction_t;

/**
 * @brief One packet: its timestamp, lengths, interface and bytes.
 *
 * The reader fills one in and keeps it; the writer reads one the caller filled
 * in. Callers that build one set `struct_size` to `sizeof(pktcap_packet)`,
 * so later versions can append fields without breaking them.
 */
typedef struct pktcap_packet {
    uint32_t struct_size;  /**< `sizeof(pktcap_packet)` as the filler knew it. */
    uint32_t interface;    /**< Interface index (pcapng IDB number across the whole file; 0 in pcap). */
    int64_t ts_sec;        /**< Timestamp: seconds since 1970-01-01 UTC (if_tsoffset applied). */
    uint32_t ts_nsec;      /**< Timestamp: nanoseconds, 0 … 999 999 999. */
    uint32_t caplen;       /**< Bytes captured, available at `data`. */
    uint32_t len;          /**< Length of the packet on the wire (≥ caplen in a well-formed file). */
    uint32_t linktype;     /**< LINKTYPE_* of the interface (1 = Ethernet). */
    uint32_t flags;        /**< pcapng `epb_flags` (direction in bits 0–1, see ::pktcap_direction_t); 0 if none. */
    uint32_t comment_len;  /**< Bytes in `comment`. */
    const uint8_t *data;   /**< The captured bytes. Reader: valid until the next pktcap_reader_next() or close. */
    const char *comment;   /**< The packet's first comment (UTF-8, not NUL-terminated), or NULL. */
} pktcap_packet;

/* ------------------------------------------------------------------------ */
/* Writer                                                                    */
/* ------------------------------------------------------------------------ */

/** @brief An opaque capture-file writer. */
typedef struct pktcap_writer pktcap_writer;

/**
 * @brief Start a capture file in a storage target.
 *
 * Nothing is written until the first packet, pktcap_writer_flush() or
 * pktcap_writer_close(). The target must outlive the writer and serve one
 * writer at a time.
 *
 * @param[out] out the new writer; untouched on failure.
 * @param storage where the bytes go.
 * @param format a ::pktcap_format_t; ::PKTCAP_FORMAT_AUTO takes the target's
 *        `format` option. ::PKTCAP_FORMAT_PCAP_MODIFIED is refused.
 * @return 0; ::PKTCAP_E_INVAL for a NULL argument or a bad format;
 *         ::PKTCAP_E_STATE if another writer is using @p storage;
 *         ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_writer_open(pktcap_writer **out, pktcap_storage *storage, int format);

/**
 * @brief Set a section option before the first packet.
 *
 * Keys: `shb_userappl` (default "libpktcap VERSION"), `shb_os` (default the
 * running kernel, from uname), `shb_hardware` (default the machine type),
 * `shb_comment`. Classic pcap has no place for them and ignores them.
 *
 * @param writer the writer.
 * @param key the option name.
 * @param value UTF-8 text, or NULL to leave the option out.
 * @return 0; ::PKTCAP_E_INVAL for an unknown key or a value over 65 535
 *         bytes; ::PKTCAP_E_STATE after the header was written. A refused
 *         option changes nothing.
 */
PKTCAP_API int pktcap_writer_set_option(pktcap_writer *writer, const char *key, const char *value);

/**
 * @brief Declare an interface packets can be written on.
 *
 * In pcapng each interface becomes an Interface Description Block (if_name,
 * if_description, if_tsresol = 9, if_snaplen). Classic pcap holds one link
 * type: a second interface with another link type is refused, one with the
 * same link type is accepted and shares the file.
 *
 * @param[out] index the new interface's index, for pktcap_packet.interface (may be NULL).
 * @param writer the writer.
 * @param linktype LINKTYPE_* value (1 = Ethernet, 101 = raw IP, 113 = Linux SLL, …).
 * @param snaplen the most bytes kept per packet; packets are cut to it. 0 means
 *        no limit in pcapng; classic pcap writes 262144 in its header and cuts
 *        packets to that, since libpcap and Wireshark refuse longer records.
 * @param name interface name (`eth0`), or NULL.
 * @param description free text, or NULL.
 * @return 0; ::PKTCAP_E_NOTSUP for a second link type in classic pcap;
 *         ::PKTCAP_E_STATE in classic pcap once the header was written;
 *         ::PKTCAP_E_INVAL for a link type above 65 535 or a name or
 *         description over 65 535 bytes; ::PKTCAP_E_LIMIT past 65 535
 *         interfaces; ::PKTCAP_E_NOMEM. A refused interface changes nothing:
 *         the writer goes on. An error writing a pcapng IDB mid-file is an
 *         output error (see pktcap_writer_write()).
 */
PKTCAP_API int pktcap_writer_add_interface(uint32_t *index, pktcap_writer *writer,
                                           uint32_t linktype, uint32_t snaplen,
                                           const char *name, const char *description);

/**
 * @brief Record an interface's counters, written at close as an Interface
 *        Statistics Block (pcapng; classic pcap has no place for them).
 *
 * @param writer the writer.
 * @param interface the interface index.
 * @param received packets the interface received (isb_ifrecv).
 * @param dropped packets dropped before capture (isb_ifdrop).
 * @return 0, or ::PKTCAP_E_INVAL for an unknown interface.
 */
PKTCAP_API int pktcap_writer_set_interface_stats(pktcap_writer *writer, uint32_t interface,
                                                 uint64_t received, uint64_t dropped);

/**
 * @brief Append a packet.
 *
 * Uses `interface`, `ts_sec`/`ts_nsec`, `caplen`, `len`, `data`, and in pcapng
 * `flags` and `comment`/`comment_len`; `linktype` is taken from the interface.
 * A packet longer than the interface's snaplen is cut to it (its `len` stays).
 *
 * A refused packet (::PKTCAP_E_INVAL) changes nothing: the file stays whole
 * and later packets are written. An error on the output path (::PKTCAP_E_IO,
 * or a callback target's own code) poisons the writer: every later call
 * returns that first error, and pktcap_writer_close() removes the file.
 *
 * @param writer the writer.
 * @param packet the packet; `struct_size` must be set.
 * @return 0; ::PKTCAP_E_INVAL for an unknown interface, `caplen > len`,
 *         `ts_nsec` ≥ 10⁹, a negative `ts_sec`, a `ts_sec` above 2³²−1 in
 *         classic pcap, a comment over 65 535 bytes or a NULL pointer;
 *         ::PKTCAP_E_IO (or the target's own error) when writing failed.
 */
PKTCAP_API int pktcap_writer_write(pktcap_writer *writer, const pktcap_packet *packet);

/**
 * @brief Write out everything buffered so far.
 *
 * Afterwards the bytes on disk form a valid capture file (still under its
 * temporary name for a file target; see storage.h).
 *
 * @param writer the writer.
 * @return 0, or the first I/O error seen.
 */
PKTCAP_API int pktcap_writer_flush(pktcap_writer *writer);

/**
 * @brief Finish the file (statistics blocks, flush, final name) and free the writer.
 *
 * If an output error happened (see pktcap_writer_write()), the unfinished
 * file is removed instead of being given its final name (files completed
 * earlier by rotation stay). Refused calls do not count: they changed nothing.
 *
 * @param writer the writer, or NULL.
 * @return 0, or the first output error seen during the writer's life.
 */
PKTCAP_API int pktcap_writer_close(pktcap_writer *writer);

/**
 * @brief Abandon the file being written and free the writer. Accepts NULL.
 *
 * The current file is removed; files completed earlier by rotation stay.
 *
 * @param writer the writer, or NULL.
 */
PKTCAP_API void pktcap_writer_abort(pktcap_writer *writer);

/* ------------------------------------------------------------------------ */
/* Reader                                                                    */
/* ------------------------------------------------------------------------ */

/** @brief An opaque capture-file reader. */
typedef struct pktcap_reader pktcap_reader;

/**
 * @brief Open a capture file for reading; the format is recognised by its magic.
 *
 * @param[out] out the new reader; untouched on failure.
 * @param path a file path, or `-` for standard input.
 * @return 0; ::PKTCAP_E_NOTFOUND, ::PKTCAP_E_PERM or ::PKTCAP_E_IO from the
 *         file system; ::PKTCAP_E_FORMAT for an unknown magic or bad header;
 *         ::PKTCAP_E_TRUNCATED for a file shorter than its header.
 */
PKTCAP_API int pktcap_reader_open(pktcap_reader **out, const char *path);

/**
 * @brief Read a capture held in memory, without copying it.
 *
 * @param[out] out the new reader; untouched on failure.
 * @param data the bytes; they must stay valid and unchanged until the reader is closed.
 * @param size how many bytes.
 * @return as pktcap_reader_open().
 */
PKTCAP_API int pktcap_reader_open_memory(pktcap_reader **out, const void *data, size_t size);

/**
 * @brief Read a capture from an open file descriptor, which may be a pipe.
 *
 * Reading is sequential; the descriptor is not closed by the reader.
 *
 * @param[out] out the new reader; untouched on failure.
 * @param fd an open, readable descriptor.
 * @return as pktcap_reader_open().
 */
PKTCAP_API int pktcap_reader_open_fd(pktcap_reader **out, int fd);

/**
 * @brief Read the next packet.
 *
 * @param[out] packet set to the reader's packet record; it and its `data` stay
 *        valid until the next call or close.
 * @param reader the reader.
 * @return 0 with a packet; ::PKTCAP_E_END after the last one; otherwise
 *         ::PKTCAP_E_FORMAT or ::PKTCAP_E_TRUNCATED with the byte offset of
 *         the bad record or block in the message, or ::PKTCAP_E_IO. After an
 *         error every call returns it again.
 */
PKTCAP_API int pktcap_reader_next(const pktcap_packet **packet, pktcap_reader *reader);

/**
 * @brief The format of the file being read.
 * @param reader the reader.
 * @return a ::pktcap_format_t other than ::PKTCAP_FORMAT_AUTO (pcapng for
 *         pcapng files); ::PKTCAP_FORMAT_AUTO for NULL.
 */
PKTCAP_API int pktcap_reader_format(const pktcap_reader *reader);

/**
 * @brief How many interfaces the reader has seen so far.
 *
 * pcapng declares interfaces as it goes, so the count can grow while reading;
 * interfaces of later sections are numbered after those of earlier ones.
 *
 * @param reader the reader.
 * @return the count (1 for classic pcap), 0 for NULL.
 */
PKTCAP_API uint32_t pktcap_reader_interface_count(const pktcap_reader *reader);

/**
 * @brief An interface's link type.
 * @param reader the reader.
 * @param interface an index below pktcap_reader_interface_count().
 * @return the LINKTYPE_* value, or 0 if @p interface is out of range.
 */
PKTCAP_API uint32_t pktcap_reader_interface_linktype(const pktcap_reader *reader,
                                                     uint32_t interface);

/**
 * @brief An interface's snapshot length.
 * @param reader the reader.
 * @param interface an index below pktcap_reader_interface_count().
 * @return the snaplen (0 = not limited), or 0 if @p interface is out of range.
 */
PKTCAP_API uint32_t pktcap_reader_interface_snaplen(const pktcap_reader *reader,
                                                    uint32_t interface);

/**
 * @brief An interface's timestamp resolution, in units per second.
 * @param reader the reader.
 * @param interface an index below pktcap_reader_interface_count().
 * @return e.g. 1000000 (µs) or 1000000000 (ns); 0 if out of range or the
 *         resolution does not fit in 64 bits.
 */
PKTCAP_API uint64_t pktcap_reader_interface_tsresol(const pktcap_reader *reader,
                                                    uint32_t interface);

/**
 * @brief A text option of an interface (pcapng IDB).
 *
 * @param reader the reader.
 * @param interface an index below pktcap_reader_interface_count().
 * @param key `if_name`, `if_description`, `if_os`, `if_hardware` or `if_filter`
 *        (the filter string, without its type byte).
 * @return the value (NUL-terminated, owned by the reader, valid until close),
 *         or NULL when absent, unknown or out of range.
 */
PKTCAP_API const char *pktcap_reader_interface_option(const pktcap_reader *reader,
                                                      uint32_t interface, const char *key);

/**
 * @brief A text option of the current section (pcapng SHB).
 *
 * @param reader the reader.
 * @param key `shb_userappl`, `shb_os`, `shb_hardware` or `shb_comment`.
 * @return the value (owned by the reader, valid until the next section or
 *         close), or NULL when absent, unknown, or the file is classic pcap.
 */
PKTCAP_API const char *pktcap_reader_section_option(const pktcap_reader *reader, const char *key);

/**
 * @brief Bytes of input consumed so far (the offset of the next record or block).
 * @param reader the reader, or NULL.
 * @return the offset; 0 for NULL.
 */
PKTCAP_API uint64_t pktcap_reader_offset(const pktcap_reader *reader);

/**
 * @brief Close a reader and free it. Accepts NULL.
 * @param reader the reader, or NULL.
 */
PKTCAP_API void pktcap_reader_close(pktcap_reader *reader);

/* ------------------------------------------------------------------------ */
/* Link types                                                                */
/* ------------------------------------------------------------------------ */

/**
 * @brief The short name of a link type, as libpcap's `pcap_datalink_val_to_name`.
 * @param linktype a LINKTYPE_* value.
 * @return e.g. "EN10MB" for 1, "LINUX_SLL" for 113; NULL when unknown.
 */
PKTCAP_API const char *pktcap_linktype_name(uint32_t linktype);

/**
 * @brief A description of a link type, as `pcap_datalink_val_to_description`.
 * @param linktype a LINKTYPE_* value.
 * @return e.g. "Ethernet"; NULL when unknown.
 */
PKTCAP_API const char *pktcap_linktype_description(uint32_t linktype);

PKTCAP_END_DECLS

#endif /* PKTCAP_FILE_H */
