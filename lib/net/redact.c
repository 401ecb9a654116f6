/* redact.c — secrets out of URLs and header lines before they reach a log
 * or an error message (lib/net/redact.h holds the one list of rules). */
#include "net/redact.h"

#include <string.h>
#include <strings.h>

static const char *const secret_names[] = {
    /* query parameters */
    "sig", "signature", "code", "client_secret", "access_token", "token", "key", "api_key",
    "apikey", "password", "passwd", "secret", "sas", "skoid", "sktid", "refresh_token",
    /* headers */
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-auth-key",
    "x-auth-token", "x-api-key", "ocp-apim-subscription-key",
};

static const char *const secret_words[] = { "secret", "token", "password", "key" };

/* Whether `word` occurs in name[0..len), ignoring case. */
static int contains_word(const char *name, size_t len, const char *word)
{
    size_t wlen = strlen(word);
    for (size_t i = 0; i + wlen <= len; i++)
        if (strncasecmp(name + i, word, wlen) == 0)
            return 1;
    return 0;
}

int pktcap__redact_is_secret_name(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof secret_names / sizeof secret_names[0]; i++)
        if (strlen(secret_names[i]) == len && strncasecmp(name, secret_names[i], len) == 0)
            return 1;
    for (size_t i = 0; i < sizeof secret_words / sizeof secret_words[0]; i++)
        if (contains_word(name, len, secret_words[i]))
            return 1;
    return 0;
}

/* The authority [user[:password]@]host[:port]: a password becomes "***". */
static void put_authority(pktcap__strbuf *b, const char *s, size_t len)
{
    const char *at = NULL, *colon;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '@')
            at = s + i;   /* the last '@' ends the userinfo */
    colon = at ? memchr(s, ':', (size_t)(at - s)) : NULL;
    if (!colon) {
        pktcap__strbuf_add(b, s, len);
        return;
    }
    pktcap__strbuf_add(b, s, (size_t)(colon - s));
    pktcap__strbuf_puts(b, ":***");
    pktcap__strbuf_add(b, at, len - (size_t)(at - s));
}

/* name=value&name=value: the value of a secret name becomes "***". */
static void put_query(pktcap__strbuf *b, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        const char *amp = memchr(s + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - s) : len;
        const char *eq = memchr(s + i, '=', end - i);
        if (eq && pktcap__redact_is_secret_name(s + i, (size_t)(eq - (s + i)))) {
            pktcap__strbuf_add(b, s + i, (size_t)(eq - (s + i)) + 1);
            pktcap__strbuf_puts(b, "***");
        } else {
            pktcap__strbuf_add(b, s + i, end - i);
        }
        if (amp)
            pktcap__strbuf_puts(b, "&");
        i = end + 1;
    }
}

void pktcap__redact_url(pktcap__strbuf *b, const char *url)
{
    const char *p = url;
    const char *sep = strstr(url, "://");
    size_t path_len, query_len;
    /* Only a leading "scheme://": a "://" further on (in a query value) is none. */
    if (sep && strcspn(url, "/?#") == (size_t)(sep - url) + 1) {
        size_t auth_len;
        p = sep + 3;
        auth_len = strcspn(p, "/?#");
        pktcap__strbuf_add(b, url, (size_t)(p - url));
        put_authority(b, p, auth_len);
        p += auth_len;
    }
    path_len = strcspn(p, "?#");
    pktcap__strbuf_add(b, p, path_len);
    p += path_len;
    if (*p != '?') {
        pktcap__strbuf_puts(b, p);
        return;
    }
    p++;
    query_len = strcspn(p, "#");
    pktcap__strbuf_puts(b, "?");
    put_query(b, p, query_len);
    pktcap__strbuf_puts(b, p + query_len);
}

void pktcap__redact_header(pktcap__strbuf *b, const char *line)
{
    const char *colon = strchr(line, ':');
    size_t name_len;
    if (!colon) {
        pktcap__strbuf_puts(b, line);
        return;
    }
    name_len = (size_t)(colon - line);
    while (name_len > 0 && (line[name_len - 1] == ' ' || line[name_len - 1] == '\t'))
        name_len--;
    if (pktcap__redact_is_secret_name(line, name_len)) {
        pktcap__strbuf_add(b, line, name_len);
        pktcap__strbuf_puts(b, ": ***");
        return;
    }
    /* A URL in any other header (Location, Azure-AsyncOperation) gets the
     * URL rules, so a SAS signature in a redirect is not logged either. */
    pktcap__strbuf_add(b, line, (size_t)(colon + 1 - line));
    colon++;
    while (*colon == ' ' || *colon == '\t')
        pktcap__strbuf_add(b, colon++, 1);
    if (strncasecmp(colon, "http://", 7) == 0 || strncasecmp(colon, "https://", 8) == 0)
        pktcap__redact_url(b, colon);
    else
        pktcap__strbuf_puts(b, colon);
}
