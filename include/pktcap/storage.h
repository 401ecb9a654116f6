/**
 * @file storage.h
 * @brief Storage targets: where capture bytes go.
 *
 * A storage target receives the bytes of capture files: a local file (written
 * atomically, optionally rotated like `dumpcap -b`), a memory buffer, an open
 * file descriptor, or a callback. A pktcap_writer writes through one; later
 * provider downloads stream into one.
 *
 * Targets are named by URI:
 *
 * | URI | target |
 * |---|---|
 * | `capture.pcapng`, `/abs/path.pcap` | a local file (plain path) |
 * | `file:///abs/path.pcapng?format=pcapng&rotate_bytes=1000000&rotate_files=5` | a local file with options |
 * | `-` | standard output (same as `fd:1`) |
 * | `fd:N` | open file descriptor N (not closed by libpktcap) |
 * | `mem:` | a growing memory buffer, read with pktcap_storage_memory() |
 * | `azblob://ACCOUNT/CONTAINER/PATH?storage_id=…` | a remote target: an Azure blob a provider writes to (since 1.2) |
 * | `s3://BUCKET/PATH`, `gs://…`, `r2://…` | remote targets: buckets a provider writes to (since 1.2) |
 *
 * **Remote targets** name a place a provider writes to: give one to
 * pktcap_session_set_storage() and the provider captures straight into it.
 * libpktcap never writes to them itself (a writer's claim is refused with
 * ::PKTCAP_E_NOTSUP); their query parameters (and pktcap_storage_set() keys)
 * are kept as they are, for the provider to read (`storage_id`, `region`, …).
 *
 * Options of local targets, in the URI's query or through pktcap_storage_set():
 *
 * | key | values | meaning |
 * |---|---|---|
 * | `format` | `pcap`, `pcap-nsec`, `pcapng` | file format a writer uses when given ::PKTCAP_FORMAT_AUTO; default: from the file extension (`.pcap` → pcap, otherwise pcapng) |
 * | `rotate_bytes` | bytes (`k`, `M`, `G` suffixes: powers of 1000) | start a new file once the current one holds this many bytes |
 * | `rotate_seconds` | seconds | start a new file once a packet is this much later than the current file's first packet |
 * | `rotate_files` | count | ring buffer: keep only the newest N files this target created |
 * | `overwrite` | `true`, `false` | replace an existing file at the final name (default `true` for a single file; rotated names never replace files) |
 * | `fsync` | `true`, `false` | fsync each file before it takes its final name (default `false`) |
 *
 * **Atomicity.** A file is written under a hidden temporary name beside its
 * final name (`.NAME.XXXXXX.part`) and renamed when it is complete (at writer
 * close or rotation). A write that fails or is abandoned removes the
 * temporary file: nothing half-written ever appears under a final name.
 *
 * **Rotation names.** With any `rotate_*` option, `DIR/NAME.EXT` becomes
 * `DIR/NAME_00001_20261123124600.EXT`, `DIR/NAME_00002_….EXT`, …: a 5-digit
 * index and the UTC time (YYYYMMDDhhmmss) of the file's first packet, like
 * dumpcap. The ring buffer deletes only files this target created.
 */
#ifndef PKTCAP_STORAGE_H
#define PKTCAP_STORAGE_H

#include <stddef.h>
#include <pktcap/common.h>

PKTCAP_BEGIN_DECLS

/** @brief An opaque storage target. */
typedef struct pktcap_storage pktcap_storage;

/**
 * @brief The function a callback target calls with each chunk of bytes.
 *
 * @param data the bytes; NULL with @p size 0 once, when the stream is complete
 *        (the writer closed successfully).
 * @param size how many bytes @p data holds.
 * @param userdata the pointer given to pktcap_storage_new_callback().
 * @return 0 to continue, or a negative ::pktcap_error_code_t to fail the write
 *         (the writer then reports that code).
 */
typedef int (*pktcap_storage_write_cb)(const void *data, size_t size, void *userdata);

/**
 * @brief Open a storage target named by a URI or a plain path.
 *
 * Nothing is created on disk until a writer starts writing.
 *
 * @param[out] out the new target; untouched on failure.
 * @param uri a plain path or a URI of a scheme listed in this file's
 *        description.
 * @return 0; ::PKTCAP_E_INVAL for a malformed URI, an unknown option or a bad
 *         option value; ::PKTCAP_E_NOTSUP for a scheme libpktcap does not
 *         write to (the message lists the supported ones); ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_storage_open(pktcap_storage **out, const char *uri);

/**
 * @brief Make a target that hands every chunk of bytes to a callback.
 *
 * @param[out] out the new target; untouched on failure.
 * @param write called with each chunk, in order, from the writing thread.
 * @param userdata passed to @p write unchanged.
 * @return 0, ::PKTCAP_E_INVAL if @p write is NULL, or ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_storage_new_callback(pktcap_storage **out, pktcap_storage_write_cb write,
                                           void *userdata);

/**
 * @brief Set one option of a target (see the table in this file's description).
 *
 * @param storage the target; options must be set before a writer uses it.
 * @param key the option name.
 * @param value its value as text.
 * @return 0; ::PKTCAP_E_INVAL for an unknown key or a bad value (the message
 *         names both); ::PKTCAP_E_NOTSUP for an option this kind of target does
 *         not have (rotation on `mem:`); ::PKTCAP_E_STATE once writing began.
 *         A remote target keeps every key for its provider (replacing a
 *         parameter of the same name) and returns 0 or ::PKTCAP_E_NOMEM.
 */
PKTCAP_API int pktcap_storage_set(pktcap_storage *storage, const char *key, const char *value);

/**
 * @brief The bytes a `mem:` target holds.
 *
 * The pointer stays valid until the next write to the target or its free.
 *
 * @param[out] data the first byte (NULL when empty).
 * @param[out] size how many bytes.
 * @param storage a `mem:` target.
 * @return 0, or ::PKTCAP_E_INVAL if @p storage is not a memory target.
 */
PKTCAP_API int pktcap_storage_memory(const void **data, size_t *size,
                                     const pktcap_storage *storage);

/**
 * @brief How many files a file target has completed (renamed to final names).
 * @param storage a target, or NULL.
 * @return the count, including files since deleted by the ring buffer; 0 for
 *         other kinds of target.
 */
PKTCAP_API size_t pktcap_storage_file_count(const pktcap_storage *storage);

/**
 * @brief The final path of a completed file, in the order they were completed.
 * @param storage a file target.
 * @param index 0 … pktcap_storage_file_count() - 1.
 * @return the path, owned by the target; NULL if @p index is out of range.
 */
PKTCAP_API const char *pktcap_storage_file_path(const pktcap_storage *storage, size_t index);

/**
 * @brief Free a target. Accepts NULL.
 *
 * Does not touch completed files. A writer still using the target must be
 * closed first.
 *
 * @param storage the target, or NULL.
 */
PKTCAP_API void pktcap_storage_free(pktcap_storage *storage);

PKTCAP_END_DECLS

#endif /* PKTCAP_STORAGE_H */
