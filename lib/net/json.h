/* Internal: JSON helpers for the backends (jansson).
 *
 * pktcap__json_parse turns a response body into a value or a PKTCAP_E_FORMAT
 * error naming what was parsed, the line/column and jansson's reason. The
 * getters walk a dotted path ("properties.storageLocation.storagePath") and
 * return NULL when a member is missing or of another type: responses are
 * read leniently, requests are built strictly. */
#ifndef PKTCAP_NET_JSON_H
#define PKTCAP_NET_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* `what` names the body for the message ("response to get packet capture \"x\""). */
int pktcap__json_parse(json_t **out, const char *text, size_t len, const char *what);
json_t *pktcap__json_path(json_t *root, const char *path);
/* The string at path, or NULL (also when the member is not a string). */
const char *pktcap__json_str(json_t *root, const char *path);
/* The integer at path (a JSON integer, or a string of decimal digits as IMDS
 * sends them) into *out; 0, or -1 when missing or not a number. */
int pktcap__json_int(json_t *root, const char *path, int64_t *out);
/* Serialises compactly (sorted keys off, preserving order) into a new string
 * (pktcap__free); NULL on allocation failure (NOMEM recorded). */
char *pktcap__json_dump(const json_t *value);

#endif
