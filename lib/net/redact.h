/* Internal: removing secrets from text before it is logged or put in an
 * error message. The rules are one list, used everywhere:
 *
 *   URL query parameters whose name (case-insensitive) is one of sig,
 *   signature, code, client_secret, access_token, token, key, api_key,
 *   apikey, password, passwd, secret, sas, skoid, sktid, refresh_token,
 *   or contains "secret", "token", "password" or "key"  → value "***";
 *   user:password@ in a URL's authority                  → user:***@;
 *   header lines Authorization, Proxy-Authorization, Cookie, Set-Cookie,
 *   X-Auth-Key, X-Auth-Token, X-Api-Key, Ocp-Apim-Subscription-Key, and any
 *   header whose name contains "secret", "token", "password" or "key"
 *   → "Name: ***";
 *   any other header whose value is an http(s) URL (Location,
 *   Azure-AsyncOperation) → the value redacted by the URL rules above.
 *
 * Each function writes the redacted text into a strbuf (append). */
#ifndef PKTCAP_NET_REDACT_H
#define PKTCAP_NET_REDACT_H

#include "core/strbuf.h"

/* Whether a query parameter or header of this name holds a secret. */
int pktcap__redact_is_secret_name(const char *name, size_t len);
void pktcap__redact_url(pktcap__strbuf *b, const char *url);
/* One "Name: value" header line (no CR LF). */
void pktcap__redact_header(pktcap__strbuf *b, const char *line);

#endif
