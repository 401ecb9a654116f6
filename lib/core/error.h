/* Internal: recording the per-thread error detail. */
#ifndef PKTCAP_CORE_ERROR_H
#define PKTCAP_CORE_ERROR_H

#include <pktcap/error.h>

#if defined(__GNUC__)
#  define PKTCAP__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define PKTCAP__PRINTF(f, a)
#endif

/* Each setter records the detail for the calling thread and returns `code`,
 * so a failure path reads `return pktcap__error_set(PKTCAP_E_INVAL, "...")`. */
int pktcap__error_set(int code, const char *fmt, ...) PKTCAP__PRINTF(2, 3);

/* Replaces every control character (below 0x20, and DEL) of `text` by a
 * blank, in place: messages and log lines are one line whatever a server
 * put in the text they quote. */
void pktcap__one_line(char *text);

/* Fibers (lib/core/fiber.c) keep the detail of each fiber apart: this
 * exchanges the thread's detail with the PKTCAP__ERROR_STATE_SIZE bytes at
 * `other` (all zero: no error). */
#define PKTCAP__ERROR_STATE_SIZE 2304
void pktcap__error_swap(void *other);

/* As pktcap__error_set, with ": <strerror(errnum)>" appended. */
int pktcap__error_errno(int code, int errnum, const char *fmt, ...) PKTCAP__PRINTF(3, 4);

/* An error reported by a remote provider: HTTP status (0 if none) and the
 * provider's own code and text (NULL if none) kept beside the message. */
int pktcap__error_remote(int code, int http_status, const char *provider_code,
                         const char *provider_message, const char *fmt, ...)
    PKTCAP__PRINTF(5, 6);

/* Maps an errno value from a failed system call onto a status code. */
int pktcap__error_from_errno(int errnum);

#endif
