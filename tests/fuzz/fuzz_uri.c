/* libFuzzer target: provider and storage URIs through the real parsers.
 *
 * The first byte, modulo 16, picks a prefix (none, "local:", an Azure
 * network watcher, "cloudflare://accounts/", "sdwan://", "file://", the
 * remote storage schemes, "fd:", "mem:", …) and the rest of the input is
 * appended, so that the search starts inside each scheme's grammar. The
 * text, NUL-terminated, then goes
 *   - to the URI parser (lib/core/uri.c): a scheme is lowercase and starts
 *     the text, a plain path is the text itself, every key is non-empty and
 *     pktcap__uri_param() finds the last value of each; every value goes to
 *     the option parsers (pktcap__parse_u64 agrees with strtoull on plain
 *     digits; pktcap__parse_bool), and a failure leaves nothing to free;
 *   - to pktcap_provider_open() (every scheme: the backends' URI and option
 *     parsing), closed again on success;
 *   - to pktcap_storage_open(), which only parses: files are created when a
 *     producer begins writing, which never happens here (remote targets keep
 *     their parsed URI).
 * Every call returns 0 or the PKTCAP_E_* code it recorded, with a message,
 * and leaves its out-parameter untouched on failure.
 *
 * Opening sends nothing: the harness's transport aborts on any request, and
 * its seccomp guard on any socket. Option values that name files (ca_file,
 * ca_path) are only stat()ed.
 *
 * Run with ./dev fuzz uri [SECONDS]; seeds are in corpus/uri/ ('0' followed
 * by a whole URI, or another selector and the rest of one). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pktcap/pktcap.h>

#include "core/uri.h"
#include "harness.h"
#include "storage/storage.h"

#define MAX_INPUT 4096

static const char *const prefixes[16] = {
    "",
    "local:",
    ("azure:///subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/"
     "Microsoft.Network/networkWatchers/nw"),
    "azure:",
    "cloudflare://accounts/",
    "cloudflare:",
    "sdwan://",
    "sdwan:",
    "file://",
    "file:///var/cap/edge.pcapng?",
    "azblob://",
    "s3://",
    "gs://",
    "r2://",
    "fd:",
    "mem:",
};

static void check_option_values(const char *value)
{
    uint64_t n = 12345;
    int flag = 7, rc;

    pktcap_error_clear();
    rc = harness_status(pktcap__parse_u64(&n, "fuzz option", value, 0, UINT64_MAX),
                        "pktcap__parse_u64");
    if (rc == 0 && value[0] && strspn(value, "0123456789") == strlen(value)) {
        errno = 0;
        harness_check(strtoull(value, NULL, 10) == n && errno == 0,
                      "parse_u64 reads plain digits as strtoull does");
    }
    if (rc < 0)
        harness_check(rc == PKTCAP_E_INVAL && n == 12345, "parse_u64 fails with INVAL, "
                      "leaving the value");
    pktcap_error_clear();
    rc = harness_status(pktcap__parse_bool(&flag, "fuzz option", value), "pktcap__parse_bool");
    harness_check(rc == 0 ? flag == 0 || flag == 1 : rc == PKTCAP_E_INVAL && flag == 7,
                  "parse_bool gives 0 or 1, or INVAL leaving the value");
}

static void check_uri(const char *text)
{
    pktcap__uri u;
    int rc;
    pktcap_error_clear();
    rc = harness_status(pktcap__uri_parse(&u, text), "pktcap__uri_parse");
    if (rc < 0) {
        harness_check(rc == PKTCAP_E_INVAL || rc == PKTCAP_E_NOMEM, "a URI fails with INVAL");
        harness_check(!u.scheme && !u.authority && !u.path && !u.params && !u.param_count,
                      "a failed parse leaves nothing to free");
        return;
    }
    harness_check(u.path != NULL, "a URI has a path");
    if (!u.scheme) {
        harness_check(strcmp(u.path, text) == 0 && !u.authority && !u.param_count,
                      "a plain path is the text itself");
    } else {
        size_t n = strlen(u.scheme);
        harness_check(n >= 2 && strncasecmp(text, u.scheme, n) == 0 && text[n] == ':',
                      "the scheme starts the text");
        harness_check(strspn(u.scheme, "abcdefghijklmnopqrstuvwxyz0123456789+-.") == n &&
                          u.scheme[0] >= 'a' && u.scheme[0] <= 'z',
                      "the scheme is lowercase");
        harness_check(!u.authority || strncmp(text + n + 1, "//", 2) == 0,
                      "an authority follows \"//\"");
    }
    for (size_t i = 0; i < u.param_count; i++) {
        const char *last = NULL;
        harness_check(u.params[i].key && u.params[i].key[0] && u.params[i].value,
                      "a parameter has a name and a value");
        for (size_t j = 0; j < u.param_count; j++)
            if (strcmp(u.params[j].key, u.params[i].key) == 0)
                last = u.params[j].value;
        harness_check(pktcap__uri_param(&u, u.params[i].key) == last,
                      "pktcap__uri_param gives the last value of a key");
        check_option_values(u.params[i].value);
    }
    pktcap__uri_clear(&u);
    harness_check(!u.scheme && !u.path && !u.params && !u.param_count, "clear empties the URI");
}

static void check_provider(const char *text)
{
    pktcap_provider *p = (pktcap_provider *)&p;   /* a sentinel: untouched on failure */
    int rc;
    pktcap_error_clear();
    rc = harness_status(pktcap_provider_open(&p, text), "pktcap_provider_open");
    if (rc < 0) {
        harness_check(p == (pktcap_provider *)&p, "a failed open leaves out untouched");
        return;
    }
    harness_check(pktcap_provider_kind(p) && strncasecmp(text, pktcap_provider_kind(p),
                                                         strlen(pktcap_provider_kind(p))) == 0,
                  "the provider's kind is the URI's scheme");
    harness_check(pktcap_provider_caps(p) != 0, "a provider can do something");
    pktcap_provider_close(p);
}

static void check_storage(const char *text)
{
    pktcap_storage *st = (pktcap_storage *)&st;
    int rc;
    pktcap_error_clear();
    rc = harness_status(pktcap_storage_open(&st, text), "pktcap_storage_open");
    if (rc < 0) {
        harness_check(st == (pktcap_storage *)&st, "a failed open leaves out untouched");
        return;
    }
    harness_check(strcmp(pktcap__storage_name(st), text) == 0, "a target is named as given");
    harness_check(pktcap_storage_file_count(st) == 0, "opening completes no file");
    if (pktcap__storage_remote(st)) {
        const char *scheme = pktcap__storage_remote(st)->scheme;
        harness_check(scheme && (strcmp(scheme, "azblob") == 0 || strcmp(scheme, "s3") == 0 ||
                                 strcmp(scheme, "gs") == 0 || strcmp(scheme, "r2") == 0),
                      "a remote target has a remote scheme");
        harness_check(pktcap__storage_remote(st)->authority &&
                          pktcap__storage_remote(st)->authority[0],
                      "a remote target names its account or bucket");
    }
    pktcap_storage_free(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *prefix;
    size_t n;
    char *text;
    harness_init("fuzz_uri");
    harness_script(NULL, 0, NULL);   /* any request aborts */
    if (size == 0 || size > MAX_INPUT)
        return 0;
    prefix = prefixes[data[0] % 16];
    n = strlen(prefix);
    if (!(text = malloc(n + size)))
        return 0;
    memcpy(text, prefix, n);
    memcpy(text + n, data + 1, size - 1);
    text[n + size - 1] = '\0';
    check_uri(text);
    check_provider(text);
    check_storage(text);
    free(text);
    return 0;
}
