/* Internal: how a producer (the capture-file writer, a provider download)
 * puts bytes into a storage target.
 *
 * A producer claims the target, then writes one or more units. A unit is one
 * capture file: begin, write bytes, then commit (the file takes its final
 * name, or the callback hears the end of the stream) or abort (the temporary
 * file is removed, the memory buffer emptied). Nothing of a unit is visible
 * under a final name before its commit, whatever the kind of target.
 *
 *     pktcap__storage_claim(st);
 *     pktcap__storage_begin(st);
 *     while (more) rc = pktcap__storage_write(st, chunk, n);   // no buffering here
 *     rc = rc ? rc : pktcap__storage_commit(st);
 *     if (rc) pktcap__storage_abort(st);
 *     pktcap__storage_release(st);
 *
 * Every call that fails records the thread's error detail (naming the target
 * and the file) and returns a negative PKTCAP_E_* code. Writes are not
 * buffered: each pktcap__storage_write is at least one write(2) or callback
 * call, so producers hand over large chunks. */
#ifndef PKTCAP_STORAGE_STORAGE_H
#define PKTCAP_STORAGE_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include <pktcap/storage.h>

#include "core/uri.h"

/* Takes the target for one producer; freezes its options for good.
 * PKTCAP_E_STATE if another producer holds it. */
int pktcap__storage_claim(pktcap_storage *st);
/* Gives the target back (after the last commit or abort). */
void pktcap__storage_release(pktcap_storage *st);

/* The capture format the target asks for: its `format` option, else the
 * final name's extension (.pcap → PKTCAP_FORMAT_PCAP), else pcapng. */
int pktcap__storage_format(const pktcap_storage *st);
/* Whether the target splits a capture into several files (a rotate_* option):
 * a producer of packets must then call pktcap__storage_rotation_due. */
int pktcap__storage_rotates(const pktcap_storage *st);
/* The target as the user named it, for messages. */
const char *pktcap__storage_name(const pktcap_storage *st);

/* Remote targets — `azblob://ACCOUNT/CONTAINER/PATH`, `s3://BUCKET/PATH`,
 * `gs://…`, `r2://…` — name a place a provider writes to; no producer can
 * claim them (PKTCAP_E_NOTSUP). This returns the parsed URI (scheme,
 * authority, path, and every query parameter, kept for the provider to
 * interpret), or NULL for every other kind of target. */
const pktcap__uri *pktcap__storage_remote(const pktcap_storage *st);
/* The final path of a single local file target (plain path or file://
 * without rotation), or NULL for other kinds. */
const char *pktcap__storage_path(const pktcap_storage *st);

/* Starts a unit: creates the temporary file, or empties the memory buffer. */
int pktcap__storage_begin(pktcap_storage *st);
/* Appends bytes to the unit; handles short writes and EINTR. */
int pktcap__storage_write(pktcap_storage *st, const void *data, size_t size);
/* Called before each packet of a rotating target, with the bytes the unit
 * holds so far (the producer's buffered bytes included). The first call in a
 * unit records the packet time that names the file and returns 0; later ones
 * return 1 when the unit is complete and the packet belongs in a new unit
 * (the producer ends the unit, commits, begins, and calls again). */
int pktcap__storage_rotation_due(pktcap_storage *st, uint64_t unit_bytes, int64_t ts_sec,
                                 uint32_t ts_nsec);
/* Ends the unit: fsync if asked, final name, ring-buffer clean-up; for a
 * callback, the closing (NULL, 0) call. On failure the unit is aborted. */
int pktcap__storage_commit(pktcap_storage *st);
/* Drops the unit, if one is open. Never fails, records no error. */
void pktcap__storage_abort(pktcap_storage *st);

#endif
