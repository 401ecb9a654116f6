/* remote.h — small helpers the HTTP backends (azure.c, cloudflare.c,
 * sdwan.c) share: settings, response bodies, names for logs. */
#ifndef PKTCAP_LIB_BACKENDS_REMOTE_H
#define PKTCAP_LIB_BACKENDS_REMOTE_H

#include <stddef.h>

#include <jansson.h>

#include "net/http.h"

/* The environment variable's value, or NULL when unset or empty. */
const char *pktcap__env(const char *name);
/* Replaces *field with a copy of value (NULL or "" clears it). NOMEM. */
int pktcap__set_string(char **field, const char *value);
/* A provider option that holds a credential, stored as a string at `offset`
 * in the backend's provider state. */
typedef struct pktcap__credential_option {
    const char *key;
    size_t offset;
} pktcap__credential_option;
/* When `key` is one of `options`: refuses a value holding a control
 * character (PKTCAP_E_INVAL naming `what`, never echoing the value), stores
 * a copy at base + offset ("" clears it; the old value is wiped) and
 * returns 1, so the caller forgets the credentials it made from it. 0 when
 * `key` is none of them; PKTCAP_E_NOMEM. */
int pktcap__set_credential_option(void *base, const pktcap__credential_option *options,
                                  size_t count, const char *key, const char *value,
                                  const char *what);
/* Whether s holds a control character (C0 or DEL): never valid in a
 * credential or a header value. */
int pktcap__has_control(const char *s);
/* The response body as JSON, leniently: NULL when empty, not JSON, or
 * `null` (callers check the type they need and report what is missing). */
json_t *pktcap__body_json(const pktcap__http_response *resp);
/* "pcap", "pcap (nanosecond)", "pcapng", … for a PKTCAP_FORMAT_* value. */
const char *pktcap__format_name(int format);

#endif
