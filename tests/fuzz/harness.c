/* harness.c — checks, the socket guard and the scripted transport of the
 * URI and provider fuzz targets (harness.h). */
#include "harness.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <jansson.h>

#include "net/http.h"

static const char *target = "fuzz";
static int trace;

#define MAX_SECRETS 8
static struct {
    const char *text;
    int logged;                   /* may appear in a DEBUG log line */
    int echoed;                   /* the script holds it: a server may send it back */
} secrets[MAX_SECRETS];
static size_t nsecrets;

void harness_check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "%s: broken promise: %s\n", target, what);
        abort();
    }
}

void harness_secret(const char *secret, int debug_log_ok)
{
    for (size_t i = 0; i < nsecrets; i++)
        if (strcmp(secrets[i].text, secret) == 0)
            return;
    harness_check(nsecrets < MAX_SECRETS, "at most 8 secrets");
    secrets[nsecrets].text = secret;
    secrets[nsecrets++].logged = debug_log_ok;
}

static void check_secrets(const char *text, int debug_log)
{
    for (size_t i = 0; i < nsecrets; i++)
        if (!(debug_log && secrets[i].logged) && !secrets[i].echoed &&
            strstr(text, secrets[i].text)) {
            fprintf(stderr, "%s: a secret in \"%s\"\n", target, text);
            harness_check(0, "no secret in a message or a log line");
        }
}

static void check_text(const char *text, const char *what)
{
    harness_check(text != NULL, what);
    check_secrets(text, 0);
}

int harness_status(int rc, const char *what)
{
    const pktcap_error *e = pktcap_error_last();
    if (trace)
        fprintf(stderr, "%s: %s: %s%s%s\n", target, what, rc ? pktcap_error_name(rc) : "0",
                rc ? ": " : "", rc ? pktcap_error_message(e) : "");
    if (rc == 0)
        return 0;
    if (rc < PKTCAP_E_EXISTS || rc > PKTCAP_E_INVAL || pktcap_error_code(e) != rc) {
        fprintf(stderr, "%s: %s returned %d (%s); the recorded error is %s: %s\n", target, what,
                rc, pktcap_error_name(rc), pktcap_error_name(pktcap_error_code(e)),
                pktcap_error_message(e));
        harness_check(0, "a call returns 0 or the PKTCAP_E_* code it recorded");
    }
    if (!pktcap_error_message(e)[0])
        fprintf(stderr, "%s: %s: %s without a message\n", target, what, pktcap_error_name(rc));
    harness_check(pktcap_error_message(e)[0] != '\0', "an error has a message");
    check_text(pktcap_error_message(e), "the error message is a string");
    return rc;
}

void harness_session(const pktcap_session *s)
{
    int state = pktcap_session_state(s);
    if (state < PKTCAP_STATE_NEW || state > PKTCAP_STATE_FAILED)
        fprintf(stderr, "%s: session state %d\n", target, state);
    harness_check(state >= PKTCAP_STATE_NEW && state <= PKTCAP_STATE_FAILED,
                  "a session's state is a pktcap_state_t");
    harness_check(pktcap_session_name(s) && pktcap_session_name(s)[0], "a session has a name");
    harness_check(pktcap_session_id(s) != NULL, "a session has an id (maybe empty)");
    check_text(pktcap_session_native_status(s), "the native status is a string");
    check_text(pktcap_session_stop_reason(s), "the stop reason is a string");
    check_text(pktcap_session_error_text(s), "the error text is a string");
    harness_check(state != PKTCAP_STATE_FAILED || pktcap_session_error_text(s)[0],
                  "a FAILED session says why");
}

void harness_log(int level, const char *message, void *userdata)
{
    (void)userdata;
    harness_check(level >= PKTCAP_LOG_ERROR && level <= PKTCAP_LOG_DEBUG, "a log level");
    harness_check(message != NULL, "a log line is a string");
    check_secrets(message, level == PKTCAP_LOG_DEBUG);
    if (trace > 1)
        fprintf(stderr, "%s: log: %s\n", target, message);
    /* pktcap_log_cb promises one line, whatever a server's text held. */
    for (const unsigned char *p = (const unsigned char *)message; *p; p++)
        harness_check(*p >= 0x20 && *p != 0x7f, "a log line holds no control character");
}

static int is_terminal(int state)
{
    return state == PKTCAP_STATE_COMPLETE || state == PKTCAP_STATE_STOPPED ||
           state == PKTCAP_STATE_FAILED;
}

void harness_refresh(pktcap_session *s, int times)
{
    for (int i = 0; i < times; i++) {
        int before = pktcap_session_state(s);
        if (is_terminal(before))
            return;
        pktcap_error_clear();
        harness_status(pktcap_session_refresh(s), "pktcap_session_refresh");
        harness_session(s);
    }
}

void harness_fetch(pktcap_session *s)
{
    static const uint8_t magics[][4] = {
        { 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 }, { 0x4d, 0x3c, 0xb2, 0xa1 },
        { 0xa1, 0xb2, 0x3c, 0x4d }, { 0x34, 0xcd, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xcd, 0x34 },
        { 0x0a, 0x0d, 0x0d, 0x0a },
    };
    int state = pktcap_session_state(s), rc, magic = 0;
    pktcap_storage *st;
    const void *data;
    size_t size;
    if (state != PKTCAP_STATE_COMPLETE && state != PKTCAP_STATE_STOPPED)
        return;
    harness_check(pktcap_storage_open(&st, "mem:") == 0, "a mem: target opens");
    pktcap_error_clear();
    rc = harness_status(pktcap_session_fetch(s, st), "pktcap_session_fetch");
    harness_check(pktcap_storage_memory(&data, &size, st) == 0, "a mem: target has bytes");
    for (size_t i = 0; rc == 0 && size >= 4 && i < sizeof magics / sizeof magics[0]; i++)
        magic |= memcmp(data, magics[i], 4) == 0;
    harness_check(rc == 0 ? magic : size == 0,
                  "a fetch keeps a capture file, or nothing when it fails");
    harness_check(pktcap_session_state(s) == state, "a fetch leaves the state as it was");
    pktcap_storage_free(st);
    harness_session(s);
}

void harness_list(pktcap_provider *p)
{
    pktcap_session_list *l = NULL;
    pktcap_error_clear();
    if (harness_status(pktcap_provider_list_sessions(&l, p), "pktcap_provider_list_sessions") < 0)
        return;
    for (size_t i = 0; i < pktcap_session_list_count(l); i++) {
        int state = pktcap_session_list_state(l, i);
        harness_check(pktcap_session_list_name(l, i) && pktcap_session_list_id(l, i),
                      "a listed session has a name and an id");
        check_text(pktcap_session_list_native_status(l, i), "a listed native status");
        harness_check(state >= PKTCAP_STATE_NEW && state <= PKTCAP_STATE_FAILED,
                      "a listed state is a pktcap_state_t");
    }
    harness_check(pktcap_session_list_name(l, pktcap_session_list_count(l)) == NULL,
                  "nothing is listed past the end");
    pktcap_session_list_free(l);
}

/* ---- the socket guard --------------------------------------------------------- */

static void on_sigsys(int sig, siginfo_t *info, void *context)
{
    static const char msg[] = ": broken promise: no socket is opened (the library went to "
                              "the network)\n";
    (void)sig;
    (void)info;
    (void)context;
    if (write(2, target, strlen(target)) < 0 || write(2, msg, sizeof msg - 1) < 0)
        _exit(3);
    abort();
}

#if defined(__x86_64__)
#define GUARD_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define GUARD_ARCH AUDIT_ARCH_AARCH64
#endif

/* socket(2) traps (SIGSYS, then abort), for every thread of the process and
 * what it execs. Nothing else the targets do needs a socket. */
static void forbid_sockets(void)
{
#ifdef GUARD_ARCH
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, GUARD_ARCH, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),   /* a foreign ABI: refuse it all */
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = { (unsigned short)(sizeof filter / sizeof filter[0]), filter };
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGSYS, &sa, NULL) != 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0) {
        fprintf(stderr, "%s: cannot install the socket guard (seccomp): %s\n", target,
                strerror(errno));
        abort();
    }
#else
#error "the socket guard knows x86-64 and AArch64 only"
#endif
}

void harness_init(const char *name)
{
    static int done;
    const char *t = getenv("PKTCAP_FUZZ_TRACE");
    if (done)
        return;
    done = 1;
    target = name;
    trace = t && *t && strcmp(t, "0") != 0 ? (strcmp(t, "2") == 0 ? 2 : 1) : 0;
    forbid_sockets();
}

/* ---- the scripted transport ------------------------------------------------------ */

static const struct {
    long status;
    int failure;
} answers[32] = {
    { 200, 0 }, { 201, 0 }, { 202, 0 }, { 204, 0 }, { 206, 0 }, { 400, 0 }, { 401, 0 },
    { 403, 0 }, { 404, 0 }, { 405, 0 }, { 408, 0 }, { 409, 0 }, { 412, 0 }, { 413, 0 },
    { 415, 0 }, { 416, 0 }, { 429, 0 }, { 500, 0 }, { 502, 0 }, { 503, 0 }, { 504, 0 },
    { 301, 0 }, { 299, 0 }, { 999, 0 },
    { 0, PKTCAP__HTTP_TEST_REFUSED }, { 0, PKTCAP__HTTP_TEST_TIMEOUT },
    { 0, PKTCAP__HTTP_TEST_TLS }, { 200, PKTCAP__HTTP_TEST_RESET },
    { 0, PKTCAP__HTTP_TEST_RESET }, { 0, PKTCAP__HTTP_TEST_OK }, { 150, 0 },
    { 206, PKTCAP__HTTP_TEST_RESET },
};

static struct {
    pthread_mutex_t lock;
    const uint8_t *p, *end;        /* what is left of the script; p NULL: none allowed */
    int (*auth_ok)(const char *url);
    unsigned requests;
} script = { PTHREAD_MUTEX_INITIALIZER, NULL, NULL, NULL, 0 };

static const uint8_t *find(const uint8_t *p, const uint8_t *end, const char *what)
{
    size_t n = strlen(what);
    for (; (size_t)(end - p) >= n; p++)
        if (memcmp(p, what, n) == 0)
            return p;
    return NULL;
}

static int credential_line(const char *line)
{
    static const char *const names[] = { "Authorization:", "X-Auth-Key:", "X-Auth-Email:" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strncasecmp(line, names[i], strlen(names[i])) == 0)
            return 1;
    return 0;
}

/* What the library sends: a known method, an http(s) URL, header lines
 * that are single lines, credentials only where they belong, JSON bodies
 * that are JSON. */
static void check_request(const pktcap__http_test_request *req)
{
    static const char *const methods[] = { "GET", "POST", "PUT", "DELETE", "HEAD", "PATCH" };
    int known = 0, json = 0;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        known |= strcmp(req->method, methods[i]) == 0;
    harness_check(known, "a request has a known method");
    if (strncasecmp(req->url, "https://", 8) != 0 && strncasecmp(req->url, "http://", 7) != 0)
        fprintf(stderr, "%s: a request to %s\n", target, req->url);
    harness_check(strncasecmp(req->url, "https://", 8) == 0 ||
                      strncasecmp(req->url, "http://", 7) == 0,
                  "a request goes to an http(s) URL");
    harness_check(!strpbrk(req->url, "\r\n \t"), "a URL holds no blank");
    for (const char *const *h = req->headers; *h; h++) {
        harness_check(!strpbrk(*h, "\r\n"), "a request header is one line");
        if (credential_line(*h) && !(script.auth_ok && script.auth_ok(req->url))) {
            fprintf(stderr, "%s: credentials sent to %s\n", target, req->url);
            harness_check(0, "credentials go only to the provider's own endpoints");
        }
        json |= strcasecmp(*h, "Content-Type: application/json") == 0;
    }
    if (json && req->body && req->body_len) {
        json_error_t err;
        json_t *v = json_loadb(req->body, req->body_len, JSON_DECODE_ANY, &err);
        harness_check(v != NULL, "a JSON request body is JSON");
        json_decref(v);
    }
}

static int answer(const pktcap__http_test_request *req, pktcap__http_test_response *resp,
                  void *userdata)
{
    const uint8_t *chunk, *next, *blank;
    int failure;
    (void)userdata;
    pthread_mutex_lock(&script.lock);
    harness_check(script.p != NULL, "no request is sent (this target sends none)");
    check_request(req);
    script.requests++;
    if (script.p == script.end) {
        pthread_mutex_unlock(&script.lock);
        if (trace)
            fprintf(stderr, "%s: %s %s -> refused (script used up)\n", target, req->method,
                    req->url);
        return PKTCAP__HTTP_TEST_REFUSED;
    }
    chunk = script.p;
    next = find(chunk, script.end, HARNESS_SEPARATOR);
    script.p = next ? next + strlen(HARNESS_SEPARATOR) : script.end;
    if (!next)
        next = script.end;
    if (chunk == next) {   /* an empty response: the server sent nothing */
        pthread_mutex_unlock(&script.lock);
        return PKTCAP__HTTP_TEST_OK;
    }
    resp->status = answers[chunk[0] % 32].status;
    failure = answers[chunk[0] % 32].failure;
    chunk++;
    blank = find(chunk, next, "\n\n");
    if (blank) {
        resp->headers = (const char *)chunk;
        resp->headers_len = (size_t)(blank - chunk);
        chunk = blank + 2;
    }
    resp->body = chunk;
    resp->body_len = (size_t)(next - chunk);
    pthread_mutex_unlock(&script.lock);
    if (trace)
        fprintf(stderr, "%s: %s %s -> %ld%s (%zu header bytes, %zu body bytes)\n", target,
                req->method, req->url, resp->status, failure ? " then a transport failure" : "",
                resp->headers_len, resp->body_len);
    return failure;
}

int harness_input(const uint8_t *data, size_t size, int (*auth_ok)(const char *url),
                  void (*run)(int config))
{
    if (size == 0 || size > 64 * 1024)
        return 0;
    harness_script(data + 1, size - 1, auth_ok);
    run(data[0]);
    harness_script(NULL, 0, NULL);   /* nothing is sent after the provider closed */
    return 0;
}

void harness_stop_and_fetch(pktcap_session *s)
{
    int state = pktcap_session_state(s);
    if (state == PKTCAP_STATE_PENDING || state == PKTCAP_STATE_RUNNING) {
        pktcap_error_clear();
        harness_status(pktcap_session_stop(s), "pktcap_session_stop");
        harness_session(s);
        harness_refresh(s, 3);
    }
    harness_fetch(s);
}

void harness_open(pktcap_provider *p, const char *id, void (*finish)(pktcap_session *s))
{
    pktcap_session *s = NULL;
    pktcap_error_clear();
    if (harness_status(pktcap_session_open(&s, p, id), "pktcap_session_open") != 0)
        return;
    harness_session(s);
    harness_check(pktcap_session_state(s) != PKTCAP_STATE_NEW, "an opened session is not NEW");
    harness_refresh(s, 3);
    finish(s);
    pktcap_session_free(s);
}

void harness_script(const uint8_t *data, size_t size, int (*auth_ok)(const char *url))
{
    pthread_mutex_lock(&script.lock);
    script.p = data;
    script.end = data ? data + size : NULL;
    script.auth_ok = auth_ok;
    script.requests = 0;
    pthread_mutex_unlock(&script.lock);
    for (size_t i = 0; i < nsecrets; i++)
        secrets[i].echoed = data && find(data, data + size, secrets[i].text) != NULL;
    pktcap__http_set_test_transport(answer, NULL);
}

unsigned harness_requests(void)
{
    unsigned n;
    pthread_mutex_lock(&script.lock);
    n = script.requests;
    pthread_mutex_unlock(&script.lock);
    return n;
}
