/* Internal: where the Authorization header of a request comes from.
 *
 * A pktcap__auth yields header lines for a scope (token audience, e.g.
 * "https://management.azure.com/"): a caller-supplied bearer token, fixed
 * header lines (Cloudflare's API key pair), Microsoft Entra client
 * credentials, or a managed identity through IMDS. Tokens are cached per
 * scope and fetched again shortly before they expire (at 90% of their
 * lifetime, at most 5 minutes early) or after pktcap__auth_invalidate()
 * (the HTTP layer calls it once on a 401 before retrying).
 *
 * Token endpoints' failures become PKTCAP_E_AUTH with the service's text
 * (e.g. "AADSTS7000215: Invalid client secret provided…") in the message
 * and the error detail. Secrets and tokens never appear in logs or errors. */
#ifndef PKTCAP_NET_AUTH_H
#define PKTCAP_NET_AUTH_H

#include <curl/curl.h>

#include "net/http.h"

/* A fixed bearer token, sent for every scope. */
int pktcap__auth_new_bearer(pktcap__auth **out, const char *token);
/* Fixed header lines ("X-Auth-Email: …"), NULL-terminated, sent for every scope. */
int pktcap__auth_new_headers(pktcap__auth **out, const char *const *lines);
/* Entra ID client credentials: POST {authority}/{tenant}/oauth2/v2.0/token
 * with scope "{scope}.default". `authority` like "https://login.microsoftonline.com/"
 * (a trailing slash optional). `h` must outlive the auth. */
int pktcap__auth_new_entra(pktcap__auth **out, pktcap__http *h, const char *authority,
                           const char *tenant, const char *client_id, const char *client_secret);
/* Managed identity: GET {endpoint}/metadata/identity/oauth2/token?api-version=2018-02-01
 * &resource={scope}[&client_id=…][&msi_res_id=…] with "Metadata: true".
 * `endpoint` like "http://169.254.169.254"; client_id / msi_res_id may be NULL. */
int pktcap__auth_new_imds(pktcap__auth **out, pktcap__http *h, const char *endpoint,
                          const char *client_id, const char *msi_res_id);

/* Appends the header line(s) for `scope` to *headers, fetching a token if
 * needed. PKTCAP_E_AUTH (token endpoint refused), transport codes, NOMEM. */
int pktcap__auth_apply(pktcap__auth *a, const char *scope, struct curl_slist **headers);
/* Forgets the cached token for `scope` (no-op for fixed credentials).
 * Returns 1 when a fresh token can be fetched (worth retrying), else 0. */
int pktcap__auth_invalidate(pktcap__auth *a, const char *scope);
/* "bearer", "headers", "client credentials", "managed identity" — for logs. */
const char *pktcap__auth_kind(const pktcap__auth *a);
/* Tokens fetched so far (tests and logs). */
unsigned long pktcap__auth_fetches(const pktcap__auth *a);
void pktcap__auth_free(pktcap__auth *a);

#endif
