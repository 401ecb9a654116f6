/* A growing NUL-terminated string (core/strbuf.h). */
#include "core/strbuf.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

/* The first allocation: most strings built here are short. */
#define STRBUF_FIRST 64

/* Room for `extra` more bytes and the NUL; 0, or -1 with b failed. */
static int reserve(pktcap__strbuf *b, size_t extra)
{
    size_t need, cap;
    char *p;
    if (b->failed)
        return -1;
    if (extra > SIZE_MAX - 1 - b->n)
        goto fail;
    need = b->n + extra + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : STRBUF_FIRST;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = pktcap__realloc(b->p, cap);
    if (!p)
        goto fail;
    b->p = p;
    b->cap = cap;
    return 0;
fail:
    b->failed = 1;
    return -1;
}

void pktcap__strbuf_add(pktcap__strbuf *b, const char *s, size_t n)
{
    if (reserve(b, n) < 0)
        return;
    if (n)
        memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void pktcap__strbuf_puts(pktcap__strbuf *b, const char *s)
{
    pktcap__strbuf_add(b, s, strlen(s));
}

void pktcap__strbuf_vprintf(pktcap__strbuf *b, const char *fmt, va_list ap)
{
    va_list again;
    size_t room;
    int len;
    if (b->failed)
        return;
    /* Format into the room there is; when it does not fit, grow and format again. */
    room = b->p ? b->cap - b->n : 0;
    va_copy(again, ap);
    len = vsnprintf(b->p ? b->p + b->n : NULL, room, fmt, ap);
    if (len < 0) {
        b->failed = 1;
    } else if ((size_t)len >= room && reserve(b, (size_t)len) == 0) {
        vsnprintf(b->p + b->n, (size_t)len + 1, fmt, again);
    }
    va_end(again);
    if (b->failed) {
        if (b->p)
            b->p[b->n] = '\0';   /* undo a partial write */
        return;
    }
    b->n += (size_t)len;
}

void pktcap__strbuf_printf(pktcap__strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pktcap__strbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

int pktcap__strbuf_finish(char **out, pktcap__strbuf *b)
{
    if (!b->p)
        reserve(b, 0);
    if (b->failed) {
        pktcap__strbuf_free(b);
        return PKTCAP_E_NOMEM;
    }
    if (b->n == 0)
        b->p[0] = '\0';
    *out = b->p;
    memset(b, 0, sizeof *b);
    return 0;
}

void pktcap__strbuf_free(pktcap__strbuf *b)
{
    pktcap__free(b->p);
    memset(b, 0, sizeof *b);
}
