/* Internal to lib/storage: the target object and the kinds of target behind
 * it (one file each: file.c, fd.c, memory.c, callback.c). */
#ifndef PKTCAP_STORAGE_KIND_H
#define PKTCAP_STORAGE_KIND_H

#include <stddef.h>
#include <stdint.h>

#include <pktcap/storage.h>

#include "core/uri.h"

/* Options, as bits of storage_kind.options: what a kind accepts. */
enum {
    STORAGE_OPT_FORMAT = 1 << 0,
    STORAGE_OPT_ROTATE_BYTES = 1 << 1,
    STORAGE_OPT_ROTATE_SECONDS = 1 << 2,
    STORAGE_OPT_ROTATE_FILES = 1 << 3,
    STORAGE_OPT_OVERWRITE = 1 << 4,
    STORAGE_OPT_FSYNC = 1 << 5,
};

struct storage_kind {
    const char *what; /* "a memory target": completes "does not apply to ..." */
    unsigned options;
    int (*begin)(pktcap_storage *st);
    int (*write)(pktcap_storage *st, const void *data, size_t size);
    int (*commit)(pktcap_storage *st);
    void (*abort)(pktcap_storage *st);
    void (*free)(pktcap_storage *st);
};

struct storage_file {
    char *path;      /* the final name, or the pattern rotated names come from */
    char *temp;      /* the open unit's temporary name, or NULL */
    int fd;
    int in_place;    /* the open unit goes straight to a device or FIFO at `path` */
    char **done;     /* final names of completed files, oldest first */
    size_t done_count, done_cap;
};

struct pktcap_storage {
    const struct storage_kind *kind;
    char *name;      /* as the user gave it, for messages */
    int format;      /* PKTCAP_FORMAT_AUTO unless the `format` option was set */
    uint64_t rotate_bytes, rotate_seconds, rotate_files; /* 0 = off */
    int overwrite, fsync;
    int claimed, frozen, in_unit;
    /* The unit's name time: the first packet's, else the time it began. */
    int unit_has_packet;
    int64_t unit_sec;
    uint32_t unit_nsec;

    struct storage_file file;
    int fd;                                        /* fd: targets */
    struct { uint8_t *data; size_t size, cap; } mem; /* mem: */
    struct { pktcap_storage_write_cb fn; void *userdata; } cb;
    pktcap__uri *remote;                           /* azblob:, s3:, gs:, r2: */
};

extern const struct storage_kind pktcap__storage_file_kind;
extern const struct storage_kind pktcap__storage_fd_kind;
extern const struct storage_kind pktcap__storage_memory_kind;
extern const struct storage_kind pktcap__storage_callback_kind;
extern const struct storage_kind pktcap__storage_remote_kind;

/* Remote targets (remote.c). */
int pktcap__storage_is_remote_scheme(const char *scheme);
int pktcap__storage_remote_init(pktcap_storage *st, const char *text);
int pktcap__storage_remote_set(pktcap_storage *st, const char *key, const char *value);

/* Allocates a target of `kind`, named `name` for messages. */
int pktcap__storage_new(pktcap_storage **out, const struct storage_kind *kind, const char *name);
/* Applies one option (the rules of pktcap_storage_set). */
int pktcap__storage_option(pktcap_storage *st, const char *key, const char *value);
/* Prepares a file target for `path` (plain or decoded from file://). */
int pktcap__storage_file_init(pktcap_storage *st, const char *path);
/* Prepares a descriptor target; `fd` must be open for writing. */
int pktcap__storage_fd_init(pktcap_storage *st, int fd);
/* write(2) of all `size` bytes, through EINTR and short writes; `what` names
 * the destination in the error message. */
int pktcap__storage_write_fd(int fd, const void *data, size_t size, const char *what);

#endif
