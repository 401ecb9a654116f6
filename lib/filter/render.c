/* render.c — a filter as text: the one-line syntax (pktcap_filter_to_string,
 * pktcap_filter_field), Azure's filters[] JSON, Cloudflare's filter_v1 JSON and
 * the SD-WAN filter_str. The BPF rendering is in bpf.c. */
#include "filter/filter.h"

#include <jansson.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/strbuf.h"

/* ---- field notation ------------------------------------------------------ */

enum notation {
    NOTE_PKTCAP,   /* our syntax: CIDR where exact, ';' between items */
    NOTE_AZURE     /* Azure: ranges spelled out, a list ends in ';' */
};

static void put_addr_item(pktcap__strbuf *b, const pf_addr *a, enum notation how)
{
    char lo[64], hi[64];
    unsigned prefix;
    int single = memcmp(a->lo, a->hi, 16) == 0;
    pktcap__filter_addr_str(lo, sizeof lo, a->family, a->lo);
    pktcap__strbuf_puts(b, lo);
    if (single)
        return;
    if (how == NOTE_PKTCAP && pktcap__filter_range_is_cidr(a, &prefix)) {
        pktcap__strbuf_printf(b, "/%u", prefix);
        return;
    }
    pktcap__filter_addr_str(hi, sizeof hi, a->family, a->hi);
    pktcap__strbuf_printf(b, "-%s", hi);
}

static void put_port_item(pktcap__strbuf *b, const pf_port *p)
{
    if (p->lo == p->hi)
        pktcap__strbuf_printf(b, "%u", (unsigned)p->lo);
    else
        pktcap__strbuf_printf(b, "%u-%u", (unsigned)p->lo, (unsigned)p->hi);
}

static void put_field(pktcap__strbuf *b, const pf_field *fl, int field, enum notation how)
{
    size_t i;
    for (i = 0; i < fl->n; i++) {
        if (i)
            pktcap__strbuf_puts(b, ";");
        if (pf_field_is_addr(field))
            put_addr_item(b, &fl->u.addr[i], how);
        else
            put_port_item(b, &fl->u.port[i]);
    }
    if (how == NOTE_AZURE && fl->n > 1)
        pktcap__strbuf_puts(b, ";");
}

static const char *proto_word(int proto)
{
    return proto == PKTCAP_FILTER_TCP ? "tcp" : proto == PKTCAP_FILTER_UDP ? "udp" : "any";
}

PKTCAP_API int pktcap_filter_field(char **out, const pktcap_filter *f, size_t rule, int field)
{
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    if (!out || !f)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_field: %s is NULL",
                                 out ? "filter" : "out");
    if (rule >= f->nrules)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_field: no rule %zu "
                                 "(the filter has %zu)", rule, f->nrules);
    if (field < 0 || field >= PF_FIELDS)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_field: unknown field %d "
                                 "(expected 0 … 3)", field);
    put_field(&b, &f->rules[rule].field[field], field, NOTE_PKTCAP);
    return pktcap__strbuf_finish(out, &b);
}

PKTCAP_API int pktcap_filter_to_string(char **out, const pktcap_filter *f)
{
    pktcap__strbuf b = PKTCAP__STRBUF_INIT;
    size_t i;
    int k;
    if (!out || !f)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_to_string: %s is NULL",
                                 out ? "filter" : "out");
    if (f->bpf) {
        pktcap__strbuf_puts(&b, "bpf:");
        pktcap__strbuf_puts(&b, f->bpf);
        return pktcap__strbuf_finish(out, &b);
    }
    for (i = 0; i < f->nrules; i++) {
        const pf_rule *r = &f->rules[i];
        int first = 1;
        if (i)
            pktcap__strbuf_puts(&b, " or ");
        if (r->proto != PKTCAP_FILTER_ANY || pf_rule_is_all(r)) {
            pktcap__strbuf_puts(&b, "proto=");
            pktcap__strbuf_puts(&b, proto_word(r->proto));
            first = 0;
        }
        for (k = 0; k < PF_FIELDS; k++) {
            if (!r->field[k].n)
                continue;
            if (!first)
                pktcap__strbuf_puts(&b, " ");
            first = 0;
            pktcap__strbuf_puts(&b, pktcap__filter_field_name(k));
            pktcap__strbuf_puts(&b, "=");
            put_field(&b, &r->field[k], k, NOTE_PKTCAP);
        }
    }
    return pktcap__strbuf_finish(out, &b);
}

/* ---- JSON renderings ----------------------------------------------------- */

/* Serialize compactly, keys in insertion order, into a pktcap-allocated string. */
static int json_finish(char **out, json_t *j)
{
    char *text, *copy;
    if (!j)
        return pktcap__error_set(PKTCAP_E_NOMEM, "out of memory building JSON");
    text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!text)
        return pktcap__error_set(PKTCAP_E_NOMEM, "out of memory building JSON");
    copy = pktcap__strdup(text);
    free(text);
    if (!copy)
        return PKTCAP_E_NOMEM;
    *out = copy;
    return 0;
}

/* Set obj[key] = value (stolen); returns -1 on allocation failure. */
static int jset(json_t *obj, const char *key, json_t *value)
{
    return value ? json_object_set_new(obj, key, value) : -1;
}

static int refuse_bpf(const pktcap_filter *f, const char *provider)
{
    return pktcap__error_set(PKTCAP_E_NOTSUP, "%s cannot run a raw BPF expression (\"%.80s\"); "
                             "write the filter as rules", provider, f->bpf);
}

/* Azure: one range, or a list of single values, per field. */
static int azure_field_ok(const pf_field *fl, int field, size_t rule)
{
    size_t i, ranges = 0;
    for (i = 0; i < fl->n; i++) {
        int single = pf_field_is_addr(field)
                         ? memcmp(fl->u.addr[i].lo, fl->u.addr[i].hi, 16) == 0
                         : fl->u.port[i].lo == fl->u.port[i].hi;
        ranges += !single;
    }
    if (fl->n > 1 && ranges)
        return pktcap__error_set(PKTCAP_E_NOTSUP, "Azure accepts one range or a list of single "
                                 "values per field; rule %zu %s has %zu items, %zu of them "
                                 "ranges", rule + 1, pktcap__filter_field_name(field), fl->n,
                                 ranges);
    return 0;
}

static const char *const azure_keys[PF_FIELDS] = {
    "localIPAddress", "remoteIPAddress", "localPort", "remotePort"
};

PKTCAP_API int pktcap_filter_to_azure(char **out, const pktcap_filter *f)
{
    /* The order of the request example in Azure's documentation. */
    static const int order[PF_FIELDS] = {
        PKTCAP_FILTER_LOCAL_ADDRESS, PKTCAP_FILTER_LOCAL_PORT,
        PKTCAP_FILTER_REMOTE_ADDRESS, PKTCAP_FILTER_REMOTE_PORT
    };
    json_t *arr;
    size_t i;
    int k, rc;
    if (!out || !f)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_to_azure: %s is NULL",
                                 out ? "filter" : "out");
    if (f->bpf)
        return refuse_bpf(f, "Azure Network Watcher");
    for (i = 0; i < f->nrules; i++)
        for (k = 0; k < PF_FIELDS; k++)
            if ((rc = azure_field_ok(&f->rules[i].field[k], k, i)) < 0)
                return rc;
    arr = json_array();
    if (!arr)
        return json_finish(out, NULL);
    if (pktcap__filter_matches_all(f))   /* no filters: Azure captures everything */
        return json_finish(out, arr);
    for (i = 0; i < f->nrules; i++) {
        const pf_rule *r = &f->rules[i];
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o) < 0)
            goto nomem;
        if (jset(o, "protocol", json_string(r->proto == PKTCAP_FILTER_TCP   ? "TCP"
                                            : r->proto == PKTCAP_FILTER_UDP ? "UDP"
                                                                            : "Any")) < 0)
            goto nomem;
        for (k = 0; k < PF_FIELDS; k++) {
            const pf_field *fl = &r->field[order[k]];
            pktcap__strbuf b = PKTCAP__STRBUF_INIT;
            json_t *s;
            if (!fl->n)
                continue;
            put_field(&b, fl, order[k], NOTE_AZURE);
            s = b.failed ? NULL : json_string(b.p);
            pktcap__strbuf_free(&b);
            if (jset(o, azure_keys[order[k]], s) < 0)
                goto nomem;
        }
    }
    return json_finish(out, arr);
nomem:
    json_decref(arr);
    return json_finish(out, NULL);
}

/* Cloudflare: one rule, one single value per field. */
static int cloudflare_field(json_t *o, const pf_field *fl, int field, const char *key)
{
    char text[64];
    if (!fl->n)
        return 0;
    if (fl->n > 1) {
        pktcap__strbuf b = PKTCAP__STRBUF_INIT;
        put_field(&b, fl, field, NOTE_PKTCAP);
        pktcap__error_set(PKTCAP_E_NOTSUP, "Cloudflare filter_v1 holds one value per field; "
                          "%s has %zu (%.80s)", pktcap__filter_field_name(field), fl->n,
                          b.p ? b.p : "");
        pktcap__strbuf_free(&b);
        return PKTCAP_E_NOTSUP;
    }
    if (pf_field_is_addr(field)) {
        const pf_addr *a = &fl->u.addr[0];
        if (memcmp(a->lo, a->hi, 16) != 0) {
            pktcap__strbuf b = PKTCAP__STRBUF_INIT;
            put_field(&b, fl, field, NOTE_PKTCAP);
            pktcap__error_set(PKTCAP_E_NOTSUP, "Cloudflare filter_v1 holds single addresses; "
                              "%s is a range (%s)", pktcap__filter_field_name(field),
                              b.p ? b.p : "");
            pktcap__strbuf_free(&b);
            return PKTCAP_E_NOTSUP;
        }
        pktcap__filter_addr_str(text, sizeof text, a->family, a->lo);
        return jset(o, key, json_string(text)) < 0 ? PKTCAP_E_NOMEM : 0;
    }
    if (fl->u.port[0].lo != fl->u.port[0].hi)
        return pktcap__error_set(PKTCAP_E_NOTSUP, "Cloudflare filter_v1 holds single ports; "
                                 "%s is a range (%u-%u)", pktcap__filter_field_name(field),
                                 (unsigned)fl->u.port[0].lo, (unsigned)fl->u.port[0].hi);
    return jset(o, key, json_integer(fl->u.port[0].lo)) < 0 ? PKTCAP_E_NOMEM : 0;
}

PKTCAP_API int pktcap_filter_to_cloudflare(char **out, const pktcap_filter *f)
{
    json_t *o;
    const pf_rule *r;
    int rc;
    if (!out || !f)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_to_cloudflare: %s is NULL",
                                 out ? "filter" : "out");
    if (f->bpf)
        return refuse_bpf(f, "Cloudflare Magic Transit");
    if (pktcap__filter_matches_all(f))
        return json_finish(out, json_object());
    if (f->nrules > 1)
        return pktcap__error_set(PKTCAP_E_NOTSUP, "Cloudflare filter_v1 holds one rule; this "
                                 "filter has %zu", f->nrules);
    r = &f->rules[0];
    o = json_object();
    if (!o)
        return json_finish(out, NULL);
    /* Magic Transit sees traffic arriving at the customer's network: remote is
     * the source, local the destination. Keys in the documentation's order. */
    if ((rc = cloudflare_field(o, &r->field[PKTCAP_FILTER_LOCAL_ADDRESS],
                               PKTCAP_FILTER_LOCAL_ADDRESS, "destination_address")) < 0 ||
        (rc = cloudflare_field(o, &r->field[PKTCAP_FILTER_LOCAL_PORT],
                               PKTCAP_FILTER_LOCAL_PORT, "destination_port")) < 0)
        goto fail;
    if (r->proto != PKTCAP_FILTER_ANY && jset(o, "protocol", json_integer(r->proto)) < 0) {
        rc = PKTCAP_E_NOMEM;
        goto fail;
    }
    if ((rc = cloudflare_field(o, &r->field[PKTCAP_FILTER_REMOTE_ADDRESS],
                               PKTCAP_FILTER_REMOTE_ADDRESS, "source_address")) < 0 ||
        (rc = cloudflare_field(o, &r->field[PKTCAP_FILTER_REMOTE_PORT],
                               PKTCAP_FILTER_REMOTE_PORT, "source_port")) < 0)
        goto fail;
    return json_finish(out, o);
fail:
    json_decref(o);
    if (rc == PKTCAP_E_NOMEM)
        return json_finish(out, NULL);
    return rc;
}

PKTCAP_API int pktcap_filter_to_sdwan(char **out, const pktcap_filter *f)
{
    if (!out || !f)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_filter_to_sdwan: %s is NULL",
                                 out ? "filter" : "out");
    if (f->bpf) {
        char *copy = pktcap__strdup(f->bpf);
        if (!copy)
            return PKTCAP_E_NOMEM;
        *out = copy;
        return 0;
    }
    /* The appliance runs a tcpdump-style filter on its live (Ethernet)
     * interfaces: the plain rules, as people write them. */
    return pktcap__filter_to_bpf_live(out, f, 1);
}
