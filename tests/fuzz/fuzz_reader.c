/* libFuzzer target: the capture-file reader on arbitrary bytes.
 *
 * Reads every packet from memory, touching every byte it is handed (so the
 * sanitizers see any over-read) and checking the promises of file.h; then
 * queries every interface and section option. Every input is read a second
 * time from a file through a tiny read buffer, and must give exactly the same
 * packets and final status: the buffered input path against the zero-copy one.
 *
 * Run with ./dev fuzz reader [SECONDS]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pktcap/pktcap.h>

#include "file/reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct digest {
    uint64_t packets;
    uint64_t hash;
    int rc;
    uint64_t offset;
};

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_reader: broken promise: %s\n", what);
        abort();
    }
}

static uint64_t mix(uint64_t h, uint64_t v)
{
    return (h ^ v) * 0x100000001b3ull;
}

static void query_options(const pktcap_reader *r)
{
    static const char *const if_keys[] = { "if_name", "if_description", "if_os", "if_hardware",
                                           "if_filter", "if_unknown" };
    static const char *const shb_keys[] = { "shb_userappl", "shb_os", "shb_hardware",
                                            "shb_comment", "shb_unknown" };
    uint32_t n = pktcap_reader_interface_count(r), i;
    size_t k, sink = 0;
    for (i = 0; i <= n; i++) {
        uint64_t units = pktcap_reader_interface_tsresol(r, i);
        sink += pktcap_reader_interface_linktype(r, i) + pktcap_reader_interface_snaplen(r, i);
        check(i < n || units == 0, "an interface past the count has a resolution");
        for (k = 0; k < sizeof(if_keys) / sizeof(if_keys[0]); k++) {
            const char *v = pktcap_reader_interface_option(r, i, if_keys[k]);
            check(!v || i < n, "an interface past the count has options");
            if (v)
                sink += strlen(v);
        }
    }
    for (k = 0; k < sizeof(shb_keys) / sizeof(shb_keys[0]); k++) {
        const char *v = pktcap_reader_section_option(r, shb_keys[k]);
        if (v)
            sink += strlen(v);
    }
    check(pktcap_reader_format(r) != PKTCAP_FORMAT_AUTO, "an open reader has a format");
    (void)sink;
}

static void read_all(pktcap_reader *r, struct digest *d)
{
    const pktcap_packet *p;
    uint64_t last_offset = pktcap_reader_offset(r);
    int rc;
    memset(d, 0, sizeof(*d));
    d->hash = 0xcbf29ce484222325ull;
    while ((rc = pktcap_reader_next(&p, r)) == 0) {
        uint32_t i;
        uint64_t offset = pktcap_reader_offset(r);
        check(p->struct_size == sizeof(pktcap_packet), "struct_size");
        check(p->ts_nsec < 1000000000u, "ts_nsec below 10^9");
        check(p->interface < pktcap_reader_interface_count(r), "interface in range");
        check(p->linktype == pktcap_reader_interface_linktype(r, p->interface), "linktype");
        check(offset > last_offset, "offset moves forward");
        check(p->comment || p->comment_len == 0, "no comment, no length");
        last_offset = offset;
        d->hash = mix(d->hash, (uint64_t)p->ts_sec);
        d->hash = mix(d->hash, p->ts_nsec);
        d->hash = mix(d->hash, p->caplen);
        d->hash = mix(d->hash, p->len);
        d->hash = mix(d->hash, p->interface);
        d->hash = mix(d->hash, p->flags);
        for (i = 0; i < p->caplen; i++)
            d->hash = mix(d->hash, p->data[i]);
        for (i = 0; i < p->comment_len; i++)
            d->hash = mix(d->hash, (uint8_t)p->comment[i]);
        d->packets++;
    }
    check(rc == PKTCAP_E_END || rc == PKTCAP_E_FORMAT || rc == PKTCAP_E_TRUNCATED,
          "reading ends with END, FORMAT or TRUNCATED");
    check(pktcap_reader_next(&p, r) == rc, "the final status is sticky");
    d->rc = rc;
    d->offset = pktcap_reader_offset(r);
}

/* Through a descriptor with a read buffer of a few bytes, so that records
 * straddle it and it has to grow: the refill path under fuzzing. */
static int read_through_file(const uint8_t *data, size_t size, struct digest *d)
{
    static int fd = -1;
    pktcap_reader *r;
    int rc;
    if (fd < 0) {
        char path[] = "/tmp/pktcap-fuzz-reader.XXXXXX";
        fd = mkstemp(path);
        if (fd < 0)
            return -1;
        unlink(path);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size) ||
        lseek(fd, 0, SEEK_SET) != 0)
        return -1;
    rc = pktcap__reader_open_fd_sized(&r, fd, 1 + size % 61);
    if (rc == 0) {
        read_all(r, d);
        pktcap_reader_close(r);
    } else {
        d->rc = rc;
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pktcap_reader *r;
    struct digest mem, buffered;
    int rc = pktcap_reader_open_memory(&r, data, size);
    if (rc != 0) {
        check(rc == PKTCAP_E_FORMAT || rc == PKTCAP_E_TRUNCATED,
              "open fails with FORMAT or TRUNCATED");
        mem.rc = rc;
    } else {
        read_all(r, &mem);
        query_options(r);
        pktcap_reader_close(r);
    }
    if (read_through_file(data, size, &buffered) == -1)
        return 0; /* no scratch file: nothing to compare */
    check(buffered.rc == mem.rc, "buffered and memory input end alike");
    if (rc == 0) {
        check(buffered.packets == mem.packets, "buffered and memory input give as many packets");
        check(buffered.hash == mem.hash, "buffered and memory input give the same packets");
        check(buffered.offset == mem.offset, "buffered and memory input stop at the same offset");
    }
    return 0;
}
