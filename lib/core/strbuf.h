/* Internal: a growing NUL-terminated string.
 *
 * Appends never fail at the call: an allocation failure (through
 * core/alloc.h, so failure injection reaches it) marks the buffer failed,
 * later appends do nothing, and pktcap__strbuf_finish reports
 * PKTCAP_E_NOMEM. So a string is built with plain calls and checked once.
 *
 *     pktcap__strbuf b = PKTCAP__STRBUF_INIT;
 *     pktcap__strbuf_puts(&b, "proto=");
 *     pktcap__strbuf_printf(&b, "%u", port);
 *     return pktcap__strbuf_finish(out, &b);
 */
#ifndef PKTCAP_CORE_STRBUF_H
#define PKTCAP_CORE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "core/error.h"

typedef struct pktcap__strbuf {
    char *p;      /* the text, NUL-terminated; NULL until something is added */
    size_t n;     /* its length */
    size_t cap;   /* bytes allocated at p */
    int failed;   /* an allocation failed: the text is incomplete */
} pktcap__strbuf;

#define PKTCAP__STRBUF_INIT { NULL, 0, 0, 0 }

/* Append n bytes of s (s may hold NULs; n may be 0). */
void pktcap__strbuf_add(pktcap__strbuf *b, const char *s, size_t n);

/* Append the string s. */
void pktcap__strbuf_puts(pktcap__strbuf *b, const char *s);

/* Append printf-formatted text (any length). A formatting error marks the
 * buffer failed, as an allocation failure does. */
void pktcap__strbuf_printf(pktcap__strbuf *b, const char *fmt, ...) PKTCAP__PRINTF(2, 3);
void pktcap__strbuf_vprintf(pktcap__strbuf *b, const char *fmt, va_list ap)
    PKTCAP__PRINTF(2, 0);

/* Hand the text to the caller in *out (allocated even when empty; free with
 * pktcap__free) and return 0; or, when the buffer failed (or allocating the
 * empty string fails), free it and return PKTCAP_E_NOMEM, *out untouched.
 * Either way b is left empty. */
int pktcap__strbuf_finish(char **out, pktcap__strbuf *b);

/* Free the text and leave b empty (and not failed). */
void pktcap__strbuf_free(pktcap__strbuf *b);

#endif
