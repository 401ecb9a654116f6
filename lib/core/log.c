/* log.c — the provider's debug log. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pktcap__log_enabled(const pktcap__logger *lg, int level)
{
    return lg && lg->cb && level <= lg->level;
}

void pktcap__log(const pktcap__logger *lg, int level, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    int n;
    if (!pktcap__log_enabled(lg, level))
        return;
    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line)
        memcpy(line + sizeof line - 4, "\xe2\x80\xa6", 4);   /* "…" and the NUL */
    /* One line, as pktcap_log_cb promises, whatever a server's text held: a
     * hostile "\n" must not forge a line of the caller's log. */
    pktcap__one_line(line);
    lg->cb(level, line, lg->userdata);
}
