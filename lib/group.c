/* group.c — fleet captures: many sessions driven from one thread
 * (include/pktcap/group.h).
 *
 * Each session (a member) has a plan: start, follow until it ends, fetch.
 * Its operations run one at a time on a fiber from a pool of at most
 * max_requests (lib/core/fiber.h); the backend code is the same blocking
 * code pktcap_session_* runs, except that where it would block the fiber is
 * suspended:
 *
 *   - a libcurl transfer goes to the group's multi handle, driven with
 *     curl_multi_socket_action over an epoll set (pktcap_group_fd() is that
 *     epoll descriptor, so a caller can poll it in a loop of its own);
 *   - a sleep (retry backoff, rate limit, Retry-After) becomes a wake-up time.
 *
 * Between operations a member holds no fiber, only the time of its next
 * poll, chosen adaptively (see next_poll). The multi handle keeps one
 * connection pool for every transfer of the group: connections are keyed by
 * host, so the sessions of a provider share that provider's connections;
 * each provider's HTTP client still holds its TLS sessions, DNS answers,
 * tokens and rate limits, shared by all its sessions.
 *
 * An eventfd in the epoll set wakes the driving thread when a local
 * session changes state (its capture thread writes it) or when
 * pktcap_group_cancel() is called from another thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <pktcap/group.h>

#include "backends/backend.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/fiber.h"
#include "net/http.h"

#define MESSAGE_MAX 512
#define POLL_FAILURES_MAX 3      /* consecutive failed polls before the session's job fails */
#define BUSY_WAKE_MS 1000        /* longest step timeout while busy (a safety net) */
#define CANCEL_LOOK_MS 100       /* a sleeping fiber with a cancel flag is looked at this often */

enum phase { P_IDLE, P_START, P_FOLLOW, P_STOP, P_FETCH, P_DONE };

typedef struct member {
    pktcap_session *s;
    pktcap_storage *fetch_to;
    int phase;
    int planned;                 /* pktcap_group_start() took it in */
    int stop_asked;
    int64_t due_ms;              /* when its next operation may run */
    int64_t interval_ms;         /* adaptive poll interval */
    int seen_state;              /* for STATE events */
    int poll_state;              /* state at the last poll, for the adaptive interval */
    int poll_failures;
    long runner;                 /* index of the runner working for it, or -1 */
    /* result */
    int done, op, code, fetched;
    char message[MESSAGE_MAX];
    uint64_t bytes, requests;
    pktcap_progress_cb saved_cb; /* the session's own, while a fetch runs */
    void *saved_ud;
} member;

typedef struct runner {
    pktcap_group *g;
    pktcap__fiber *f;
    long m;                      /* member index, or -1 when free */
    int op;                      /* PKTCAP_GROUP_OP_* */
    int rc;
    int64_t next_ms;             /* POLL: the backend's advice */
    int transfer_done;           /* its transfer completed: resume it */
    char message[MESSAGE_MAX];
} runner;

struct pktcap_group {
    member *members;
    size_t n, cap;
    runner *runners;             /* runners_cap slots (fibers made when first used); never
                                    moved while an operation runs: fibers point into it */
    size_t nrunners, runners_cap;
    size_t cursor;               /* where launching looks first (round robin) */
    CURLM *multi;
    int epfd, evfd;
    int64_t curl_due_ms;         /* libcurl's timer; -1 none */
    int max_requests, max_downloads, downloads;
    int64_t poll_min_ms, poll_max_ms;
    int in_callback;
    int canceled;                /* atomic */
    int abandoning;
    pktcap_group_event_cb cb;
    void *ud;
    uint64_t requests, throttled;
    int64_t first_ms, last_ms;   /* first operation, last member done */
    size_t busy_members;         /* planned and not done */
    size_t pushed;               /* members whose backend has no step (local) */
};

static int busy(const pktcap_group *g);

/* ---- events ---------------------------------------------------------------------- */

static void send_event(pktcap_group *g, size_t i, int type, int op, int code,
                       const char *message, uint64_t done, uint64_t total)
{
    member *m = &g->members[i];
    pktcap_group_event ev;
    if (!g->cb)
        return;
    memset(&ev, 0, sizeof ev);
    ev.struct_size = sizeof ev;
    ev.type = type;
    ev.session = m->s;
    ev.index = i;
    ev.state = pktcap_session_state(m->s);
    ev.op = op;
    ev.code = code;
    ev.message = message;
    ev.done = done;
    ev.total = total;
    g->in_callback = 1;
    g->cb(&ev, g->ud);
    g->in_callback = 0;
}

/* STATE, PROGRESS, DONE: with the member's result so far. */
static void emit(pktcap_group *g, size_t i, int type, uint64_t done, uint64_t total)
{
    const member *m = &g->members[i];
    send_event(g, i, type, m->op, m->code, m->message, done, total);
}

static void emit_error(pktcap_group *g, size_t i, int op, int code, const char *message)
{
    send_event(g, i, PKTCAP_GROUP_EVENT_ERROR, op, code, message, 0, 0);
}

static void note_state(pktcap_group *g, size_t i)
{
    member *m = &g->members[i];
    int state = pktcap_session_state(m->s);
    if (state != m->seen_state) {
        m->seen_state = state;
        emit(g, i, PKTCAP_GROUP_EVENT_STATE, 0, 0);
    }
}

static void finish(pktcap_group *g, size_t i, int op, int code, const char *message)
{
    member *m = &g->members[i];
    note_state(g, i);
    m->phase = P_DONE;
    m->done = 1;
    if (m->planned)
        g->busy_members--;
    if (code && !m->code) {
        m->op = op;
        m->code = code;
        snprintf(m->message, sizeof m->message, "%s", message ? message : "");
    }
    g->last_ms = pktcap__now_ms();
    emit(g, i, PKTCAP_GROUP_EVENT_DONE, 0, 0);
}

/* ---- libcurl multi: sockets and timer ------------------------------------------------ */

static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
    pktcap_group *g = userp;
    struct epoll_event ev;
    (void)e;
    (void)socketp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(g->epfd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    memset(&ev, 0, sizeof ev);
    ev.data.fd = fd;
    ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
    if (epoll_ctl(g->epfd, EPOLL_CTL_MOD, fd, &ev) != 0 && errno == ENOENT)
        epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &ev);
    return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    pktcap_group *g = userp;
    (void)multi;
    g->curl_due_ms = timeout_ms < 0 ? -1 : pktcap__now_ms() + timeout_ms;
    return 0;
}

/* ---- construction --------------------------------------------------------------------- */

PKTCAP_API int pktcap_group_new(pktcap_group **out)
{
    pktcap_group *g;
    struct epoll_event ev;
    int rc;
    if (!out)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_group_new: out is NULL");
    *out = NULL;
    if ((rc = pktcap__http_global_init()) < 0)
        return rc;
    if (!(g = pktcap__calloc(1, sizeof *g)))
        return PKTCAP_E_NOMEM;
    g->epfd = g->evfd = -1;
    g->curl_due_ms = -1;
    g->max_requests = 64;
    g->max_downloads = 4;
    g->poll_min_ms = 1000;
    g->poll_max_ms = 30000;
    if ((g->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (g->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        int e = errno;
        pktcap_group_free(g);
        return pktcap__error_errno(PKTCAP_E_IO, e, "cannot make the group's event descriptors");
    }
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = g->evfd;
    if (epoll_ctl(g->epfd, EPOLL_CTL_ADD, g->evfd, &ev) != 0) {
        int e = errno;
        pktcap_group_free(g);
        return pktcap__error_errno(PKTCAP_E_IO, e, "cannot watch the group's event descriptor");
    }
    if (!(g->multi = curl_multi_init()) ||
        curl_multi_setopt(g->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        curl_multi_setopt(g->multi, CURLMOPT_SOCKETDATA, g) != CURLM_OK ||
        curl_multi_setopt(g->multi, CURLMOPT_TIMERFUNCTION, on_timer) != CURLM_OK ||
        curl_multi_setopt(g->multi, CURLMOPT_TIMERDATA, g) != CURLM_OK) {
        pktcap_group_free(g);
        return pktcap__error_set(PKTCAP_E_NOMEM, "out of memory making the group's multi handle");
    }
    *out = g;
    return 0;
}

static int check(const pktcap_group *g, const char *fn)
{
    if (!g)
        return pktcap__error_set(PKTCAP_E_INVAL, "%s: group is NULL", fn);
    if (g->in_callback)
        return pktcap__error_set(PKTCAP_E_STATE, "%s: not allowed in an event callback", fn);
    return 0;
}

static int set_int(const char *key, const char *value, int64_t min, int64_t max, int64_t *out)
{
    char *end;
    long long v;
    errno = 0;
    v = value[0] >= '0' && value[0] <= '9' ? strtoll(value, &end, 10) : -1;
    if (v < 0 || errno || *end || v < min || v > max)
        return pktcap__error_set(PKTCAP_E_INVAL, "group setting %s=\"%.64s\": expected a whole "
                                 "number from %lld to %lld", key, value, (long long)min,
                                 (long long)max);
    *out = v;
    return 0;
}

PKTCAP_API int pktcap_group_set(pktcap_group *g, const char *key, const char *value)
{
    int64_t v = 0;
    int rc;
    if ((rc = check(g, "pktcap_group_set")) < 0)
        return rc;
    if (!key || !value)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_group_set: %s is NULL",
                                 key ? "value" : "key");
    if (busy(g))
        return pktcap__error_set(PKTCAP_E_STATE, "pktcap_group_set: the group is busy");
    if (strcmp(key, "max_requests") == 0) {
        if ((rc = set_int(key, value, 1, 4096, &v)) == 0) {
            if ((size_t)v < g->nrunners)
                return pktcap__error_set(PKTCAP_E_STATE, "max_requests cannot shrink below %zu "
                                         "once the group has run", g->nrunners);
            if (g->runners && (size_t)v > g->runners_cap) {   /* idle: nothing points in */
                runner *more = pktcap__realloc(g->runners, (size_t)v * sizeof *more);
                if (!more)
                    return PKTCAP_E_NOMEM;
                memset(more + g->runners_cap, 0, ((size_t)v - g->runners_cap) * sizeof *more);
                g->runners = more;
                g->runners_cap = (size_t)v;
            }
            g->max_requests = (int)v;
        }
        return rc;
    }
    if (strcmp(key, "max_downloads") == 0) {
        if ((rc = set_int(key, value, 1, 1024, &v)) == 0)
            g->max_downloads = (int)v;
        return rc;
    }
    /* The pair is checked when the group starts: either may be set first. */
    if (strcmp(key, "poll_min_ms") == 0) {
        if ((rc = set_int(key, value, 10, 3600000, &v)) == 0)
            g->poll_min_ms = v;
        return rc;
    }
    if (strcmp(key, "poll_max_ms") == 0) {
        if ((rc = set_int(key, value, 10, 3600000, &v)) == 0)
            g->poll_max_ms = v;
        return rc;
    }
    return pktcap__error_set(PKTCAP_E_INVAL, "unknown group setting \"%.64s\" (max_requests, "
                             "max_downloads, poll_min_ms, poll_max_ms)", key);
}

PKTCAP_API int pktcap_group_set_event_callback(pktcap_group *g, pktcap_group_event_cb cb,
                                               void *userdata)
{
    int rc;
    if ((rc = check(g, "pktcap_group_set_event_callback")) < 0)
        return rc;
    g->cb = cb;
    g->ud = userdata;
    return 0;
}

PKTCAP_API int pktcap_group_add(pktcap_group *g, pktcap_session *s, pktcap_storage *fetch_to)
{
    member *items, *m;
    int rc;
    if ((rc = check(g, "pktcap_group_add")) < 0)
        return rc;
    if (!s)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_group_add: session is NULL");
    if (s->group)
        return pktcap__error_set(PKTCAP_E_INVAL, "session \"%s\" is already in a group", s->name);
    if (fetch_to && !(s->provider->backend->caps & PKTCAP_CAP_FETCH))
        return pktcap__error_set(PKTCAP_E_NOTSUP, "session \"%s\": the %s provider does not "
                                 "fetch captures (it writes them itself: set the session's "
                                 "storage instead)", s->name, s->provider->backend->kind);
    if (busy(g))
        return pktcap__error_set(PKTCAP_E_STATE, "pktcap_group_add: the group is busy");
    if (!(items = pktcap__grow(g->members, &g->cap, g->n, sizeof *items)))
        return PKTCAP_E_NOMEM;
    g->members = items;
    m = &items[g->n++];
    memset(m, 0, sizeof *m);
    m->s = s;
    m->fetch_to = fetch_to;
    m->runner = -1;
    m->seen_state = pktcap_session_state(s);
    if (!s->provider->backend->step)
        g->pushed++;
    s->group = g;
    pthread_mutex_lock(&s->lock);
    s->group_fd = g->evfd;
    pthread_mutex_unlock(&s->lock);
    return 0;
}

PKTCAP_API size_t pktcap_group_count(const pktcap_group *g)
{
    return g ? g->n : 0;
}

PKTCAP_API pktcap_session *pktcap_group_session(const pktcap_group *g, size_t index)
{
    return g && index < g->n ? g->members[index].s : NULL;
}

/* ---- planning ------------------------------------------------------------------------- */

static int is_terminal(int state)
{
    return state == PKTCAP_STATE_COMPLETE || state == PKTCAP_STATE_STOPPED ||
           state == PKTCAP_STATE_FAILED;
}

static int has_files(int state)
{
    return state == PKTCAP_STATE_COMPLETE || state == PKTCAP_STATE_STOPPED;
}

/* What follows once the member's session is terminal. */
static void ended(pktcap_group *g, size_t i)
{
    member *m = &g->members[i];
    int state = pktcap_session_state(m->s);
    note_state(g, i);
    if (state == PKTCAP_STATE_FAILED) {
        finish(g, i, PKTCAP_GROUP_OP_POLL, PKTCAP_E_REMOTE, pktcap_session_error_text(m->s));
    } else if (m->fetch_to && has_files(state) && !m->fetched) {
        m->phase = P_FETCH;
        m->due_ms = 0;
    } else {
        finish(g, i, PKTCAP_GROUP_OP_NONE, 0, NULL);
    }
}

/* When a capture that is followed is worth asking about again: a RUNNING
 * one not before its time limit is over; else poll_min_ms, doubling while nothing changes,
 * up to poll_max_ms; never before the provider's own advice (`advice`:
 * Retry-After or its poll interval; -1 none). */
static int64_t next_poll(pktcap_group *g, member *m, int64_t advice)
{
    int64_t now = pktcap__now_ms(), wait;
    int state = pktcap_session_state(m->s);
    if (state != m->poll_state || !m->interval_ms)
        m->interval_ms = g->poll_min_ms;
    else if (m->interval_ms < g->poll_max_ms)
        m->interval_ms = m->interval_ms * 2 < g->poll_max_ms ? m->interval_ms * 2 : g->poll_max_ms;
    m->poll_state = state;
    wait = m->interval_ms;
    if (m->s->time_limit_ms && state == PKTCAP_STATE_RUNNING && m->s->started_ms) {
        int64_t end = m->s->started_ms + (int64_t)m->s->time_limit_ms;
        if (end - now > wait)
            wait = end - now;
    }
    if (advice > wait)
        wait = advice;
    return now + wait;
}

static void plan(pktcap_group *g, size_t i)
{
    member *m = &g->members[i];
    int state = pktcap_session_state(m->s);
    m->planned = 1;
    g->busy_members++;
    m->due_ms = 0;
    m->poll_failures = 0;
    if (state == PKTCAP_STATE_NEW) {
        m->phase = P_START;
    } else if (is_terminal(state)) {
        ended(g, i);
    } else {
        m->phase = P_FOLLOW;
        m->poll_state = -1;
    }
}

PKTCAP_API int pktcap_group_start(pktcap_group *g)
{
    int rc;
    size_t i;
    if ((rc = check(g, "pktcap_group_start")) < 0)
        return rc;
    if (g->poll_min_ms > g->poll_max_ms)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_group_start: poll_min_ms (%lld) is "
                                 "above poll_max_ms (%lld)", (long long)g->poll_min_ms,
                                 (long long)g->poll_max_ms);
    if (!g->first_ms)
        g->first_ms = pktcap__now_ms();
    for (i = 0; i < g->n; i++)
        if (!g->members[i].planned && !g->members[i].done)
            plan(g, i);
    return 0;
}

PKTCAP_API int pktcap_group_stop(pktcap_group *g)
{
    int rc;
    size_t i;
    if ((rc = check(g, "pktcap_group_stop")) < 0)
        return rc;
    for (i = 0; i < g->n; i++) {
        member *m = &g->members[i];
        if (m->done)
            continue;
        if (m->phase == P_START && m->runner < 0) {
            finish(g, i, PKTCAP_GROUP_OP_START, PKTCAP_E_CANCELED,
                   "not started: the group was stopped first");
        } else if (m->phase == P_FOLLOW || m->phase == P_START) {
            m->stop_asked = 1;   /* after the start or poll that runs, if any */
            if (m->runner < 0) {
                m->phase = P_STOP;
                m->due_ms = 0;
            }
        }
    }
    return 0;
}

/* ---- running operations ------------------------------------------------------------------ */

static int fetch_progress(uint64_t done, uint64_t total, void *userdata)
{
    runner *r = userdata;
    pktcap_group *g = r->g;
    member *m = &g->members[r->m];
    int rc = 0;
    m->bytes = done;
    if (m->saved_cb)
        rc = m->saved_cb(done, total, m->saved_ud);
    emit(g, (size_t)r->m, PKTCAP_GROUP_EVENT_PROGRESS, done, total);
    return rc;
}

static void run_op(void *arg)
{
    runner *r = arg;
    member *m = &r->g->members[r->m];
    r->next_ms = -1;
    switch (r->op) {
    case PKTCAP_GROUP_OP_START:
        r->rc = pktcap_session_start(m->s);
        break;
    case PKTCAP_GROUP_OP_POLL:
        r->rc = pktcap__session_step(m->s, &r->next_ms);
        break;
    case PKTCAP_GROUP_OP_STOP:
        r->rc = pktcap_session_stop(m->s);
        break;
    default:
        r->rc = pktcap_session_fetch(m->s, m->fetch_to);
        break;
    }
    snprintf(r->message, sizeof r->message, "%s",
             r->rc < 0 ? pktcap_error_message(pktcap_error_last()) : "");
}

static int transient(int code)
{
    return code == PKTCAP_E_NET || code == PKTCAP_E_TIMEOUT || code == PKTCAP_E_THROTTLED ||
           code == PKTCAP_E_REMOTE || code == PKTCAP_E_TLS;
}

/* An operation ended: what the member does next. */
static void op_done(pktcap_group *g, runner *r)
{
    size_t i = (size_t)r->m;
    member *m = &g->members[i];
    int state = pktcap_session_state(m->s);
    m->runner = -1;
    r->m = -1;
    if (r->op == PKTCAP_GROUP_OP_FETCH) {
        g->downloads--;
        m->s->progress_cb = m->saved_cb;
        m->s->progress_userdata = m->saved_ud;
    }
    if (r->rc < 0)
        emit_error(g, i, r->op, r->rc, r->message);
    note_state(g, i);
    switch (r->op) {
    case PKTCAP_GROUP_OP_START:
        if (r->rc < 0) {
            finish(g, i, r->op, r->rc, r->message);
            return;
        }
        break;
    case PKTCAP_GROUP_OP_POLL:
        if (r->rc < 0 && (!transient(r->rc) || ++m->poll_failures >= POLL_FAILURES_MAX)) {
            finish(g, i, r->op, r->rc, r->message);
            return;
        }
        if (r->rc == 0)
            m->poll_failures = 0;
        break;
    case PKTCAP_GROUP_OP_STOP:
        /* A failed stop leaves the capture to end by its limits: follow it on. */
        break;
    default:
        if (r->rc < 0) {
            finish(g, i, r->op, r->rc, r->message);
        } else {
            m->fetched = 1;
            finish(g, i, PKTCAP_GROUP_OP_NONE, 0, NULL);
        }
        return;
    }
    if (is_terminal(state)) {
        ended(g, i);
        return;
    }
    if (m->stop_asked && r->op != PKTCAP_GROUP_OP_STOP &&
        (state == PKTCAP_STATE_PENDING || state == PKTCAP_STATE_RUNNING)) {
        m->phase = P_STOP;
        m->due_ms = 0;
        return;
    }
    m->phase = P_FOLLOW;
    m->due_ms = m->s->provider->backend->step ? next_poll(g, m, r->next_ms) : INT64_MAX;
}

/* After a fiber came back: start its transfer, or end its operation. */
static void after_switch(pktcap_group *g, runner *r)
{
    pktcap__fiber_wait *w = pktcap__fiber_state(r->f);
    r->transfer_done = 0;
    if (w->why == PKTCAP__FIBER_FINISHED) {
        op_done(g, r);
    } else if (w->why == PKTCAP__FIBER_TRANSFER) {
        CURLMcode mc = g->abandoning ? CURLM_ABORTED_BY_CALLBACK
                                     : curl_multi_add_handle(g->multi, w->easy);
        if (mc != CURLM_OK) {
            /* Never queued: report it as a failed transfer. */
            w->result = CURLE_OUT_OF_MEMORY;
            r->transfer_done = 1;
        } else {
            g->requests++;
            g->members[r->m].requests++;
        }
    }
}

static int launch(pktcap_group *g, size_t i, int op)
{
    member *m = &g->members[i];
    runner *r = NULL;
    size_t k;
    for (k = 0; k < g->nrunners; k++)
        if (g->runners[k].m < 0 && g->runners[k].f) {
            r = &g->runners[k];
            break;
        }
    if (!r) {
        if (g->nrunners >= (size_t)g->max_requests)
            return 0;
        if (!g->runners) {
            g->runners = pktcap__calloc((size_t)g->max_requests, sizeof *g->runners);
            if (!g->runners)
                return PKTCAP_E_NOMEM;
            g->runners_cap = (size_t)g->max_requests;
        }
        r = &g->runners[g->nrunners];
        r->g = g;
        r->m = -1;
        if (pktcap__fiber_new(&r->f, 0) < 0)
            return PKTCAP_E_NOMEM;
        g->nrunners++;
    }
    r->m = (long)i;
    r->op = op;
    m->runner = r - g->runners;
    if (op == PKTCAP_GROUP_OP_FETCH) {
        g->downloads++;
        m->saved_cb = m->s->progress_cb;
        m->saved_ud = m->s->progress_userdata;
        m->s->progress_cb = fetch_progress;
        m->s->progress_userdata = r;
    }
    pktcap__fiber_start(r->f, run_op, r);
    after_switch(g, r);
    return 1;
}

/* ---- driving ------------------------------------------------------------------------------ */

static int busy(const pktcap_group *g)
{
    return g->busy_members > 0;
}

static int flag_set(const int *flag)
{
    return flag && __atomic_load_n(flag, __ATOMIC_ACQUIRE) != 0;
}

static void drive_network(pktcap_group *g)
{
    struct epoll_event evs[64];
    int n, k, running;
    uint64_t count;
    CURLMsg *msg;
    ssize_t got = read(g->evfd, &count, sizeof count);   /* wake-ups: drained */
    (void)got;
    n = epoll_wait(g->epfd, evs, 64, 0);
    for (k = 0; k < n; k++) {
        int mask = 0;
        if (evs[k].data.fd == g->evfd)
            continue;
        if (evs[k].events & EPOLLIN)
            mask |= CURL_CSELECT_IN;
        if (evs[k].events & EPOLLOUT)
            mask |= CURL_CSELECT_OUT;
        if (evs[k].events & (EPOLLERR | EPOLLHUP))
            mask |= CURL_CSELECT_ERR;
        curl_multi_socket_action(g->multi, evs[k].data.fd, mask, &running);
    }
    if (g->curl_due_ms >= 0 && pktcap__now_ms() >= g->curl_due_ms) {
        g->curl_due_ms = -1;
        curl_multi_socket_action(g->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    while ((msg = curl_multi_info_read(g->multi, &k)) != NULL) {
        size_t j;
        if (msg->msg != CURLMSG_DONE)
            continue;
        for (j = 0; j < g->nrunners; j++) {
            runner *r = &g->runners[j];
            pktcap__fiber_wait *w;
            if (r->m < 0)
                continue;
            w = pktcap__fiber_state(r->f);
            if (w->why == PKTCAP__FIBER_TRANSFER && w->easy == msg->easy_handle &&
                !r->transfer_done) {
                long status = 0;
                curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
                if (status == 429)
                    g->throttled++;
                w->result = (int)msg->data.result;
                r->transfer_done = 1;
                break;
            }
        }
        curl_multi_remove_handle(g->multi, msg->easy_handle);
    }
}

/* Resumes the fibers whose wait is over; returns how many ran. */
static int run_ready(pktcap_group *g, int64_t now)
{
    int ran = 0;
    size_t j;
    for (j = 0; j < g->nrunners; j++) {
        runner *r = &g->runners[j];
        pktcap__fiber_wait *w;
        int ready;
        if (r->m < 0)
            continue;
        w = pktcap__fiber_state(r->f);
        ready = g->abandoning ||
                (w->why == PKTCAP__FIBER_SLEEP && (now >= w->wake_ms || flag_set(w->cancel))) ||
                (w->why == PKTCAP__FIBER_TRANSFER && r->transfer_done);
        if (!ready)
            continue;
        if (g->abandoning) {
            if (w->why == PKTCAP__FIBER_TRANSFER && !r->transfer_done)
                curl_multi_remove_handle(g->multi, w->easy);
            w->abandoned = 1;
        }
        pktcap__fiber_resume(r->f);
        after_switch(g, r);
        ran++;
    }
    return ran;
}

/* Members of local providers are not polled: their capture thread reports
 * (and wakes the group through its eventfd). Remote members change state
 * only inside their operations, which look at it when they end. */
static void watch_pushed(pktcap_group *g)
{
    size_t i;
    for (i = 0; g->pushed && i < g->n; i++) {
        member *m = &g->members[i];
        if (!m->planned || m->done || m->runner >= 0 || m->s->provider->backend->step)
            continue;
        note_state(g, i);
        if (m->phase == P_FOLLOW && !m->s->provider->backend->step &&
            is_terminal(pktcap_session_state(m->s)))
            ended(g, i);
    }
}

static int launch_due(pktcap_group *g, int64_t now)
{
    size_t k;
    int launched = 0;
    for (k = 0; k < g->n; k++) {
        size_t i = (g->cursor + k) % g->n;
        member *m = &g->members[i];
        int op, rc;
        if (!m->planned || m->done || m->runner >= 0 || m->due_ms > now)
            continue;
        switch (m->phase) {
        case P_START: op = PKTCAP_GROUP_OP_START; break;
        case P_FOLLOW: op = PKTCAP_GROUP_OP_POLL; break;
        case P_STOP:
            op = PKTCAP_GROUP_OP_STOP;
            if (!(m->s->provider->backend->caps & PKTCAP_CAP_STOP) ||
                (pktcap_session_state(m->s) != PKTCAP_STATE_PENDING &&
                 pktcap_session_state(m->s) != PKTCAP_STATE_RUNNING)) {
                m->phase = P_FOLLOW;   /* nothing to stop: it ends by itself */
                op = PKTCAP_GROUP_OP_POLL;
            }
            break;
        case P_FETCH:
            if (g->downloads >= g->max_downloads)
                continue;
            op = PKTCAP_GROUP_OP_FETCH;
            break;
        default: continue;
        }
        if (op == PKTCAP_GROUP_OP_POLL && !m->s->provider->backend->step)
            continue;
        rc = launch(g, i, op);
        if (rc < 0) {
            finish(g, i, op, rc, "out of memory starting an operation");
            continue;
        }
        if (rc == 0) {   /* every fiber busy: start here next time */
            g->cursor = i;
            return launched;
        }
        launched++;
    }
    return launched;
}

/* The longest the caller may wait before the next step. */
static int64_t next_timeout(const pktcap_group *g, int64_t now)
{
    int64_t due = now + BUSY_WAKE_MS;
    size_t j, i, free_runners = (size_t)g->max_requests - g->nrunners;
    if (g->curl_due_ms >= 0 && g->curl_due_ms < due)
        due = g->curl_due_ms;
    for (j = 0; j < g->nrunners; j++) {
        const runner *r = &g->runners[j];
        pktcap__fiber_wait *w;
        if (r->m < 0) {
            free_runners++;
            continue;
        }
        w = pktcap__fiber_state(r->f);
        if (r->transfer_done)
            return 0;
        if (w->why == PKTCAP__FIBER_SLEEP) {
            int64_t at = w->cancel && w->wake_ms > now + CANCEL_LOOK_MS ? now + CANCEL_LOOK_MS
                                                                        : w->wake_ms;
            if (at < due)
                due = at;
        }
    }
    for (i = 0; free_runners && i < g->n; i++) {
        const member *m = &g->members[i];
        if (!m->planned || m->done || m->runner >= 0)
            continue;
        if (m->phase == P_FETCH && g->downloads >= g->max_downloads)
            continue;
        if (m->phase == P_FOLLOW && !m->s->provider->backend->step)
            continue;
        if (m->due_ms < due)
            due = m->due_ms;
    }
    return due <= now ? 0 : due - now;
}

static int do_step(pktcap_group *g, int64_t *timeout_ms)
{
    int64_t now;
    drive_network(g);
    now = pktcap__now_ms();
    run_ready(g, now);
    watch_pushed(g);
    launch_due(g, pktcap__now_ms());
    if (!busy(g)) {
        if (timeout_ms)
            *timeout_ms = -1;
        return 0;
    }
    if (timeout_ms)
        *timeout_ms = next_timeout(g, pktcap__now_ms());
    return 1;
}

PKTCAP_API int pktcap_group_step(pktcap_group *g, int64_t *timeout_ms)
{
    int rc;
    if (timeout_ms)
        *timeout_ms = -1;
    if ((rc = check(g, "pktcap_group_step")) < 0)
        return rc;
    return do_step(g, timeout_ms);
}

PKTCAP_API int pktcap_group_wait(pktcap_group *g, int64_t timeout_ms)
{
    int64_t deadline, t;
    int rc;
    if ((rc = check(g, "pktcap_group_wait")) < 0)
        return rc;
    deadline = timeout_ms < 0 ? INT64_MAX : pktcap__now_ms() + timeout_ms;
    for (;;) {
        struct epoll_event ev;
        int64_t now;
        if (do_step(g, &t) == 0)
            return 0;
        if (__atomic_exchange_n(&g->canceled, 0, __ATOMIC_ACQ_REL))
            return pktcap__error_set(PKTCAP_E_CANCELED, "waiting for the group was canceled");
        now = pktcap__now_ms();
        if (now >= deadline) {
            size_t i, left = 0;
            for (i = 0; i < g->n; i++)
                left += g->members[i].planned && !g->members[i].done;
            return pktcap__error_set(PKTCAP_E_TIMEOUT, "%zu of %zu sessions still busy after "
                                     "%lld ms", left, g->n, (long long)timeout_ms);
        }
        if (deadline - now < t)
            t = deadline - now;
        if (t > 0)
            epoll_wait(g->epfd, &ev, 1, (int)t);
    }
}

PKTCAP_API int pktcap_group_fd(const pktcap_group *g)
{
    if (!g)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_group_fd: group is NULL");
    return g->epfd;
}

PKTCAP_API int pktcap_group_cancel(pktcap_group *g)
{
    uint64_t one = 1;
    ssize_t n;
    if (!g)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_group_cancel: group is NULL");
    __atomic_store_n(&g->canceled, 1, __ATOMIC_RELEASE);
    n = write(g->evfd, &one, sizeof one);
    (void)n;
    return 0;
}

/* ---- results ---------------------------------------------------------------------------- */

PKTCAP_API int pktcap_group_get_result(const pktcap_group *g, size_t index,
                                       pktcap_group_result *out)
{
    const member *m;
    pktcap_group_result r;
    if (!g || !out)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_group_get_result: %s is NULL",
                                 g ? "out" : "group");
    if (index >= g->n)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_group_get_result: index %zu out of "
                                 "range (%zu sessions)", index, g->n);
    if (out->struct_size < sizeof r)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_group_get_result: struct_size %u is "
                                 "smaller than %zu", (unsigned)out->struct_size, sizeof r);
    m = &g->members[index];
    memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    r.state = pktcap_session_state(m->s);
    r.done = m->done;
    r.op = m->op;
    r.code = m->code;
    snprintf(r.message, sizeof r.message, "%s", m->message);
    r.fetched = m->fetched;
    r.bytes = m->bytes;
    r.requests = m->requests;
    memcpy(out, &r, sizeof r);
    return 0;
}

static const char *op_name(int op)
{
    static const char *const names[] = { NULL, "start", "poll", "stop", "fetch" };
    return op > 0 && op <= PKTCAP_GROUP_OP_FETCH ? names[op] : NULL;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *member_json(const pktcap_group *g, size_t i)
{
    const member *m = &g->members[i];
    int state = pktcap_session_state(m->s);
    json_t *o = json_object();
    if (!o)
        return NULL;
    if (json_object_set_new(o, "index", json_integer((json_int_t)i)) ||
        json_object_set_new(o, "name", json_string(pktcap_session_name(m->s))) ||
        json_object_set_new(o, "provider", json_string(pktcap_provider_kind(m->s->provider))) ||
        json_object_set_new(o, "target", str_or_null(pktcap_session_target(m->s))) ||
        json_object_set_new(o, "id", json_string(pktcap_session_id(m->s))) ||
        json_object_set_new(o, "state", json_string(pktcap_state_name(state))) ||
        json_object_set_new(o, "native_status", json_string(pktcap_session_native_status(m->s))) ||
        json_object_set_new(o, "done", json_boolean(m->done)) ||
        json_object_set_new(o, "failed_op", str_or_null(op_name(m->op))) ||
        json_object_set_new(o, "error", m->code ? json_string(pktcap_error_name(m->code))
                                                : json_null()) ||
        json_object_set_new(o, "message", m->code ? json_string(m->message) : json_null()) ||
        json_object_set_new(o, "fetched", json_boolean(m->fetched)) ||
        json_object_set_new(o, "bytes", json_integer((json_int_t)m->bytes)) ||
        json_object_set_new(o, "requests", json_integer((json_int_t)m->requests))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

PKTCAP_API int pktcap_group_report(char **json, const pktcap_group *g)
{
    json_t *root, *list, *states;
    size_t i, done = 0, failed = 0, fetched = 0;
    char *text, *copy;
    if (!json || !g)
        return pktcap__error_set(PKTCAP_E_INVAL, "pktcap_group_report: %s is NULL",
                                 json ? "group" : "json");
    *json = NULL;
    root = json_object();
    list = json_array();
    states = json_object();
    if (!root || !list || !states)
        goto nomem;
    for (i = PKTCAP_STATE_NEW; i <= PKTCAP_STATE_FAILED; i++)
        if (json_object_set_new(states, pktcap_state_name((int)i), json_integer(0)))
            goto nomem;
    for (i = 0; i < g->n; i++) {
        const member *m = &g->members[i];
        const char *state = pktcap_state_name(pktcap_session_state(m->s));
        json_t *o = member_json(g, i);
        if (!o || json_array_append_new(list, o))
            goto nomem;
        json_object_set_new(states, state,
                            json_integer(json_integer_value(json_object_get(states, state)) + 1));
        done += (size_t)m->done;
        failed += m->code != 0;
        fetched += (size_t)m->fetched;
    }
    if (json_object_set_new(root, "sessions_total", json_integer((json_int_t)g->n)) ||
        json_object_set_new(root, "states", states) ||
        (states = NULL, 0) ||
        json_object_set_new(root, "done", json_integer((json_int_t)done)) ||
        json_object_set_new(root, "failed", json_integer((json_int_t)failed)) ||
        json_object_set_new(root, "fetched", json_integer((json_int_t)fetched)) ||
        json_object_set_new(root, "requests", json_integer((json_int_t)g->requests)) ||
        json_object_set_new(root, "throttled", json_integer((json_int_t)g->throttled)) ||
        json_object_set_new(root, "wall_ms", json_integer(g->first_ms && g->last_ms >= g->first_ms
                                                              ? g->last_ms - g->first_ms : 0)) ||
        json_object_set_new(root, "sessions", list)) {
        list = NULL;
        goto nomem;
    }
    text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        return pktcap__error_set(PKTCAP_E_NOMEM, "out of memory writing the group report");
    copy = pktcap__strdup(text);
    free(text);
    if (!copy)
        return PKTCAP_E_NOMEM;
    *json = copy;
    return 0;
nomem:
    json_decref(root);
    json_decref(list);
    json_decref(states);
    return pktcap__error_set(PKTCAP_E_NOMEM, "out of memory writing the group report");
}

/* ---- teardown ------------------------------------------------------------------------------ */

PKTCAP_API void pktcap_group_free(pktcap_group *g)
{
    size_t i, j;
    if (!g || g->in_callback)
        return;
    g->cb = NULL;   /* no events from a group being freed */
    /* Abandon what runs: every wait of an abandoned fiber returns CANCELED,
     * so its operation unwinds (aborting a download's unit) in a few rounds. */
    g->abandoning = 1;
    for (i = 0; i < 1000; i++) {
        int left = 0;
        for (j = 0; j < g->nrunners; j++)
            left += g->runners[j].m >= 0;
        if (!left)
            break;
        run_ready(g, pktcap__now_ms());
    }
    for (j = 0; j < g->nrunners; j++)
        pktcap__fiber_free(g->runners[j].f);
    pktcap__free(g->runners);
    for (i = 0; i < g->n; i++) {
        pktcap_session *s = g->members[i].s;
        s->group = NULL;
        pthread_mutex_lock(&s->lock);   /* no capture thread writes to evfd after this */
        s->group_fd = -1;
        pthread_mutex_unlock(&s->lock);
    }
    pktcap__free(g->members);
    if (g->multi)
        curl_multi_cleanup(g->multi);
    if (g->evfd >= 0)
        close(g->evfd);
    if (g->epfd >= 0)
        close(g->epfd);
    pktcap__free(g);
}
