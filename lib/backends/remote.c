/* remote.c — helpers the HTTP backends share (remote.h). */
#include "backends/remote.h"

#include <stdlib.h>
#include <string.h>

#include <pktcap/file.h>

#include "core/alloc.h"
#include "core/error.h"

const char *pktcap__env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

int pktcap__set_string(char **field, const char *value)
{
    char *copy = NULL;
    if (value && *value && !(copy = pktcap__strdup(value)))
        return PKTCAP_E_NOMEM;
    pktcap__free(*field);
    *field = copy;
    return 0;
}

int pktcap__has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

int pktcap__set_credential_option(void *base, const pktcap__credential_option *options,
                                  size_t count, const char *key, const char *value,
                                  const char *what)
{
    size_t i;
    char **field, *copy = NULL;
    for (i = 0; i < count && strcmp(key, options[i].key) != 0; i++)
        ;
    if (i == count)
        return 0;
    if (pktcap__has_control(value))
        return pktcap__error_set(PKTCAP_E_INVAL, "%s holds a control character", what);
    if (*value && !(copy = pktcap__strdup(value)))
        return PKTCAP_E_NOMEM;
    field = (char **)((char *)base + options[i].offset);
    pktcap__free_secret(*field);
    *field = copy;
    return 1;
}

json_t *pktcap__body_json(const pktcap__http_response *resp)
{
    json_t *v;
    if (!resp->body || resp->body_len == 0)
        return NULL;
    v = json_loadb(resp->body, resp->body_len, JSON_DECODE_ANY, NULL);
    if (v && json_is_null(v)) {
        json_decref(v);
        return NULL;
    }
    return v;
}

const char *pktcap__format_name(int format)
{
    switch (format) {
    case PKTCAP_FORMAT_PCAP:
        return "pcap";
    case PKTCAP_FORMAT_PCAP_NSEC:
        return "pcap (nanosecond)";
    case PKTCAP_FORMAT_PCAPNG:
        return "pcapng";
    case PKTCAP_FORMAT_PCAP_MODIFIED:
        return "pcap (modified)";
    default:
        return "unknown format";
    }
}
