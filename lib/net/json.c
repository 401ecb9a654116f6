/* json.c — parsing responses and reading members leniently (jansson). */
#include "net/json.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

int pktcap__json_parse(json_t **out, const char *text, size_t len, const char *what)
{
    json_error_t err;
    json_t *v;
    if (!text || len == 0)
        return pktcap__error_set(PKTCAP_E_FORMAT, "%s: empty body where JSON was expected", what);
    v = json_loadb(text, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &err);
    if (!v) {
        if (json_error_code(&err) == json_error_out_of_memory)
            return pktcap__error_set(PKTCAP_E_NOMEM, "%s: out of memory parsing JSON", what);
        return pktcap__error_set(PKTCAP_E_FORMAT, "%s: invalid JSON at line %d column %d: %s",
                                 what, err.line, err.column, err.text);
    }
    *out = v;
    return 0;
}

json_t *pktcap__json_path(json_t *root, const char *path)
{
    const char *p = path;
    json_t *v = root;
    while (v && *p) {
        char key[128];
        size_t n = strcspn(p, ".");
        if (!json_is_object(v) || n >= sizeof key)
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        v = json_object_get(v, key);
        p += n;
        if (*p == '.')
            p++;
    }
    return v;
}

const char *pktcap__json_str(json_t *root, const char *path)
{
    json_t *v = pktcap__json_path(root, path);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int pktcap__json_int(json_t *root, const char *path, int64_t *out)
{
    json_t *v = pktcap__json_path(root, path);
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        int64_t n = 0;
        size_t i;
        if (!s[0] || strlen(s) > 18)
            return -1;
        for (i = 0; s[i]; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            n = n * 10 + (s[i] - '0');
        }
        *out = n;
        return 0;
    }
    return -1;
}

char *pktcap__json_dump(const json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY), *copy;
    if (!text) {
        pktcap__error_set(PKTCAP_E_NOMEM, "out of memory writing JSON");
        return NULL;
    }
    copy = pktcap__strdup(text);
    free(text);
    return copy;
}
