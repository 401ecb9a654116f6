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
 * A login session (pktcap__auth_new_session) is the other shape: the
 * credential is a session cookie the server sets when the client logs in,
 * which the HTTP client's cookie engine keeps and sends back
 * (pktcap__http_enable_cookies). apply() logs in when no session is known
 * and adds no header line; invalidate() (the HTTP layer's reaction to a 401)
 * forgets the session and returns 1, so the request is sent once more after
 * a new login — a second 401 is the caller's to report (PKTCAP_E_AUTH).
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

/* A login session. login(ctx, cancel) logs in (the cookies it receives are
 * kept by the HTTP client) and returns 0 or a negative code with the error
 * detail set; `cancel` is the flag of the request that needed the login
 * (NULL when none), for the login request's own `cancel`. logout(ctx) (may
 * be NULL) ends the session at the server; pktcap__auth_end_session calls
 * it. One login runs at a time (the others wait for it). `ctx` must outlive
 * the auth. */
typedef int (*pktcap__auth_login_fn)(void *ctx, const int *cancel);
typedef void (*pktcap__auth_logout_fn)(void *ctx);
int pktcap__auth_new_session(pktcap__auth **out, pktcap__auth_login_fn login,
                             pktcap__auth_logout_fn logout, void *ctx);
/* A login session: logs out (logout(ctx)) when logged in, and forgets the
 * session. Other kinds: nothing. Returns whether a session was ended (1/0). */
int pktcap__auth_end_session(pktcap__auth *a);
/* A login session: whether it is logged in now (other kinds: 1). */
int pktcap__auth_logged_in(pktcap__auth *a);

/* Appends the header line(s) for `scope` to *headers, fetching a token if
 * needed (a login session logs in when it has no session, and adds
 * nothing). PKTCAP_E_AUTH (token endpoint refused), transport codes, NOMEM. */
int pktcap__auth_apply(pktcap__auth *a, const char *scope, struct curl_slist **headers);
/* The same, for a request with a cancel flag (pktcap__http_request.cancel):
 * a login it runs is cancelled with the request. */
int pktcap__auth_apply_cancel(pktcap__auth *a, const char *scope, const int *cancel,
                              struct curl_slist **headers);
/* Forgets the cached token for `scope` (no-op for fixed credentials), or a
 * login session's session. Returns 1 when a fresh token or a new login can
 * be had (worth retrying), else 0. */
int pktcap__auth_invalidate(pktcap__auth *a, const char *scope);
/* "bearer token", "credential headers", "client credentials", "managed
 * identity", "login session" — for logs. */
const char *pktcap__auth_kind(const pktcap__auth *a);
/* Tokens fetched (logins made, for a login session) so far (tests and logs). */
unsigned long pktcap__auth_fetches(const pktcap__auth *a);
void pktcap__auth_free(pktcap__auth *a);

#endif
