/* local.c — the `local:` provider: capture on this host with libpcap.
 *
 * One session = one or more live pcap handles (the target: one interface,
 * a comma-separated list, or `any`), one capture thread, one writer on the
 * session's storage (or on an internal `mem:` target kept for fetch()).
 *
 * The capture thread owns the handles and the writer from start() until it
 * ends the session; it reports through the pktcap__session_* functions. It
 * polls every handle's selectable descriptor plus an eventfd (stop, free),
 * with poll's timeout serving the time limit, the statistics refresh and the
 * release of held packets.
 *
 * Semantics (doc/sessions.md has the user's version):
 *
 * - Limits are checked packet by packet on what is written: the packet
 *   limit ends the session right after its Nth packet; the byte limit
 *   counts captured bytes (the sum of caplen, after the snaplen cut — packet
 *   data only, no file headers): a packet that would take the sum past the
 *   limit is not written, and reaching the limit exactly also ends it. The
 *   time limit counts from start() (monotonic clock). Each ends the session
 *   COMPLETE with the stop reason "packet limit", "byte limit" or
 *   "time limit". The snaplen cuts packets and never ends a session.
 * - stop() wakes the thread, which then writes what the kernel captured up
 *   to the moment stop() was called (packets stamped later are skipped; it
 *   waits up to timeout_ms + 5 ms for the kernel's last block; limits still
 *   apply), writes the statistics, closes the file and ends STOPPED
 *   ("stopped"); stop() returns after that, with the file complete. A time
 *   limit ends the same way (cut-off: start + limit); a packet or byte
 *   limit ends at once and later packets are not written.
 * - Delivery: not libpcap's immediate mode by default (setting `immediate`)
 *   but TPACKET_V3 blocks closed after `timeout_ms` (default 50): immediate
 *   mode's TPACKET_V2 ring has one slot per packet sized for the MTU, about
 *   60 slots in 4 MiB on lo, and loses most of any burst there.
 * - Several interfaces: one pcapng file, one IDB per interface (in target
 *   order). Packets are held REORDER_WINDOW_MS after they are read and
 *   written in timestamp order, so the file is time-ordered unless a ring
 *   falls more than the window behind; limits, statistics and the packet
 *   callback apply when a packet is written. A single interface is written
 *   as libpcap delivers it, with no delay.
 * - Drops: pcap_stats() every STATS_INTERVAL_MS and at the end:
 *   PKTCAP_STAT_DROPPED is the sum of ps_drop (the kernel ring was full),
 *   PKTCAP_STAT_IF_DROPPED the sum of ps_ifdrop (the interface dropped);
 *   each interface's ISB gets isb_ifrecv = ps_recv and
 *   isb_ifdrop = ps_drop + ps_ifdrop.
 */
#include "backends/backend.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/uri.h"
#include "filter/filter.h"
#include "storage/storage.h"

#define DEFAULT_BUFFER_SIZE ((uint64_t)4 << 20)
#define DEFAULT_TIMEOUT_MS 50u
#define MIN_BUFFER_SIZE ((uint64_t)64 << 10)
#define MAX_BUFFER_SIZE ((uint64_t)2047 << 20)
#define MAX_SNAPLEN 262144u
/* Packets read per pcap_dispatch call: the thread checks for stop between
 * batches even under a flood. */
#define DISPATCH_BATCH 1024
/* Several interfaces: how long a packet is held for time ordering. */
#define REORDER_WINDOW_MS 100
/* ... and the most held at once (beyond it the oldest are written early). */
#define REORDER_MAX_PACKETS 65536u
#define REORDER_MAX_BYTES ((size_t)64 << 20)
#define STATS_INTERVAL_MS 1000
/* How many packets the end-of-capture drain reads per interface at most. */
#define DRAIN_MAX 1000000

/* ---- settings -------------------------------------------------------------- */

typedef struct local_settings {
    uint64_t buffer_size;
    int promisc;
    int immediate;
    uint64_t timeout_ms;
} local_settings;

typedef struct local_provider {
    local_settings defaults;
} local_provider;

static int apply_setting(local_settings *cfg, const char *who, const char *key,
                         const char *value)
{
    char what[96];
    snprintf(what, sizeof what, "%s setting '%s'", who, key);
    if (strcmp(key, "buffer_size") == 0)
        return pktcap__parse_u64(&cfg->buffer_size, what, value, MIN_BUFFER_SIZE,
                                 MAX_BUFFER_SIZE);
    if (strcmp(key, "promisc") == 0)
        return pktcap__parse_bool(&cfg->promisc, what, value);
    if (strcmp(key, "immediate") == 0)
        return pktcap__parse_bool(&cfg->immediate, what, value);
    if (strcmp(key, "timeout_ms") == 0)
        return pktcap__parse_u64(&cfg->timeout_ms, what, value, 1, 10000);
    return pktcap__error_set(PKTCAP_E_INVAL, "unknown %s \"%.60s\" (known: buffer_size, "
                             "promisc, immediate, timeout_ms)", who, key);
}

/* ---- per-session state ----------------------------------------------------- */

typedef struct local_session local_session;

typedef struct local_if {
    local_session *ls;
    char *name;
    pcap_t *pcap;
    int fd;
    uint32_t linktype;
    uint32_t snaplen;
    int nsec;                 /* timestamps in nanoseconds (else microseconds) */
    uint32_t index;           /* writer interface index */
    struct pcap_stat stats;   /* last pcap_stats() */
    int have_stats;
    unsigned ifindex;         /* the interface's index when opened; 0: none (any) */
} local_if;

/* A packet held for time ordering (several interfaces). */
typedef struct held_packet {
    uint64_t ts_ns;
    uint64_t seq;             /* read order: ties keep it */
    int64_t read_ms;
    uint32_t iface, caplen, len;
    uint8_t data[];
} held_packet;

enum { END_NONE = 0, END_STOP, END_PACKETS, END_BYTES, END_TIME, END_FAIL };

struct local_session {
    pktcap_session *s;
    local_settings cfg;
    local_if *ifs;
    size_t nifs;
    pktcap_storage *mem;      /* internal target when the session has none */
    pktcap_storage *out;      /* where the writer writes */
    pktcap_writer *writer;
    int wake_fd;
    pthread_t thread;
    int thread_started, joined;
    int stop_requested;       /* atomic */
    int deleted;

    /* Capture thread only. */
    int end;                  /* END_* once decided */
    int full;                 /* a limit was reached or writing failed: write no more */
    pcap_t *dispatching;      /* the handle in pcap_dispatch, for breakloop */
    uint64_t packets, bytes, wire;
    uint64_t pub_packets, pub_bytes, pub_wire;   /* already added to the session */
    int64_t deadline_ms;      /* 0 = no time limit (monotonic) */
    uint64_t time_cutoff_ns;  /* packets stamped later are not written (time limit) */
    uint64_t stop_cutoff_ns;  /* the same for stop(): CLOCK_REALTIME when it was called; atomic */
    char error_text[512];

    held_packet **heap;
    size_t nheld, heap_cap, held_bytes;
    uint64_t seq;
};

/* ---- helpers ----------------------------------------------------------------- */

/* libpcap's DLT_ values equal the LINKTYPE_ values written in files except
 * for a few historical ones that differ between operating systems. */
static uint32_t dlt_to_linktype(int dlt)
{
    switch (dlt) {
    case DLT_RAW:
        return 101;   /* LINKTYPE_RAW: DLT_RAW is 12 or 14 depending on the OS */
#ifdef DLT_ATM_RFC1483
    case DLT_ATM_RFC1483:
        return 100;
#endif
#ifdef DLT_SLIP_BSDOS
    case DLT_SLIP_BSDOS:
        return 102;
#endif
#ifdef DLT_PPP_BSDOS
    case DLT_PPP_BSDOS:
        return 103;
#endif
#ifdef DLT_ATM_CLIP
    case DLT_ATM_CLIP:
        return 106;
#endif
    default:
        return (uint32_t)dlt;
    }
}

/* "lo, eth0, any" from pcap_findalldevs, for messages; "" if it fails. */
static void available_interfaces(char *buf, size_t size)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_if_t *all = NULL, *d;
    size_t used = 0;
    buf[0] = '\0';
    if (pcap_findalldevs(&all, errbuf) != 0)
        return;
    for (d = all; d; d = d->next) {
        int n = snprintf(buf + used, size - used, "%s%s", used ? ", " : "", d->name);
        if (n < 0 || (size_t)n >= size - used) {
            if (size > 4)
                memcpy(buf + size - 4, "...", 4);
            break;
        }
        used += (size_t)n;
    }
    pcap_freealldevs(all);
}

static int interface_listed(const char *name)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_if_t *all = NULL, *d;
    int found = -1;   /* unknown when the list cannot be had */
    if (pcap_findalldevs(&all, errbuf) != 0)
        return found;
    found = 0;
    for (d = all; d; d = d->next)
        if (strcmp(d->name, name) == 0)
            found = 1;
    pcap_freealldevs(all);
    return found;
}

static int no_such_interface(const char *name)
{
    char list[512];
    available_interfaces(list, sizeof list);
    return pktcap__error_set(PKTCAP_E_NOTFOUND, "no interface \"%.64s\" (available: %s)", name,
                             *list ? list : "none found");
}

static int64_t mono_ms(void)
{
    return pktcap__now_ms();
}

static uint64_t realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- provider -------------------------------------------------------------- */

static void default_settings(local_settings *cfg)
{
    cfg->buffer_size = DEFAULT_BUFFER_SIZE;
    cfg->promisc = 0;
    cfg->immediate = 0;
    cfg->timeout_ms = DEFAULT_TIMEOUT_MS;
}

static int local_provider_open(pktcap_provider *p, const pktcap__uri *uri)
{
    local_provider *lp;
    if (uri->authority || (uri->path && *uri->path))
        return pktcap__error_set(PKTCAP_E_INVAL, "the local provider URI is \"local:\" "
                                 "(options as ?key=value), not \"local:%.60s%.60s\"",
                                 uri->authority ? "//" : "", uri->path ? uri->path : "");
    lp = pktcap__calloc(1, sizeof *lp);
    if (!lp)
        return PKTCAP_E_NOMEM;
    default_settings(&lp->defaults);
    p->impl = lp;
    return 0;
}

static int local_provider_set(pktcap_provider *p, const char *key, const char *value)
{
    local_provider *lp = p->impl;
    local_settings cfg = lp->defaults;
    int rc = apply_setting(&cfg, "local provider", key, value);
    if (rc == 0)
        lp->defaults = cfg;
    return rc;
}

static void local_provider_close(pktcap_provider *p)
{
    pktcap__free(p->impl);
    p->impl = NULL;
}

static int local_list_targets(pktcap_provider *p, pktcap_target_list *list)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_if_t *all = NULL, *d;
    int rc = 0;
    (void)p;
    errbuf[0] = '\0';
    if (pcap_findalldevs(&all, errbuf) != 0)
        return pktcap__error_set(PKTCAP_E_IO, "listing network interfaces: %s", errbuf);
    for (d = all; d && rc == 0; d = d->next) {
        uint32_t flags = 0;
        if (d->flags & PCAP_IF_LOOPBACK)
            flags |= PKTCAP_TARGET_LOOPBACK;
#ifdef PCAP_IF_UP
        if (d->flags & PCAP_IF_UP)
            flags |= PKTCAP_TARGET_UP;
#endif
#ifdef PCAP_IF_RUNNING
        if (d->flags & PCAP_IF_RUNNING)
            flags |= PKTCAP_TARGET_RUNNING;
#endif
        rc = pktcap__target_list_add(list, d->name, d->description, flags);
    }
    pcap_freealldevs(all);
    return rc;
}

static int local_session_set(pktcap_session *s, const char *key, const char *value)
{
    local_settings cfg;
    default_settings(&cfg);
    (void)s;
    return apply_setting(&cfg, "local session", key, value);
}

/* ---- opening interfaces ---------------------------------------------------- */

static int activate_error(local_if *li, int status)
{
    const char *detail = pcap_geterr(li->pcap);
    char text[PCAP_ERRBUF_SIZE + 64];
    snprintf(text, sizeof text, "%s%s%s", pcap_statustostr(status),
             detail && *detail ? ": " : "", detail && *detail ? detail : "");
    switch (status) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
        return no_such_interface(li->name);
    case PCAP_ERROR_PERM_DENIED:
        if (interface_listed(li->name) == 0)
            return no_such_interface(li->name);
        return pktcap__error_set(PKTCAP_E_PERM, "capturing on \"%s\" needs root or the "
                                 "CAP_NET_RAW capability (libpcap: %s)", li->name, text);
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        return pktcap__error_set(PKTCAP_E_PERM, "promiscuous mode on \"%s\" needs root or the "
                                 "CAP_NET_ADMIN capability (libpcap: %s)", li->name, text);
    case PCAP_ERROR_IFACE_NOT_UP:
        return pktcap__error_set(PKTCAP_E_IO, "cannot capture on \"%s\": the interface is "
                                 "down", li->name);
    default:
        return pktcap__error_set(PKTCAP_E_IO, "cannot capture on \"%s\": %s", li->name, text);
    }
}

static int install_filter(local_if *li, const pktcap_filter *f)
{
    struct bpf_program prog;
    char *rendered = NULL;
    const char *expr = NULL;
    int rc;
    if (!f)
        return 0;
    expr = pktcap_filter_bpf_expression(f);
    if (!expr) {
        if ((rc = pktcap__filter_to_bpf_live(&rendered, f, li->linktype)) < 0)
            return rc;
        expr = rendered;
    }
    if (!*expr) {   /* matches everything */
        pktcap_free(rendered);
        return 0;
    }
    pktcap__pcap_lock();
    rc = pcap_compile(li->pcap, &prog, expr, 1, PCAP_NETMASK_UNKNOWN);
    pktcap__pcap_unlock();
    if (rc != 0) {
        rc = pktcap__error_set(rendered ? PKTCAP_E_NOTSUP : PKTCAP_E_INVAL,
                               "the filter \"%.200s\" does not compile for \"%s\" (link type "
                               "%s): %s", expr, li->name,
                               pktcap_linktype_name(li->linktype)
                                   ? pktcap_linktype_name(li->linktype) : "?",
                               pcap_geterr(li->pcap));
        pktcap_free(rendered);
        return rc;
    }
    rc = pcap_setfilter(li->pcap, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
        rc = pktcap__error_set(PKTCAP_E_IO, "installing the filter \"%.200s\" on \"%s\": %s",
                               expr, li->name, pcap_geterr(li->pcap));
        pktcap_free(rendered);
        return rc;
    }
    pktcap_free(rendered);
    return 0;
}

static int open_interface(local_if *li, const pktcap_session *s, const local_settings *cfg)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    uint32_t snaplen = s->snaplen ? s->snaplen : MAX_SNAPLEN;
    int status;
    errbuf[0] = '\0';
    if (snaplen > MAX_SNAPLEN)
        snaplen = MAX_SNAPLEN;
    li->pcap = pcap_create(li->name, errbuf);
    if (!li->pcap)
        return pktcap__error_set(PKTCAP_E_IO, "cannot capture on \"%s\": %s", li->name, errbuf);
    pcap_set_snaplen(li->pcap, (int)snaplen);
    pcap_set_promisc(li->pcap, cfg->promisc);
    if (cfg->immediate)
        pcap_set_immediate_mode(li->pcap, 1);
    else
        pcap_set_timeout(li->pcap, (int)cfg->timeout_ms);
    pcap_set_buffer_size(li->pcap, (int)cfg->buffer_size);
    pcap_set_tstamp_precision(li->pcap, PCAP_TSTAMP_PRECISION_NANO);  /* micro if refused */
    status = pcap_activate(li->pcap);
    if (status < 0)
        return activate_error(li, status);
    li->nsec = pcap_get_tstamp_precision(li->pcap) == PCAP_TSTAMP_PRECISION_NANO;
    li->linktype = dlt_to_linktype(pcap_datalink(li->pcap));
    li->snaplen = (uint32_t)pcap_snapshot(li->pcap);
    if (pcap_setnonblock(li->pcap, 1, errbuf) != 0)
        return pktcap__error_set(PKTCAP_E_IO, "cannot capture on \"%s\": %s", li->name, errbuf);
    li->fd = pcap_get_selectable_fd(li->pcap);
    if (li->fd < 0)
        return pktcap__error_set(PKTCAP_E_NOTSUP, "cannot capture on \"%s\": libpcap gives no "
                                 "descriptor to wait on", li->name);
    li->ifindex = if_nametoindex(li->name);
    return install_filter(li, s->filter);
}

/* Splits the target into interface names: "eth0", "eth0,eth1", "any". */
static int split_target(local_session *ls, const char *target)
{
    const char *p = target;
    size_t n = 1, i;
    for (i = 0; target[i]; i++)
        n += target[i] == ',';
    ls->ifs = pktcap__calloc(n, sizeof *ls->ifs);
    if (!ls->ifs)
        return PKTCAP_E_NOMEM;
    for (i = 0; i < n; i++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        size_t j;
        /* "lo, eth0" means lo and eth0: blanks around names are not part of them. */
        while (len && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len == 0)
            return pktcap__error_set(PKTCAP_E_INVAL, "target \"%.100s\": empty interface name "
                                     "in the list", target);
        ls->ifs[i].ls = ls;
        ls->ifs[i].fd = -1;
        if (!(ls->ifs[i].name = pktcap__strndup(p, len)))
            return PKTCAP_E_NOMEM;
        ls->nifs = i + 1;
        for (j = 0; j < i; j++)
            if (strcmp(ls->ifs[j].name, ls->ifs[i].name) == 0)
                return pktcap__error_set(PKTCAP_E_INVAL, "target \"%.100s\": interface \"%s\" "
                                         "is listed twice", target, ls->ifs[i].name);
        p = comma ? comma + 1 : p + strlen(p);
    }
    return 0;
}

/* ---- writing packets ----------------------------------------------------------- */

static void publish_counts(local_session *ls)
{
    pktcap_session *s = ls->s;
    if (ls->packets != ls->pub_packets) {
        pktcap__session_stat_add(s, PKTCAP_STAT_PACKETS, ls->packets - ls->pub_packets);
        pktcap__session_stat_add(s, PKTCAP_STAT_BYTES, ls->bytes - ls->pub_bytes);
        pktcap__session_stat_add(s, PKTCAP_STAT_WIRE_BYTES, ls->wire - ls->pub_wire);
        ls->pub_packets = ls->packets;
        ls->pub_bytes = ls->bytes;
        ls->pub_wire = ls->wire;
    }
}

/* Records why the capture ends (the first reason wins, except that a failure
 * overrides everything). Limits and failures also end writing at once. */
static void end_capture(local_session *ls, int why)
{
    if (ls->end == END_NONE || why == END_FAIL)
        ls->end = why;
    if (why == END_PACKETS || why == END_BYTES || why == END_FAIL)
        ls->full = 1;
    if (ls->full && ls->dispatching)
        pcap_breakloop(ls->dispatching);
}

/* Writes one packet, applying the limits; the callback sees it. */
static void emit(local_session *ls, uint32_t iface, uint64_t ts_ns, uint32_t caplen,
                 uint32_t len, const uint8_t *data)
{
    pktcap_session *s = ls->s;
    pktcap_packet pkt;
    int rc;
    if (ls->full)
        return;
    if (s->byte_limit && ls->bytes + caplen > s->byte_limit) {
        end_capture(ls, END_BYTES);
        return;
    }
    memset(&pkt, 0, sizeof pkt);
    pkt.struct_size = sizeof pkt;
    pkt.interface = ls->ifs[iface].index;
    pkt.ts_sec = (int64_t)(ts_ns / 1000000000u);
    pkt.ts_nsec = (uint32_t)(ts_ns % 1000000000u);
    pkt.caplen = caplen;
    pkt.len = len < caplen ? caplen : len;
    pkt.linktype = ls->ifs[iface].linktype;
    pkt.data = data;
    rc = pktcap_writer_write(ls->writer, &pkt);
    if (rc < 0) {
        if (rc == PKTCAP_E_INVAL) {
            /* A packet the format cannot hold (a timestamp before 1970…):
             * refused without harm; count nothing. */
            return;
        }
        snprintf(ls->error_text, sizeof ls->error_text, "%s",
                 pktcap_error_message(pktcap_error_last()));
        end_capture(ls, END_FAIL);
        return;
    }
    ls->packets++;
    ls->bytes += caplen;
    ls->wire += pkt.len;
    if (s->packet_cb) {
        pktcap_summary sum;
        memset(&sum, 0, sizeof sum);
        sum.struct_size = sizeof sum;
        pktcap_summarize(&sum, &pkt);
        sum.number = ls->packets;
        s->packet_cb(s, &pkt, &sum, s->packet_userdata);
    }
    if (s->packet_limit && ls->packets >= s->packet_limit)
        end_capture(ls, END_PACKETS);
    else if (s->byte_limit && ls->bytes >= s->byte_limit)
        end_capture(ls, END_BYTES);
}

/* ---- the reorder heap (several interfaces) ----------------------------------- */

static int held_before(const held_packet *a, const held_packet *b)
{
    return a->ts_ns < b->ts_ns || (a->ts_ns == b->ts_ns && a->seq < b->seq);
}

static int heap_push(local_session *ls, held_packet *h)
{
    size_t i;
    if (ls->nheld == ls->heap_cap) {
        held_packet **grown = pktcap__grow(ls->heap, &ls->heap_cap, ls->nheld, sizeof *grown);
        if (!grown)
            return PKTCAP_E_NOMEM;
        ls->heap = grown;
    }
    i = ls->nheld++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!held_before(h, ls->heap[parent]))
            break;
        ls->heap[i] = ls->heap[parent];
        i = parent;
    }
    ls->heap[i] = h;
    ls->held_bytes += h->caplen;
    return 0;
}

static held_packet *heap_pop(local_session *ls)
{
    held_packet *top = ls->heap[0], *last;
    size_t i = 0;
    last = ls->heap[--ls->nheld];
    while (ls->nheld) {
        size_t child = 2 * i + 1;
        if (child >= ls->nheld)
            break;
        if (child + 1 < ls->nheld && held_before(ls->heap[child + 1], ls->heap[child]))
            child++;
        if (!held_before(ls->heap[child], last))
            break;
        ls->heap[i] = ls->heap[child];
        i = child;
    }
    if (ls->nheld)
        ls->heap[i] = last;
    ls->held_bytes -= top->caplen;
    return top;
}

/* Writes the held packets that are due (all of them when `all`). */
static void release_held(local_session *ls, int all)
{
    int64_t now = mono_ms();
    while (ls->nheld) {
        held_packet *h = ls->heap[0];
        if (!all && h->read_ms + REORDER_WINDOW_MS > now && ls->nheld <= REORDER_MAX_PACKETS &&
            ls->held_bytes <= REORDER_MAX_BYTES)
            break;
        heap_pop(ls);
        emit(ls, h->iface, h->ts_ns, h->caplen, h->len, h->data);
        pktcap__free(h);
    }
}

static void discard_held(local_session *ls)
{
    while (ls->nheld)
        pktcap__free(heap_pop(ls));
}

/* ---- the capture thread -------------------------------------------------------- */

static void on_packet(u_char *user, const struct pcap_pkthdr *hdr, const u_char *bytes)
{
    local_if *li = (local_if *)user;
    local_session *ls = li->ls;
    uint64_t ts_ns = (uint64_t)hdr->ts.tv_sec * 1000000000u +
                     (uint64_t)hdr->ts.tv_usec * (li->nsec ? 1u : 1000u);
    if (hdr->ts.tv_sec < 0)
        ts_ns = 0;
    if (ls->time_cutoff_ns && ts_ns > ls->time_cutoff_ns)
        return;   /* captured after the time limit */
    {
        uint64_t stop_ns = __atomic_load_n(&ls->stop_cutoff_ns, __ATOMIC_RELAXED);
        if (stop_ns && ts_ns > stop_ns)
            return;   /* captured after stop() */
    }
    if (ls->nifs == 1) {
        emit(ls, 0, ts_ns, hdr->caplen, hdr->len, bytes);
        return;
    }
    if (ls->full)
        return;
    {
        held_packet *h = pktcap__malloc(sizeof *h + hdr->caplen);
        if (h) {
            h->ts_ns = ts_ns;
            h->seq = ls->seq++;
            h->read_ms = mono_ms();
            h->iface = (uint32_t)(li - ls->ifs);
            h->caplen = hdr->caplen;
            h->len = hdr->len;
            memcpy(h->data, bytes, hdr->caplen);
        }
        if (!h || heap_push(ls, h) < 0) {
            pktcap__free(h);
            snprintf(ls->error_text, sizeof ls->error_text, "out of memory holding packets "
                     "for time ordering");
            end_capture(ls, END_FAIL);
        }
    }
}

static void refresh_stats(local_session *ls)
{
    uint64_t drop = 0, ifdrop = 0;
    size_t i;
    for (i = 0; i < ls->nifs; i++) {
        local_if *li = &ls->ifs[i];
        struct pcap_stat st;
        if (li->pcap && pcap_stats(li->pcap, &st) == 0) {
            li->stats = st;
            li->have_stats = 1;
        }
        drop += li->stats.ps_drop;
        ifdrop += li->stats.ps_ifdrop;
    }
    pktcap__session_stat_set(ls->s, PKTCAP_STAT_DROPPED, drop);
    pktcap__session_stat_set(ls->s, PKTCAP_STAT_IF_DROPPED, ifdrop);
}

/* Whether every interface is still the one opened. The kernel reports an
 * interface that goes away on the capture socket (libpcap: "The interface
 * disappeared"), but not always promptly enough to rely on alone: this check,
 * once a second, ends the capture FAILED with the same words at the latest
 * then. 0, or -1 with the error text set. */
static int interfaces_present(local_session *ls)
{
    size_t i;
    for (i = 0; i < ls->nifs; i++) {
        local_if *li = &ls->ifs[i];
        if (li->ifindex && if_nametoindex(li->name) != li->ifindex) {
            snprintf(ls->error_text, sizeof ls->error_text, "capturing on \"%s\": The interface "
                     "disappeared", li->name);
            return -1;
        }
    }
    return 0;
}

/* Reads what one handle has (up to `max` packets). Returns packets read or
 * a negative value on a capture error (recorded). */
static int dispatch(local_session *ls, local_if *li, int max)
{
    int n;
    ls->dispatching = li->pcap;
    n = pcap_dispatch(li->pcap, max, on_packet, (u_char *)li);
    ls->dispatching = NULL;
    if (n == PCAP_ERROR_BREAK)
        return 0;
    if (n < 0) {
        snprintf(ls->error_text, sizeof ls->error_text, "capturing on \"%s\": %s", li->name,
                 n == PCAP_ERROR ? pcap_geterr(li->pcap) : pcap_statustostr(n));
        end_capture(ls, END_FAIL);
    }
    return n;
}

/* After stop or the time limit: what the kernel captured up to the cutoff
 * (the moment stop() was called, or the end of the time limit), limits
 * applying. Without immediate mode the kernel hands packets over in blocks
 * it closes every timeout_ms, so the drain waits that long (plus a margin)
 * for the block that was open at the cutoff. */
static void drain(local_session *ls, struct pollfd *fds)
{
    int64_t until = mono_ms() + (ls->cfg.immediate ? 0 : (int64_t)ls->cfg.timeout_ms + 5);
    int total = 0;
    size_t i;
    for (;;) {
        int64_t left;
        for (i = 0; i < ls->nifs && !ls->full; i++) {
            int n;
            do {
                n = dispatch(ls, &ls->ifs[i], DISPATCH_BATCH);
                total += n > 0 ? n : 0;
            } while (n == DISPATCH_BATCH && total < DRAIN_MAX && !ls->full);
        }
        left = until - mono_ms();
        if (left <= 0 || ls->full || total >= DRAIN_MAX || !fds)
            break;
        if (poll(fds + 1, (nfds_t)ls->nifs, (int)left) < 0 && errno != EINTR)
            break;
    }
    if (ls->nifs > 1) {
        if (!ls->full)
            release_held(ls, 1);
        discard_held(ls);
    }
}

static void finish(local_session *ls)
{
    pktcap_session *s = ls->s;
    char status[128];
    size_t i;
    int rc;

    publish_counts(ls);
    refresh_stats(ls);
    for (i = 0; i < ls->nifs; i++) {
        local_if *li = &ls->ifs[i];
        if (li->have_stats)
            pktcap_writer_set_interface_stats(ls->writer, li->index, li->stats.ps_recv,
                                              (uint64_t)li->stats.ps_drop +
                                                  li->stats.ps_ifdrop);
        pcap_close(li->pcap);
        li->pcap = NULL;
        li->fd = -1;
    }
    if (ls->end == END_FAIL) {
        pktcap_writer_abort(ls->writer);
        rc = -1;
    } else if ((rc = pktcap_writer_close(ls->writer)) < 0) {
        snprintf(ls->error_text, sizeof ls->error_text, "%s",
                 pktcap_error_message(pktcap_error_last()));
    }
    ls->writer = NULL;
    snprintf(status, sizeof status, "%llu packets captured",
             (unsigned long long)ls->packets);
    if (rc < 0) {
        pktcap__session_set_state(s, PKTCAP_STATE_FAILED, status, ls->error_text);
        return;
    }
    switch (ls->end) {
    case END_PACKETS:
        pktcap__session_set_state(s, PKTCAP_STATE_COMPLETE, status, "packet limit");
        break;
    case END_BYTES:
        pktcap__session_set_state(s, PKTCAP_STATE_COMPLETE, status, "byte limit");
        break;
    case END_TIME:
        pktcap__session_set_state(s, PKTCAP_STATE_COMPLETE, status, "time limit");
        break;
    default:
        pktcap__session_set_state(s, PKTCAP_STATE_STOPPED, status, "stopped");
        break;
    }
}

static void *capture_main(void *arg)
{
    local_session *ls = arg;
    struct pollfd *fds = NULL;
    int64_t next_stats = mono_ms() + STATS_INTERVAL_MS;
    size_t i, nfds = ls->nifs + 1;

    fds = pktcap__calloc(nfds, sizeof *fds);
    if (!fds) {
        snprintf(ls->error_text, sizeof ls->error_text, "out of memory starting the capture");
        end_capture(ls, END_FAIL);
    } else {
        fds[0].fd = ls->wake_fd;
        fds[0].events = POLLIN;
        for (i = 0; i < ls->nifs; i++) {
            fds[i + 1].fd = ls->ifs[i].fd;
            fds[i + 1].events = POLLIN;
        }
    }
    while (ls->end == END_NONE) {
        int64_t now = mono_ms(), timeout = next_stats - now;
        int n;
        if (ls->deadline_ms && ls->deadline_ms - now < timeout)
            timeout = ls->deadline_ms - now;
        if (ls->nheld && timeout > REORDER_WINDOW_MS / 4)
            timeout = REORDER_WINDOW_MS / 4;
        if (timeout < 0)
            timeout = 0;
        n = poll(fds, (nfds_t)nfds, (int)timeout);
        if (n < 0 && errno != EINTR) {
            snprintf(ls->error_text, sizeof ls->error_text, "waiting for packets: %s",
                     strerror(errno));
            end_capture(ls, END_FAIL);
            break;
        }
        if (__atomic_load_n(&ls->stop_requested, __ATOMIC_ACQUIRE)) {
            end_capture(ls, END_STOP);
            break;
        }
        for (i = 0; n > 0 && i < ls->nifs && ls->end == END_NONE; i++) {
            short re = fds[i + 1].revents;
            if (re & (POLLIN | POLLERR | POLLHUP | POLLNVAL)) {
                int got;
                do
                    got = dispatch(ls, &ls->ifs[i], DISPATCH_BATCH);
                while (got == DISPATCH_BATCH && ls->end == END_NONE &&
                       !__atomic_load_n(&ls->stop_requested, __ATOMIC_RELAXED));
            }
        }
        if (ls->nheld && ls->end == END_NONE)
            release_held(ls, 0);
        publish_counts(ls);
        now = mono_ms();
        if (now >= next_stats) {
            refresh_stats(ls);
            next_stats = now + STATS_INTERVAL_MS;
            if (ls->end == END_NONE && interfaces_present(ls) < 0)
                end_capture(ls, END_FAIL);
        }
        if (ls->end == END_NONE && ls->deadline_ms && now >= ls->deadline_ms)
            end_capture(ls, END_TIME);
    }
    if (ls->end == END_STOP || ls->end == END_TIME)
        drain(ls, fds);
    else
        discard_held(ls);
    pktcap__free(fds);
    finish(ls);
    return NULL;
}

/* ---- lifecycle ------------------------------------------------------------------ */

static void close_interfaces(local_session *ls)
{
    size_t i;
    for (i = 0; i < ls->nifs; i++) {
        if (ls->ifs[i].pcap)
            pcap_close(ls->ifs[i].pcap);
        pktcap__free(ls->ifs[i].name);
    }
    pktcap__free(ls->ifs);
    ls->ifs = NULL;
    ls->nifs = 0;
}

/* Joins the capture thread (not from itself: a callback that calls stop()
 * only asks; the thread ends on its own and is joined later). */
static void join_thread(local_session *ls)
{
    if (ls->thread_started && !ls->joined && !pthread_equal(pthread_self(), ls->thread)) {
        pthread_join(ls->thread, NULL);
        ls->joined = 1;
    }
}

static void wake(local_session *ls)
{
    uint64_t one = 1;
    ssize_t w;
    __atomic_store_n(&ls->stop_cutoff_ns, realtime_ns(), __ATOMIC_RELEASE);
    __atomic_store_n(&ls->stop_requested, 1, __ATOMIC_RELEASE);
    do
        w = write(ls->wake_fd, &one, sizeof one);
    while (w < 0 && errno == EINTR);
}

static void local_session_free(pktcap_session *s)
{
    local_session *ls = s->impl;
    if (!ls)
        return;
    if (ls->thread_started && !ls->joined) {
        wake(ls);
        join_thread(ls);
    }
    pktcap_writer_abort(ls->writer);
    close_interfaces(ls);
    discard_held(ls);
    pktcap__free(ls->heap);
    if (ls->wake_fd >= 0)
        close(ls->wake_fd);
    pktcap_storage_free(ls->mem);
    pktcap__free(ls);
    s->impl = NULL;
}

static int start_capture(pktcap_session *s, local_session *ls)
{
    char status[160];
    sigset_t all, old;
    size_t i;
    int rc;

    if ((rc = split_target(ls, s->target)) < 0)
        return rc;
    for (i = 0; i < ls->nifs; i++)
        if ((rc = open_interface(&ls->ifs[i], s, &ls->cfg)) < 0)
            return rc;

    ls->out = s->storage;
    if (!ls->out) {
        if ((rc = pktcap_storage_open(&ls->mem, "mem:")) < 0)
            return rc;
        ls->out = ls->mem;
    }
    rc = pktcap_writer_open(&ls->writer, ls->out,
                            ls->nifs > 1 ? PKTCAP_FORMAT_PCAPNG : PKTCAP_FORMAT_AUTO);
    if (rc < 0)
        return rc;
    for (i = 0; i < ls->nifs; i++) {
        local_if *li = &ls->ifs[i];
        rc = pktcap_writer_add_interface(&li->index, ls->writer, li->linktype, li->snaplen,
                                         li->name, NULL);
        if (rc < 0)
            return rc;
    }
    ls->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ls->wake_fd < 0)
        return pktcap__error_errno(PKTCAP_E_IO, errno, "starting the capture: eventfd");

    snprintf(status, sizeof status, "capturing on %.120s", s->target);
    pktcap__session_set_state(s, PKTCAP_STATE_RUNNING, status, NULL);
    if (s->time_limit_ms) {
        ls->deadline_ms = mono_ms() + (int64_t)s->time_limit_ms;
        ls->time_cutoff_ns = realtime_ns() + s->time_limit_ms * 1000000u;
    }

    /* The capture thread takes no signals: they go to the caller's threads. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&ls->thread, NULL, capture_main, ls);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return pktcap__error_errno(PKTCAP_E_NOMEM, rc, "starting the capture thread");
    ls->thread_started = 1;
    return 0;
}

static int local_start(pktcap_session *s)
{
    local_provider *lp = s->provider->impl;
    local_session *ls;
    size_t i;
    int rc;

    ls = pktcap__calloc(1, sizeof *ls);
    if (!ls)
        return PKTCAP_E_NOMEM;
    ls->s = s;
    ls->wake_fd = -1;
    ls->cfg = lp->defaults;
    for (i = 0; i < s->noptions; i++)
        if ((rc = apply_setting(&ls->cfg, "local session", s->options[i].key,
                                s->options[i].value)) < 0) {
            pktcap__free(ls);
            return rc;
        }
    s->impl = ls;
    /* Every statistic is counted from the first packet on, so zero is a count. */
    pktcap__session_stats_known(s, (1u << PKTCAP_STAT_PACKETS) | (1u << PKTCAP_STAT_BYTES) |
                                       (1u << PKTCAP_STAT_WIRE_BYTES) |
                                       (1u << PKTCAP_STAT_DROPPED) |
                                       (1u << PKTCAP_STAT_IF_DROPPED));
    if ((rc = start_capture(s, ls)) < 0) {
        /* Undo everything: no thread runs. The session becomes FAILED. */
        pktcap_writer_abort(ls->writer);
        ls->writer = NULL;
        close_interfaces(ls);
    }
    return rc;
}

static int local_stop(pktcap_session *s)
{
    local_session *ls = s->impl;
    if (!ls || !ls->thread_started)
        return 0;
    if (!ls->joined) {
        wake(ls);
        join_thread(ls);
    }
    return 0;
}

static int local_remove(pktcap_session *s)
{
    local_session *ls = s->impl;
    if (!ls)
        return 0;
    join_thread(ls);
    pktcap_storage_free(ls->mem);
    ls->mem = NULL;
    ls->deleted = 1;
    return 0;
}

/* Copies bytes into a storage target as one unit. */
static int copy_into(pktcap_storage *dst, const void *data, size_t size, int src_fd,
                     const char *src_name)
{
    int rc = pktcap__storage_claim(dst);
    if (rc < 0)
        return rc;
    rc = pktcap__storage_begin(dst);
    if (rc == 0 && data)
        rc = pktcap__storage_write(dst, data, size);
    if (rc == 0 && src_fd >= 0) {
        size_t cap = (size_t)1 << 20;
        uint8_t *buf = pktcap__malloc(cap);
        if (!buf)
            rc = PKTCAP_E_NOMEM;
        while (rc == 0) {
            ssize_t n = read(src_fd, buf, cap);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                rc = pktcap__error_errno(PKTCAP_E_IO, errno, "reading \"%s\"", src_name);
            else if (n == 0)
                break;
            else
                rc = pktcap__storage_write(dst, buf, (size_t)n);
        }
        pktcap__free(buf);
    }
    if (rc == 0)
        rc = pktcap__storage_commit(dst);
    else
        pktcap__storage_abort(dst);
    pktcap__storage_release(dst);
    return rc;
}

static int local_fetch(pktcap_session *s, pktcap_storage *st)
{
    local_session *ls = s->impl;
    const char *path;
    size_t count;
    int fd, rc;
    if (!ls)
        return pktcap__error_set(PKTCAP_E_NOTFOUND, "session \"%s\" has no capture", s->name);
    join_thread(ls);
    if (ls->deleted)
        return pktcap__error_set(PKTCAP_E_NOTFOUND, "session \"%s\" was deleted: its capture "
                                 "is gone", s->name);
    if (ls->mem) {
        const void *data;
        size_t size;
        if ((rc = pktcap_storage_memory(&data, &size, ls->mem)) < 0)
            return rc;
        return copy_into(st, data, size, -1, NULL);
    }
    count = pktcap_storage_file_count(s->storage);
    if (count == 0)
        return pktcap__error_set(PKTCAP_E_NOTSUP, "session \"%s\" wrote its capture to \"%s\" "
                                 "while capturing; libpktcap kept no copy to fetch", s->name,
                                 pktcap__storage_name(s->storage));
    if (count > 1)
        return pktcap__error_set(PKTCAP_E_NOTSUP, "session \"%s\" wrote %zu files (the storage "
                                 "rotates), from \"%s\" on; fetch copies a single file: read "
                                 "them with pktcap_storage_file_path()", s->name, count,
                                 pktcap_storage_file_path(s->storage, 0));
    path = pktcap_storage_file_path(s->storage, 0);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pktcap__error_errno(pktcap__error_from_errno(errno), errno, "opening \"%s\"",
                                   path);
    rc = copy_into(st, NULL, 0, fd, path);
    close(fd);
    return rc;
}

const pktcap__backend pktcap__backend_local = {
    .kind = "local",
    .caps = PKTCAP_CAP_RULE_FILTER | PKTCAP_CAP_BPF_FILTER | PKTCAP_CAP_SNAPLEN |
            PKTCAP_CAP_BYTE_LIMIT | PKTCAP_CAP_PACKET_LIMIT | PKTCAP_CAP_TIME_LIMIT |
            PKTCAP_CAP_STOP | PKTCAP_CAP_DELETE | PKTCAP_CAP_LIST | PKTCAP_CAP_FETCH |
            PKTCAP_CAP_PACKET_CALLBACK | PKTCAP_CAP_MULTI_TARGET,
    .provider_open = local_provider_open,
    .provider_set = local_provider_set,
    .provider_close = local_provider_close,
    .list_sessions = NULL,
    .list_targets = local_list_targets,
    .check_filter = NULL,
    .session_set = local_session_set,
    .session_open = NULL,
    .start = local_start,
    .step = NULL,
    .stop = local_stop,
    .remove = local_remove,
    .fetch = local_fetch,
    .session_free = local_session_free,
};
