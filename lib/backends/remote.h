/* remote.h — small helpers the HTTP backends (azure.c, cloudflare.c,
 * sdwan.c) share: settings, response bodies, names for logs. */
#ifndef PKTCAP_LIB_BACKENDS_REMOTE_H
#define PKTCAP_LIB_BACKENDS_REMOTE_H

#include <jansson.h>

#include "net/http.h"

/* The environment variable's value, or NULL when unset or empty. */
const char *pktcap__env(const char *name);
/* Replaces *field with a copy of value (NULL or "" clears it). NOMEM. */
int pktcap__set_string(char **field, const char *value);
/* Whether s holds a control character (C0 or DEL): never valid in a
 * credential or a header value. */
int pktcap__has_control(const char *s);
/* The response body as JSON, leniently: NULL when empty, not JSON, or
 * `null` (callers check the type they need and report what is missing). */
json_t *pktcap__body_json(const pktcap__http_response *resp);
/* "pcap", "pcap (nanosecond)", "pcapng", … for a PKTCAP_FORMAT_* value. */
const char *pktcap__format_name(int format);

#endif
