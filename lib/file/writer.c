/* The capture-file writer: life cycle, argument checks, the output buffer,
 * and the file units it asks its storage target for (one per rotated file).
 * Encoding lives in writer_pcap.c and writer_pcapng.c.
 *
 * A call the writer refuses (a bad argument, a setting too late, a second
 * link type in classic pcap, no memory for a new interface) changes nothing:
 * it returns its error and the file stays whole, so a live capture survives
 * one bad packet. An error on the output path poisons the writer: from then on
 * every call returns that first error with its message, and close removes the
 * unfinished file instead of naming it, because bytes may be missing from it. */
#include "file/writer.h"

#include <stdio.h>
#include <sys/utsname.h>

#include <pktcap/version.h>
#include "core/alloc.h"
#include "core/error.h"
#include "storage/storage.h"

#define MAX_INTERFACES 65535u
#define MAX_LINKTYPE 65535u
#define NSEC_PER_SEC 1000000000u

static const char *const section_keys[SECTION_OPTION_COUNT] = {
    [SECTION_COMMENT] = "shb_comment",
    [SECTION_HARDWARE] = "shb_hardware",
    [SECTION_OS] = "shb_os",
    [SECTION_USERAPPL] = "shb_userappl",
};

/* Records the first error and returns `rc`, so call sites read
 * `return poison(w, rc)`. */
static int poison(pktcap_writer *w, int rc)
{
    if (rc != 0 && w->error == 0) {
        w->error = rc;
        snprintf(w->message, sizeof(w->message), "%s", pktcap_error_message(pktcap_error_last()));
    }
    return rc;
}

/* The first error again, with its message as the thread's detail. */
static int poisoned(const pktcap_writer *w)
{
    return pktcap__error_set(w->error, "%s", w->message);
}

/* ---- the buffer ---- */

int pktcap__writer_drain(pktcap_writer *w)
{
    if (w->used == 0)
        return 0;
    int rc = pktcap__storage_write(w->storage, w->buf, w->used);
    if (rc != 0)
        return rc;
    w->unit_flushed += w->used;
    w->used = 0;
    return 0;
}

int pktcap__writer_put(pktcap_writer *w, const void *data, size_t size)
{
    if (size > writer_free_space(w)) {
        int rc = pktcap__writer_drain(w);
        if (rc != 0)
            return rc;
        if (size > WRITER_BUFFER_SIZE) {
            /* Copying would only cost time: one write(2) of its own. */
            rc = pktcap__storage_write(w->storage, data, size);
            if (rc == 0)
                w->unit_flushed += size;
            return rc;
        }
    }
    if (size)
        memcpy(w->buf + w->used, data, size);
    w->used += size;
    return 0;
}

int pktcap__writer_room(uint8_t **out, pktcap_writer *w, size_t size)
{
    if (size > writer_free_space(w)) {
        int rc = pktcap__writer_drain(w);
        if (rc != 0)
            return rc;
    }
    *out = w->buf + w->used;
    w->used += size;
    return 0;
}

/* ---- files ---- */

static int start_unit(pktcap_writer *w)
{
    int rc = pktcap__storage_begin(w->storage);
    if (rc != 0)
        return rc;
    w->in_unit = 1;
    w->started = 1;
    w->used = 0;
    w->unit_flushed = 0;
    w->unit_has_packet = 0;
    return w->format == PKTCAP_FORMAT_PCAPNG ? pktcap__pcapng_section(w) : pktcap__pcap_header(w);
}

static int end_unit(pktcap_writer *w)
{
    int rc = w->format == PKTCAP_FORMAT_PCAPNG ? pktcap__pcapng_statistics(w) : 0;
    if (rc == 0)
        rc = pktcap__writer_drain(w);
    if (rc == 0) {
        rc = pktcap__storage_commit(w->storage);
        w->in_unit = 0;
    }
    return rc;
}

static int rotate_if_due(pktcap_writer *w, const pktcap_packet *p)
{
    uint64_t bytes = w->unit_flushed + w->used;
    if (!pktcap__storage_rotation_due(w->storage, bytes, p->ts_sec, p->ts_nsec))
        return 0;
    int rc = end_unit(w);
    if (rc == 0)
        rc = start_unit(w);
    if (rc == 0)
        pktcap__storage_rotation_due(w->storage, 0, p->ts_sec, p->ts_nsec); /* names the new file */
    return rc;
}

/* ---- open, options, interfaces ---- */

/* "FIRST SECOND", or FIRST alone when SECOND is NULL. */
static int set_section_default(pktcap_writer *w, int which, const char *first, const char *second)
{
    size_t size = strlen(first) + (second ? 1 + strlen(second) : 0) + 1;
    char *s = pktcap__malloc(size);
    if (!s)
        return PKTCAP_E_NOMEM;
    snprintf(s, size, "%s%s%s", first, second ? " " : "", second ? second : "");
    w->section[which] = s;
    return 0;
}

static int set_section_defaults(pktcap_writer *w)
{
    struct utsname u;
    int rc = set_section_default(w, SECTION_USERAPPL, "libpktcap", pktcap_version());
    /* Without uname the section simply says less. */
    if (rc == 0 && uname(&u) == 0) {
        rc = set_section_default(w, SECTION_OS, u.sysname, u.release);
        if (rc == 0)
            rc = set_section_default(w, SECTION_HARDWARE, u.machine, NULL);
    }
    return rc;
}

static void free_writer(pktcap_writer *w)
{
    for (uint32_t i = 0; i < w->if_count; i++) {
        pktcap__free(w->ifs[i].name);
        pktcap__free(w->ifs[i].description);
    }
    for (int i = 0; i < SECTION_OPTION_COUNT; i++)
        pktcap__free(w->section[i]);
    pktcap__free(w->ifs);
    pktcap__free(w->buf);
    pktcap__free(w);
}

int pktcap_writer_open(pktcap_writer **out, pktcap_storage *storage, int format)
{
    if (!out || !storage)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_writer_open: %s is NULL",
                                 out ? "storage" : "out");
    if (format == PKTCAP_FORMAT_AUTO)
        format = pktcap__storage_format(storage);
    if (format != PKTCAP_FORMAT_PCAP && format != PKTCAP_FORMAT_PCAP_NSEC &&
        format != PKTCAP_FORMAT_PCAPNG)
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "writer format %d: the writer writes pcap (1), pcap-nsec (2) or "
                                 "pcapng (3)", format);

    pktcap_writer *w = pktcap__calloc(1, sizeof(*w));
    if (!w)
        return PKTCAP_E_NOMEM;
    w->storage = storage;
    w->format = format;
    w->rotating = pktcap__storage_rotates(storage);
    int rc = (w->buf = pktcap__malloc(WRITER_BUFFER_SIZE)) ? 0 : PKTCAP_E_NOMEM;
    if (rc == 0)
        rc = set_section_defaults(w);
    if (rc == 0)
        rc = pktcap__storage_claim(storage);
    if (rc != 0) {
        free_writer(w);
        return rc;
    }
    *out = w;
    return 0;
}

/* pcapng keeps option lengths in 16 bits. */
static int check_option_text(const char *what, const char *value)
{
    size_t len = value ? strlen(value) : 0;
    if (len > PCAPNG_OPTION_MAX)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s is %zu bytes; a pcapng option holds at most %u",
                                 what, len, PCAPNG_OPTION_MAX);
    return 0;
}

static int set_option(pktcap_writer *w, const char *key, const char *value)
{
    int which = -1;
    for (int i = 0; i < SECTION_OPTION_COUNT; i++)
        if (strcmp(key, section_keys[i]) == 0)
            which = i;
    if (which < 0)
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "unknown writer option '%s' (known: shb_userappl, shb_os, "
                                 "shb_hardware, shb_comment)", key);
    if (w->started)
        return pktcap__error_set(PKTCAP_E_STATE,
                                 "writer option '%s' must be set before the file header is written "
                                 "(first packet, flush or close)", key);
    int rc = check_option_text(key, value);
    if (rc != 0)
        return rc;
    /* An empty text would be an option that says nothing: leave it out. */
    char *copy = NULL;
    if (value && *value && !(copy = pktcap__strdup(value)))
        return PKTCAP_E_NOMEM;
    pktcap__free(w->section[which]);
    w->section[which] = copy;
    return 0;
}

int pktcap_writer_set_option(pktcap_writer *writer, const char *key, const char *value)
{
    if (!writer)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_writer_set_option: writer is NULL");
    if (writer->error)
        return poisoned(writer);
    if (!key)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_writer_set_option: key is NULL");
    return set_option(writer, key, value);
}

static const char *linktype_text(char *buf, size_t size, uint32_t linktype)
{
    const char *name = pktcap_linktype_name(linktype);
    if (name)
        snprintf(buf, size, "%s (%u)", name, linktype);
    else
        snprintf(buf, size, "linktype %u", linktype);
    return buf;
}

static int check_interface(const pktcap_writer *w, uint32_t linktype, const char *name,
                           const char *description)
{
    if (linktype > MAX_LINKTYPE)
        return pktcap__error_set(PKTCAP_E_INVAL, "linktype %u is not a link type (at most %u)",
                                 linktype, MAX_LINKTYPE);
    if (w->if_count == MAX_INTERFACES)
        return pktcap__error_set(PKTCAP_E_LIMIT, "a capture file holds at most %u interfaces",
                                 MAX_INTERFACES);
    int rc = check_option_text("interface name", name);
    if (rc == 0)
        rc = check_option_text("interface description", description);
    if (rc != 0 || w->format == PKTCAP_FORMAT_PCAPNG)
        return rc;
    if (w->started)
        return pktcap__error_set(PKTCAP_E_STATE,
                                 "classic pcap: interfaces must be added before the file header is "
                                 "written (first packet, flush or close)");
    if (w->if_count && w->ifs[0].linktype != linktype) {
        char is[64], file[64];
        return pktcap__error_set(PKTCAP_E_NOTSUP,
                                 "classic pcap holds one link type: interface %u is %s but the file "
                                 "is %s; write pcapng instead", w->if_count,
                                 linktype_text(is, sizeof(is), linktype),
                                 linktype_text(file, sizeof(file), w->ifs[0].linktype));
    }
    return 0;
}

static int add_interface(uint32_t *index, pktcap_writer *w, uint32_t linktype, uint32_t snaplen,
                         const char *name, const char *description)
{
    int rc = check_interface(w, linktype, name, description);
    if (rc != 0)
        return rc;
    struct writer_interface *ifs = pktcap__grow(w->ifs, &w->if_cap, w->if_count, sizeof(*ifs));
    if (!ifs)
        return PKTCAP_E_NOMEM;
    w->ifs = ifs;
    struct writer_interface in = { .linktype = linktype, .snaplen = snaplen };
    /* "No limit" is 0 in both formats' headers, but classic pcap readers
     * refuse records past PCAP_MAX_SNAPLEN, so packets are cut to it there. */
    in.keep = snaplen ? snaplen : w->format == PKTCAP_FORMAT_PCAPNG ? UINT32_MAX : PCAP_MAX_SNAPLEN;
    if ((name && !(in.name = pktcap__strdup(name))) ||
        (description && !(in.description = pktcap__strdup(description)))) {
        pktcap__free(in.name);
        return PKTCAP_E_NOMEM;
    }
    w->ifs[w->if_count++] = in;
    /* pcapng lets an interface appear in the middle of a section. Failing
     * to write its IDB is an output error: it poisons the writer. */
    if (w->in_unit && w->format == PKTCAP_FORMAT_PCAPNG &&
        (rc = pktcap__pcapng_interface(w, w->if_count - 1)) != 0)
        return poison(w, rc);
    if (index)
        *index = w->if_count - 1;
    return 0;
}

int pktcap_writer_add_interface(uint32_t *index, pktcap_writer *writer, uint32_t linktype,
                                uint32_t snaplen, const char *name, const char *description)
{
    if (!writer)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_writer_add_interface: writer is NULL");
    if (writer->error)
        return poisoned(writer);
    return add_interface(index, writer, linktype, snaplen, name, description);
}

int pktcap_writer_set_interface_stats(pktcap_writer *writer, uint32_t interface, uint64_t received,
                                      uint64_t dropped)
{
    if (!writer)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_writer_set_interface_stats: writer is NULL");
    if (writer->error)
        return poisoned(writer);
    if (interface >= writer->if_count)
        return pktcap__error_set(PKTCAP_E_INVAL, "interface %u is not declared (the writer has %u)",
                                 interface, writer->if_count);
    struct writer_interface *in = &writer->ifs[interface];
    in->has_stats = 1;
    in->received = received;
    in->dropped = dropped;
    return 0;
}

/* ---- packets ---- */

static int check_packet(const pktcap_writer *w, const pktcap_packet *p)
{
    if (!p)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_writer_write: packet is NULL");
    if (p->struct_size < sizeof(pktcap_packet))
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "packet struct_size %u is smaller than pktcap_packet (%zu bytes)",
                                 p->struct_size, sizeof(pktcap_packet));
    if (p->interface >= w->if_count)
        return pktcap__error_set(PKTCAP_E_INVAL, "packet interface %u is not declared (the writer has %u)",
                                 p->interface, w->if_count);
    if (p->caplen > p->len)
        return pktcap__error_set(PKTCAP_E_INVAL, "packet caplen %u is larger than len %u", p->caplen,
                                 p->len);
    if (p->ts_nsec >= NSEC_PER_SEC)
        return pktcap__error_set(PKTCAP_E_INVAL, "packet ts_nsec %u is not below 1000000000",
                                 p->ts_nsec);
    if (p->ts_sec < 0)
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "packet ts_sec %lld is negative: capture files hold times from 1970 on",
                                 (long long)p->ts_sec);
    if (w->format != PKTCAP_FORMAT_PCAPNG && p->ts_sec > (int64_t)UINT32_MAX)
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "packet ts_sec %lld does not fit classic pcap's 32-bit seconds; "
                                 "write pcapng instead", (long long)p->ts_sec);
    if ((uint64_t)p->ts_sec > (UINT64_MAX - p->ts_nsec) / NSEC_PER_SEC)
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "packet ts_sec %lld does not fit pcapng's 64-bit nanoseconds",
                                 (long long)p->ts_sec);
    if (!p->data && p->caplen)
        return pktcap__error_set(PKTCAP_E_INVAL, "packet data is NULL with caplen %u", p->caplen);
    if (!p->comment && p->comment_len)
        return pktcap__error_set(PKTCAP_E_INVAL, "packet comment is NULL with comment_len %u",
                                 p->comment_len);
    if (p->comment_len > PCAPNG_OPTION_MAX)
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "packet comment_len %u is more than a pcapng option holds (%u)",
                                 p->comment_len, PCAPNG_OPTION_MAX);
    return 0;
}

static int write_packet(pktcap_writer *w, const pktcap_packet *p)
{
    int rc = 0;
    if (!w->in_unit)
        rc = start_unit(w);
    if (rc == 0 && w->rotating)
        rc = rotate_if_due(w, p);
    if (rc != 0)
        return rc;

    uint64_t ts_ns = (uint64_t)p->ts_sec * NSEC_PER_SEC + p->ts_nsec;
    if (!w->unit_has_packet) {
        w->unit_has_packet = 1;
        w->unit_first_ns = ts_ns;
    }
    w->unit_last_ns = ts_ns;
    uint32_t keep = w->ifs[p->interface].keep;
    uint32_t caplen = p->caplen < keep ? p->caplen : keep;
    if (w->format == PKTCAP_FORMAT_PCAPNG)
        return pktcap__pcapng_packet(w, p, caplen, ts_ns);
    return pktcap__pcap_packet(w, p, caplen);
}

int pktcap_writer_write(pktcap_writer *writer, const pktcap_packet *packet)
{
    if (!writer)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_writer_write: writer is NULL");
    if (writer->error)
        return poisoned(writer);
    int rc = check_packet(writer, packet);
    if (rc != 0)
        return rc; /* refused before anything was written */
    rc = write_packet(writer, packet);
    return rc ? poison(writer, rc) : 0;
}

int pktcap_writer_flush(pktcap_writer *writer)
{
    if (!writer)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_writer_flush: writer is NULL");
    if (writer->error)
        return poisoned(writer);
    int rc = writer->in_unit ? 0 : start_unit(writer);
    if (rc == 0)
        rc = pktcap__writer_drain(writer);
    return poison(writer, rc);
}

int pktcap_writer_close(pktcap_writer *writer)
{
    if (!writer)
        return 0;
    int rc = writer->error;
    if (rc == 0) {
        rc = writer->in_unit ? 0 : start_unit(writer);
        if (rc == 0)
            rc = end_unit(writer);
        poison(writer, rc);
    }
    pktcap__storage_abort(writer->storage);
    pktcap__storage_release(writer->storage);
    if (rc != 0)
        poisoned(writer);
    free_writer(writer);
    return rc;
}

void pktcap_writer_abort(pktcap_writer *writer)
{
    if (!writer)
        return;
    pktcap__storage_abort(writer->storage);
    pktcap__storage_release(writer->storage);
    free_writer(writer);
}
