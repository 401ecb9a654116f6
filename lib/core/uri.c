/* URI and option-value parsing shared by providers and storage targets. */
#include "core/uri.h"
#include "core/alloc.h"
#include "core/error.h"

#include <ctype.h>
#include <string.h>

/* Error messages quote a URI without its query: query values may hold
 * secrets (SAS signatures, tokens). */
#define URI_QUOTE_FMT "'%.*s%s'"
#define URI_QUOTE_ARGS(whole) \
    (int)strcspn((whole), "?"), (whole), (strchr((whole), '?') ? "?..." : "")

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decodes text[0..len) into a new string. `plus_is_space` applies to
 * query components, where form encoding writes spaces as '+'. */
static int decode(char **out, const char *whole, const char *text, size_t len, int plus_is_space)
{
    char *s = pktcap__malloc(len + 1);
    if (!s)
        return PKTCAP_E_NOMEM;
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '%') {
            int hi = i + 2 < len ? hex_value(text[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(text[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi | lo) == 0) {
                pktcap__free(s);
                return pktcap__error_set(PKTCAP_E_INVAL, "URI " URI_QUOTE_FMT ": %s at position %zu",
                                         URI_QUOTE_ARGS(whole),
                                         hi == 0 && lo == 0
                                             ? "%00 is not allowed"
                                             : "'%' must be followed by two hex digits",
                                         (size_t)(text - whole) + i);
            }
            s[j++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (plus_is_space && text[i] == '+') {
            s[j++] = ' ';
        } else {
            s[j++] = text[i];
        }
    }
    s[j] = '\0';
    *out = s;
    return 0;
}

static size_t scheme_length(const char *text)
{
    if (!isalpha((unsigned char)text[0]))
        return 0;
    size_t n = 1;
    while (isalnum((unsigned char)text[n]) || text[n] == '+' || text[n] == '-' || text[n] == '.')
        n++;
    /* One letter before ':' would be a drive letter, not a scheme. */
    return text[n] == ':' && n >= 2 ? n : 0;
}

static int add_param(pktcap__uri *uri, const char *whole, const char *item, size_t len)
{
    const char *eq = memchr(item, '=', len);
    size_t key_len = eq ? (size_t)(eq - item) : len;
    if (key_len == 0)
        return pktcap__error_set(PKTCAP_E_INVAL, "URI " URI_QUOTE_FMT ": query parameter with an empty name",
                                 URI_QUOTE_ARGS(whole));
    struct pktcap__uri_param *params =
        pktcap__reallocarray(uri->params, uri->param_count + 1, sizeof(*params));
    if (!params)
        return PKTCAP_E_NOMEM;
    uri->params = params;
    struct pktcap__uri_param *p = &params[uri->param_count];
    p->key = p->value = NULL;
    int rc = decode(&p->key, whole, item, key_len, 1);
    if (rc == 0)
        rc = eq ? decode(&p->value, whole, eq + 1, len - key_len - 1, 1)
                : ((p->value = pktcap__strdup("")) ? 0 : PKTCAP_E_NOMEM);
    if (rc != 0) {
        pktcap__free(p->key);
        return rc;
    }
    uri->param_count++;
    return 0;
}

static int parse_query(pktcap__uri *uri, const char *whole, const char *query)
{
    while (*query) {
        size_t len = strcspn(query, "&");
        if (len > 0) {
            int rc = add_param(uri, whole, query, len);
            if (rc != 0)
                return rc;
        }
        query += len;
        if (*query == '&')
            query++;
    }
    return 0;
}

int pktcap__uri_parse(pktcap__uri *out, const char *text)
{
    pktcap__uri uri;
    memset(&uri, 0, sizeof(uri));
    memset(out, 0, sizeof(*out));
    if (!text || !*text)
        return pktcap__error_set(PKTCAP_E_INVAL, "empty URI");

    size_t n = scheme_length(text);
    if (n == 0) {
        /* A plain path: taken literally, no decoding, no query. */
        uri.path = pktcap__strdup(text);
        if (!uri.path)
            return PKTCAP_E_NOMEM;
        *out = uri;
        return 0;
    }

    int rc = PKTCAP_E_NOMEM;
    uri.scheme = pktcap__strndup(text, n);
    if (!uri.scheme)
        goto fail;
    for (char *c = uri.scheme; *c; c++)
        *c = (char)tolower((unsigned char)*c);

    const char *rest = text + n + 1;
    const char *query = strchr(rest, '?');
    const char *end = query ? query : rest + strlen(rest);
    if (strchr(rest, '#')) {
        rc = pktcap__error_set(PKTCAP_E_INVAL, "URI " URI_QUOTE_FMT ": fragments ('#') are not supported",
                              URI_QUOTE_ARGS(text));
        goto fail;
    }
    if (rest[0] == '/' && rest[1] == '/') {
        const char *auth = rest + 2;
        const char *slash = memchr(auth, '/', (size_t)(end - auth));
        const char *auth_end = slash ? slash : end;
        if ((rc = decode(&uri.authority, text, auth, (size_t)(auth_end - auth), 0)) != 0)
            goto fail;
        rest = auth_end;
    }
    if ((rc = decode(&uri.path, text, rest, (size_t)(end - rest), 0)) != 0)
        goto fail;
    if (query && (rc = parse_query(&uri, text, query + 1)) != 0)
        goto fail;
    *out = uri;
    return 0;

fail:
    pktcap__uri_clear(&uri);
    return rc;
}

void pktcap__uri_clear(pktcap__uri *uri)
{
    if (!uri)
        return;
    for (size_t i = 0; i < uri->param_count; i++) {
        pktcap__free(uri->params[i].key);
        pktcap__free(uri->params[i].value);
    }
    pktcap__free(uri->params);
    pktcap__free(uri->scheme);
    pktcap__free(uri->authority);
    pktcap__free(uri->path);
    memset(uri, 0, sizeof(*uri));
}

const char *pktcap__uri_param(const pktcap__uri *uri, const char *key)
{
    const char *found = NULL;
    for (size_t i = 0; i < uri->param_count; i++)
        if (strcmp(uri->params[i].key, key) == 0)
            found = uri->params[i].value;
    return found;
}

int pktcap__parse_bool(int *out, const char *what, const char *text)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(text, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcmp(text, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return pktcap__error_set(PKTCAP_E_INVAL, "%s: '%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
                             what, text);
}

int pktcap__parse_u64(uint64_t *out, const char *what, const char *text, uint64_t min,
                      uint64_t max)
{
    static const struct {
        const char *suffix;
        uint64_t factor;
    } units[] = {
        { "", 1 },
        { "k", 1000ULL }, { "M", 1000000ULL }, { "G", 1000000000ULL }, { "T", 1000000000000ULL },
        { "Ki", 1ULL << 10 }, { "Mi", 1ULL << 20 }, { "Gi", 1ULL << 30 }, { "Ti", 1ULL << 40 },
    };
    const char *p = text;
    uint64_t value = 0;
    if (!isdigit((unsigned char)*p))
        goto invalid;
    for (; isdigit((unsigned char)*p); p++) {
        unsigned digit = (unsigned)(*p - '0');
        if (value > (UINT64_MAX - digit) / 10)
            goto too_large;
        value = value * 10 + digit;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(p, units[i].suffix) != 0)
            continue;
        if (value > UINT64_MAX / units[i].factor)
            goto too_large;
        value *= units[i].factor;
        if (value < min || value > max)
            return pktcap__error_set(PKTCAP_E_INVAL,
                                     "%s: %s is out of range (%llu to %llu)", what, text,
                                     (unsigned long long)min, (unsigned long long)max);
        *out = value;
        return 0;
    }
invalid:
    return pktcap__error_set(PKTCAP_E_INVAL,
                             "%s: '%s' is not a number (digits, optionally followed by k, M, G, "
                             "T, Ki, Mi, Gi or Ti)", what, text);
too_large:
    return pktcap__error_set(PKTCAP_E_INVAL, "%s: %s is too large", what, text);
}
