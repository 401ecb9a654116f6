/* Reading pcapng: sections in either byte order, interfaces numbered across
 * sections, EPB/SPB/obsolete PB; every other block is skipped.
 *
 * The block loop is instantiated for native and swapped byte order; an SHB
 * that changes the order hands over to the other copy. A complete EPB without
 * options takes a short path in front of the loop; options are parsed only in
 * blocks that have them. */
#include "core/alloc.h"
#include "file/format.h"
#include "file/reader.h"

static const char *block_name(uint32_t type)
{
    switch (type) {
    case PCAPNG_BT_SHB:
        return "SHB";
    case PCAPNG_BT_IDB:
        return "IDB";
    case PCAPNG_BT_EPB:
        return "EPB";
    case PCAPNG_BT_SPB:
        return "SPB";
    case PCAPNG_BT_PB:
        return "PB";
    default:
        return "block";
    }
}

/* ---- options ------------------------------------------------------------ */

struct option {
    uint16_t code;
    uint16_t len;
    const uint8_t *value;
};

/* The options area of a block: [p, end), inside the block starting at
 * `block` (at stream offset `offset`). */
struct option_walk {
    const pktcap_reader *r;
    const char *what;
    uint64_t offset;
    const uint8_t *block;
    const uint8_t *p;
    const uint8_t *end;
    int swapped;
};

/* The options of the block at `block` (stream offset `offset`, `len` bytes):
 * from `start` up to the block's trailing length field. */
static struct option_walk option_walk_at(const pktcap_reader *r, const char *what,
                                         uint64_t offset, const uint8_t *block,
                                         const uint8_t *start, uint32_t len, int swapped)
{
    struct option_walk w = { r, what, offset, block, start, block + len - 4, swapped };
    return w;
}

/* 1 with the next option in *o; 0 at the end of the area or at
 * opt_endofopt; a negative code for an option that does not fit. */
static int next_option(struct option_walk *w, struct option *o)
{
    size_t left = (size_t)(w->end - w->p);
    uint64_t at = w->offset + (uint64_t)(w->p - w->block);
    size_t padded;
    if (left == 0)
        return 0;
    if (left < 4)
        return pktcap__reader_error(w->r, PKTCAP_E_FORMAT, w->what, w->offset,
                                    "option header at byte offset %llu cut short (%zu bytes left)",
                                    (unsigned long long)at, left);
    o->code = pktcap__get16(w->p, w->swapped);
    o->len = pktcap__get16(w->p + 2, w->swapped);
    if (o->code == PCAPNG_OPT_END)
        return 0;
    padded = ((size_t)o->len + 3u) & ~(size_t)3u;
    if (padded > left - 4)
        return pktcap__reader_error(w->r, PKTCAP_E_FORMAT, w->what, w->offset,
                                    "option %u at byte offset %llu: length %u runs past the end "
                                    "of the block (%zu bytes left)",
                                    o->code, (unsigned long long)at, o->len, left - 4);
    o->value = w->p + 4;
    w->p += 4 + padded;
    return 1;
}

/* Keeps the first value of a text option, NUL-terminated (a writer's own
 * trailing NULs end the copy early, which is what they mean). */
static int keep_text(char **slot, const uint8_t *value, size_t len)
{
    if (*slot)
        return 0;
    *slot = pktcap__strndup((const char *)value, len);
    return *slot ? 0 : PKTCAP_E_NOMEM;
}

/* ---- timestamps --------------------------------------------------------- */

static uint64_t pow10_u64(unsigned n)
{
    uint64_t v = 1;
    while (n--)
        v *= 10u;
    return v;
}

/* floor(frac * 10^9 / 2^n) for frac < 2^min(n, 64), exactly: the product
 * needs up to 94 bits, so it is built from two 32-bit halves. */
static uint32_t binary_fraction_ns(uint64_t frac, unsigned n)
{
    uint64_t hi, lo, mid;
    if (n < 32)
        return (uint32_t)((frac * 1000000000u) >> n);
    if (n >= 96)
        return 0;
    hi = (frac >> 32) * 1000000000u;
    lo = (frac & 0xffffffffu) * 1000000000u;
    mid = hi + (lo >> 32);
    return (uint32_t)(mid >> (n - 32));
}

/* Precomputes the conversion for if_tsresol `code` (bit 7: power of 2). */
static void set_resolution(struct pktcap__iface *f, uint8_t code)
{
    unsigned n = code & 0x7fu;
    f->ts_exp = (uint8_t)n;
    if (code & 0x80u) {
        f->ts_kind = PKTCAP__TS_BIN;
        f->ts_units = n < 64 ? (uint64_t)1 << n : 0;
        return;
    }
    f->ts_units = n <= 19 ? pow10_u64(n) : 0;
    if (n == 6) {
        f->ts_kind = PKTCAP__TS_USEC;
    } else if (n == 9) {
        f->ts_kind = PKTCAP__TS_NSEC;
    } else if (n < 9) {
        f->ts_kind = PKTCAP__TS_DEC_UP;
        f->ts_scale = pow10_u64(9 - n);
    } else {
        f->ts_kind = PKTCAP__TS_DEC_DOWN;
        f->ts_scale = n - 9 <= 19 ? pow10_u64(n - 9) : 0;
    }
}

/* The resolutions other than micro- and nanoseconds. */
static PKTCAP__NOINLINE void set_time_other(pktcap_packet *p, const struct pktcap__iface *f,
                                             uint64_t t)
{
    uint64_t sec, frac;
    uint32_t ns;
    if (f->ts_kind == PKTCAP__TS_DEC_UP) {
        sec = t / f->ts_units;
        ns = (uint32_t)((t - sec * f->ts_units) * f->ts_scale);
    } else if (f->ts_kind == PKTCAP__TS_DEC_DOWN) {
        /* ts_units 0: 10^n > 2^64 > t, so no whole second. */
        sec = f->ts_units ? t / f->ts_units : 0;
        frac = t - sec * f->ts_units;
        ns = f->ts_scale ? (uint32_t)(frac / f->ts_scale) : 0;
    } else {
        if (f->ts_exp >= 64) {
            sec = 0;
            frac = t;
        } else {
            sec = t >> f->ts_exp;
            frac = t & ((((uint64_t)1) << f->ts_exp) - 1);
        }
        ns = binary_fraction_ns(frac, f->ts_exp);
    }
    p->ts_sec = (int64_t)(sec + f->ts_offset);
    p->ts_nsec = ns;
}

/* Micro- and nanoseconds inline, with constant divisors the compiler turns
 * into multiplications (kept apart from the general case, or it merges them
 * into one real division). */
static PKTCAP__ALWAYS_INLINE void set_time(pktcap_packet *p, const struct pktcap__iface *f,
                                           uint64_t t)
{
    uint64_t sec;
    uint32_t ns;
    if (PKTCAP__LIKELY(f->ts_kind == PKTCAP__TS_USEC)) {
        sec = t / 1000000u;
        ns = (uint32_t)(t - sec * 1000000u) * 1000u;
    } else if (f->ts_kind == PKTCAP__TS_NSEC) {
        sec = t / 1000000000u;
        ns = (uint32_t)(t - sec * 1000000000u);
    } else {
        set_time_other(p, f, t);
        return;
    }
    p->ts_sec = (int64_t)(sec + f->ts_offset);
    p->ts_nsec = ns;
}

/* ---- blocks ------------------------------------------------------------- */

static int length_error(const pktcap_reader *r, uint32_t type, uint32_t len, uint32_t min)
{
    const char *what = block_name(type);
    uint64_t off = pktcap__reader_tell(r);
    if (len < min)
        return pktcap__reader_error(r, PKTCAP_E_FORMAT, what, off,
                                    "block length %u is below the minimum of %u (type 0x%08x)",
                                    len, min, type);
    if (len % 4u)
        return pktcap__reader_error(r, PKTCAP_E_FORMAT, what, off,
                                    "block length %u is not a multiple of 4 (type 0x%08x)", len,
                                    type);
    return pktcap__reader_error(r, PKTCAP_E_FORMAT, what, off,
                                "block length %u exceeds the reader's limit of %s (type 0x%08x)",
                                len, PKTCAP__BLOCK_MAX_TEXT, type);
}

static PKTCAP__ALWAYS_INLINE int bad_length(uint32_t len, uint32_t min)
{
    return len < min || len % 4u || len > PKTCAP__BLOCK_MAX;
}

/* Makes the whole block of `len` bytes at pos available. */
static int load_block(pktcap_reader *r, uint32_t type, uint32_t len)
{
    long n = pktcap__reader_fill(r, len);
    if (n < 0)
        return (int)n;
    if ((size_t)n < len)
        return pktcap__reader_error(r, PKTCAP_E_TRUNCATED, block_name(type),
                                    pktcap__reader_tell(r), "cut short (%ld of %u bytes)", n, len);
    return 0;
}

static int trailer_error(const pktcap_reader *r, uint32_t type, uint32_t len, uint32_t trailer)
{
    return pktcap__reader_error(r, PKTCAP_E_FORMAT, block_name(type), pktcap__reader_tell(r),
                                "trailing block length %u does not match the leading %u",
                                trailer, len);
}

static int too_short(const pktcap_reader *r, uint32_t type, uint32_t len)
{
    return pktcap__reader_error(r, PKTCAP_E_FORMAT, block_name(type), pktcap__reader_tell(r),
                                "block length %u is too short for its fields", len);
}

static int next_native(pktcap_reader *r);
static int next_swapped(pktcap_reader *r);

static void free_texts(char **texts, int count)
{
    int i;
    for (i = 0; i < count; i++) {
        pktcap__free(texts[i]);
        texts[i] = NULL;
    }
}

static int shb_options(struct option_walk *w, char **texts)
{
    struct option o = { 0 };
    int rc;
    while ((rc = next_option(w, &o)) > 0) {
        int slot;
        switch (o.code) {
        case PCAPNG_OPT_COMMENT:
            slot = PKTCAP__SHB_COMMENT;
            break;
        case PCAPNG_OPT_SHB_HARDWARE:
            slot = PKTCAP__SHB_HARDWARE;
            break;
        case PCAPNG_OPT_SHB_OS:
            slot = PKTCAP__SHB_OS;
            break;
        case PCAPNG_OPT_SHB_USERAPPL:
            slot = PKTCAP__SHB_USERAPPL;
            break;
        default:
            continue;
        }
        rc = keep_text(&texts[slot], o.value, o.len);
        if (rc < 0)
            return rc;
    }
    return rc;
}

/* Reads the SHB at pos and starts its section: its byte order decides how
 * everything up to the next SHB is read. */
static int read_shb(pktcap_reader *r)
{
    char *texts[PKTCAP__SHB_TEXT_COUNT] = { NULL };
    uint64_t off = pktcap__reader_tell(r);
    struct option_walk w;
    const uint8_t *b;
    uint32_t bom, len;
    uint16_t major, minor;
    int swapped, rc;
    long n = pktcap__reader_fill(r, 12);
    if (n < 0)
        return (int)n;
    if (n < 12)
        return pktcap__reader_error(r, PKTCAP_E_TRUNCATED, "SHB", off,
                                    "cut short (%ld of at least %u bytes)", n, PCAPNG_SHB_MIN);
    b = r->buf + r->pos;
    bom = pktcap__get32(b + 8, 0);
    if (bom == PCAPNG_BYTE_ORDER_MAGIC)
        swapped = 0;
    else if (bom == PKTCAP__BSWAP32(PCAPNG_BYTE_ORDER_MAGIC))
        swapped = 1;
    else
        return pktcap__reader_error(r, PKTCAP_E_FORMAT, "SHB", off,
                                    "bad byte-order magic %02x %02x %02x %02x", b[8], b[9],
                                    b[10], b[11]);
    len = pktcap__get32(b + 4, swapped);
    if (bad_length(len, PCAPNG_SHB_MIN))
        return length_error(r, PCAPNG_BT_SHB, len, PCAPNG_SHB_MIN);
    rc = load_block(r, PCAPNG_BT_SHB, len);
    if (rc < 0)
        return rc;
    b = r->buf + r->pos;
    if (pktcap__get32(b + len - 4, swapped) != len)
        return trailer_error(r, PCAPNG_BT_SHB, len, pktcap__get32(b + len - 4, swapped));
    major = pktcap__get16(b + 12, swapped);
    minor = pktcap__get16(b + 14, swapped);
    /* 1.2 was written by some tools for 1.0 files with newer block types;
     * libpcap and Wireshark read both. */
    if (major != 1 || (minor != 0 && minor != 2))
        return pktcap__reader_error(r, PKTCAP_E_FORMAT, "SHB", off,
                                    "unsupported pcapng version %u.%u", major, minor);
    w = option_walk_at(r, "SHB", off, b, b + 24, len, swapped);
    rc = shb_options(&w, texts);
    if (rc < 0) {
        free_texts(texts, PKTCAP__SHB_TEXT_COUNT);
        return rc;
    }
    free_texts(r->shb_text, PKTCAP__SHB_TEXT_COUNT);
    memcpy(r->shb_text, texts, sizeof(texts));
    r->swapped = swapped;
    r->next = swapped ? next_swapped : next_native;
    r->section_first = r->iface_count;
    r->section_count++;
    r->pos += len;
    return 0;
}

static int idb_options(struct option_walk *w, struct pktcap__iface *f)
{
    struct option o = { 0 };
    int rc, saw_tsresol = 0, saw_tsoffset = 0;
    uint8_t tsresol = 6;
    while ((rc = next_option(w, &o)) > 0) {
        switch (o.code) {
        case PCAPNG_OPT_IF_TSRESOL:
            if (o.len != 1 || saw_tsresol)
                return pktcap__reader_error(w->r, PKTCAP_E_FORMAT, "IDB", w->offset, "%s",
                                            saw_tsresol ? "more than one if_tsresol"
                                                        : "if_tsresol is not 1 byte long");
            saw_tsresol = 1;
            tsresol = o.value[0];
            break;
        case PCAPNG_OPT_IF_TSOFFSET:
            if (o.len != 8 || saw_tsoffset)
                return pktcap__reader_error(w->r, PKTCAP_E_FORMAT, "IDB", w->offset, "%s",
                                            saw_tsoffset ? "more than one if_tsoffset"
                                                         : "if_tsoffset is not 8 bytes long");
            saw_tsoffset = 1;
            f->ts_offset = pktcap__get64(o.value, w->swapped);
            break;
        case PCAPNG_OPT_IF_NAME:
            rc = keep_text(&f->text[PKTCAP__IF_NAME], o.value, o.len);
            break;
        case PCAPNG_OPT_IF_DESCRIPTION:
            rc = keep_text(&f->text[PKTCAP__IF_DESCRIPTION], o.value, o.len);
            break;
        case PCAPNG_OPT_IF_OS:
            rc = keep_text(&f->text[PKTCAP__IF_OS], o.value, o.len);
            break;
        case PCAPNG_OPT_IF_HARDWARE:
            rc = keep_text(&f->text[PKTCAP__IF_HARDWARE], o.value, o.len);
            break;
        case PCAPNG_OPT_IF_FILTER:
            /* The first byte says what kind of filter; the text follows. */
            if (o.len > 0)
                rc = keep_text(&f->text[PKTCAP__IF_FILTER], o.value + 1, o.len - 1u);
            break;
        default:
            break;
        }
        if (rc < 0)
            return rc;
    }
    if (rc == 0)
        set_resolution(f, tsresol);
    return rc;
}

static int read_idb(pktcap_reader *r, const uint8_t *b, uint32_t len, int swapped)
{
    uint64_t off = pktcap__reader_tell(r);
    struct pktcap__iface *f;
    struct option_walk w;
    int rc;
    if (len < PCAPNG_BLOCK_MIN + PCAPNG_IDB_FIXED)
        return too_short(r, PCAPNG_BT_IDB, len);
    rc = pktcap__reader_add_iface(r, off, &f);
    if (rc < 0)
        return rc;
    f->linktype = pktcap__get16(b + 8, swapped);
    f->snaplen = pktcap__get32(b + 12, swapped);
    f->cap_limit = f->snaplen ? f->snaplen : UINT32_MAX;
    w = option_walk_at(r, "IDB", off, b, b + 16, len, swapped);
    rc = idb_options(&w, f);
    if (rc < 0) {
        /* Not half an interface: the table holds only complete ones. */
        free_texts(f->text, PKTCAP__IF_TEXT_COUNT);
        r->iface_count--;
    }
    return rc;
}

static int packet_options(pktcap_reader *r, const char *what, const uint8_t *b,
                          const uint8_t *start, uint32_t len, int swapped)
{
    pktcap_packet *p = &r->packet;
    struct option_walk w = option_walk_at(r, what, pktcap__reader_tell(r), b, start, len, swapped);
    struct option o = { 0 };
    int rc;
    while ((rc = next_option(&w, &o)) > 0) {
        if (o.code == PCAPNG_OPT_COMMENT && !p->comment) {
            p->comment = (const char *)o.value;
            p->comment_len = o.len;
        } else if (o.code == PCAPNG_OPT_EPB_FLAGS && o.len == 4) {
            p->flags = pktcap__get32(o.value, swapped);
        }
    }
    return rc;
}

static int interface_error(const pktcap_reader *r, uint32_t type, uint32_t id)
{
    uint32_t count = r->iface_count - r->section_first;
    if (count == 0)
        return pktcap__reader_error(r, PKTCAP_E_FORMAT, block_name(type), pktcap__reader_tell(r),
                                    "packet before any IDB in its section");
    return pktcap__reader_error(r, PKTCAP_E_FORMAT, block_name(type), pktcap__reader_tell(r),
                                "interface %u out of range (%u interface%s)", id, count,
                                count == 1 ? "" : "s");
}

/* Fills the packet from an EPB or PB at b whose interface (relative to the
 * section) and caplen were checked; options come later. */
static PKTCAP__ALWAYS_INLINE void deliver_packet(pktcap_reader *r, const uint8_t *b,
                                                 uint32_t id, uint32_t caplen, const int swapped)
{
    pktcap_packet *p = &r->packet;
    const struct pktcap__iface *f = &r->ifaces[r->section_first + id];
    uint64_t t = ((uint64_t)pktcap__get32(b + 12, swapped) << 32) | pktcap__get32(b + 16, swapped);
    set_time(p, f, t);
    p->interface = r->section_first + id;
    p->linktype = f->linktype;
    p->len = pktcap__get32(b + 24, swapped);
    p->caplen = caplen < f->cap_limit ? caplen : f->cap_limit;
    p->data = b + 28;
    p->flags = 0;
    p->comment = NULL;
    p->comment_len = 0;
}

/* EPB, or with `obsolete` the Packet Block (16-bit interface, drop count). */
static PKTCAP__ALWAYS_INLINE int read_packet(pktcap_reader *r, const uint8_t *b, uint32_t len,
                                             const int swapped, const int obsolete)
{
    const uint32_t type = obsolete ? PCAPNG_BT_PB : PCAPNG_BT_EPB;
    uint32_t id, caplen, room, padded;
    if (len < PCAPNG_BLOCK_MIN + PCAPNG_EPB_FIXED)
        return too_short(r, type, len);
    id = obsolete ? pktcap__get16(b + 8, swapped) : pktcap__get32(b + 8, swapped);
    if (id >= r->iface_count - r->section_first)
        return interface_error(r, type, id);
    caplen = pktcap__get32(b + 20, swapped);
    room = len - PCAPNG_BLOCK_MIN - PCAPNG_EPB_FIXED;
    if (caplen > room)
        return pktcap__reader_error(r, PKTCAP_E_FORMAT, block_name(type), pktcap__reader_tell(r),
                                    "caplen %u runs past the end of the block (room for %u)",
                                    caplen, room);
    deliver_packet(r, b, id, caplen, swapped);
    padded = (caplen + 3u) & ~3u;
    if (padded < room)
        return packet_options(r, block_name(type), b, b + 28 + padded, len, swapped);
    return 0;
}

static int read_spb(pktcap_reader *r, const uint8_t *b, uint32_t len, int swapped)
{
    pktcap_packet *p = &r->packet;
    const struct pktcap__iface *f;
    uint32_t room;
    if (len < PCAPNG_BLOCK_MIN + PCAPNG_SPB_FIXED)
        return too_short(r, PCAPNG_BT_SPB, len);
    if (r->iface_count == r->section_first)
        return interface_error(r, PCAPNG_BT_SPB, 0);
    /* No captured length in an SPB: the packet length cut to the first
     * interface's snaplen and to what the block holds (which includes
     * padding, hence the three bounds). No timestamp either: 0. */
    f = &r->ifaces[r->section_first];
    room = len - PCAPNG_BLOCK_MIN - PCAPNG_SPB_FIXED;
    p->len = pktcap__get32(b + 8, swapped);
    p->caplen = p->len < room ? p->len : room;
    if (p->caplen > f->cap_limit)
        p->caplen = f->cap_limit;
    p->data = b + 12;
    p->ts_sec = 0;
    p->ts_nsec = 0;
    p->interface = r->section_first;
    p->linktype = f->linktype;
    p->flags = 0;
    p->comment = NULL;
    p->comment_len = 0;
    return 0;
}

static PKTCAP__ALWAYS_INLINE int next_block(pktcap_reader *r, const int swapped)
{
    for (;;) {
        size_t avail = r->end - r->pos;
        const uint8_t *b;
        uint32_t type, len;
        int rc;
        if (avail < 8) {
            long n = pktcap__reader_fill(r, 8);
            if (n <= 0)
                return n == 0 ? PKTCAP_E_END : (int)n;
            if (n < 8)
                return pktcap__reader_error(r, PKTCAP_E_TRUNCATED, "block",
                                            pktcap__reader_tell(r),
                                            "header cut short (%ld of 8 bytes)", n);
            avail = (size_t)n;
        }
        b = r->buf + r->pos;
        PKTCAP__PREFETCH(b);
        type = pktcap__get32(b, swapped);
        if (type == PCAPNG_BT_SHB) {
            rc = read_shb(r);
            if (rc < 0)
                return rc;
            if (r->swapped != swapped)
                return r->next(r);
            continue;
        }
        len = pktcap__get32(b + 4, swapped);
        if (bad_length(len, PCAPNG_BLOCK_MIN))
            return length_error(r, type, len, PCAPNG_BLOCK_MIN);
        if (avail < len) {
            rc = load_block(r, type, len);
            if (rc < 0)
                return rc;
            b = r->buf + r->pos;
        }
        if (pktcap__get32(b + len - 4, swapped) != len)
            return trailer_error(r, type, len, pktcap__get32(b + len - 4, swapped));
        switch (type) {
        case PCAPNG_BT_EPB:
            rc = read_packet(r, b, len, swapped, 0);
            break;
        case PCAPNG_BT_SPB:
            rc = read_spb(r, b, len, swapped);
            break;
        case PCAPNG_BT_PB:
            rc = read_packet(r, b, len, swapped, 1);
            break;
        case PCAPNG_BT_IDB:
            rc = read_idb(r, b, len, swapped);
            if (rc < 0)
                return rc;
            r->pos += len;
            continue;
        default:
            r->pos += len;
            continue;
        }
        if (rc == 0)
            r->pos += len;
        return rc;
    }
}

static PKTCAP__NOINLINE int next_block_native(pktcap_reader *r)
{
    return next_block(r, 0);
}

static PKTCAP__NOINLINE int next_block_swapped(pktcap_reader *r)
{
    return next_block(r, 1);
}

/* The usual case, kept free of calls so it needs no stack frame: a complete,
 * well-formed EPB without options, already in the window. Anything else goes
 * the long way, which checks and reports everything. */
static PKTCAP__ALWAYS_INLINE int next_fast(pktcap_reader *r, const int swapped)
{
    const size_t avail = r->end - r->pos;
    if (avail >= PCAPNG_BLOCK_MIN + PCAPNG_EPB_FIXED) {
        const uint8_t *b = r->buf + r->pos;
        const uint32_t len = pktcap__get32(b + 4, swapped);
        PKTCAP__PREFETCH(b);
        if (PKTCAP__LIKELY(pktcap__get32(b, swapped) == PCAPNG_BT_EPB && len <= avail &&
                   !bad_length(len, PCAPNG_BLOCK_MIN + PCAPNG_EPB_FIXED) &&
                   pktcap__get32(b + len - 4, swapped) == len)) {
            const uint32_t id = pktcap__get32(b + 8, swapped);
            const uint32_t caplen = pktcap__get32(b + 20, swapped);
            const uint32_t room = len - PCAPNG_BLOCK_MIN - PCAPNG_EPB_FIXED;
            if (PKTCAP__LIKELY(id < r->iface_count - r->section_first && caplen <= room &&
                       ((caplen + 3u) & ~3u) >= room)) {
                deliver_packet(r, b, id, caplen, swapped);
                r->pos += len;
                return 0;
            }
        }
    }
    return swapped ? next_block_swapped(r) : next_block_native(r);
}

static int next_native(pktcap_reader *r)
{
    return next_fast(r, 0);
}

static int next_swapped(pktcap_reader *r)
{
    return next_fast(r, 1);
}

int pktcap__reader_pcapng_start(pktcap_reader *r)
{
    r->format = PKTCAP_FORMAT_PCAPNG;
    return read_shb(r);
}
