/* The capture-file reader: opening (path, descriptor, memory), the input
 * window, the public accessors. Decoding lives in reader_pcap.c and
 * reader_pcapng.c. */
#include "file/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "file/format.h"

int pktcap__reader_error(const pktcap_reader *r, int code, const char *what,
                         uint64_t offset, const char *fmt, ...)
{
    char detail[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    return pktcap__error_set(code, "%s: %s at byte offset %llu: %s", r->name, what,
                             (unsigned long long)offset, detail);
}

/* Room for `want` bytes from pos: the unread tail moves to the front, and the
 * buffer grows only once it is full, so memory follows the data that really
 * arrived rather than a length field that may be corrupt. */
static int make_room(pktcap_reader *r, size_t want)
{
    size_t avail = r->end - r->pos;
    if (r->pos + want <= r->cap)
        return 0;
    if (r->pos > 0) {
        memmove(r->owned, r->owned + r->pos, avail);
        r->base += r->pos;
        r->end = avail;
        r->pos = 0;
        r->buf = r->owned;
    }
    if (want > r->cap && r->end == r->cap) {
        size_t grown = r->cap * 2 < want ? r->cap * 2 : want;
        uint8_t *bigger = pktcap__realloc(r->owned, grown);
        if (!bigger)
            return PKTCAP_E_NOMEM;
        r->owned = bigger;
        r->buf = bigger;
        r->cap = grown;
    }
    return 0;
}

long pktcap__reader_fill(pktcap_reader *r, size_t want)
{
    while (r->end - r->pos < want && !r->eof && r->fd >= 0) {
        ssize_t got;
        int rc = make_room(r, want);
        if (rc < 0)
            return rc;
        got = read(r->fd, r->owned + r->end, r->cap - r->end);
        if (got < 0) {
            int err = errno;
            if (err == EINTR)
                continue;
            return pktcap__error_errno(PKTCAP_E_IO, err, "%s: read failed at byte offset %llu",
                                       r->name, (unsigned long long)(r->base + r->end));
        }
        if (got == 0)
            r->eof = 1;
        r->end += (size_t)got;
    }
    /* Callers ask for at most a block's worth, so a huge memory buffer's
     * size (beyond LONG_MAX on 32-bit systems) can be reported as less. */
    return r->end - r->pos > (size_t)LONG_MAX ? LONG_MAX : (long)(r->end - r->pos);
}

/* Whether the first n (< 4) bytes could begin one of the magics we know: then
 * the input was cut short, otherwise it is something else. */
static int is_magic_prefix(const uint8_t *p, size_t n)
{
    static const uint8_t magics[][4] = {
        { 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 },
        { 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d },
        { 0x34, 0xcd, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xcd, 0x34 },
        { 0x0a, 0x0d, 0x0d, 0x0a },
    };
    size_t i;
    for (i = 0; i < sizeof(magics) / sizeof(magics[0]); i++)
        if (memcmp(p, magics[i], n) == 0)
            return 1;
    return 0;
}

static int is_pcap_magic(uint32_t m)
{
    return m == PCAP_MAGIC_USEC || m == PCAP_MAGIC_NSEC || m == PCAP_MAGIC_MODIFIED;
}

static int start(pktcap_reader *r)
{
    long n = pktcap__reader_fill(r, 4);
    uint32_t magic;
    if (n < 0)
        return (int)n;
    if (n < 4) {
        if (is_magic_prefix(r->buf + r->pos, (size_t)n))
            return pktcap__error_set(PKTCAP_E_TRUNCATED,
                                     "%s: input of %ld bytes is shorter than a capture-file header",
                                     r->name, n);
        return pktcap__error_set(PKTCAP_E_FORMAT, "%s: not a pcap or pcapng file", r->name);
    }
    magic = pktcap__get32(r->buf + r->pos, 0);
    if (is_pcap_magic(magic) || is_pcap_magic(PKTCAP__BSWAP32(magic)))
        return pktcap__reader_pcap_start(r);
    if (magic == PCAPNG_BT_SHB)
        return pktcap__reader_pcapng_start(r);
    {
        const uint8_t *b = r->buf + r->pos;
        return pktcap__error_set(PKTCAP_E_FORMAT,
                                 "%s: not a pcap or pcapng file (starts with %02x %02x %02x %02x)",
                                 r->name, b[0], b[1], b[2], b[3]);
    }
}

static pktcap_reader *reader_new(const char *name)
{
    pktcap_reader *r = pktcap__calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->name = pktcap__strdup(name);
    if (!r->name) {
        pktcap__free(r);
        return NULL;
    }
    r->fd = -1;
    r->packet.struct_size = (uint32_t)sizeof(pktcap_packet);
    return r;
}

/* Starts a reader made by reader_new; frees it on failure. */
static int finish_open(pktcap_reader **out, pktcap_reader *r)
{
    int rc = start(r);
    if (rc < 0) {
        pktcap_reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* A regular file smaller than the usual buffer gets a buffer of its size: a
 * test suite opening hundreds of small captures should not touch a MiB each. */
static size_t buffer_size_for(int fd)
{
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size >= 0 &&
        (uint64_t)st.st_size < PKTCAP__READ_BUFFER_SIZE)
        return st.st_size < 4096 ? 4096 : (size_t)st.st_size;
    return PKTCAP__READ_BUFFER_SIZE;
}

static int open_fd(pktcap_reader **out, int fd, int own_fd, const char *name, size_t size)
{
    pktcap_reader *r = reader_new(name);
    if (!r) {
        if (own_fd)
            close(fd);
        return PKTCAP_E_NOMEM;
    }
    r->fd = fd;
    r->own_fd = own_fd;
    r->cap = size;
    r->owned = pktcap__malloc(r->cap);
    if (!r->owned) {
        pktcap_reader_close(r);
        return PKTCAP_E_NOMEM;
    }
    r->buf = r->owned;
    return finish_open(out, r);
}

int pktcap_reader_open(pktcap_reader **out, const char *path)
{
    int fd;
    if (!out || !path)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_reader_open: NULL argument");
    if (strcmp(path, "-") == 0)
        return open_fd(out, STDIN_FILENO, 0, "<stdin>", buffer_size_for(STDIN_FILENO));
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int err = errno;
        return pktcap__error_errno(pktcap__error_from_errno(err), err, "cannot open %s", path);
    }
#ifdef POSIX_FADV_SEQUENTIAL
    /* A hint for bigger read-ahead; failing to give it costs nothing. */
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    return open_fd(out, fd, 1, path, buffer_size_for(fd));
}

int pktcap_reader_open_fd(pktcap_reader **out, int fd)
{
    char name[32];
    if (!out || fd < 0)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_reader_open_fd: %s",
                                 out ? "negative descriptor" : "NULL argument");
    snprintf(name, sizeof(name), "<fd %d>", fd);
    return open_fd(out, fd, 0, name, buffer_size_for(fd));
}

int pktcap__reader_open_fd_sized(pktcap_reader **out, int fd, size_t buffer_size)
{
    char name[32];
    if (!out || fd < 0 || buffer_size == 0)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap__reader_open_fd_sized: bad argument");
    snprintf(name, sizeof(name), "<fd %d>", fd);
    return open_fd(out, fd, 0, name, buffer_size);
}

int pktcap_reader_open_memory(pktcap_reader **out, const void *data, size_t size)
{
    pktcap_reader *r;
    if (!out || (!data && size > 0))
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_reader_open_memory: NULL argument");
    r = reader_new("<memory>");
    if (!r)
        return PKTCAP_E_NOMEM;
    r->buf = size ? data : (const uint8_t *)"";
    r->end = size;
    r->cap = size;
    return finish_open(out, r);
}

int pktcap_reader_next(const pktcap_packet **packet, pktcap_reader *reader)
{
    int rc;
    if (!packet || !reader)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_reader_next: NULL argument");
    if (reader->failed) {
        /* The same answer every time, with the detail recorded again for
         * this call (the thread's record may have changed meanwhile). */
        if (reader->failed == PKTCAP_E_END)
            return PKTCAP_E_END;
        return pktcap__error_set(reader->failed, "%s", reader->message);
    }
    rc = reader->next(reader);
    if (rc == 0) {
        *packet = &reader->packet;
        return 0;
    }
    reader->failed = rc;
    if (rc != PKTCAP_E_END) {
        const char *msg = pktcap_error_message(pktcap_error_last());
        snprintf(reader->message, sizeof(reader->message), "%s", msg);
    }
    return rc;
}

int pktcap_reader_format(const pktcap_reader *reader)
{
    return reader ? reader->format : PKTCAP_FORMAT_AUTO;
}

uint32_t pktcap_reader_interface_count(const pktcap_reader *reader)
{
    return reader ? reader->iface_count : 0;
}

static const struct pktcap__iface *iface_at(const pktcap_reader *r, uint32_t i)
{
    return r && i < r->iface_count ? &r->ifaces[i] : NULL;
}

uint32_t pktcap_reader_interface_linktype(const pktcap_reader *reader, uint32_t interface)
{
    const struct pktcap__iface *f = iface_at(reader, interface);
    return f ? f->linktype : 0;
}

uint32_t pktcap_reader_interface_snaplen(const pktcap_reader *reader, uint32_t interface)
{
    const struct pktcap__iface *f = iface_at(reader, interface);
    return f ? f->snaplen : 0;
}

uint64_t pktcap_reader_interface_tsresol(const pktcap_reader *reader, uint32_t interface)
{
    const struct pktcap__iface *f = iface_at(reader, interface);
    return f ? f->ts_units : 0;
}

/* Index of key in names[count], or -1. */
static int key_index(const char *const *names, int count, const char *key)
{
    int i;
    if (!key)
        return -1;
    for (i = 0; i < count; i++)
        if (strcmp(names[i], key) == 0)
            return i;
    return -1;
}

const char *pktcap_reader_interface_option(const pktcap_reader *reader, uint32_t interface,
                                           const char *key)
{
    /* In enum pktcap__if_text order. */
    static const char *const names[PKTCAP__IF_TEXT_COUNT] = {
        "if_name", "if_description", "if_os", "if_hardware", "if_filter",
    };
    const struct pktcap__iface *f = iface_at(reader, interface);
    int i = key_index(names, PKTCAP__IF_TEXT_COUNT, key);
    return f && i >= 0 ? f->text[i] : NULL;
}

const char *pktcap_reader_section_option(const pktcap_reader *reader, const char *key)
{
    /* In enum pktcap__shb_text order. */
    static const char *const names[PKTCAP__SHB_TEXT_COUNT] = {
        "shb_userappl", "shb_os", "shb_hardware", "shb_comment",
    };
    int i = key_index(names, PKTCAP__SHB_TEXT_COUNT, key);
    return reader && i >= 0 ? reader->shb_text[i] : NULL;
}

uint64_t pktcap_reader_offset(const pktcap_reader *reader)
{
    return reader ? pktcap__reader_tell(reader) : 0;
}

uint32_t pktcap__reader_section_count(const pktcap_reader *r)
{
    return r ? r->section_count : 0;
}

int pktcap__reader_add_iface(pktcap_reader *r, uint64_t offset, struct pktcap__iface **out)
{
    struct pktcap__iface *f;
    if (r->iface_count == PKTCAP__INTERFACE_MAX)
        return pktcap__reader_error(r, PKTCAP_E_FORMAT, "IDB", offset,
                                    "more than %u interfaces (the reader's limit)",
                                    PKTCAP__INTERFACE_MAX);
    struct pktcap__iface *grown =
        pktcap__grow(r->ifaces, &r->iface_alloc, r->iface_count, sizeof(*grown));
    if (!grown)
        return PKTCAP_E_NOMEM;
    r->ifaces = grown;
    f = &r->ifaces[r->iface_count++];
    memset(f, 0, sizeof(*f));
    f->ts_kind = PKTCAP__TS_USEC;
    f->ts_exp = 6;
    f->ts_units = 1000000u;
    f->cap_limit = UINT32_MAX;
    *out = f;
    return 0;
}

void pktcap_reader_close(pktcap_reader *reader)
{
    uint32_t i;
    int t;
    if (!reader)
        return;
    for (i = 0; i < reader->iface_count; i++)
        for (t = 0; t < PKTCAP__IF_TEXT_COUNT; t++)
            pktcap__free(reader->ifaces[i].text[t]);
    for (t = 0; t < PKTCAP__SHB_TEXT_COUNT; t++)
        pktcap__free(reader->shb_text[t]);
    pktcap__free(reader->ifaces);
    pktcap__free(reader->owned);
    if (reader->own_fd)
        close(reader->fd);
    pktcap__free(reader->name);
    pktcap__free(reader);
}
