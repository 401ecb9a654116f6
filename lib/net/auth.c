/* auth.c — where a request's Authorization header comes from: fixed
 * credentials, or OAuth tokens fetched from Microsoft Entra ID (client
 * credentials) or from the instance metadata service (managed identity),
 * cached per scope; or a login session whose cookie the HTTP client keeps. */
#include "net/auth.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/fiber.h"
#include "core/strbuf.h"
#include "net/json.h"

enum { AUTH_BEARER, AUTH_HEADERS, AUTH_ENTRA, AUTH_IMDS, AUTH_SESSION };

/* How much earlier than its expiry a token is replaced: a tenth of its
 * lifetime, at most this much. */
#define MAX_REFRESH_MARGIN_MS (300 * 1000)
/* IMDS answers 404 (identity not assigned yet) and 410 (restarting: "retry
 * within 70 s"); these are retried here, the HTTP layer's policy covers
 * 429 and 5xx. */
#define IMDS_EXTRA_ATTEMPTS 6
#define IMDS_FIRST_DELAY_MS 1000

typedef struct cached_token {
    char *scope;
    char *header;            /* "Authorization: Bearer …" */
    int64_t refresh_at_ms;   /* monotonic */
} cached_token;

struct pktcap__auth {
    int kind;
    pktcap__http *http;
    char **lines;            /* AUTH_BEARER (one line), AUTH_HEADERS */
    size_t nlines;
    char *authority, *tenant, *client_id, *secret;   /* AUTH_ENTRA */
    char *endpoint, *mi_client_id, *mi_res_id;       /* AUTH_IMDS */
    pktcap__auth_login_fn login;                     /* AUTH_SESSION */
    pktcap__auth_logout_fn logout;
    void *ctx;
    int logged_in;
    /* Guards the cache (one fetch at a time) and logged_in (one login). Held
     * across the request, so an iolock: on a fiber of a pktcap_group, the
     * other fibers of the thread run while one fetches (lib/core/fiber.h). */
    pktcap__iolock lock;
    cached_token *tokens;
    size_t ntokens, cap;
    unsigned long fetches;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int auth_new(pktcap__auth **out, int kind)
{
    pktcap__auth *a = pktcap__calloc(1, sizeof *a);
    if (!a)
        return PKTCAP_E_NOMEM;
    a->kind = kind;
    pktcap__iolock_init(&a->lock);
    *out = a;
    return 0;
}

/* Copies a NULL-terminated list of lines into a->lines. */
static int set_lines(pktcap__auth *a, const char *const *lines)
{
    size_t n = 0, i;
    while (lines[n])
        n++;
    if (!(a->lines = pktcap__calloc(n ? n : 1, sizeof *a->lines)))
        return PKTCAP_E_NOMEM;
    for (i = 0; i < n; i++) {
        if (!(a->lines[i] = pktcap__strdup(lines[i])))
            return PKTCAP_E_NOMEM;
        a->nlines = i + 1;
    }
    return 0;
}

/* A credential must not be empty and must not break the header it goes in. */
static int check_credential(const char *what, const char *value)
{
    if (!value || !value[0])
        return pktcap__error_set(PKTCAP_E_AUTH, "%s is empty", what);
    if (strpbrk(value, "\r\n"))
        return pktcap__error_set(PKTCAP_E_INVAL, "%s holds a line break", what);
    return 0;
}

int pktcap__auth_new_bearer(pktcap__auth **out, const char *token)
{
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    pktcap__auth *a;
    char *line = NULL;
    const char *lines[2];
    int rc;
    if ((rc = check_credential("the bearer token", token)) < 0)
        return rc;
    pktcap__strbuf_printf(&b, "Authorization: Bearer %s", token);
    if ((rc = pktcap__strbuf_finish(&line, &b)) < 0)
        return rc;
    lines[0] = line;
    lines[1] = NULL;
    if ((rc = auth_new(&a, AUTH_BEARER)) == 0 && (rc = set_lines(a, lines)) < 0)
        pktcap__auth_free(a);
    pktcap__free(line);
    if (rc == 0)
        *out = a;
    return rc;
}

int pktcap__auth_new_headers(pktcap__auth **out, const char *const *lines)
{
    pktcap__auth *a;
    size_t i;
    int rc;
    for (i = 0; lines[i]; i++)
        if (!strchr(lines[i], ':') || strpbrk(lines[i], "\r\n"))
            return pktcap__error_set(PKTCAP_E_INVAL, "credential header %zu is not one "
                                     "\"Name: value\" line", i + 1);
    if ((rc = auth_new(&a, AUTH_HEADERS)) < 0)
        return rc;
    if ((rc = set_lines(a, lines)) < 0) {
        pktcap__auth_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int pktcap__auth_new_session(pktcap__auth **out, pktcap__auth_login_fn login,
                             pktcap__auth_logout_fn logout, void *ctx)
{
    pktcap__auth *a;
    int rc;
    if (!out || !login)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap__auth_new_session: %s is NULL",
                                 out ? "login" : "out");
    if ((rc = auth_new(&a, AUTH_SESSION)) < 0)
        return rc;
    a->login = login;
    a->logout = logout;
    a->ctx = ctx;
    *out = a;
    return 0;
}

int pktcap__auth_end_session(pktcap__auth *a)
{
    int ended = 0;
    if (!a || a->kind != AUTH_SESSION)
        return 0;
    pktcap__iolock_take(&a->lock);
    if (a->logged_in) {
        if (a->logout)
            a->logout(a->ctx);
        a->logged_in = 0;
        ended = 1;
    }
    pktcap__iolock_give(&a->lock);
    return ended;
}

int pktcap__auth_logged_in(pktcap__auth *a)
{
    int in;
    if (!a || a->kind != AUTH_SESSION)
        return 1;
    pktcap__iolock_take(&a->lock);
    in = a->logged_in;
    pktcap__iolock_give(&a->lock);
    return in;
}

/* strdup of `s` without trailing slashes (s may be NULL → NULL, no error). */
static int dup_trimmed(char **out, const char *s)
{
    size_t n;
    if (!s) {
        *out = NULL;
        return 0;
    }
    n = strlen(s);
    while (n > 0 && s[n - 1] == '/')
        n--;
    return (*out = pktcap__strndup(s, n)) ? 0 : PKTCAP_E_NOMEM;
}

int pktcap__auth_new_entra(pktcap__auth **out, pktcap__http *h, const char *authority,
                           const char *tenant, const char *client_id, const char *client_secret)
{
    pktcap__auth *a;
    int rc;
    if ((rc = check_credential("the tenant id (AZURE_TENANT_ID)", tenant)) < 0 ||
        (rc = check_credential("the client id (AZURE_CLIENT_ID)", client_id)) < 0 ||
        (rc = check_credential("the client secret (AZURE_CLIENT_SECRET)", client_secret)) < 0 ||
        (rc = check_credential("the authority host", authority)) < 0)
        return rc;
    if (strpbrk(tenant, "/?#%"))
        return pktcap__error_set(PKTCAP_E_INVAL, "tenant id \"%s\" holds a character that "
                                 "cannot appear in a tenant id", tenant);
    if ((rc = auth_new(&a, AUTH_ENTRA)) < 0)
        return rc;
    a->http = h;
    if ((rc = dup_trimmed(&a->authority, authority)) < 0 ||
        !(a->tenant = pktcap__strdup(tenant)) || !(a->client_id = pktcap__strdup(client_id)) ||
        !(a->secret = pktcap__strdup(client_secret))) {
        pktcap__auth_free(a);
        return PKTCAP_E_NOMEM;
    }
    *out = a;
    return 0;
}

int pktcap__auth_new_imds(pktcap__auth **out, pktcap__http *h, const char *endpoint,
                          const char *client_id, const char *msi_res_id)
{
    pktcap__auth *a;
    int rc;
    if ((rc = check_credential("the IMDS endpoint", endpoint)) < 0)
        return rc;
    if ((rc = auth_new(&a, AUTH_IMDS)) < 0)
        return rc;
    a->http = h;
    if ((rc = dup_trimmed(&a->endpoint, endpoint)) < 0 ||
        (rc = dup_trimmed(&a->mi_client_id, client_id)) < 0 ||
        (client_id && !a->mi_client_id) ||
        (msi_res_id && !(a->mi_res_id = pktcap__strdup(msi_res_id)))) {
        pktcap__auth_free(a);
        return PKTCAP_E_NOMEM;
    }
    *out = a;
    return 0;
}

/* ---- fetching tokens ---------------------------------------------------------- */

/* Appends "&name=escaped(value)" (no "&" for the first). */
static int add_param(pktcap__strbuf *b, const char *name, const char *value)
{
    char *escaped;
    int rc = pktcap__http_escape(&escaped, value);
    if (rc < 0)
        return rc;
    pktcap__strbuf_printf(b, "%s%s=%s", b->n ? "&" : "", name, escaped);
    pktcap__free(escaped);
    return 0;
}

/* The first line of a token service's error text (AADSTS… messages carry
 * trace and correlation ids on later lines). */
static void first_line(char *out, size_t size, const char *text)
{
    size_t n = text ? strcspn(text, "\r\n") : 0;
    if (n >= size)
        n = size - 1;
    if (n)
        memcpy(out, text, n);
    out[n] = '\0';
}

/* Maps a token endpoint's refusal: its own error code and description. */
static int token_refused(const pktcap__http_response *resp, const char *what)
{
    json_t *body = NULL;
    char description[512] = "";
    const char *code = NULL;
    int rc, mapped;
    /* An unparsable body is reported by its status alone. */
    body = resp->body_len ? json_loadb(resp->body, resp->body_len, 0, NULL) : NULL;
    if (body) {
        code = pktcap__json_str(body, "error");
        first_line(description, sizeof description, pktcap__json_str(body, "error_description"));
    }
    /* A refused credential is an authentication error whatever the status
     * (400 invalid_client, 401); throttling and outages keep their codes. */
    mapped = resp->status == 429 || resp->status >= 500 ? 0 : PKTCAP_E_AUTH;
    rc = pktcap__http_status_error(resp, what, code, description[0] ? description : NULL,
                                   mapped);
    json_decref(body);
    return rc;
}

/* Reads access_token and expires_in (a number, or a string as IMDS sends
 * it) into the cache entry. */
static int store_token(pktcap__auth *a, cached_token *t, const pktcap__http_response *resp,
                       const char *what)
{
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    json_t *body;
    const char *token, *type;
    int64_t lifetime_s, margin_ms, now = mono_ms();
    char *header = NULL;
    int rc = pktcap__json_parse(&body, resp->body, resp->body_len, what);
    if (rc < 0)
        return rc;
    token = pktcap__json_str(body, "access_token");
    type = pktcap__json_str(body, "token_type");
    if (!token || !token[0] || strpbrk(token, "\r\n")) {
        json_decref(body);
        return pktcap__error_set(PKTCAP_E_FORMAT, "%s: the response holds no usable "
                                 "access_token", what);
    }
    if (type && strcasecmp(type, "Bearer") != 0) {
        json_decref(body);
        return pktcap__error_set(PKTCAP_E_FORMAT, "%s: token_type \"%.40s\" is not Bearer",
                                 what, type);
    }
    if (pktcap__json_int(body, "expires_in", &lifetime_s) < 0 || lifetime_s <= 0 ||
        lifetime_s > 366 * 86400) {
        json_decref(body);
        return pktcap__error_set(PKTCAP_E_FORMAT, "%s: expires_in is missing or not a "
                                 "positive number of seconds", what);
    }
    pktcap__strbuf_printf(&b, "Authorization: Bearer %s", token);
    json_decref(body);
    if ((rc = pktcap__strbuf_finish(&header, &b)) < 0)
        return rc;
    margin_ms = lifetime_s * 100;          /* a tenth of the lifetime */
    if (margin_ms > MAX_REFRESH_MARGIN_MS)
        margin_ms = MAX_REFRESH_MARGIN_MS;
    pktcap__free(t->header);
    t->header = header;
    t->refresh_at_ms = now + lifetime_s * 1000 - margin_ms;
    a->fetches++;
    return 0;
}

static int fetch_entra(pktcap__auth *a, cached_token *t)
{
    pktcap__strbuf url = PKTCAP__STRBUF_INIT, form = PKTCAP__STRBUF_INIT;
    pktcap__http_request req = { 0 };
    pktcap__http_response resp;
    char *u = NULL, *f = NULL, *scope = NULL;
    char what[256];
    int rc;
    snprintf(what, sizeof what, "token request to %s for %s", a->authority, t->scope);
    pktcap__strbuf_printf(&url, "%s/%s/oauth2/v2.0/token", a->authority, a->tenant);
    {
        /* "https://management.azure.com/" → "https://management.azure.com/.default" */
        pktcap__strbuf s = PKTCAP__STRBUF_INIT;
        size_t n = strlen(t->scope);
        pktcap__strbuf_puts(&s, t->scope);
        if (n == 0 || t->scope[n - 1] != '/')
            pktcap__strbuf_puts(&s, "/");
        pktcap__strbuf_puts(&s, ".default");
        if ((rc = pktcap__strbuf_finish(&scope, &s)) < 0)
            goto out;
    }
    if ((rc = add_param(&form, "grant_type", "client_credentials")) < 0 ||
        (rc = add_param(&form, "client_id", a->client_id)) < 0 ||
        (rc = add_param(&form, "client_secret", a->secret)) < 0 ||
        (rc = add_param(&form, "scope", scope)) < 0 ||
        (rc = pktcap__strbuf_finish(&u, &url)) < 0 || (rc = pktcap__strbuf_finish(&f, &form)) < 0)
        goto out;
    req.method = "POST";
    req.url = u;
    req.body = f;
    req.body_len = strlen(f);
    req.content_type = "application/x-www-form-urlencoded";
    req.retry = PKTCAP__HTTP_RETRY_SAFE;   /* asking for a token twice is harmless */
    req.what = what;
    req.sensitive_body = 1;
    if ((rc = pktcap__http_send(a->http, &req, &resp)) < 0)
        goto out;
    rc = resp.status == 200 ? store_token(a, t, &resp, what) : token_refused(&resp, what);
    pktcap__http_response_clear(&resp);
out:
    pktcap__strbuf_free(&url);
    pktcap__strbuf_free(&form);
    pktcap__free_secret(f);   /* the form holds the client secret */
    pktcap__free(u);
    pktcap__free(scope);
    return rc;
}

static int fetch_imds(pktcap__auth *a, cached_token *t)
{
    static const char *const headers[] = { "Metadata: true", NULL };
    pktcap__strbuf query = PKTCAP__STRBUF_INIT, url = PKTCAP__STRBUF_INIT;
    pktcap__http_request req = { 0 };
    pktcap__http_response resp;
    char *q = NULL, *u = NULL;
    char what[256];
    int64_t delay = IMDS_FIRST_DELAY_MS;
    int rc, attempt;
    snprintf(what, sizeof what, "managed identity token request to %s for %s", a->endpoint,
             t->scope);
    if ((rc = add_param(&query, "api-version", "2018-02-01")) < 0 ||
        (rc = add_param(&query, "resource", t->scope)) < 0 ||
        (a->mi_client_id && (rc = add_param(&query, "client_id", a->mi_client_id)) < 0) ||
        (a->mi_res_id && (rc = add_param(&query, "msi_res_id", a->mi_res_id)) < 0) ||
        (rc = pktcap__strbuf_finish(&q, &query)) < 0)
        goto out;
    pktcap__strbuf_printf(&url, "%s/metadata/identity/oauth2/token?%s", a->endpoint, q);
    if ((rc = pktcap__strbuf_finish(&u, &url)) < 0)
        goto out;
    req.method = "GET";
    req.url = u;
    req.headers = headers;
    req.what = what;
    for (attempt = 0;; attempt++) {
        if ((rc = pktcap__http_send(a->http, &req, &resp)) < 0)
            goto out;
        if ((resp.status == 404 || resp.status == 410) && attempt < IMDS_EXTRA_ATTEMPTS) {
            int64_t wait = resp.retry_after_ms >= 0 ? resp.retry_after_ms : delay;
            pktcap__http_response_clear(&resp);
            pktcap__fiber_sleep(wait, NULL);
            delay *= 2;
            continue;
        }
        break;
    }
    rc = resp.status == 200 ? store_token(a, t, &resp, what) : token_refused(&resp, what);
    pktcap__http_response_clear(&resp);
out:
    pktcap__strbuf_free(&query);
    pktcap__strbuf_free(&url);
    pktcap__free(q);
    pktcap__free(u);
    return rc;
}

/* The cache entry for `scope`, made if absent; NULL on NOMEM. */
static cached_token *entry(pktcap__auth *a, const char *scope)
{
    cached_token *items;
    size_t i;
    for (i = 0; i < a->ntokens; i++)
        if (strcmp(a->tokens[i].scope, scope) == 0)
            return &a->tokens[i];
    if (!(items = pktcap__grow(a->tokens, &a->cap, a->ntokens, sizeof *items)))
        return NULL;
    a->tokens = items;
    memset(&items[a->ntokens], 0, sizeof *items);
    if (!(items[a->ntokens].scope = pktcap__strdup(scope)))
        return NULL;
    return &items[a->ntokens++];
}

static int append_line(struct curl_slist **headers, const char *line)
{
    struct curl_slist *l = curl_slist_append(*headers, line);
    if (!l)
        return pktcap__error_set(PKTCAP_E_NOMEM, "out of memory adding a header");
    *headers = l;
    return 0;
}

int pktcap__auth_apply(pktcap__auth *a, const char *scope, struct curl_slist **headers)
{
    return pktcap__auth_apply_cancel(a, scope, NULL, headers);
}

int pktcap__auth_apply_cancel(pktcap__auth *a, const char *scope, const int *cancel,
                              struct curl_slist **headers)
{
    cached_token *t;
    size_t i;
    int rc = 0;
    if (a->kind == AUTH_SESSION) {
        /* The credential is a cookie: nothing to add, once logged in. */
        pktcap__iolock_take(&a->lock);
        if (!a->logged_in && (rc = a->login(a->ctx, cancel)) == 0) {
            a->logged_in = 1;
            a->fetches++;
        }
        pktcap__iolock_give(&a->lock);
        return rc;
    }
    if (a->kind == AUTH_BEARER || a->kind == AUTH_HEADERS) {
        for (i = 0; rc == 0 && i < a->nlines; i++)
            rc = append_line(headers, a->lines[i]);
        return rc;
    }
    if (!scope || !scope[0])
        return pktcap__error_set(PKTCAP_E_INVAL, "a token was asked for without a scope");
    pktcap__iolock_take(&a->lock);
    if (!(t = entry(a, scope)))
        rc = PKTCAP_E_NOMEM;
    else if (!t->header || mono_ms() >= t->refresh_at_ms)
        rc = a->kind == AUTH_ENTRA ? fetch_entra(a, t) : fetch_imds(a, t);
    if (rc == 0)
        rc = append_line(headers, t->header);
    pktcap__iolock_give(&a->lock);
    return rc;
}

int pktcap__auth_invalidate(pktcap__auth *a, const char *scope)
{
    size_t i;
    if (a->kind == AUTH_BEARER || a->kind == AUTH_HEADERS)
        return 0;
    pktcap__iolock_take(&a->lock);
    a->logged_in = 0;   /* AUTH_SESSION: log in again before the next request */
    for (i = 0; scope && i < a->ntokens; i++) {
        if (strcmp(a->tokens[i].scope, scope) == 0) {
            pktcap__free(a->tokens[i].header);
            a->tokens[i].header = NULL;
        }
    }
    pktcap__iolock_give(&a->lock);
    return 1;
}

const char *pktcap__auth_kind(const pktcap__auth *a)
{
    static const char *const names[] = { "bearer token", "credential headers",
                                         "client credentials", "managed identity",
                                         "login session" };
    return a ? names[a->kind] : "none";
}

unsigned long pktcap__auth_fetches(const pktcap__auth *a)
{
    return a ? a->fetches : 0;
}

void pktcap__auth_free(pktcap__auth *a)
{
    size_t i;
    if (!a)
        return;
    for (i = 0; i < a->nlines; i++)
        pktcap__free_secret(a->lines[i]);
    pktcap__free(a->lines);
    for (i = 0; i < a->ntokens; i++) {
        pktcap__free(a->tokens[i].scope);
        pktcap__free_secret(a->tokens[i].header);
    }
    pktcap__free(a->tokens);
    pktcap__free(a->authority);
    pktcap__free(a->tenant);
    pktcap__free(a->client_id);
    pktcap__free_secret(a->secret);
    pktcap__free(a->endpoint);
    pktcap__free(a->mi_client_id);
    pktcap__free(a->mi_res_id);
    pktcap__iolock_destroy(&a->lock);
    pktcap__free(a);
}
