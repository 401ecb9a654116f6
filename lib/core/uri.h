/* Internal: parsing provider and storage URIs, and option values.
 *
 * A URI is `scheme:[//authority]path[?key=value&...]`. Text without a
 * `scheme:` prefix (letters, digits, + - . after a first letter, at least two
 * characters before the colon) is a plain path. Path, keys and values are
 * percent-decoded; the scheme is lowercased. */
#ifndef PKTCAP_CORE_URI_H
#define PKTCAP_CORE_URI_H

#include <stddef.h>
#include <stdint.h>

struct pktcap__uri_param {
    char *key;
    char *value;
};

typedef struct pktcap__uri {
    char *scheme;    /* NULL for a plain path */
    char *authority; /* text after "//" up to the path, or NULL without "//" */
    char *path;      /* never NULL */
    struct pktcap__uri_param *params;
    size_t param_count;
} pktcap__uri;

/* Fills *out (zeroed first); on failure *out holds nothing to free.
 * PKTCAP_E_INVAL (bad percent escape, empty key, NUL from %00, empty text)
 * with a message quoting the text; PKTCAP_E_NOMEM. */
int pktcap__uri_parse(pktcap__uri *out, const char *text);
void pktcap__uri_clear(pktcap__uri *uri);
/* The value of the last `key=` parameter, or NULL. */
const char *pktcap__uri_param(const pktcap__uri *uri, const char *key);

/* Option values. Each returns 0 or PKTCAP_E_INVAL with a message naming
 * `what` (e.g. "storage option 'rotate_bytes'") and the offending text. */
int pktcap__parse_bool(int *out, const char *what, const char *text);
/* Decimal, optional suffix k/M/G/T (powers of 1000) or Ki/Mi/Gi/Ti (1024),
 * no sign, no overflow, at least `min`, at most `max`. */
int pktcap__parse_u64(uint64_t *out, const char *what, const char *text, uint64_t min,
                      uint64_t max);

#endif
