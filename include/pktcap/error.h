/**
 * @file error.h
 * @brief Error codes and the per-thread detail of the last error.
 *
 * Every libpktcap function that can fail returns `int`: ::PKTCAP_OK (0) or a
 * negative ::pktcap_error_code_t value. The code is small and stable; the
 * detail (a message naming what failed, and for remote providers the HTTP
 * status and the provider's own error code and text) is kept per thread and
 * read with pktcap_error_last() and its accessors.
 *
 * @code
 * int rc = pktcap_reader_open(&r, "in.pcapng");
 * if (rc < 0) {
 *     const pktcap_error *e = pktcap_error_last();
 *     fprintf(stderr, "%s: %s\n", pktcap_error_name(rc), pktcap_error_message(e));
 * }
 * @endcode
 */
#ifndef PKTCAP_ERROR_H
#define PKTCAP_ERROR_H

#include <pktcap/common.h>

PKTCAP_BEGIN_DECLS

/**
 * @brief Status codes returned by libpktcap functions.
 *
 * The list is append-only: a code never changes value or meaning, and new
 * codes take the next free negative number.
 */
typedef enum pktcap_error_code_t {
    PKTCAP_OK = 0,              /**< Success. */
    PKTCAP_E_INVAL = -1,        /**< An argument is invalid (NULL, out of range, malformed text). */
    PKTCAP_E_NOMEM = -2,        /**< Memory could not be allocated. */
    PKTCAP_E_IO = -3,           /**< A read or write failed (disk full, I/O error, short write). */
    PKTCAP_E_FORMAT = -4,       /**< Input is not in the expected format (bad magic, bad block). */
    PKTCAP_E_NOTSUP = -5,       /**< The operation or option is not supported (by this provider). */
    PKTCAP_E_NOTFOUND = -6,     /**< The named thing (file, interface, capture) does not exist. */
    PKTCAP_E_AUTH = -7,         /**< Authentication failed or credentials are missing. */
    PKTCAP_E_PERM = -8,         /**< Authenticated but not allowed (permissions, privileges). */
    PKTCAP_E_CONFLICT = -9,     /**< The operation conflicts with the current remote state. */
    PKTCAP_E_THROTTLED = -10,   /**< The provider rate-limited us and the retry budget ran out. */
    PKTCAP_E_REMOTE = -11,      /**< The provider reported an error of its own (5xx, failed job). */
    PKTCAP_E_NET = -12,         /**< A network error: DNS, connection refused or reset. */
    PKTCAP_E_TLS = -13,         /**< TLS failed: certificate not verified, handshake error. */
    PKTCAP_E_TIMEOUT = -14,     /**< An operation did not finish in its time limit. */
    PKTCAP_E_STATE = -15,       /**< The object is in the wrong state for this operation. */
    PKTCAP_E_LIMIT = -16,       /**< A size or count limit was exceeded. */
    PKTCAP_E_CANCELED = -17,    /**< The operation was canceled by the caller. */
    PKTCAP_E_TRUNCATED = -18,   /**< Input ended in the middle of a record or block. */
    PKTCAP_E_END = -19,         /**< No more items: an iteration has reached its end (not a failure). */
    PKTCAP_E_EXISTS = -20       /**< The thing to create already exists. */
} pktcap_error_code_t;

/**
 * @brief A one-line English description of a status code.
 * @param code a ::pktcap_error_code_t value (any int is accepted).
 * @return a static string, e.g. "invalid argument"; "unknown error code" for
 *         values that are not codes. Never NULL.
 */
PKTCAP_API const char *pktcap_strerror(int code);

/**
 * @brief The symbolic name of a status code.
 * @param code a ::pktcap_error_code_t value (any int is accepted).
 * @return a static string, e.g. "PKTCAP_E_INVAL", or "PKTCAP_E_UNKNOWN".
 *         Never NULL.
 */
PKTCAP_API const char *pktcap_error_name(int code);

/** @brief Opaque detail of one error; read it with the `pktcap_error_*` accessors. */
typedef struct pktcap_error pktcap_error;

/**
 * @brief The detail of the last error that happened in the calling thread.
 *
 * A failing libpktcap call records its detail here before it returns; a
 * successful call leaves it alone, so read it right after the failure. The
 * record belongs to the thread and stays valid until that thread's next
 * failing call or pktcap_error_clear(); copy what you want to keep.
 *
 * @return a pointer to the calling thread's record; never NULL. When no error
 *         has been recorded its code is ::PKTCAP_OK and its message empty.
 */
PKTCAP_API const pktcap_error *pktcap_error_last(void);

/**
 * @brief Forget the calling thread's last error.
 */
PKTCAP_API void pktcap_error_clear(void);

/**
 * @brief The status code of an error.
 * @param error a record from pktcap_error_last(), or NULL.
 * @return the ::pktcap_error_code_t value; ::PKTCAP_OK for NULL.
 */
PKTCAP_API int pktcap_error_code(const pktcap_error *error);

/**
 * @brief The message of an error: what failed and why, in one line.
 *
 * Messages name the object involved (a file and byte offset, a field and the
 * offending text, an HTTP request) and never contain secrets. A message longer
 * than 1023 bytes is cut at a character boundary and ends with "...".
 *
 * @param error a record from pktcap_error_last(), or NULL.
 * @return a string owned by the record; "" for NULL or no error. Never NULL.
 */
PKTCAP_API const char *pktcap_error_message(const pktcap_error *error);

/**
 * @brief The HTTP status of the response that caused the error.
 * @param error a record from pktcap_error_last(), or NULL.
 * @return the status (e.g. 429), or 0 when no HTTP response was involved.
 */
PKTCAP_API int pktcap_error_http_status(const pktcap_error *error);

/**
 * @brief The provider's own error code, as the provider spelled it.
 *
 * For example Azure's `"InvalidResourceReference"`, Cloudflare's `"10000"` or
 * an SD-WAN `errorcode`.
 *
 * @param error a record from pktcap_error_last(), or NULL.
 * @return a string owned by the record; "" when the provider gave none.
 */
PKTCAP_API const char *pktcap_error_provider_code(const pktcap_error *error);

/**
 * @brief The provider's own error text, as the provider wrote it, on one
 *        line (control characters such as line breaks become blanks).
 * @param error a record from pktcap_error_last(), or NULL.
 * @return a string owned by the record; "" when the provider gave none.
 */
PKTCAP_API const char *pktcap_error_provider_message(const pktcap_error *error);

PKTCAP_END_DECLS

#endif /* PKTCAP_ERROR_H */
