/* Helpers shared by the writer and storage tests: scratch directories,
 * packets, reading files back with libpcap, and walking pcapng blocks. */
#ifndef PKTCAP_TESTS_WRITER_UTIL_H
#define PKTCAP_TESTS_WRITER_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <pktcap/pktcap.h>

/* A fresh directory under /tmp; remove_tree() deletes it and its files. */
char *make_scratch_dir(void);
void remove_tree(char *dir);
/* DIR/NAME in a static buffer, valid until the next call. */
const char *path_in(const char *dir, const char *name);
/* The names in `dir` (sorted, "." and ".." left out), NULL-terminated;
 * free with free_names(). */
char **list_dir(const char *dir);
size_t count_names(char **names);
void free_names(char **names);
/* How many names in `dir` end in `suffix`. */
size_t count_suffix(const char *dir, const char *suffix);

/* The whole file; *size its length. free() it. */
uint8_t *read_whole(const char *path, size_t *size);
void write_whole(const char *path, const void *data, size_t size);

/* A packet whose bytes are `fill`, `fill + 1`, … (mod 256) from a static
 * pool that stays valid for the test. */
pktcap_packet packet_of(uint32_t interface, int64_t sec, uint32_t nsec, uint32_t caplen, uint32_t len,
                        uint8_t fill);
const uint8_t *pattern_bytes(uint8_t fill, size_t size);

/* A packet as libpcap read it back. */
struct read_packet {
    int64_t sec;
    uint32_t nsec;
    uint32_t caplen;
    uint32_t len;
    uint8_t *data;
};
struct read_file {
    int linktype; /* pcap_datalink() */
    int snaplen;  /* pcap_snapshot() */
    size_t count;
    struct read_packet *packets;
};
/* Reads `path` with libpcap at nanosecond precision; fails the test on any
 * libpcap error. */
void read_with_libpcap(struct read_file *out, const char *path);
/* As above, from bytes in memory. */
void read_bytes_with_libpcap(struct read_file *out, const void *data, size_t size);
void free_read_file(struct read_file *f);
/* Asserts the file holds exactly these packets: times (to `ns_unit`, 1 for
 * ns files, 1000 for µs ones), lengths and bytes, each cut to `snaplen`
 * (0 = uncut). */
void assert_packets(const struct read_file *f, const pktcap_packet *expected, size_t count,
                    uint32_t ns_unit, uint32_t snaplen);

/* One pcapng block, as found by next_block(). */
struct block {
    uint32_t type;
    uint32_t length;
    const uint8_t *body; /* after type and length */
    size_t body_len;     /* up to the trailing length */
};
/* Walks host-order pcapng blocks: *offset is advanced past the block; the
 * test fails on a malformed block. Returns 0 at the end of the data. */
int next_block(struct block *b, const uint8_t *data, size_t size, size_t *offset);
/* The value of the first option `code` in an option list, or NULL. */
const uint8_t *find_option(const uint8_t *options, size_t size, uint16_t code, uint16_t *len);

/* Expected bytes, built field by field in host byte order. */
struct golden {
    uint8_t data[8192];
    size_t len;
};
void golden_u16(struct golden *g, uint16_t v);
void golden_u32(struct golden *g, uint32_t v);
void golden_u64(struct golden *g, uint64_t v);
void golden_bytes(struct golden *g, const void *data, size_t size);
/* A pcapng option: code, length, value, zero padding to 32 bits. */
void golden_option(struct golden *g, uint16_t code, const void *value, uint16_t size);

/* The thread's last error message. */
const char *last_message(void);

#endif
