/* parse.c — the one-line filter syntax and the field notation.
 *
 *   filter := blank* [ "bpf:" EXPR | rule { blank+ "or" blank+ rule } ] blank*
 *   rule   := term { blank+ term }
 *   term   := key "=" value
 *   key    := proto | local | remote | local_port | remote_port
 *             (Azure's names protocol, localIPAddress, remoteIPAddress,
 *              localPort, remotePort are accepted too; keys ignore case)
 *   value  := item { ";" item } [ ";" ]
 *   item   := ADDRESS | ADDRESS "-" ADDRESS | ADDRESS "/" PREFIX   (address fields)
 *           | PORT | PORT "-" PORT                                  (port fields)
 *
 * Every error names the rule (when parsing a whole filter), the field and the
 * offending text; the filter is only built when the whole text is valid. */
#include "filter/filter.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/error.h"

/* Longest item we look at; longer ones are reported, never copied whole. */
#define ITEM_MAX 128
/* How much of the offending text a message quotes. */
#define QUOTE_MAX 80

typedef struct span {
    const char *p;
    size_t n;
} span;

/* "rule 2, " or "" — the prefix of every message about one rule. */
typedef struct where {
    char text[48];
} where;

static void where_init(where *w, const char *rule_label)
{
    if (rule_label)
        snprintf(w->text, sizeof w->text, "%s, ", rule_label);
    else
        w->text[0] = '\0';
}

/* Print at most QUOTE_MAX bytes of a span, marking the cut. */
#define SPAN_FMT "\"%.*s%s\""
#define SPAN_ARG(s) (int)((s).n > QUOTE_MAX ? QUOTE_MAX : (s).n), (s).p, \
                    ((s).n > QUOTE_MAX ? "..." : "")

static int fail(int code, const where *w, int field, const char *what, span s)
{
    return pktcap__error_set(code, "%s%s: %s " SPAN_FMT, w->text,
                             pktcap__filter_field_name(field), what, SPAN_ARG(s));
}

/* ---- ports --------------------------------------------------------------- */

static int parse_port(uint16_t *out, span s, const where *w, int field)
{
    unsigned long v = 0;
    size_t i;
    if (s.n == 0)
        return fail(PKTCAP_E_INVAL, w, field, "missing port in", s);
    for (i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return fail(PKTCAP_E_INVAL, w, field, "not a port number (0-65535):", s);
        if (v <= 65535)
            v = v * 10 + (unsigned long)(s.p[i] - '0');
    }
    if (v > 65535)
        return fail(PKTCAP_E_INVAL, w, field, "port outside 0-65535:", s);
    *out = (uint16_t)v;
    return 0;
}

static int parse_port_item(pf_port *out, span item, const where *w, int field)
{
    const char *dash = memchr(item.p, '-', item.n);
    span a = item, b;
    int rc;
    if (!dash)
        rc = parse_port(&out->lo, item, w, field), out->hi = out->lo;
    else {
        a.n = (size_t)(dash - item.p);
        b.p = dash + 1;
        b.n = item.n - a.n - 1;
        if (a.n == 0 || b.n == 0)
            return fail(PKTCAP_E_INVAL, w, field, "incomplete range:", item);
        if ((rc = parse_port(&out->lo, a, w, field)) < 0 ||
            (rc = parse_port(&out->hi, b, w, field)) < 0)
            return rc;
        if (out->hi < out->lo)
            return fail(PKTCAP_E_INVAL, w, field,
                        "reversed range (the first port exceeds the last):", item);
    }
    return rc;
}

/* ---- addresses ----------------------------------------------------------- */

/* One address: IPv4 dotted quad or IPv6 text (no zone index). */
static int parse_addr(uint8_t *out, uint8_t *family, span s, const where *w, int field)
{
    char buf[ITEM_MAX];
    if (s.n == 0)
        return fail(PKTCAP_E_INVAL, w, field, "missing address in", s);
    if (s.n < sizeof buf) {
        memcpy(buf, s.p, s.n);
        buf[s.n] = '\0';
        memset(out, 0, 16);
        if (inet_pton(AF_INET, buf, out) == 1) {
            *family = 4;
            return 0;
        }
        if (inet_pton(AF_INET6, buf, out) == 1) {
            *family = 6;
            return 0;
        }
    }
    return fail(PKTCAP_E_INVAL, w, field, "not an IPv4 or IPv6 address:", s);
}

static int parse_prefix(unsigned *out, span s, unsigned bits, const where *w, int field)
{
    unsigned v = 0;
    size_t i;
    if (s.n == 0 || s.n > 3)
        goto bad;
    for (i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            goto bad;
        v = v * 10 + (unsigned)(s.p[i] - '0');
    }
    if (v > bits)
        goto bad;
    *out = v;
    return 0;
bad:
    return pktcap__error_set(PKTCAP_E_INVAL, "%s%s: prefix length " SPAN_FMT
                             " is outside 0-%u", w->text, pktcap__filter_field_name(field),
                             SPAN_ARG(s), bits);
}

/* a.lo = network, a.hi = broadcast of a.lo/prefix; refuses host bits. */
static int cidr_to_range(pf_addr *a, unsigned prefix, span item, const where *w, int field)
{
    unsigned bits = a->family == 4 ? 32 : 128, i;
    memcpy(a->hi, a->lo, 16);
    for (i = prefix; i < bits; i++) {
        uint8_t m = (uint8_t)(1u << (7 - i % 8));
        if (a->lo[i / 8] & m)
            return fail(PKTCAP_E_INVAL, w, field,
                        "CIDR block has bits set after the prefix length:", item);
        a->hi[i / 8] |= m;
    }
    return 0;
}

static int parse_addr_item(pf_addr *out, span item, const where *w, int field)
{
    const char *dash = memchr(item.p, '-', item.n);
    const char *slash = memchr(item.p, '/', item.n);
    span a = item, b;
    int rc;
    if (dash && slash)
        return fail(PKTCAP_E_INVAL, w, field,
                    "an item is an address, a range or a CIDR block, not both:", item);
    if (slash) {
        unsigned prefix = 0;
        a.n = (size_t)(slash - item.p);
        b.p = slash + 1;
        b.n = item.n - a.n - 1;
        if ((rc = parse_addr(out->lo, &out->family, a, w, field)) < 0 ||
            (rc = parse_prefix(&prefix, b, out->family == 4 ? 32 : 128, w, field)) < 0)
            return rc;
        return cidr_to_range(out, prefix, item, w, field);
    }
    if (!dash) {
        rc = parse_addr(out->lo, &out->family, item, w, field);
        memcpy(out->hi, out->lo, 16);
        return rc;
    }
    {
        uint8_t family2;
        a.n = (size_t)(dash - item.p);
        b.p = dash + 1;
        b.n = item.n - a.n - 1;
        if (a.n == 0 || b.n == 0)
            return fail(PKTCAP_E_INVAL, w, field, "incomplete range:", item);
        if ((rc = parse_addr(out->lo, &out->family, a, w, field)) < 0 ||
            (rc = parse_addr(out->hi, &family2, b, w, field)) < 0)
            return rc;
        if (family2 != out->family)
            return fail(PKTCAP_E_INVAL, w, field, "range mixes IPv4 and IPv6:", item);
        if (memcmp(out->lo, out->hi, out->family == 4 ? 4 : 16) > 0)
            return fail(PKTCAP_E_INVAL, w, field,
                        "reversed range (the first address exceeds the last):", item);
    }
    return 0;
}

int pktcap__filter_parse_address_item(pf_addr *out, int field, const char *first,
                                      const char *last)
{
    where w;
    span a = { first, strlen(first) };
    int rc;
    where_init(&w, NULL);
    if (!last)
        return parse_addr_item(out, a, &w, field);
    {
        /* first-last given apart: the same checks as the text "first-last". */
        span b = { last, strlen(last) };
        uint8_t family2;
        if (memchr(first, '/', a.n) || memchr(last, '/', b.n))
            return pktcap__error_set(PKTCAP_E_INVAL, "%s: a range's ends are addresses, "
                                     "not CIDR blocks: \"%s\" - \"%s\"",
                                     pktcap__filter_field_name(field), first, last);
        if ((rc = parse_addr(out->lo, &out->family, a, &w, field)) < 0 ||
            (rc = parse_addr(out->hi, &family2, b, &w, field)) < 0)
            return rc;
        if (family2 != out->family)
            return pktcap__error_set(PKTCAP_E_INVAL, "%s: range mixes IPv4 and IPv6: "
                                     "\"%s-%s\"", pktcap__filter_field_name(field), first, last);
        if (memcmp(out->lo, out->hi, out->family == 4 ? 4 : 16) > 0)
            return pktcap__error_set(PKTCAP_E_INVAL, "%s: reversed range (the first address "
                                     "exceeds the last): \"%s-%s\"",
                                     pktcap__filter_field_name(field), first, last);
    }
    return 0;
}

/* ---- fields -------------------------------------------------------------- */

int pktcap__filter_parse_field(pf_field *out, int field, const char *text, size_t len,
                               const char *rule_label)
{
    span all = { text, len };
    size_t start = 0;
    where w;
    int rc = 0;
    where_init(&w, rule_label);
    memset(out, 0, sizeof *out);
    if (len == 0)
        return fail(PKTCAP_E_INVAL, &w, field, "empty value", all);
    while (start < len) {
        const char *semi = memchr(text + start, ';', len - start);
        span item = { text + start, semi ? (size_t)(semi - (text + start)) : len - start };
        union { pf_addr a; pf_port p; } v;
        if (item.n == 0) {
            rc = fail(PKTCAP_E_INVAL, &w, field,
                      "empty list item (only a trailing ';' may end a list) in", all);
            break;
        }
        rc = pf_field_is_addr(field) ? parse_addr_item(&v.a, item, &w, field)
                                     : parse_port_item(&v.p, item, &w, field);
        if (rc < 0)
            break;
        if ((rc = pktcap__field_push(out, field, &v)) < 0) {
            if (rc == PKTCAP_E_LIMIT)
                rc = pktcap__error_set(PKTCAP_E_LIMIT, "%s%s: more than %d items in a field",
                                       w.text, pktcap__filter_field_name(field),
                                       PKTCAP_FILTER_MAX_ITEMS);
            break;
        }
        start += item.n + 1;   /* past the ';' (or the end) */
    }
    if (rc < 0)
        pktcap__field_free_items(out);
    return rc;
}

/* ---- the one-line syntax ------------------------------------------------- */

static const struct key {
    const char *name;
    int field;             /* -1 = protocol */
} keys[] = {
    { "proto", -1 },        { "protocol", -1 },
    { "local", PKTCAP_FILTER_LOCAL_ADDRESS },  { "localIPAddress", PKTCAP_FILTER_LOCAL_ADDRESS },
    { "remote", PKTCAP_FILTER_REMOTE_ADDRESS }, { "remoteIPAddress", PKTCAP_FILTER_REMOTE_ADDRESS },
    { "local_port", PKTCAP_FILTER_LOCAL_PORT }, { "localPort", PKTCAP_FILTER_LOCAL_PORT },
    { "remote_port", PKTCAP_FILTER_REMOTE_PORT }, { "remotePort", PKTCAP_FILTER_REMOTE_PORT },
};

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int span_is(span s, const char *word)
{
    return strlen(word) == s.n && strncasecmp(s.p, word, s.n) == 0;
}

static int parse_protocol(int *out, span v, const where *w)
{
    if (span_is(v, "tcp"))
        *out = PKTCAP_FILTER_TCP;
    else if (span_is(v, "udp"))
        *out = PKTCAP_FILTER_UDP;
    else if (span_is(v, "any"))
        *out = PKTCAP_FILTER_ANY;
    else
        return pktcap__error_set(PKTCAP_E_INVAL, "%sproto: unknown protocol " SPAN_FMT
                                 " (expected tcp, udp or any)", w->text, SPAN_ARG(v));
    return 0;
}

/* Apply one "key=value" term to rule r; `seen` collects the keys given so far. */
static int parse_term(pf_rule *r, unsigned *seen, span term, const char *label)
{
    const char *eq = memchr(term.p, '=', term.n);
    span k, v;
    size_t i;
    int field;
    unsigned bit;
    where w;
    where_init(&w, label);
    if (!eq)
        return pktcap__error_set(PKTCAP_E_INVAL, "%sexpected key=value, got " SPAN_FMT
                                 " (keys: proto, local, remote, local_port, remote_port)",
                                 w.text, SPAN_ARG(term));
    k.p = term.p;
    k.n = (size_t)(eq - term.p);
    v.p = eq + 1;
    v.n = term.n - k.n - 1;
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (span_is(k, keys[i].name))
            break;
    if (i == sizeof keys / sizeof keys[0])
        return pktcap__error_set(PKTCAP_E_INVAL, "%sunknown key " SPAN_FMT
                                 " (keys: proto, local, remote, local_port, remote_port)",
                                 w.text, SPAN_ARG(k));
    field = keys[i].field;
    bit = 1u << (field + 1);
    if (*seen & bit)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s%s given twice", w.text,
                                 field < 0 ? "proto" : pktcap__filter_field_name(field));
    *seen |= bit;
    if (field < 0)
        return parse_protocol(&r->proto, v, &w);
    return pktcap__filter_parse_field(&r->field[field], field, v.p, v.n, label);
}

static int parse_rules(pktcap_filter *f, const char *text)
{
    const char *p = text;
    int expect_rule = 1;     /* at the start, or just after "or" */
    unsigned seen = 0;
    char label[32] = "";
    int rc;
    for (;;) {
        span word;
        while (is_blank(*p))
            p++;
        if (!*p)
            break;
        word.p = p;
        while (*p && !is_blank(*p))
            p++;
        word.n = (size_t)(p - word.p);
        if (span_is(word, "or")) {
            if (expect_rule)
                return pktcap__error_set(PKTCAP_E_INVAL, "empty rule before \"or\" "
                                         "(rule %zu)", f->nrules + 1);
            expect_rule = 1;
            continue;
        }
        if (expect_rule) {
            if ((rc = pktcap__filter_append_rule(f, PKTCAP_FILTER_ANY)) < 0)
                return rc;
            seen = 0;
            expect_rule = 0;
            snprintf(label, sizeof label, "rule %zu", f->nrules);
        }
        rc = parse_term(&f->rules[f->nrules - 1], &seen, word, label);
        if (rc < 0)
            return rc;
    }
    if (expect_rule && f->nrules)
        return pktcap__error_set(PKTCAP_E_INVAL, "empty rule after \"or\" (rule %zu)",
                                 f->nrules + 1);
    return 0;
}

PKTCAP_API int pktcap_filter_parse(pktcap_filter **out, const char *text)
{
    pktcap_filter *f;
    const char *p;
    int rc;
    if (!out || !text)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_parse: %s is NULL",
                                 out ? "text" : "out");
    for (p = text; is_blank(*p); p++)
        ;
    if (strncasecmp(p, "bpf:", 4) == 0)
        return pktcap_filter_new_bpf(out, p + 4);
    if ((rc = pktcap_filter_new(&f)) < 0)
        return rc;
    rc = parse_rules(f, text);
    if (rc < 0) {
        pktcap_filter_free(f);
        return rc;
    }
    *out = f;
    return 0;
}
