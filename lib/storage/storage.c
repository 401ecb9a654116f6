/* Storage targets: naming them by URI, and the unit protocol producers use.
 * What each kind does with the bytes lives in file.c, fd.c, memory.c and
 * callback.c. */
#include "storage/storage.h"
#include "storage/kind.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <pktcap/file.h>
#include "core/alloc.h"
#include "core/error.h"
#include "core/uri.h"

#define SUPPORTED_SCHEMES "file path, file://, -, fd:N, mem:, azblob://, s3://, gs://, r2://"

int pktcap__storage_new(pktcap_storage **out, const struct storage_kind *kind, const char *name)
{
    pktcap_storage *st = pktcap__calloc(1, sizeof(*st));
    if (!st)
        return PKTCAP_E_NOMEM;
    st->name = pktcap__strdup(name);
    if (!st->name) {
        pktcap__free(st);
        return PKTCAP_E_NOMEM;
    }
    st->kind = kind;
    st->overwrite = 1;
    st->fd = -1;
    st->file.fd = -1;
    *out = st;
    return 0;
}

/* file:///abs/path names a local file; the authority may only be this host. */
static int file_uri_path(const char **path, const pktcap__uri *u, const char *text)
{
    if (u->authority && *u->authority && strcmp(u->authority, "localhost") != 0)
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "storage '%s': file URIs name a local file; host '%s' is not "
                                 "empty or localhost", text, u->authority);
    if (u->path[0] != '/')
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "storage '%s': a file URI needs an absolute path (file:///dir/name)",
                                 text);
    *path = u->path;
    return 0;
}

static int open_parsed(pktcap_storage **out, const pktcap__uri *u, const char *text)
{
    pktcap_storage *st = NULL;
    const char *scheme = u->scheme;
    int rc;

    if (!scheme || strcmp(scheme, "file") == 0) {
        const char *path = u->path;
        if (scheme && (rc = file_uri_path(&path, u, text)) != 0)
            return rc;
        rc = pktcap__storage_new(&st, &pktcap__storage_file_kind, text);
        if (rc == 0)
            rc = pktcap__storage_file_init(st, path);
    } else if (strcmp(scheme, "fd") == 0) {
        uint64_t fd;
        char what[320];
        if (u->authority || u->path[strspn(u->path, "0123456789")] != '\0')
            return pktcap__error_set(PKTCAP_E_INVAL,
                                     "storage '%s': write fd:N with N a descriptor number", text);
        snprintf(what, sizeof(what), "storage '%.200s' descriptor", text);
        rc = pktcap__parse_u64(&fd, what, u->path, 0, INT_MAX);
        if (rc == 0)
            rc = pktcap__storage_new(&st, &pktcap__storage_fd_kind, text);
        if (rc == 0)
            rc = pktcap__storage_fd_init(st, (int)fd);
    } else if (strcmp(scheme, "mem") == 0) {
        if (u->authority || u->path[0])
            return pktcap__error_set(PKTCAP_E_INVAL, "storage '%s': write mem: with nothing after the colon",
                                     text);
        rc = pktcap__storage_new(&st, &pktcap__storage_memory_kind, text);
    } else if (pktcap__storage_is_remote_scheme(scheme)) {
        /* The provider interprets the whole URI, parameters included. */
        rc = pktcap__storage_new(&st, &pktcap__storage_remote_kind, text);
        if (rc == 0 && (rc = pktcap__storage_remote_init(st, text)) != 0)
            pktcap_storage_free(st);
        if (rc == 0)
            *out = st;
        return rc;
    } else {
        return pktcap__error_set(PKTCAP_E_NOTSUP,
                                 "storage '%s': unsupported scheme '%s' (supported: " SUPPORTED_SCHEMES ")",
                                 text, scheme);
    }

    for (size_t i = 0; rc == 0 && i < u->param_count; i++)
        rc = pktcap__storage_option(st, u->params[i].key, u->params[i].value);
    if (rc != 0) {
        pktcap_storage_free(st);
        return rc;
    }
    *out = st;
    return 0;
}

int pktcap_storage_open(pktcap_storage **out, const char *uri)
{
    if (!out || !uri)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_storage_open: %s is NULL", out ? "uri" : "out");
    if (strcmp(uri, "-") == 0) {
        pktcap_storage *st;
        int rc = pktcap__storage_new(&st, &pktcap__storage_fd_kind, uri);
        if (rc == 0 && (rc = pktcap__storage_fd_init(st, 1)) != 0)
            pktcap_storage_free(st);
        if (rc == 0)
            *out = st;
        return rc;
    }
    pktcap__uri u;
    int rc = pktcap__uri_parse(&u, uri);
    if (rc != 0)
        return rc;
    rc = open_parsed(out, &u, uri);
    pktcap__uri_clear(&u);
    return rc;
}

int pktcap_storage_new_callback(pktcap_storage **out, pktcap_storage_write_cb write, void *userdata)
{
    if (!out || !write)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_storage_new_callback: %s is NULL",
                                 out ? "write" : "out");
    pktcap_storage *st;
    int rc = pktcap__storage_new(&st, &pktcap__storage_callback_kind, "callback");
    if (rc != 0)
        return rc;
    st->cb.fn = write;
    st->cb.userdata = userdata;
    *out = st;
    return 0;
}

int pktcap_storage_set(pktcap_storage *storage, const char *key, const char *value)
{
    if (!storage || !key || !value)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_storage_set: %s is NULL",
                                 !storage ? "storage" : !key ? "key" : "value");
    if (storage->kind == &pktcap__storage_remote_kind)
        return pktcap__storage_remote_set(storage, key, value);
    return pktcap__storage_option(storage, key, value);
}

int pktcap_storage_memory(const void **data, size_t *size, const pktcap_storage *storage)
{
    if (!data || !size || !storage)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_storage_memory: %s is NULL",
                                 !data ? "data" : !size ? "size" : "storage");
    if (storage->kind != &pktcap__storage_memory_kind)
        return pktcap__error_set(PKTCAP_E_INVAL, "storage '%s' is not a memory target (mem:)",
                                 storage->name);
    *data = storage->mem.size ? storage->mem.data : NULL;
    *size = storage->mem.size;
    return 0;
}

size_t pktcap_storage_file_count(const pktcap_storage *storage)
{
    return storage ? storage->file.done_count : 0;
}

const char *pktcap_storage_file_path(const pktcap_storage *storage, size_t index)
{
    if (!storage || index >= storage->file.done_count)
        return NULL;
    return storage->file.done[index];
}

void pktcap_storage_free(pktcap_storage *storage)
{
    if (!storage)
        return;
    pktcap__storage_abort(storage);
    if (storage->kind->free)
        storage->kind->free(storage);
    pktcap__free(storage->name);
    pktcap__free(storage);
}

/* ---- the producer's side ---- */

int pktcap__storage_claim(pktcap_storage *st)
{
    if (st->kind == &pktcap__storage_remote_kind)
        return pktcap__error_set(PKTCAP_E_NOTSUP, "storage '%s' is a remote target that a "
                                 "provider writes to; write or fetch into a local target "
                                 "instead", st->name);
    if (st->claimed)
        return pktcap__error_set(PKTCAP_E_STATE, "storage '%s' is already in use by a writer",
                                 st->name);
    st->claimed = 1;
    st->frozen = 1;
    return 0;
}

void pktcap__storage_release(pktcap_storage *st)
{
    st->claimed = 0;
}

/* ".pcap" (any case) at the end of the file name → classic pcap. */
static int name_says_pcap(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    return n > 5 && strcasecmp(base + n - 5, ".pcap") == 0;
}

int pktcap__storage_format(const pktcap_storage *st)
{
    if (st->format != PKTCAP_FORMAT_AUTO)
        return st->format;
    if (st->file.path && name_says_pcap(st->file.path))
        return PKTCAP_FORMAT_PCAP;
    return PKTCAP_FORMAT_PCAPNG;
}

int pktcap__storage_rotates(const pktcap_storage *st)
{
    return st->rotate_bytes || st->rotate_seconds || st->rotate_files;
}

const char *pktcap__storage_path(const pktcap_storage *st)
{
    if (!st || st->kind != &pktcap__storage_file_kind || pktcap__storage_rotates(st))
        return NULL;
    return st->file.path;
}

const char *pktcap__storage_name(const pktcap_storage *st)
{
    return st->name;
}

int pktcap__storage_begin(pktcap_storage *st)
{
    if (st->in_unit)
        return pktcap__error_set(PKTCAP_E_STATE, "storage '%s': a file is already being written",
                                 st->name);
    int rc = st->kind->begin ? st->kind->begin(st) : 0;
    if (rc != 0)
        return rc;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    st->unit_sec = (int64_t)now.tv_sec;
    st->unit_nsec = (uint32_t)now.tv_nsec;
    st->unit_has_packet = 0;
    st->in_unit = 1;
    return 0;
}

int pktcap__storage_write(pktcap_storage *st, const void *data, size_t size)
{
    if (!st->in_unit)
        return pktcap__error_set(PKTCAP_E_STATE, "storage '%s': write outside a file", st->name);
    return size ? st->kind->write(st, data, size) : 0;
}

int pktcap__storage_rotation_due(pktcap_storage *st, uint64_t unit_bytes, int64_t ts_sec,
                                 uint32_t ts_nsec)
{
    if (!st->unit_has_packet) {
        st->unit_has_packet = 1;
        st->unit_sec = ts_sec;
        st->unit_nsec = ts_nsec;
        return 0;
    }
    /* dumpcap's rule: a file is full once it holds rotate_bytes, checked
     * before the next packet, so a file ends at the first packet boundary at
     * or past the limit and no file is ever left empty. */
    if (st->rotate_bytes && unit_bytes >= st->rotate_bytes)
        return 1;
    if (st->rotate_seconds) {
        /* Packet times may go backwards a little; those never rotate. */
        int64_t sec = ts_sec - st->unit_sec;
        int64_t nsec = (int64_t)ts_nsec - (int64_t)st->unit_nsec;
        if (nsec < 0) {
            sec--;
            nsec += 1000000000;
        }
        if (sec >= 0 && (uint64_t)sec >= st->rotate_seconds)
            return 1;
    }
    return 0;
}

int pktcap__storage_commit(pktcap_storage *st)
{
    if (!st->in_unit)
        return pktcap__error_set(PKTCAP_E_STATE, "storage '%s': no file is being written", st->name);
    int rc = st->kind->commit ? st->kind->commit(st) : 0;
    st->in_unit = 0;
    return rc;
}

void pktcap__storage_abort(pktcap_storage *st)
{
    if (!st->in_unit)
        return;
    if (st->kind->abort)
        st->kind->abort(st);
    st->in_unit = 0;
}
