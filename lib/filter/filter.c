/* filter.c — the filter object: construction, typed setters, copies, equality,
 * and the address-range helpers the renderers share. Parsing is in parse.c,
 * renderings in render.c and bpf.c, evaluation in match.c. */
#include "filter/filter.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"

static const char *const field_names[PF_FIELDS] = {
    "local", "remote", "local_port", "remote_port"
};

const char *pktcap__filter_field_name(int field)
{
    return field >= 0 && field < PF_FIELDS ? field_names[field] : "?";
}

static pktcap_filter *filter_alloc(void)
{
    pktcap_filter *f = pktcap__calloc(1, sizeof *f);
    if (f)
        pthread_mutex_init(&f->lock, NULL);
    return f;
}

PKTCAP_API int pktcap_filter_new(pktcap_filter **out)
{
    pktcap_filter *f;
    if (!out)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_new: out is NULL");
    f = filter_alloc();
    if (!f)
        return PKTCAP_E_NOMEM;
    *out = f;
    return 0;
}

static void rules_free(pf_rule *rules, size_t n)
{
    size_t i;
    int k;
    for (i = 0; i < n; i++)
        for (k = 0; k < PF_FIELDS; k++)
            pktcap__field_free_items(&rules[i].field[k]);
    pktcap__free(rules);
}

void pktcap__field_free_items(pf_field *fl)
{
    pktcap__free(fl->u.any);
    fl->u.any = NULL;
    fl->n = fl->cap = 0;
}

PKTCAP_API void pktcap_filter_free(pktcap_filter *f)
{
    if (!f)
        return;
    rules_free(f->rules, f->nrules);
    pktcap__free(f->bpf);
    pktcap__filter_release_compiled(f);
    pthread_mutex_destroy(&f->lock);
    pktcap__free(f);
}

PKTCAP_API void pktcap_free(void *p)
{
    pktcap__free(p);
}

PKTCAP_API int pktcap_filter_new_bpf(pktcap_filter **out, const char *expression)
{
    pktcap_filter *f;
    size_t len;
    int rc;
    if (!out || !expression)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_new_bpf: %s is NULL",
                                 out ? "expression" : "out");
    len = strlen(expression);
    if (len > PKTCAP_FILTER_MAX_BPF)
        return pktcap__error_set(PKTCAP_E_LIMIT,
                                 "BPF expression of %zu bytes exceeds the limit of %d",
                                 len, PKTCAP_FILTER_MAX_BPF);
    if (strspn(expression, " \t\r\n") == len)
        return pktcap__error_set(PKTCAP_E_INVAL,
                                 "empty BPF expression (an empty filter matches everything: "
                                 "use pktcap_filter_new)");
    rc = pktcap__filter_check_bpf(expression);
    if (rc < 0)
        return rc;
    f = filter_alloc();
    if (!f)
        return PKTCAP_E_NOMEM;
    f->bpf = pktcap__strdup(expression);
    if (!f->bpf) {
        pktcap_filter_free(f);
        return PKTCAP_E_NOMEM;
    }
    *out = f;
    return 0;
}

static int field_copy(pf_field *dst, const pf_field *src, int field)
{
    size_t size = pf_field_is_addr(field) ? sizeof(pf_addr) : sizeof(pf_port);
    memset(dst, 0, sizeof *dst);
    if (!src->n)
        return 0;
    dst->u.any = pktcap__reallocarray(NULL, src->n, size);
    if (!dst->u.any)
        return PKTCAP_E_NOMEM;
    memcpy(dst->u.any, src->u.any, src->n * size);
    dst->n = dst->cap = src->n;
    return 0;
}

PKTCAP_API int pktcap_filter_dup(pktcap_filter **out, const pktcap_filter *src)
{
    pktcap_filter *f;
    size_t i;
    int k;
    if (!out || !src)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_dup: %s is NULL",
                                 out ? "filter" : "out");
    f = filter_alloc();
    if (!f)
        return PKTCAP_E_NOMEM;
    if (src->bpf && !(f->bpf = pktcap__strdup(src->bpf)))
        goto nomem;
    if (src->nrules) {
        f->rules = pktcap__calloc(src->nrules, sizeof *f->rules);
        if (!f->rules)
            goto nomem;
        f->cap = src->nrules;
        for (i = 0; i < src->nrules; i++) {
            f->rules[i].proto = src->rules[i].proto;
            f->nrules = i + 1;
            for (k = 0; k < PF_FIELDS; k++)
                if (field_copy(&f->rules[i].field[k], &src->rules[i].field[k], k) < 0)
                    goto nomem;
        }
    }
    *out = f;
    return 0;
nomem:
    pktcap_filter_free(f);
    return PKTCAP_E_NOMEM;
}

int pktcap__filter_check_protocol(int protocol)
{
    if (protocol == PKTCAP_FILTER_ANY || protocol == PKTCAP_FILTER_TCP ||
        protocol == PKTCAP_FILTER_UDP)
        return 0;
    return pktcap__error_set(PKTCAP_E_INVAL,
                             "unknown protocol %d (expected PKTCAP_FILTER_ANY (0), "
                             "PKTCAP_FILTER_TCP (6) or PKTCAP_FILTER_UDP (17))", protocol);
}

int pktcap__filter_append_rule(pktcap_filter *f, int protocol)
{
    pf_rule *r = NULL;
    if (f->nrules >= PKTCAP_FILTER_MAX_RULES)
        return pktcap__error_set(PKTCAP_E_LIMIT, "a filter holds at most %d rules",
                                 PKTCAP_FILTER_MAX_RULES);
    r = pktcap__grow(f->rules, &f->cap, f->nrules, sizeof *f->rules);
    if (!r)
        return PKTCAP_E_NOMEM;
    f->rules = r;
    memset(&r[f->nrules], 0, sizeof *r);
    r[f->nrules].proto = protocol;
    f->nrules++;
    return 0;
}

/* Common checks of the rule setters: filter not NULL, rule filter, index valid. */
static int rule_at(pf_rule **out, pktcap_filter *f, size_t rule, const char *fn)
{
    if (!f)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s: filter is NULL", fn);
    if (f->bpf)
        return pktcap__error_set(PKTCAP_E_STATE,
                                 "%s: the filter holds a raw BPF expression, not rules", fn);
    if (rule >= f->nrules)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s: no rule %zu (the filter has %zu)",
                                 fn, rule, f->nrules);
    *out = &f->rules[rule];
    return 0;
}

static int check_field(int field, const char *fn)
{
    if (field < 0 || field >= PF_FIELDS)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s: unknown field %d (expected 0 … 3)",
                                 fn, field);
    return 0;
}

PKTCAP_API int pktcap_filter_add_rule(pktcap_filter *f, int protocol)
{
    int rc;
    if (!f)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_add_rule: filter is NULL");
    if (f->bpf)
        return pktcap__error_set(PKTCAP_E_STATE, "pktcap_filter_add_rule: the filter holds "
                                 "a raw BPF expression, not rules");
    if ((rc = pktcap__filter_check_protocol(protocol)) < 0)
        return rc;
    return pktcap__filter_append_rule(f, protocol);
}

PKTCAP_API size_t pktcap_filter_rule_count(const pktcap_filter *f)
{
    return f ? f->nrules : 0;
}

PKTCAP_API int pktcap_filter_set_protocol(pktcap_filter *f, size_t rule, int protocol)
{
    pf_rule *r = NULL;
    int rc = rule_at(&r, f, rule, "pktcap_filter_set_protocol");
    if (rc < 0)
        return rc;
    if ((rc = pktcap__filter_check_protocol(protocol)) < 0)
        return rc;
    r->proto = protocol;
    return 0;
}

PKTCAP_API int pktcap_filter_rule_protocol(const pktcap_filter *f, size_t rule)
{
    if (!f || rule >= f->nrules)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_rule_protocol: no rule %zu",
                                 rule);
    return f->rules[rule].proto;
}

PKTCAP_API int pktcap_filter_set_field(pktcap_filter *f, size_t rule, int field,
                                       const char *notation)
{
    pf_rule *r = NULL;
    pf_field parsed;
    int rc = rule_at(&r, f, rule, "pktcap_filter_set_field");
    if (rc < 0 || (rc = check_field(field, "pktcap_filter_set_field")) < 0)
        return rc;
    memset(&parsed, 0, sizeof parsed);
    if (notation && *notation) {
        rc = pktcap__filter_parse_field(&parsed, field, notation, strlen(notation), NULL);
        if (rc < 0)
            return rc;
    }
    pktcap__field_free_items(&r->field[field]);
    r->field[field] = parsed;
    return 0;
}

int pktcap__field_push(pf_field *fl, int field, const void *item)
{
    size_t size = pf_field_is_addr(field) ? sizeof(pf_addr) : sizeof(pf_port);
    void *items;
    if (fl->n >= PKTCAP_FILTER_MAX_ITEMS)
        return pktcap__error_set(PKTCAP_E_LIMIT, "%s: a field holds at most %d items",
                                 pktcap__filter_field_name(field), PKTCAP_FILTER_MAX_ITEMS);
    items = pktcap__grow(fl->u.any, &fl->cap, fl->n, size);
    if (!items)
        return PKTCAP_E_NOMEM;
    fl->u.any = items;
    memcpy((char *)items + fl->n * size, item, size);
    fl->n++;
    return 0;
}

PKTCAP_API int pktcap_filter_add_address(pktcap_filter *f, size_t rule, int field,
                                         const char *first, const char *last)
{
    pf_rule *r = NULL;
    pf_addr a;
    int rc = rule_at(&r, f, rule, "pktcap_filter_add_address");
    if (rc < 0 || (rc = check_field(field, "pktcap_filter_add_address")) < 0)
        return rc;
    if (!pf_field_is_addr(field))
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_add_address: %s is a port "
                                 "field (use pktcap_filter_add_port)",
                                 pktcap__filter_field_name(field));
    if (!first)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_add_address: first is NULL");
    rc = pktcap__filter_parse_address_item(&a, field, first, last);
    if (rc < 0)
        return rc;
    return pktcap__field_push(&r->field[field], field, &a);
}

PKTCAP_API int pktcap_filter_add_port(pktcap_filter *f, size_t rule, int field,
                                      uint32_t first, uint32_t last)
{
    pf_rule *r = NULL;
    pf_port p;
    int rc = rule_at(&r, f, rule, "pktcap_filter_add_port");
    if (rc < 0 || (rc = check_field(field, "pktcap_filter_add_port")) < 0)
        return rc;
    if (pf_field_is_addr(field))
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_add_port: %s is an address "
                                 "field (use pktcap_filter_add_address)",
                                 pktcap__filter_field_name(field));
    if (first > 65535 || last > 65535)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s: port %lu is outside 0-65535",
                                 pktcap__filter_field_name(field),
                                 (unsigned long)(first > 65535 ? first : last));
    if (last < first)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s: reversed range %lu-%lu (the first "
                                 "port must not exceed the last)",
                                 pktcap__filter_field_name(field), (unsigned long)first,
                                 (unsigned long)last);
    p.lo = (uint16_t)first;
    p.hi = (uint16_t)last;
    return pktcap__field_push(&r->field[field], field, &p);
}

PKTCAP_API const char *pktcap_filter_bpf_expression(const pktcap_filter *f)
{
    return f ? f->bpf : NULL;
}

static int field_equal(const pf_field *a, const pf_field *b, int field)
{
    size_t size = pf_field_is_addr(field) ? sizeof(pf_addr) : sizeof(pf_port);
    return a->n == b->n && (!a->n || memcmp(a->u.any, b->u.any, a->n * size) == 0);
}

PKTCAP_API int pktcap_filter_equal(const pktcap_filter *a, const pktcap_filter *b)
{
    size_t i;
    int k;
    if (!a || !b)
        return 0;
    if ((a->bpf == NULL) != (b->bpf == NULL))
        return 0;
    if (a->bpf)
        return strcmp(a->bpf, b->bpf) == 0;
    if (a->nrules != b->nrules)
        return 0;
    for (i = 0; i < a->nrules; i++) {
        if (a->rules[i].proto != b->rules[i].proto)
            return 0;
        for (k = 0; k < PF_FIELDS; k++)
            if (!field_equal(&a->rules[i].field[k], &b->rules[i].field[k], k))
                return 0;
    }
    return 1;
}

int pktcap__filter_matches_all(const pktcap_filter *f)
{
    size_t i;
    if (f->bpf)
        return 0;
    if (!f->nrules)
        return 1;
    for (i = 0; i < f->nrules; i++)
        if (pf_rule_is_all(&f->rules[i]))
            return 1;
    return 0;
}

/* ---- address helpers ----------------------------------------------------- */

void pktcap__filter_addr_str(char *buf, size_t size, int family, const uint8_t *a)
{
    if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, (socklen_t)size))
        snprintf(buf, size, "?");
}

/* Bit i (0 = most significant) of an address of nbytes. */
static int bit_at(const uint8_t *a, unsigned i)
{
    return (a[i / 8] >> (7 - i % 8)) & 1;
}

/* Is a..b a block: a has zeros and b ones in the low (bits - prefix) bits, same above? */
static int is_block(const uint8_t *lo, const uint8_t *hi, unsigned bits, unsigned prefix)
{
    unsigned i;
    for (i = 0; i < bits; i++) {
        int l = bit_at(lo, i), h = bit_at(hi, i);
        if (i < prefix ? l != h : (l != 0 || h != 1))
            return 0;
    }
    return 1;
}

int pktcap__filter_range_is_cidr(const pf_addr *a, unsigned *prefix)
{
    unsigned bits = a->family == 4 ? 32 : 128, p;
    for (p = 0; p <= bits; p++) {
        if (is_block(a->lo, a->hi, bits, p)) {
            *prefix = p;
            return 1;
        }
    }
    return 0;
}

/* Add 1 to a big-endian number; returns 1 on wrap-around. */
static int incr(uint8_t *a, unsigned nbytes)
{
    unsigned i = nbytes;
    while (i--) {
        if (++a[i])
            return 0;
    }
    return 1;
}

static int cmp(const uint8_t *a, const uint8_t *b, unsigned nbytes)
{
    return memcmp(a, b, nbytes);
}

int pktcap__filter_range_to_cidrs(const pf_addr *a, pf_cidr_cb emit, void *ctx)
{
    unsigned bits = a->family == 4 ? 32 : 128, nbytes = bits / 8;
    uint8_t cur[16], last[16];
    memcpy(cur, a->lo, nbytes);
    for (;;) {
        /* The largest block starting at cur that stays within hi. */
        unsigned prefix = bits, i;
        int rc;
        while (prefix > 0) {
            unsigned p = prefix - 1, ok = 1;
            /* cur must have zero in bits p..bits-1 */
            for (i = p; i < bits && ok; i++)
                if (bit_at(cur, i))
                    ok = 0;
            if (!ok)
                break;
            /* block end = cur | ones(bits - p) must be <= hi */
            memcpy(last, cur, nbytes);
            for (i = p; i < bits; i++)
                last[i / 8] |= (uint8_t)(1u << (7 - i % 8));
            if (cmp(last, a->hi, nbytes) > 0)
                break;
            prefix = p;
        }
        rc = emit(ctx, a->family, cur, prefix);
        if (rc < 0)
            return rc;
        /* cur = end of block + 1 */
        for (i = prefix; i < bits; i++)
            cur[i / 8] |= (uint8_t)(1u << (7 - i % 8));
        if (cmp(cur, a->hi, nbytes) >= 0 || incr(cur, nbytes))
            return 0;
    }
}
