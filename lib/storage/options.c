/* Storage options: one parser serves URI queries and pktcap_storage_set. */
#include "storage/kind.h"

#include <stdio.h>
#include <string.h>

#include <pktcap/file.h>
#include "core/error.h"
#include "core/uri.h"

static const struct {
    const char *key;
    unsigned bit;
} option_keys[] = {
    { "format", STORAGE_OPT_FORMAT },
    { "rotate_bytes", STORAGE_OPT_ROTATE_BYTES },
    { "rotate_seconds", STORAGE_OPT_ROTATE_SECONDS },
    { "rotate_files", STORAGE_OPT_ROTATE_FILES },
    { "overwrite", STORAGE_OPT_OVERWRITE },
    { "fsync", STORAGE_OPT_FSYNC },
};

static const struct {
    const char *name;
    int format;
} format_names[] = {
    { "pcap", PKTCAP_FORMAT_PCAP },
    { "pcap-nsec", PKTCAP_FORMAT_PCAP_NSEC },
    { "pcapng", PKTCAP_FORMAT_PCAPNG },
};

static int parse_format(int *out, const char *what, const char *value)
{
    for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
        if (strcmp(value, format_names[i].name) == 0) {
            *out = format_names[i].format;
            return 0;
        }
    }
    return pktcap__error_set(PKTCAP_E_INVAL, "%s: '%s' is not one of pcap, pcap-nsec, pcapng", what,
                             value);
}

/* Values are parsed into locals and stored only when valid, so a refused
 * option leaves the target as it was. */
static int apply(pktcap_storage *st, unsigned bit, const char *what, const char *value)
{
    uint64_t n;
    int flag, rc;
    switch (bit) {
    case STORAGE_OPT_FORMAT:
        if ((rc = parse_format(&flag, what, value)) == 0)
            st->format = flag;
        return rc;
    case STORAGE_OPT_ROTATE_BYTES:
        if ((rc = pktcap__parse_u64(&n, what, value, 1, UINT64_MAX)) == 0)
            st->rotate_bytes = n;
        return rc;
    case STORAGE_OPT_ROTATE_SECONDS:
        if ((rc = pktcap__parse_u64(&n, what, value, 1, INT64_MAX)) == 0)
            st->rotate_seconds = n;
        return rc;
    case STORAGE_OPT_ROTATE_FILES:
        if ((rc = pktcap__parse_u64(&n, what, value, 1, UINT32_MAX)) == 0)
            st->rotate_files = n;
        return rc;
    case STORAGE_OPT_OVERWRITE:
        if ((rc = pktcap__parse_bool(&flag, what, value)) == 0)
            st->overwrite = flag;
        return rc;
    default: /* STORAGE_OPT_FSYNC */
        if ((rc = pktcap__parse_bool(&flag, what, value)) == 0)
            st->fsync = flag;
        return rc;
    }
}

int pktcap__storage_option(pktcap_storage *st, const char *key, const char *value)
{
    unsigned bit = 0;
    for (size_t i = 0; i < sizeof(option_keys) / sizeof(option_keys[0]); i++)
        if (strcmp(key, option_keys[i].key) == 0)
            bit = option_keys[i].bit;
    if (!bit)
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "storage '%s': unknown option '%s' (known: format, rotate_bytes, "
                                 "rotate_seconds, rotate_files, overwrite, fsync)", st->name, key);
    if (st->frozen)
        return pktcap__error_set(PKTCAP_E_STATE,
                                 "storage '%s': option '%s' cannot change once writing began",
                                 st->name, key);
    if (!(st->kind->options & bit))
        return pktcap__error_set(PKTCAP_E_NOTSUP, "storage '%s': option '%s' does not apply to %s",
                                 st->name, key, st->kind->what);
    char what[320];
    snprintf(what, sizeof(what), "storage '%.200s' option '%s'", st->name, key);
    return apply(st, bit, what, value);
}
