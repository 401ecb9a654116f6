/* Internal: the provider's debug log (pktcap_provider_set_log_callback).
 *
 * Messages are formatted only when a callback listens at that level. Callers
 * must never pass secrets: the HTTP layer redacts Authorization, cookies,
 * keys and SAS signatures before it logs (lib/net/redact.h). */
#ifndef PKTCAP_CORE_LOG_H
#define PKTCAP_CORE_LOG_H

#include <pktcap/session.h>

#include "core/error.h"

typedef struct pktcap__logger {
    pktcap_log_cb cb;   /* NULL: nobody listens */
    void *userdata;
    int level;          /* highest pktcap_log_level_t delivered */
} pktcap__logger;

/* Whether a message at `level` would be delivered (lg may be NULL). */
int pktcap__log_enabled(const pktcap__logger *lg, int level);
/* Formats (at most 2 KiB; longer text is cut with "…") and delivers. */
void pktcap__log(const pktcap__logger *lg, int level, const char *fmt, ...) PKTCAP__PRINTF(3, 4);

#endif
