/* Status codes, their texts, and the per-thread detail of the last error.
 *
 * The detail lives in fixed-size thread-local storage: recording an error
 * never allocates, so it works when memory has run out. */
#include "core/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define MESSAGE_MAX 1024
#define PROVIDER_CODE_MAX 128
#define PROVIDER_MESSAGE_MAX 1024

struct pktcap_error {
    int code;
    int http_status;
    char message[MESSAGE_MAX];
    char provider_code[PROVIDER_CODE_MAX];
    char provider_message[PROVIDER_MESSAGE_MAX];
};

static __thread struct pktcap_error last_error;

_Static_assert(sizeof(struct pktcap_error) <= PKTCAP__ERROR_STATE_SIZE,
               "PKTCAP__ERROR_STATE_SIZE is too small");

void pktcap__error_swap(void *other)
{
    unsigned char tmp[sizeof(struct pktcap_error)];
    memcpy(tmp, &last_error, sizeof tmp);
    memcpy(&last_error, other, sizeof tmp);
    memcpy(other, tmp, sizeof tmp);
}

struct code_text {
    int code;
    const char *name;
    const char *text;
};

/* Indexed by -code. */
static const struct code_text code_texts[] = {
    { PKTCAP_OK, "PKTCAP_OK", "success" },
    { PKTCAP_E_INVAL, "PKTCAP_E_INVAL", "invalid argument" },
    { PKTCAP_E_NOMEM, "PKTCAP_E_NOMEM", "out of memory" },
    { PKTCAP_E_IO, "PKTCAP_E_IO", "input/output error" },
    { PKTCAP_E_FORMAT, "PKTCAP_E_FORMAT", "malformed or unrecognised format" },
    { PKTCAP_E_NOTSUP, "PKTCAP_E_NOTSUP", "operation not supported" },
    { PKTCAP_E_NOTFOUND, "PKTCAP_E_NOTFOUND", "not found" },
    { PKTCAP_E_AUTH, "PKTCAP_E_AUTH", "authentication failed" },
    { PKTCAP_E_PERM, "PKTCAP_E_PERM", "permission denied" },
    { PKTCAP_E_CONFLICT, "PKTCAP_E_CONFLICT", "conflict with the current state of the resource" },
    { PKTCAP_E_THROTTLED, "PKTCAP_E_THROTTLED", "rate-limited by the provider" },
    { PKTCAP_E_REMOTE, "PKTCAP_E_REMOTE", "error reported by the provider" },
    { PKTCAP_E_NET, "PKTCAP_E_NET", "network error" },
    { PKTCAP_E_TLS, "PKTCAP_E_TLS", "TLS error" },
    { PKTCAP_E_TIMEOUT, "PKTCAP_E_TIMEOUT", "timed out" },
    { PKTCAP_E_STATE, "PKTCAP_E_STATE", "invalid in the current state" },
    { PKTCAP_E_LIMIT, "PKTCAP_E_LIMIT", "limit exceeded" },
    { PKTCAP_E_CANCELED, "PKTCAP_E_CANCELED", "canceled" },
    { PKTCAP_E_TRUNCATED, "PKTCAP_E_TRUNCATED", "input truncated" },
    { PKTCAP_E_END, "PKTCAP_E_END", "no more items" },
    { PKTCAP_E_EXISTS, "PKTCAP_E_EXISTS", "already exists" },
};

#define CODE_COUNT (sizeof(code_texts) / sizeof(code_texts[0]))

static const struct code_text *lookup(int code)
{
    if (code > 0 || (unsigned)-code >= CODE_COUNT)
        return NULL;
    return &code_texts[-code];
}

const char *pktcap_strerror(int code)
{
    const struct code_text *t = lookup(code);
    return t ? t->text : "unknown error code";
}

const char *pktcap_error_name(int code)
{
    const struct code_text *t = lookup(code);
    return t ? t->name : "PKTCAP_E_UNKNOWN";
}

/* Copies src into dst (size n), cutting at a UTF-8 character boundary and
 * marking the cut with "..." so a reader knows the text is incomplete. */
static void copy_bounded(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);
    if (len < n) {
        memcpy(dst, src, len + 1);
        return;
    }
    size_t keep = n - 4;
    while (keep > 0 && ((unsigned char)src[keep] & 0xC0) == 0x80)
        keep--;
    memcpy(dst, src, keep);
    memcpy(dst + keep, "...", 4);
}

void pktcap__one_line(char *text)
{
    for (unsigned char *p = (unsigned char *)text; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = ' ';
}

PKTCAP__PRINTF(1, 0)
static void format_message(const char *fmt, va_list ap, const char *suffix)
{
    char buf[MESSAGE_MAX * 2];
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n < 0)
        buf[0] = '\0';
    if (suffix) {
        size_t used = strlen(buf);
        snprintf(buf + used, sizeof(buf) - used, "%s", suffix);
    }
    copy_bounded(last_error.message, sizeof(last_error.message), buf);
    /* A server's text can hold anything: a message stays one line. */
    pktcap__one_line(last_error.message);
}

static void reset(int code)
{
    last_error.code = code;
    last_error.http_status = 0;
    last_error.message[0] = '\0';
    last_error.provider_code[0] = '\0';
    last_error.provider_message[0] = '\0';
}

int pktcap__error_set(int code, const char *fmt, ...)
{
    va_list ap;
    reset(code);
    va_start(ap, fmt);
    format_message(fmt, ap, NULL);
    va_end(ap);
    return code;
}

int pktcap__error_errno(int code, int errnum, const char *fmt, ...)
{
    char suffix[256] = ": ";
    va_list ap;
    /* XSI strerror_r: thread-safe, fills the buffer or returns non-zero. */
    if (strerror_r(errnum, suffix + 2, sizeof(suffix) - 2) != 0)
        snprintf(suffix, sizeof(suffix), ": errno %d", errnum);
    reset(code);
    va_start(ap, fmt);
    format_message(fmt, ap, suffix);
    va_end(ap);
    return code;
}

int pktcap__error_remote(int code, int http_status, const char *provider_code,
                         const char *provider_message, const char *fmt, ...)
{
    va_list ap;
    reset(code);
    va_start(ap, fmt);
    format_message(fmt, ap, NULL);
    va_end(ap);
    last_error.http_status = http_status;
    if (provider_code)
        copy_bounded(last_error.provider_code, sizeof(last_error.provider_code), provider_code);
    if (provider_message) {
        copy_bounded(last_error.provider_message, sizeof(last_error.provider_message),
                     provider_message);
        pktcap__one_line(last_error.provider_message);
    }
    if (provider_code)
        pktcap__one_line(last_error.provider_code);
    return code;
}

int pktcap__error_from_errno(int errnum)
{
    switch (errnum) {
    case ENOMEM:
        return PKTCAP_E_NOMEM;
    case ENOENT:
    case ENODEV:
    case ENXIO:
        return PKTCAP_E_NOTFOUND;
    case EACCES:
    case EPERM:
    case EROFS:
        return PKTCAP_E_PERM;
    case EEXIST:
        return PKTCAP_E_EXISTS;
    case EINVAL:
        return PKTCAP_E_INVAL;
    case ETIMEDOUT:
        return PKTCAP_E_TIMEOUT;
    case EFBIG:
        return PKTCAP_E_LIMIT;
    case ECANCELED:
        return PKTCAP_E_CANCELED;
    default:
        return PKTCAP_E_IO;
    }
}

const pktcap_error *pktcap_error_last(void)
{
    return &last_error;
}

void pktcap_error_clear(void)
{
    reset(PKTCAP_OK);
}

int pktcap_error_code(const pktcap_error *error)
{
    return error ? error->code : PKTCAP_OK;
}

const char *pktcap_error_message(const pktcap_error *error)
{
    if (!error)
        return "";
    if (error->message[0] == '\0' && error->code != PKTCAP_OK)
        return pktcap_strerror(error->code);
    return error->message;
}

int pktcap_error_http_status(const pktcap_error *error)
{
    return error ? error->http_status : 0;
}

const char *pktcap_error_provider_code(const pktcap_error *error)
{
    return error ? error->provider_code : "";
}

const char *pktcap_error_provider_message(const pktcap_error *error)
{
    return error ? error->provider_message : "";
}
