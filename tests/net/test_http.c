/* The HTTP client (lib/net/http.h) against a scripted server on loopback
 * (tests/net/scripted_server.py, started here with the interpreter meson
 * found): retries and their timing, transport errors, limits, the headers
 * sent and parsed, connection reuse, downloads with resume, logging without
 * secrets, and TLS with a certificate made for the test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include <pktcap/pktcap.h>
#include <pktcap/version.h>
#include "core/alloc.h"
#include "net/auth.h"
#include "net/http.h"
#include "storage/storage.h"

/* ---- the scripted server -------------------------------------------------------- */

struct server {
    pid_t pid;
    int input;        /* its stdin: closing it stops the server */
    int tls;
    char base[64];    /* "http://127.0.0.1:PORT" */
};

static struct server plain;

/* A pipe whose ends the server does not inherit beyond the two it is given. */
static void cloexec_pipe(int fds[2])
{
    assert_int_equal(pipe(fds), 0);
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
}

static void start_server(struct server *s, const char *cert, const char *key)
{
    const char *script = getenv("PKTCAP_TEST_SCRIPTED_SERVER");
    const char *python = getenv("PKTCAP_TEST_PYTHON");
    int in[2], out[2], port = 0;
    FILE *f;
    if (!script || !python)
        fail_msg("PKTCAP_TEST_SCRIPTED_SERVER and PKTCAP_TEST_PYTHON must be set (meson test sets them)");
    cloexec_pipe(in);
    cloexec_pipe(out);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        if (cert)
            execl(python, python, script, "--tls", cert, key, (char *)NULL);
        else
            execl(python, python, script, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    f = fdopen(out[0], "r");
    assert_non_null(f);
    if (fscanf(f, "%d", &port) != 1 || port <= 0)
        fail_msg("the scripted server did not print its port");
    fclose(f);
    s->input = in[1];
    s->tls = cert != NULL;
    snprintf(s->base, sizeof s->base, "%s://127.0.0.1:%d", cert ? "https" : "http", port);
}

static char *control(struct server *s, const char *path, const char *post);

static void stop_server(struct server *s)
{
    int status;
    free(control(s, "/_quit", ""));
    close(s->input);
    waitpid(s->pid, &status, 0);
}

struct buffer {
    char *p;
    size_t n;
};

static size_t collect(char *data, size_t size, size_t n, void *userdata)
{
    struct buffer *b = userdata;
    b->p = realloc(b->p, b->n + size * n + 1);
    memcpy(b->p + b->n, data, size * n);
    b->n += size * n;
    b->p[b->n] = '\0';
    return size * n;
}

/* A control request, made with libcurl directly (not the code under test). */
static char *control(struct server *s, const char *path, const char *post)
{
    struct buffer b = { NULL, 0 };
    char url[128];
    long status = 0;
    CURL *e = curl_easy_init();
    assert_non_null(e);
    snprintf(url, sizeof url, "%s%s", s->base, path);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    if (post)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, post);
    assert_int_equal(curl_easy_perform(e), CURLE_OK);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 200);
    curl_easy_cleanup(e);
    return b.p;
}

/* Replaces the server's script with the given steps (NULL-terminated; each
 * reference is taken) and forgets the requests it recorded. */
static void run_script(struct server *s, ...)
{
    json_t *steps = json_array(), *step;
    va_list ap;
    char *text;
    va_start(ap, s);
    while ((step = va_arg(ap, json_t *)) != NULL)
        json_array_append_new(steps, step);
    va_end(ap);
    text = json_dumps(steps, JSON_COMPACT);
    free(control(s, "/_script", text));
    free(text);
    json_decref(steps);
}

static json_t *recorded(struct server *s)
{
    char *text = control(s, "/_requests", NULL);
    json_t *reqs = json_loads(text, 0, NULL);
    free(text);
    assert_non_null(reqs);
    return reqs;
}

/* The value of header `name` in recorded request i, or NULL. */
static const char *rheader(json_t *reqs, size_t i, const char *name)
{
    json_t *headers = json_object_get(json_array_get(reqs, i), "headers"), *h;
    size_t k;
    json_array_foreach(headers, k, h)
        if (strcasecmp(json_string_value(json_array_get(h, 0)), name) == 0)
            return json_string_value(json_array_get(h, 1));
    return NULL;
}

static size_t rheader_count(json_t *reqs, size_t i, const char *name)
{
    json_t *headers = json_object_get(json_array_get(reqs, i), "headers"), *h;
    size_t k, n = 0;
    json_array_foreach(headers, k, h)
        n += strcasecmp(json_string_value(json_array_get(h, 0)), name) == 0;
    return n;
}

static const char *rfield(json_t *reqs, size_t i, const char *field)
{
    return json_string_value(json_object_get(json_array_get(reqs, i), field));
}

static long rconn(json_t *reqs, size_t i)
{
    return (long)json_integer_value(json_object_get(json_array_get(reqs, i), "conn"));
}

/* ---- script steps ----------------------------------------------------------------- */

static json_t *step(int status)
{
    return json_pack("{s:i}", "status", status);
}

static json_t *with_header(json_t *st, const char *name, const char *value)
{
    json_t *h = json_object_get(st, "headers");
    if (!h) {
        h = json_array();
        json_object_set_new(st, "headers", h);
    }
    json_array_append_new(h, json_pack("[s,s]", name, value));
    return st;
}

static json_t *with_body(json_t *st, const char *body)
{
    json_object_set_new(st, "body", json_string(body));
    return st;
}

static json_t *with_bytes(json_t *st, const unsigned char *b, size_t n)
{
    char *hex = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++)
        sprintf(hex + 2 * i, "%02x", b[i]);
    hex[2 * n] = '\0';
    json_object_set_new(st, "body_hex", json_string(hex));
    free(hex);
    return st;
}

static json_t *with_int(json_t *st, const char *key, long v)
{
    json_object_set_new(st, key, json_integer(v));
    return st;
}

/* ---- the client under test and its log --------------------------------------------- */

#define MAX_LINES 4096

struct logbook {
    char *lines[MAX_LINES];
    int levels[MAX_LINES];
    size_t n;
};

static struct logbook book;

static void log_cb(int level, const char *message, void *userdata)
{
    struct logbook *lb = userdata;
    if (lb->n < MAX_LINES) {
        lb->levels[lb->n] = level;
        lb->lines[lb->n++] = strdup(message);
    }
}

static const pktcap__logger logger = { log_cb, &book, PKTCAP_LOG_DEBUG };

static void clear_log(void)
{
    for (size_t i = 0; i < book.n; i++)
        free(book.lines[i]);
    book.n = 0;
}

static int reset_log(void **state)
{
    (void)state;
    clear_log();
    pktcap_error_clear();
    return 0;
}

/* Whether a line at `level` is exactly `text` (or contains it, `exact` 0). */
static int logged(int level, const char *text, int exact)
{
    for (size_t i = 0; i < book.n; i++)
        if (book.levels[i] == level &&
            (exact ? strcmp(book.lines[i], text) == 0 : strstr(book.lines[i], text) != NULL))
            return 1;
    return 0;
}

static size_t logged_count(int level, const char *text)
{
    size_t n = 0;
    for (size_t i = 0; i < book.n; i++)
        n += book.levels[i] == level && strstr(book.lines[i], text) != NULL;
    return n;
}

static void print_log(void)
{
    for (size_t i = 0; i < book.n; i++)
        fprintf(stderr, "  log[%d] %s\n", book.levels[i], book.lines[i]);
}

#define assert_logged(level, text, exact)                                        \
    do {                                                                          \
        if (!logged(level, text, exact)) {                                        \
            print_log();                                                          \
            fail_msg("no log line at level %d %s '%s'", level,                    \
                     (exact) ? "equal to" : "containing", text);                  \
        }                                                                         \
    } while (0)

/* A client with quick retries, so failing paths do not make the suite slow. */
static pktcap__http *client(void)
{
    pktcap__http *h = NULL;
    assert_int_equal(pktcap__http_new(&h, &logger), 0);
    assert_int_equal(pktcap__http_set(h, "retry_base_ms", "1"), 0);
    assert_int_equal(pktcap__http_set(h, "retry_max_ms", "20"), 0);
    return h;
}

static void set(pktcap__http *h, const char *key, const char *value)
{
    assert_int_equal(pktcap__http_set(h, key, value), 0);
}

static const char *url(const struct server *s, const char *path)
{
    static char buf[4][512];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof buf[0], "%s%s", s->base, path);
    return b;
}

static pktcap__http_request get(const char *u)
{
    pktcap__http_request r;
    memset(&r, 0, sizeof r);
    r.method = "GET";
    r.url = u;
    r.what = "get thing";
    return r;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *message(void)
{
    return pktcap_error_message(pktcap_error_last());
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

/* ---- plain requests ------------------------------------------------------------------- */

static void a_200_comes_back_with_its_body_headers_and_request_id(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/things/1?api-version=2023-09-01"));
    pktcap__http_response resp;
    json_t *reqs;
    char line[256];
    (void)state;
    run_script(&plain, with_body(with_header(with_header(step(200), "Content-Type", "application/json"),
                                             "x-ms-request-id", "rid-1"),
                                 "{\"ok\":true}"),
               NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, "{\"ok\":true}");
    assert_int_equal(resp.body_len, 11);
    assert_int_equal(resp.attempts, 1);
    assert_string_equal(resp.request_id, "rid-1");
    assert_true(resp.retry_after_ms == -1);
    assert_string_equal(pktcap__http_header_get(&resp, "content-type"), "application/json");
    assert_int_equal(strlen(resp.client_request_id), 36);

    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 1);
    assert_string_equal(rfield(reqs, 0, "method"), "GET");
    assert_string_equal(rfield(reqs, 0, "path"), "/things/1?api-version=2023-09-01");
    assert_string_equal(rheader(reqs, 0, "User-Agent"), "libpktcap/" PKTCAP_VERSION_STRING);
    assert_string_equal(rheader(reqs, 0, "Accept"), "application/json");
    assert_string_equal(rheader(reqs, 0, "X-Request-ID"), resp.client_request_id);
    assert_null(rheader(reqs, 0, "Expect"));
    assert_null(rheader(reqs, 0, "Content-Type"));
    assert_null(rheader(reqs, 0, "Authorization"));
    json_decref(reqs);

    snprintf(line, sizeof line, "> GET %s/things/1?api-version=2023-09-01", plain.base);
    assert_logged(PKTCAP_LOG_INFO, line, 1);
    assert_logged(PKTCAP_LOG_INFO, "< 200 OK (11 bytes, ", 0);
    assert_logged(PKTCAP_LOG_INFO, " ms, request id rid-1)", 0);
    assert_logged(PKTCAP_LOG_DEBUG, "> User-Agent: libpktcap/" PKTCAP_VERSION_STRING, 1);
    assert_logged(PKTCAP_LOG_DEBUG, "< x-ms-request-id: rid-1", 1);
    pktcap__http_response_clear(&resp);
    assert_null(resp.body);
    assert_int_equal(resp.nheaders, 0);
    pktcap__http_free(h);
}

static void a_503_is_retried_with_the_same_request_id(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/x"));
    pktcap__http_response resp;
    json_t *reqs;
    (void)state;
    run_script(&plain, step(503), with_body(step(200), "ok"), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    assert_string_equal(resp.body, "ok");
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 2);
    assert_string_equal(rheader(reqs, 0, "X-Request-ID"), resp.client_request_id);
    assert_string_equal(rheader(reqs, 1, "X-Request-ID"), resp.client_request_id);
    json_decref(reqs);
    assert_logged(PKTCAP_LOG_WARN, "get thing: HTTP 503, retrying in ", 0);
    assert_logged(PKTCAP_LOG_WARN, " ms (backoff), attempt 2 of 5", 0);
    pktcap__http_response_clear(&resp);
    pktcap__http_free(h);
}

static void retry_after_seconds_are_waited_for(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/x"));
    pktcap__http_response resp;
    int64_t t0;
    (void)state;
    run_script(&plain, with_header(with_header(step(429), "Retry-After", "1"), "x-ms-request-id", "r429"),
               step(200), NULL);
    t0 = mono_ms();
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_true(mono_ms() - t0 >= 900);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    assert_logged(PKTCAP_LOG_WARN,
                  "get thing: HTTP 429 (request id r429), retrying in 1000 ms (Retry-After), attempt 2 of 5", 1);
    pktcap__http_response_clear(&resp);
    pktcap__http_free(h);
}

static void retry_after_ms_headers_are_waited_for(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/x"));
    pktcap__http_response resp;
    int64_t t0;
    (void)state;
    run_script(&plain, with_header(step(503), "retry-after-ms", "300"),
               with_header(step(503), "x-ms-retry-after-ms", "200"), step(200), NULL);
    t0 = mono_ms();
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_true(mono_ms() - t0 >= 450);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 3);
    assert_logged(PKTCAP_LOG_WARN, "get thing: HTTP 503, retrying in 300 ms (retry-after-ms), attempt 2 of 5", 1);
    assert_logged(PKTCAP_LOG_WARN, "get thing: HTTP 503, retrying in 200 ms (x-ms-retry-after-ms), attempt 3 of 5", 1);
    pktcap__http_response_clear(&resp);
    pktcap__http_free(h);
}

static void when_retries_run_out_the_last_response_is_returned(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/x"));
    pktcap__http_response resp;
    json_t *reqs;
    (void)state;
    set(h, "retries", "2");
    run_script(&plain, step(429), step(429), with_body(with_header(step(429), "x-ms-request-id", "last"), "slow down"),
               step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 429);
    assert_int_equal(resp.attempts, 3);
    assert_string_equal(resp.body, "slow down");
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 3);
    json_decref(reqs);
    assert_int_equal(pktcap__http_status_error(&resp, req.what, NULL, NULL, 0), PKTCAP_E_THROTTLED);
    assert_string_equal(message(), "get thing: HTTP 429 Too Many Requests (request id last) after 3 attempts");
    pktcap__http_response_clear(&resp);
    pktcap__http_free(h);
}

static void a_wait_beyond_the_retry_budget_gives_up_at_once(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/x"));
    pktcap__http_response resp;
    json_t *reqs;
    (void)state;
    run_script(&plain, with_header(step(429), "Retry-After", "3600"), step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 429);
    assert_int_equal(resp.attempts, 1);
    assert_true(resp.retry_after_ms == 3600000);
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 1);
    json_decref(reqs);
    assert_logged(PKTCAP_LOG_WARN,
                  "get thing: HTTP 429, giving up: waiting 3600000 ms (Retry-After) would exceed the "
                  "retry budget (120000 of retry_budget_ms=120000 left)", 1);
    pktcap__http_response_clear(&resp);

    /* The budget is for all waits together. */
    set(h, "retry_budget_ms", "250");
    run_script(&plain, with_header(step(503), "retry-after-ms", "200"),
               with_header(step(503), "retry-after-ms", "200"), step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 503);
    assert_int_equal(resp.attempts, 2);
    assert_logged(PKTCAP_LOG_WARN, "(50 of retry_budget_ms=250 left)", 0);
    pktcap__http_response_clear(&resp);
    pktcap__http_free(h);
}

static void a_post_is_retried_only_when_the_server_asks(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/create"));
    pktcap__http_response resp;
    json_t *reqs;
    (void)state;
    req.method = "POST";
    req.body = "{\"a\":1}";
    req.body_len = 7;
    req.retry = PKTCAP__HTTP_RETRY_NEVER;

    run_script(&plain, step(500), step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 500);
    assert_int_equal(resp.attempts, 1);
    pktcap__http_response_clear(&resp);
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 1);
    assert_string_equal(rfield(reqs, 0, "method"), "POST");
    assert_string_equal(rfield(reqs, 0, "body"), "{\"a\":1}");
    assert_string_equal(rheader(reqs, 0, "Content-Type"), "application/json");
    assert_string_equal(rheader(reqs, 0, "Content-Length"), "7");
    json_decref(reqs);

    run_script(&plain, step(429), step(201), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 201);
    assert_int_equal(resp.attempts, 2);
    pktcap__http_response_clear(&resp);

    /* any error status with a retry-after header is the server's say-so */
    run_script(&plain, with_header(step(503), "Retry-After", "0"), step(202), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 202);
    assert_int_equal(resp.attempts, 2);
    pktcap__http_response_clear(&resp);

    /* by method: a POST is not idempotent, unless the caller says it is safe */
    req.retry = PKTCAP__HTTP_RETRY_AUTO;
    run_script(&plain, step(503), step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 503);
    pktcap__http_response_clear(&resp);
    req.retry = PKTCAP__HTTP_RETRY_SAFE;
    run_script(&plain, step(503), step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    pktcap__http_response_clear(&resp);

    /* PUT and DELETE are idempotent; a PUT without a body says Content-Length: 0 */
    req.retry = PKTCAP__HTTP_RETRY_AUTO;
    req.method = "PUT";
    req.body = NULL;
    req.body_len = 0;
    run_script(&plain, step(502), step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    pktcap__http_response_clear(&resp);
    reqs = recorded(&plain);
    assert_string_equal(rfield(reqs, 1, "method"), "PUT");
    assert_string_equal(rheader(reqs, 1, "Content-Length"), "0");
    assert_null(rheader(reqs, 1, "Content-Type"));
    json_decref(reqs);
    req.method = "DELETE";
    run_script(&plain, step(504), step(204), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 204);
    assert_int_equal(resp.attempts, 2);
    assert_string_equal(resp.body, "");
    pktcap__http_response_clear(&resp);
    pktcap__http_free(h);
}

static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static void a_refused_connection_is_a_network_error_after_the_retries(void **state)
{
    pktcap__http *h = client();
    char u[128], tail[160];
    int port = closed_port();
    pktcap__http_request req = get(u);
    pktcap__http_response resp;
    (void)state;
    snprintf(u, sizeof u, "http://127.0.0.1:%d/x?sig=SECRET", port);
    snprintf(tail, sizeof tail, " (http://127.0.0.1:%d/x?sig=***) after 3 attempts", port);
    set(h, "retries", "2");
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_NET);
    assert_true(strncmp(message(), "get thing: ", 11) == 0);
    if (!ends_with(message(), tail))
        fail_msg("message '%s' does not end with '%s'", message(), tail);
    assert_int_equal(resp.status, 0);
    assert_null(resp.body);
    assert_int_equal(logged_count(PKTCAP_LOG_WARN, "(backoff), attempt"), 2);
    assert_int_equal(logged_count(PKTCAP_LOG_ERROR, "after 3 attempts"), 1);

    /* nothing was sent: a POST that must not be repeated is retried too */
    clear_log();
    req.method = "POST";
    req.retry = PKTCAP__HTTP_RETRY_NEVER;
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_NET);
    assert_true(ends_with(message(), " after 3 attempts"));
    pktcap__http_free(h);
}

static void a_slow_server_is_a_timeout(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/slow"));
    pktcap__http_response resp;
    (void)state;
    set(h, "timeout_ms", "300");
    set(h, "retries", "0");
    run_script(&plain, with_int(step(200), "delay_ms", 1500), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_TIMEOUT);
    assert_true(strncmp(message(), "get thing: ", 11) == 0);
    assert_null(strstr(message(), "attempts"));
    assert_int_equal(resp.status, 0);

    /* a GET that timed out is tried again */
    set(h, "retries", "1");
    run_script(&plain, with_int(step(200), "delay_ms", 1500), with_body(step(200), "late"), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.attempts, 2);
    assert_string_equal(resp.body, "late");
    pktcap__http_response_clear(&resp);

    /* a POST that must not be repeated is not: the server may have acted on it */
    req.method = "POST";
    req.retry = PKTCAP__HTTP_RETRY_NEVER;
    run_script(&plain, with_int(step(200), "delay_ms", 1500), step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_TIMEOUT);
    assert_null(strstr(message(), "attempts"));
    pktcap__http_free(h);
}

static void a_body_over_max_response_bytes_is_refused(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/big"));
    pktcap__http_response resp;
    char big[1001];
    (void)state;
    memset(big, 'x', 1000);
    big[1000] = '\0';
    set(h, "max_response_bytes", "100");
    run_script(&plain, with_body(step(200), big), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_LIMIT);
    assert_string_equal(message(), "response to get thing is larger than 100 bytes (max_response_bytes)");
    assert_null(resp.body);
    /* without a Content-Length, while it streams */
    run_script(&plain, json_pack("{s:i, s:s, s:b}", "status", 200, "body", big, "chunked", 1), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_LIMIT);
    assert_string_equal(message(), "response to get thing is larger than 100 bytes (max_response_bytes)");
    /* exactly the cap is fine */
    big[100] = '\0';
    run_script(&plain, json_pack("{s:i, s:s, s:b}", "status", 200, "body", big, "chunked", 1), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.body_len, 100);
    pktcap__http_response_clear(&resp);
    pktcap__http_free(h);
}

static void caller_headers_and_request_ids_are_sent_on_every_attempt(void **state)
{
    static const char *const extra[] = { "Accept: text/plain", "X-Extra: 1", NULL };
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/x"));
    pktcap__http_response resp;
    json_t *reqs;
    (void)state;
    assert_int_equal(pktcap__http_set_request_id_header(h, "x-ms-client-request-id"), 0);
    req.client_request_id = "my-id-1";
    req.headers = extra;
    run_script(&plain, step(503), step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.attempts, 2);
    assert_string_equal(resp.client_request_id, "my-id-1");
    reqs = recorded(&plain);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(rheader(reqs, i, "x-ms-client-request-id"), "my-id-1");
        assert_null(rheader(reqs, i, "X-Request-ID"));
        assert_int_equal(rheader_count(reqs, i, "Accept"), 1);
        assert_string_equal(rheader(reqs, i, "Accept"), "text/plain");
        assert_string_equal(rheader(reqs, i, "X-Extra"), "1");
        assert_string_equal(rheader(reqs, i, "User-Agent"), "libpktcap/" PKTCAP_VERSION_STRING);
    }
    json_decref(reqs);
    pktcap__http_response_clear(&resp);

    req.client_request_id = "0123456789012345678901234567890123456789";
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_INVAL);
    assert_string_equal(message(), "get thing: the client request id must be one line of at most 39 characters");
    req.client_request_id = "a\r\nX-Injected: 1";
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_INVAL);
    pktcap__http_free(h);
}

static void only_the_final_responses_headers_are_kept(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/x"));
    pktcap__http_response resp;
    json_t *st = step(200);
    (void)state;
    json_object_set_new(st, "interim", json_pack("[{s:i, s:[[s,s],[s,s]]}]", "status", 103, "headers",
                                                 "Link", "</style.css>; rel=preload", "X-Early", "1"));
    with_header(st, "X-Thing", "  padded value  ");
    with_header(st, "x-thing", "second");
    with_header(st, "Retry-After", "5");
    run_script(&plain, st, NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 1);   /* a 2xx with Retry-After is final */
    assert_true(resp.retry_after_ms == 5000);
    assert_string_equal(pktcap__http_header_get(&resp, "X-THING"), "padded value");
    assert_null(pktcap__http_header_get(&resp, "link"));
    assert_null(pktcap__http_header_get(&resp, "x-early"));
    assert_int_equal(resp.nheaders, 4);   /* X-Thing, x-thing, Retry-After, Content-Length */
    assert_string_equal(resp.headers[1].name, "x-thing");
    assert_string_equal(resp.headers[1].value, "second");
    assert_string_equal(resp.headers[3].name, "Content-Length");
    assert_string_equal(resp.headers[3].value, "0");
    pktcap__http_response_clear(&resp);
    pktcap__http_free(h);
}

static void credentials_never_go_over_plain_http_to_another_host(void **state)
{
    pktcap__http *h = client();
    pktcap__auth *a = NULL;
    pktcap__http_request req = get("http://example.invalid/x");
    pktcap__http_response resp;
    json_t *reqs;
    char u[128];
    (void)state;
    assert_int_equal(pktcap__auth_new_bearer(&a, "tok-123"), 0);
    req.auth = a;
    req.scope = "https://management.azure.com/";
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_INVAL);
    assert_string_equal(message(), "get thing: refusing to send credentials over plain http to "
                                   "example.invalid (use https, or set allow_http=true)");
    assert_int_equal(resp.attempts, 0);
    assert_int_equal(book.n, 0);   /* not even a request line: nothing was sent */

    req.auth = NULL;
    req.sensitive_body = 1;
    req.method = "POST";
    req.body = "client_secret=x";
    req.body_len = 15;
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_INVAL);
    req = get("http://user:pw@example.invalid/x");
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_INVAL);
    assert_null(strstr(message(), "pw"));
    assert_int_equal(book.n, 0);

    /* other schemes are refused too */
    req = get("ftp://127.0.0.1/x");
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_INVAL);
    assert_string_equal(message(), "get thing: ftp://127.0.0.1/x: only http and https URLs are supported");
    req = get("not a url");
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_INVAL);
    assert_true(strncmp(message(), "get thing: malformed URL not a url: ", 36) == 0);

    /* loopback is fine, by address or by name */
    req = get(url(&plain, "/x"));
    req.auth = a;
    run_script(&plain, step(200), step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    pktcap__http_response_clear(&resp);
    snprintf(u, sizeof u, "http://localhost:%s/y", strrchr(plain.base, ':') + 1);
    req.url = u;
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    pktcap__http_response_clear(&resp);
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 2);
    assert_string_equal(rheader(reqs, 0, "Authorization"), "Bearer tok-123");
    assert_string_equal(rheader(reqs, 1, "Authorization"), "Bearer tok-123");
    json_decref(reqs);
    pktcap__auth_free(a);
    pktcap__http_free(h);
}

static void requests_of_one_client_share_a_connection(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/a"));
    pktcap__http_response resp;
    json_t *reqs;
    (void)state;
    run_script(&plain, step(200), step(503), step(200), step(201), step(201), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    pktcap__http_response_clear(&resp);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);   /* 503, then 200 */
    pktcap__http_response_clear(&resp);
    req.method = "PUT";
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 201);
    pktcap__http_response_clear(&resp);
    /* A request that must not be repeated gets a connection of its own:
     * libcurl re-sends silently when a reused connection dies before the
     * answer, which would, say, start a second capture. */
    req.method = "POST";
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 201);
    pktcap__http_response_clear(&resp);
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 5);
    for (size_t i = 1; i < 4; i++)
        assert_int_equal(rconn(reqs, i), rconn(reqs, 0));
    assert_int_not_equal(rconn(reqs, 4), rconn(reqs, 0));
    json_decref(reqs);
    pktcap__http_free(h);
}

/* rate_limit=3/1: the fourth request waits until the first has left the
 * one-second window (a lower bound: the limiter can only make it later),
 * and says so once at INFO; a canceled request does not wait for room. */
static void the_rate_limit_keeps_requests_in_their_window(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/r"));
    pktcap__http_response resp;
    json_t *reqs;
    int flag = 1;
    (void)state;
    set(h, "rate_limit", "3/1");
    clear_log();
    run_script(&plain, step(200), step(200), step(200), step(200), NULL);
    int64_t t0 = mono_ms();
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
        pktcap__http_response_clear(&resp);
        if (i < 3 && mono_ms() - t0 >= 1000)
            fail_msg("the first three requests took a second: the test cannot tell");
    }
    assert_true(mono_ms() - t0 >= 1000);
    assert_logged(PKTCAP_LOG_INFO, "rate_limit 3/1 reached: waiting ", 0);
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 4);
    json_decref(reqs);
    /* The window is full again: a canceled request returns without a request. */
    set(h, "rate_limit", "1/60");
    run_script(&plain, step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    pktcap__http_response_clear(&resp);
    req.cancel = &flag;
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_CANCELED);
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 1);
    json_decref(reqs);
    pktcap__http_free(h);
}

static void a_401_fetches_a_new_token_once(void **state)
{
    pktcap__http *h = client();
    pktcap__auth *a = NULL;
    pktcap__http_request req = get(url(&plain, "/x"));
    pktcap__http_response resp;
    json_t *reqs;
    const char *tok1 = "{\"access_token\":\"tok1\",\"expires_in\":3600,\"token_type\":\"Bearer\"}";
    const char *tok2 = "{\"access_token\":\"tok2\",\"expires_in\":3600,\"token_type\":\"Bearer\"}";
    (void)state;
    assert_int_equal(pktcap__auth_new_entra(&a, h, plain.base, "tenant", "client", "SECRET-CS"), 0);
    req.auth = a;
    req.scope = "https://management.azure.com/";
    run_script(&plain, with_body(step(200), tok1), step(401), with_body(step(200), tok2),
               with_body(step(200), "ok"), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    assert_string_equal(resp.body, "ok");
    pktcap__http_response_clear(&resp);
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 4);
    assert_string_equal(rfield(reqs, 0, "path"), "/tenant/oauth2/v2.0/token");
    assert_string_equal(rheader(reqs, 1, "Authorization"), "Bearer tok1");
    assert_string_equal(rheader(reqs, 3, "Authorization"), "Bearer tok2");
    json_decref(reqs);
    assert_logged(PKTCAP_LOG_INFO, "get thing: HTTP 401, trying again with a new token", 1);

    /* a second 401 is final */
    run_script(&plain, step(401), with_body(step(200), tok1), step(401), step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 401);
    assert_int_equal(resp.attempts, 2);
    pktcap__http_response_clear(&resp);
    pktcap__auth_free(a);

    /* a fixed token cannot get better: no second try */
    assert_int_equal(pktcap__auth_new_bearer(&a, "fixed"), 0);
    req.auth = a;
    run_script(&plain, step(401), step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 401);
    assert_int_equal(resp.attempts, 1);
    pktcap__http_response_clear(&resp);
    pktcap__auth_free(a);
    pktcap__http_free(h);
}

struct thread_arg {
    pktcap__http *h;
    int failures;
};

static void *hammer(void *p)
{
    struct thread_arg *arg = p;
    pktcap__http_request req = get(url(&plain, "/t"));
    for (int i = 0; i < 20; i++) {
        pktcap__http_response resp;
        if (pktcap__http_send(arg->h, &req, &resp) != 0 || resp.status != 200)
            arg->failures++;
        pktcap__http_response_clear(&resp);
    }
    return NULL;
}

static void two_threads_can_use_one_client(void **state)
{
    pktcap__http *h = client();
    json_t *steps = json_array();
    struct thread_arg args[2] = { { h, 0 }, { h, 0 } };
    pthread_t t[2];
    char *text;
    (void)state;
    set(h, "retries", "0");
    for (int i = 0; i < 40; i++)
        json_array_append_new(steps, with_body(step(200), "x"));
    text = json_dumps(steps, JSON_COMPACT);
    free(control(&plain, "/_script", text));
    free(text);
    json_decref(steps);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &args[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(args[0].failures, 0);
    assert_int_equal(args[1].failures, 0);
    pktcap__http_free(h);
}

static void nothing_secret_is_ever_logged(void **state)
{
    static const char *const extra[] = { "X-Api-Key: SECRET-KEY-6", "Cookie: a=SECRET-COOKIE-8", NULL };
    pktcap__http *h = client();
    pktcap__auth *a = NULL;
    pktcap__http_request req = get(url(&plain, "/x?sig=SECRET-SIG-2&api-version=1"));
    pktcap__http_response resp;
    char line[256];
    (void)state;
    assert_int_equal(pktcap__auth_new_bearer(&a, "SECRET-TOKEN-1"), 0);
    req.method = "POST";
    req.auth = a;
    req.headers = extra;
    req.body = "client_secret=SECRET-BODY-3&grant_type=client_credentials";
    req.body_len = strlen(req.body);
    req.content_type = "application/x-www-form-urlencoded";
    req.sensitive_body = 1;
    req.retry = PKTCAP__HTTP_RETRY_SAFE;
    run_script(&plain, step(503),
               with_body(with_header(with_header(step(200), "Set-Cookie", "s=SECRET-COOKIE-4; HttpOnly"),
                                     "Location", "https://h/x?sv=1&sig=SECRET-LOC-5"),
                         "{\"access_token\":\"SECRET-RESPBODY-7\"}"),
               NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    pktcap__http_response_clear(&resp);

    snprintf(line, sizeof line, "> POST %s/x?sig=***&api-version=1", plain.base);
    assert_logged(PKTCAP_LOG_INFO, line, 1);
    assert_logged(PKTCAP_LOG_DEBUG, "> Authorization: ***", 1);
    assert_logged(PKTCAP_LOG_DEBUG, "> X-Api-Key: ***", 1);
    assert_logged(PKTCAP_LOG_DEBUG, "> Cookie: ***", 1);
    assert_logged(PKTCAP_LOG_DEBUG, "> Content-Type: application/x-www-form-urlencoded", 1);
    assert_logged(PKTCAP_LOG_DEBUG, "< Set-Cookie: ***", 1);
    assert_logged(PKTCAP_LOG_DEBUG, "< Location: https://h/x?sv=1&sig=***", 1);
    assert_logged(PKTCAP_LOG_WARN, "HTTP 503, retrying", 0);
    assert_true(book.n >= 15);
    for (size_t i = 0; i < book.n; i++)
        if (strstr(book.lines[i], "SECRET"))
            fail_msg("a secret was logged: %s", book.lines[i]);
    pktcap__auth_free(a);
    pktcap__http_free(h);
}

/* ---- cookies, login sessions, cancelling, per-request timeouts -------------------------- */

static void cookies_are_kept_and_sent_back_only_when_enabled(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/c"));
    pktcap__http_response resp;
    json_t *reqs;
    (void)state;
    /* off by default: a Set-Cookie is not sent back */
    run_script(&plain, with_header(step(200), "Set-Cookie", "SID=COOKIEVAL1; Path=/"), step(200),
               NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
        pktcap__http_response_clear(&resp);
    }
    reqs = recorded(&plain);
    assert_null(rheader(reqs, 1, "Cookie"));
    json_decref(reqs);
    pktcap__http_free(h);

    /* on: every cookie comes back, on every later request, until it is expired or cleared */
    h = client();
    assert_int_equal(pktcap__http_enable_cookies(h), 0);
    run_script(&plain,
               with_header(with_header(step(200), "Set-Cookie", "SID=COOKIEVAL2; Path=/; HttpOnly"),
                           "Set-Cookie", "ns_id=COOKIEVAL3; Path=/"),
               step(200),
               with_header(step(200), "Set-Cookie",
                           "SID=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
               step(200), step(200), NULL);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
        assert_int_equal(resp.status, 200);
        pktcap__http_response_clear(&resp);
    }
    assert_int_equal(pktcap__http_clear_cookies(h), 0);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    pktcap__http_response_clear(&resp);
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 5);
    assert_null(rheader(reqs, 0, "Cookie"));
    assert_non_null(rheader(reqs, 1, "Cookie"));
    assert_non_null(strstr(rheader(reqs, 1, "Cookie"), "SID=COOKIEVAL2"));
    assert_non_null(strstr(rheader(reqs, 1, "Cookie"), "ns_id=COOKIEVAL3"));
    assert_non_null(strstr(rheader(reqs, 2, "Cookie"), "SID=COOKIEVAL2"));
    assert_string_equal(rheader(reqs, 3, "Cookie"), "ns_id=COOKIEVAL3");   /* SID expired */
    assert_null(rheader(reqs, 4, "Cookie"));                             /* cleared */
    json_decref(reqs);
    /* values never logged: Set-Cookie redacted, the Cookie libcurl adds not logged at all */
    assert_logged(PKTCAP_LOG_DEBUG, "< Set-Cookie: ***", 1);
    for (size_t i = 0; i < book.n; i++)
        if (strstr(book.lines[i], "COOKIEVAL"))
            fail_msg("a cookie value was logged: %s", book.lines[i]);
    pktcap__http_free(h);
}

struct canceller {
    int *flag;
    int after_ms;
};

static void *cancel_later(void *p)
{
    struct canceller *c = p;
    struct timespec ts = { c->after_ms / 1000, (long)(c->after_ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
    __atomic_store_n(c->flag, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void a_request_is_cancelled_from_another_thread(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/long"));
    pktcap__http_response resp;
    int flag = 0;
    struct canceller c = { &flag, 150 };
    pthread_t t;
    int64_t t0;
    json_t *reqs;
    (void)state;
    req.method = "POST";
    req.retry = PKTCAP__HTTP_RETRY_NEVER;
    req.cancel = &flag;

    /* during the transfer: within about a second (libcurl's progress callback) */
    run_script(&plain, with_int(step(200), "delay_ms", 8000), NULL);
    t0 = mono_ms();
    assert_int_equal(pthread_create(&t, NULL, cancel_later, &c), 0);
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_CANCELED);
    pthread_join(t, NULL);
    assert_true(mono_ms() - t0 < 2500);
    assert_string_equal(message(), "get thing: canceled");
    assert_int_equal(resp.status, 0);
    assert_null(resp.body);

    /* set before the call: nothing is sent */
    run_script(&plain, step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_CANCELED);
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 0);
    json_decref(reqs);

    /* during a wait before a retry: at once */
    flag = 0;
    req.retry = PKTCAP__HTTP_RETRY_SAFE;
    run_script(&plain, with_header(step(503), "Retry-After", "30"), step(200), NULL);
    t0 = mono_ms();
    assert_int_equal(pthread_create(&t, NULL, cancel_later, &c), 0);
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_CANCELED);
    pthread_join(t, NULL);
    assert_true(mono_ms() - t0 < 1000);
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 1);
    json_decref(reqs);

    /* a flag that stays 0 changes nothing */
    flag = 0;
    run_script(&plain, with_body(step(200), "done"), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_string_equal(resp.body, "done");
    pktcap__http_response_clear(&resp);
    pktcap__http_free(h);
}

static void a_request_timeout_replaces_the_clients(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get(url(&plain, "/sync"));
    pktcap__http_response resp;
    (void)state;
    set(h, "timeout_ms", "200");
    set(h, "retries", "0");
    req.timeout_ms = 3000;
    run_script(&plain, with_body(with_int(step(200), "delay_ms", 600), "finished"), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_string_equal(resp.body, "finished");
    pktcap__http_response_clear(&resp);
    req.timeout_ms = 0;   /* the client's 200 ms */
    run_script(&plain, with_int(step(200), "delay_ms", 600), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_TIMEOUT);
    pktcap__http_free(h);
}

/* A login session as a backend makes one: login POSTs /login on the same
 * client (the server sets the cookie), logout DELETEs it. */
struct appliance {
    pktcap__http *h;
    int logins, logouts, fail_login;
    const int *cancel_seen;
};

static int test_login(void *ctx, const int *cancel)
{
    struct appliance *a = ctx;
    pktcap__http_request req = get(url(&plain, "/login"));
    pktcap__http_response resp;
    int rc;
    a->cancel_seen = cancel;
    if (a->fail_login)
        return pktcap__error_set(PKTCAP_E_AUTH, "test login refused");
    req.method = "POST";
    req.body = "{\"login\":{\"username\":\"u\",\"password\":\"SECRET-PASSWORD\"}}";
    req.body_len = strlen(req.body);
    req.sensitive_body = 1;
    req.cancel = cancel;
    req.what = "log in";
    if ((rc = pktcap__http_send(a->h, &req, &resp)) < 0)
        return rc;
    rc = resp.status == 200 ? 0 : pktcap__error_set(PKTCAP_E_AUTH, "login: HTTP %ld", resp.status);
    pktcap__http_response_clear(&resp);
    a->logins++;
    return rc;
}

static void test_logout(void *ctx)
{
    struct appliance *a = ctx;
    pktcap__http_request req = get(url(&plain, "/login"));
    pktcap__http_response resp;
    req.method = "DELETE";
    if (pktcap__http_send(a->h, &req, &resp) == 0)
        pktcap__http_response_clear(&resp);
    a->logouts++;
}

static void a_login_session_logs_in_once_and_again_after_a_401(void **state)
{
    pktcap__http *h = client();
    struct appliance app = { h, 0, 0, 0, NULL };
    pktcap__auth *a = NULL;
    pktcap__http_request req = get(url(&plain, "/diag"));
    pktcap__http_response resp;
    struct curl_slist *none = NULL;
    int flag = 0;
    json_t *reqs;
    (void)state;
    assert_int_equal(pktcap__http_enable_cookies(h), 0);
    assert_int_equal(pktcap__auth_new_session(&a, test_login, test_logout, &app), 0);
    assert_string_equal(pktcap__auth_kind(a), "login session");
    assert_int_equal(pktcap__auth_logged_in(a), 0);
    assert_int_equal(pktcap__auth_end_session(a), 0);   /* not logged in: no logout */
    req.auth = a;
    req.cancel = &flag;

    /* first use logs in; the cookie goes with the request; the second request needs no login */
    run_script(&plain, with_header(step(200), "Set-Cookie", "S=one; Path=/"), step(200), step(200),
               NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
        assert_int_equal(resp.status, 200);
        pktcap__http_response_clear(&resp);
    }
    assert_int_equal(app.logins, 1);
    assert_true(app.cancel_seen == &flag);   /* the login is cancelled with the request */
    assert_int_equal(pktcap__auth_fetches(a), 1);
    assert_int_equal(pktcap__auth_logged_in(a), 1);
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 3);
    assert_string_equal(rfield(reqs, 0, "path"), "/login");
    assert_null(rheader(reqs, 0, "Authorization"));
    assert_string_equal(rheader(reqs, 1, "Cookie"), "S=one");
    assert_string_equal(rheader(reqs, 2, "Cookie"), "S=one");
    json_decref(reqs);

    /* the session expired: one new login, the request repeated with the new cookie */
    run_script(&plain, step(401), with_header(step(200), "Set-Cookie", "S=two; Path=/"),
               with_body(step(200), "ok"), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.attempts, 2);
    assert_string_equal(resp.body, "ok");
    pktcap__http_response_clear(&resp);
    assert_int_equal(app.logins, 2);
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 3);
    assert_string_equal(rfield(reqs, 1, "path"), "/login");
    assert_string_equal(rheader(reqs, 2, "Cookie"), "S=two");
    json_decref(reqs);
    assert_logged(PKTCAP_LOG_INFO, "get thing: HTTP 401, trying again after logging in again", 1);

    /* a second 401 is final: the caller reports it */
    run_script(&plain, step(401), step(200), step(401), step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 401);
    assert_int_equal(resp.attempts, 2);
    pktcap__http_response_clear(&resp);
    assert_int_equal(app.logins, 3);

    /* a refused login is the call's error; nothing else is sent */
    assert_int_equal(pktcap__auth_invalidate(a, NULL), 1);
    app.fail_login = 1;
    run_script(&plain, step(200), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_AUTH);
    assert_string_equal(message(), "test login refused");
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 0);
    json_decref(reqs);
    app.fail_login = 0;

    /* apply() alone logs in (a backend checking its credentials early); end_session logs out once */
    run_script(&plain, step(200), step(200), NULL);
    assert_int_equal(pktcap__auth_apply(a, NULL, &none), 0);
    assert_null(none);   /* a cookie session adds no header */
    assert_int_equal(pktcap__auth_end_session(a), 1);
    assert_int_equal(pktcap__auth_end_session(a), 0);
    assert_int_equal(app.logouts, 1);
    reqs = recorded(&plain);
    assert_string_equal(rfield(reqs, 1, "method"), "DELETE");
    json_decref(reqs);
    for (size_t i = 0; i < book.n; i++)
        if (strstr(book.lines[i], "SECRET"))
            fail_msg("a secret was logged: %s", book.lines[i]);
    pktcap__auth_free(a);
    pktcap__http_free(h);
}

/* ---- downloads ------------------------------------------------------------------------- */

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pktcap-http-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return reset_log(state);
}

static int remove_tmpdir(void **state)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char path[512];
    (void)state;
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
            unlink(path);
        }
    }
    if (d)
        closedir(d);
    rmdir(tmpdir);
    return 0;
}

/* The names in tmpdir, sorted and joined with ' ' ("" when empty). */
static const char *listing(void)
{
    static char out[1024];
    char *names[64];
    size_t n = 0;
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL && n < 64)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    closedir(d);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
        if (i)
            strcat(out, " ");
        strcat(out, names[i]);
        free(names[i]);
    }
    return out;
}

static unsigned char *pattern(size_t n, uint32_t magic_be)
{
    unsigned char *b = malloc(n);
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(i * 7 + (i >> 8));
    b[0] = (unsigned char)(magic_be >> 24);
    b[1] = (unsigned char)(magic_be >> 16);
    b[2] = (unsigned char)(magic_be >> 8);
    b[3] = (unsigned char)magic_be;
    return b;
}

static pktcap_storage *open_storage(const char *uri)
{
    pktcap_storage *st = NULL;
    assert_int_equal(pktcap_storage_open(&st, uri), 0);
    return st;
}

static const char *file_in_tmp(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

static void assert_file_is(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *got = malloc(n + 1);
    assert_non_null(f);
    assert_int_equal(fread(got, 1, n + 1, f), n);
    fclose(f);
    assert_memory_equal(got, b, n);
    free(got);
}

static void assert_memory_storage_is(pktcap_storage *st, const unsigned char *b, size_t n)
{
    const void *data;
    size_t size;
    assert_int_equal(pktcap_storage_memory(&data, &size, st), 0);
    assert_int_equal(size, n);
    assert_memory_equal(data, b, n);
}

static pktcap__http_request get_file(const char *u)
{
    pktcap__http_request r = get(u);
    r.what = "get file";
    return r;
}

static void a_capture_downloads_into_memory_and_into_a_file(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get_file(url(&plain, "/c.pcap"));
    pktcap__http_response resp;
    pktcap__http_dl dl = { 0 };
    unsigned char *body = pattern(5000, 0xd4c3b2a1);   /* little-endian pcap */
    pktcap_storage *st = open_storage("mem:");
    json_t *reqs;
    (void)state;
    dl.capture_file = 1;
    run_script(&plain, with_bytes(step(200), body, 5000), NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, "");
    assert_int_equal(dl.bytes, 5000);
    assert_int_equal(dl.format, PKTCAP_FORMAT_PCAP);
    assert_int_equal(dl.resumes, 0);
    assert_memory_storage_is(st, body, 5000);
    pktcap__http_response_clear(&resp);
    pktcap_storage_free(st);
    reqs = recorded(&plain);
    assert_string_equal(rheader(reqs, 0, "Accept"), "*/*");
    assert_null(rheader(reqs, 0, "Range"));
    json_decref(reqs);

    st = open_storage(file_in_tmp("cap.pcap"));
    run_script(&plain, with_bytes(step(200), body, 5000), NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), 0);
    assert_int_equal(dl.bytes, 5000);
    assert_string_equal(listing(), "cap.pcap");
    assert_file_is(file_in_tmp("cap.pcap"), body, 5000);
    assert_int_equal(pktcap_storage_file_count(st), 1);
    pktcap__http_response_clear(&resp);
    pktcap_storage_free(st);
    free(body);
    pktcap__http_free(h);
}

static void every_capture_magic_is_recognised(void **state)
{
    static const struct { uint32_t magic; int format; } table[] = {
        { 0xa1b2c3d4, PKTCAP_FORMAT_PCAP },        { 0xd4c3b2a1, PKTCAP_FORMAT_PCAP },
        { 0xa1b23c4d, PKTCAP_FORMAT_PCAP_NSEC },   { 0x4d3cb2a1, PKTCAP_FORMAT_PCAP_NSEC },
        { 0xa1b2cd34, PKTCAP_FORMAT_PCAP_MODIFIED }, { 0x34cdb2a1, PKTCAP_FORMAT_PCAP_MODIFIED },
        { 0x0a0d0d0a, PKTCAP_FORMAT_PCAPNG },
    };
    pktcap__http *h = client();
    pktcap__http_request req = get_file(url(&plain, "/c"));
    (void)state;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        pktcap__http_response resp;
        pktcap__http_dl dl = { 0 };
        unsigned char *body = pattern(64, table[i].magic);
        pktcap_storage *st = open_storage("mem:");
        dl.capture_file = 1;
        run_script(&plain, with_bytes(step(200), body, 64), NULL);
        assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), 0);
        assert_int_equal(dl.format, table[i].format);
        assert_memory_storage_is(st, body, 64);
        pktcap__http_response_clear(&resp);
        pktcap_storage_free(st);
        free(body);
    }
    pktcap__http_free(h);
}

static void a_cut_transfer_resumes_with_range(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get_file(url(&plain, "/c.pcapng"));
    pktcap__http_response resp;
    pktcap__http_dl dl = { 0 };
    unsigned char *body = pattern(100000, 0x0a0d0d0a);
    pktcap_storage *st = open_storage(file_in_tmp("cap.pcapng"));
    json_t *reqs;
    (void)state;
    dl.capture_file = 1;
    run_script(&plain,
               with_int(with_bytes(with_header(step(200), "ETag", "\"v1\""), body, 100000), "cut_after_bytes", 30000),
               with_bytes(with_header(with_header(step(206), "ETag", "\"v1\""), "Content-Range",
                                      "bytes 30000-99999/100000"),
                          body + 30000, 70000),
               NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), 0);
    assert_int_equal(resp.status, 206);
    assert_int_equal(resp.attempts, 2);
    assert_int_equal(dl.resumes, 1);
    assert_int_equal(dl.bytes, 100000);
    assert_int_equal(dl.format, PKTCAP_FORMAT_PCAPNG);
    assert_string_equal(listing(), "cap.pcapng");
    assert_file_is(file_in_tmp("cap.pcapng"), body, 100000);
    reqs = recorded(&plain);
    assert_int_equal(json_array_size(reqs), 2);
    assert_null(rheader(reqs, 0, "Range"));
    assert_string_equal(rheader(reqs, 1, "Range"), "bytes=30000-");
    assert_string_equal(rheader(reqs, 1, "If-Range"), "\"v1\"");
    json_decref(reqs);
    assert_logged(PKTCAP_LOG_WARN, "get file: transfer closed with 70000 bytes remaining to read, "
                                   "retrying in ", 0);
    pktcap__http_response_clear(&resp);
    pktcap_storage_free(st);
    free(body);
    pktcap__http_free(h);
}

static void a_server_ignoring_range_starts_the_file_again(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get_file(url(&plain, "/c.pcap"));
    pktcap__http_response resp;
    pktcap__http_dl dl = { 0 };
    unsigned char *body = pattern(100000, 0xa1b2c3d4);
    pktcap_storage *st = open_storage("mem:");
    json_t *reqs;
    (void)state;
    dl.capture_file = 1;
    run_script(&plain, with_int(with_bytes(step(200), body, 100000), "cut_after_bytes", 30000),
               with_bytes(step(200), body, 100000), NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_int_equal(dl.resumes, 0);
    assert_int_equal(dl.bytes, 100000);
    assert_memory_storage_is(st, body, 100000);
    reqs = recorded(&plain);
    assert_string_equal(rheader(reqs, 1, "Range"), "bytes=30000-");
    assert_null(rheader(reqs, 1, "If-Range"));   /* no ETag was given */
    json_decref(reqs);
    assert_logged(PKTCAP_LOG_INFO, "get file: the server sent the whole file again (HTTP 200 to a "
                                   "Range request), starting over", 1);
    pktcap__http_response_clear(&resp);

    /* the file sent again is a new version: its ETag guards the next resume */
    run_script(&plain,
               with_int(with_bytes(with_header(step(200), "ETag", "\"v1\""), body, 100000), "cut_after_bytes", 30000),
               with_int(with_bytes(with_header(step(200), "ETag", "\"v2\""), body, 100000), "cut_after_bytes", 50000),
               with_bytes(with_header(with_header(step(206), "ETag", "\"v2\""), "Content-Range",
                                      "bytes 50000-99999/100000"),
                          body + 50000, 50000),
               NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), 0);
    assert_int_equal(dl.resumes, 1);
    assert_int_equal(resp.attempts, 3);
    assert_memory_storage_is(st, body, 100000);
    reqs = recorded(&plain);
    assert_string_equal(rheader(reqs, 1, "If-Range"), "\"v1\"");
    assert_string_equal(rheader(reqs, 2, "Range"), "bytes=50000-");
    assert_string_equal(rheader(reqs, 2, "If-Range"), "\"v2\"");
    json_decref(reqs);
    pktcap__http_response_clear(&resp);
    pktcap_storage_free(st);
    free(body);
    pktcap__http_free(h);
}

static void a_transfer_cut_more_often_than_retries_leaves_no_file(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get_file(url(&plain, "/c.pcap"));
    pktcap__http_response resp;
    pktcap__http_dl dl = { 0 };
    unsigned char *body = pattern(100000, 0xa1b2c3d4);
    pktcap_storage *st = open_storage(file_in_tmp("cap.pcap"));
    (void)state;
    set(h, "retries", "1");
    run_script(&plain, with_int(with_bytes(step(200), body, 100000), "cut_after_bytes", 30000),
               with_int(with_bytes(with_header(step(206), "Content-Range", "bytes 30000-99999/100000"),
                                   body + 30000, 70000),
                        "cut_after_bytes", 10000),
               NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), PKTCAP_E_NET);
    assert_true(ends_with(message(), "/c.pcap) after 2 attempts"));
    assert_int_equal(dl.resumes, 1);
    assert_int_equal(dl.bytes, 0);
    assert_int_equal(resp.status, 0);
    assert_string_equal(listing(), "");
    assert_int_equal(pktcap_storage_file_count(st), 0);
    pktcap_storage_free(st);
    free(body);
    pktcap__http_free(h);
}

static void a_206_from_the_wrong_byte_or_of_another_size_is_refused(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get_file(url(&plain, "/c.pcap"));
    pktcap__http_response resp;
    pktcap__http_dl dl = { 0 };
    unsigned char *body = pattern(100000, 0xa1b2c3d4);
    pktcap_storage *st = open_storage(file_in_tmp("cap.pcap"));
    (void)state;
    run_script(&plain, with_int(with_bytes(step(200), body, 100000), "cut_after_bytes", 30000),
               with_bytes(with_header(step(206), "Content-Range", "bytes 0-99999/100000"), body, 100000), NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), PKTCAP_E_REMOTE);
    assert_string_equal(message(), "get file: asked for the file from byte 30000, the server sent "
                                   "Content-Range: bytes 0-99999/100000");
    assert_int_equal(pktcap_error_http_status(pktcap_error_last()), 206);
    assert_string_equal(listing(), "");

    /* the right byte of a file whose size changed */
    run_script(&plain, with_int(with_bytes(step(200), body, 100000), "cut_after_bytes", 30000),
               with_bytes(with_header(step(206), "Content-Range", "bytes 30000-119999/120000"), body, 90000),
               NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), PKTCAP_E_REMOTE);
    assert_string_equal(message(), "get file: the file changed size while it was downloaded "
                                   "(100000 bytes, now 120000)");
    assert_string_equal(listing(), "");
    pktcap_storage_free(st);
    free(body);
    pktcap__http_free(h);
}

static int count_writes(const void *data, size_t size, void *userdata)
{
    (void)data;
    (void)size;
    (*(int *)userdata)++;
    return 0;
}

static void a_file_over_max_bytes_is_refused(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get_file(url(&plain, "/c.pcap"));
    pktcap__http_response resp;
    pktcap__http_dl dl = { 0 };
    unsigned char *body = pattern(5000, 0xa1b2c3d4);
    pktcap_storage *st = NULL;
    int writes = 0;
    (void)state;
    /* announced by Content-Length: refused before any byte is written */
    assert_int_equal(pktcap_storage_new_callback(&st, count_writes, &writes), 0);
    dl.max_bytes = 1000;
    run_script(&plain, with_bytes(step(200), body, 5000), NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), PKTCAP_E_LIMIT);
    assert_string_equal(message(), "get file: the file is 5000 bytes, more than 1000 (max_bytes)");
    assert_int_equal(writes, 0);
    pktcap_storage_free(st);

    /* unannounced (chunked): stopped while it streams, and no file remains */
    st = open_storage(file_in_tmp("cap.pcap"));
    dl.max_bytes = 0;
    set(h, "max_download_bytes", "1000");
    run_script(&plain, with_bytes(json_pack("{s:i, s:b}", "status", 200, "chunked", 1), body, 5000), NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), PKTCAP_E_LIMIT);
    assert_string_equal(message(), "get file: the file is larger than 1000 bytes (max_download_bytes)");
    assert_string_equal(listing(), "");
    pktcap_storage_free(st);
    free(body);
    pktcap__http_free(h);
}

static void a_file_that_is_not_a_capture_is_refused(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get_file(url(&plain, "/c.pcap"));
    pktcap__http_response resp;
    pktcap__http_dl dl = { 0 };
    pktcap_storage *st = open_storage(file_in_tmp("cap.pcap"));
    (void)state;
    dl.capture_file = 1;
    run_script(&plain, with_body(step(200), "<html>hello</html>"), NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), PKTCAP_E_FORMAT);
    assert_string_equal(message(), "get file: the downloaded file is not a capture file (begins with 3c 68 74 6d)");
    assert_string_equal(listing(), "");
    run_script(&plain, with_body(step(200), "ab"), NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), PKTCAP_E_FORMAT);
    assert_string_equal(message(), "get file: the downloaded file is not a capture file (it has only 2 bytes)");
    assert_string_equal(listing(), "");
    /* the bytes never reached the storage at all */
    {
        pktcap_storage *cb = NULL;
        int writes = 0;
        assert_int_equal(pktcap_storage_new_callback(&cb, count_writes, &writes), 0);
        run_script(&plain, with_body(step(200), "<html>hello</html>"), NULL);
        assert_int_equal(pktcap__http_download(h, &req, cb, &dl, &resp), PKTCAP_E_FORMAT);
        assert_int_equal(writes, 0);
        pktcap_storage_free(cb);
    }
    /* without capture_file, any bytes are fine */
    dl.capture_file = 0;
    run_script(&plain, with_body(step(200), "<html>hello</html>"), NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), 0);
    assert_int_equal(dl.format, PKTCAP_FORMAT_AUTO);
    assert_string_equal(listing(), "cap.pcap");
    pktcap__http_response_clear(&resp);
    pktcap_storage_free(st);
    pktcap__http_free(h);
}

static void an_error_status_writes_nothing_and_returns_the_response(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get_file(url(&plain, "/missing.pcap"));
    pktcap__http_response resp;
    pktcap__http_dl dl = { 0 };
    pktcap_storage *st = open_storage(file_in_tmp("cap.pcap"));
    unsigned char *big = pattern(100000, 0x3c3f786d);
    (void)state;
    dl.capture_file = 1;
    run_script(&plain, with_body(with_header(step(404), "x-ms-request-id", "r404"), "no such blob"), NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), 0);
    assert_int_equal(resp.status, 404);
    assert_string_equal(resp.body, "no such blob");
    assert_int_equal(resp.body_len, 12);
    assert_int_equal(dl.bytes, 0);
    assert_string_equal(listing(), "");
    assert_int_equal(pktcap__http_status_error(&resp, req.what, NULL, NULL, 0), PKTCAP_E_NOTFOUND);
    assert_string_equal(message(), "get file: HTTP 404 Not Found (request id r404)");
    pktcap__http_response_clear(&resp);

    /* the error body is capped at 64 KiB */
    run_script(&plain, with_bytes(step(403), big, 100000), NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), 0);
    assert_int_equal(resp.status, 403);
    assert_int_equal(resp.body_len, 65536);
    assert_memory_equal(resp.body, big, 65536);
    assert_string_equal(listing(), "");
    pktcap__http_response_clear(&resp);

    /* a resumed transfer that ends in an error status leaves no file either */
    free(big);
    big = pattern(100000, 0xa1b2c3d4);
    set(h, "retries", "2");
    run_script(&plain, with_int(with_bytes(step(200), big, 100000), "cut_after_bytes", 30000),
               step(410), NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), 0);
    assert_int_equal(resp.status, 410);
    assert_int_equal(resp.attempts, 2);
    assert_string_equal(listing(), "");
    pktcap__http_response_clear(&resp);
    pktcap_storage_free(st);
    free(big);
    pktcap__http_free(h);
}

struct progress {
    uint64_t last_done, total;
    int calls, increasing, cancel_at;
};

static int on_progress(uint64_t done, uint64_t total, void *userdata)
{
    struct progress *p = userdata;
    if (p->calls > 0 && done <= p->last_done)
        p->increasing = 0;
    if (p->calls > 0 && total != p->total)
        p->increasing = 0;
    p->last_done = done;
    p->total = total;
    p->calls++;
    return p->cancel_at && p->calls >= p->cancel_at;
}

static void progress_is_reported_and_can_cancel(void **state)
{
    pktcap__http *h = client();
    pktcap__http_request req = get_file(url(&plain, "/c.pcap"));
    pktcap__http_response resp;
    pktcap__http_dl dl = { 0 };
    unsigned char *body = pattern(300000, 0xa1b2c3d4);
    pktcap_storage *st = open_storage(file_in_tmp("cap.pcap"));
    struct progress p = { 0, 0, 0, 1, 0 };
    (void)state;
    dl.progress = on_progress;
    dl.userdata = &p;
    run_script(&plain, with_bytes(step(200), body, 300000), NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), 0);
    assert_true(p.calls >= 1);
    assert_true(p.increasing);
    assert_int_equal(p.last_done, 300000);
    assert_int_equal(p.total, 300000);
    pktcap__http_response_clear(&resp);

    /* unknown length: total 0 */
    memset(&p, 0, sizeof p);
    p.increasing = 1;
    run_script(&plain, with_bytes(json_pack("{s:i, s:b}", "status", 200, "chunked", 1), body, 300000), NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), 0);
    assert_true(p.increasing);
    assert_int_equal(p.last_done, 300000);
    assert_int_equal(p.total, 0);
    pktcap__http_response_clear(&resp);
    unlink(file_in_tmp("cap.pcap"));

    /* non-zero cancels: no file */
    memset(&p, 0, sizeof p);
    p.cancel_at = 1;
    run_script(&plain, with_bytes(step(200), body, 300000), NULL);
    assert_int_equal(pktcap__http_download(h, &req, st, &dl, &resp), PKTCAP_E_CANCELED);
    assert_string_equal(message(), "get file: canceled by the progress callback");
    assert_int_equal(p.calls, 1);
    assert_string_equal(listing(), "");
    pktcap_storage_free(st);
    free(body);
    pktcap__http_free(h);
}

/* ---- allocation failures ----------------------------------------------------------------- */

static void every_allocation_failure_is_reported_and_leaks_nothing(void **state)
{
    pktcap__http *h = NULL;
    pktcap__http_request req = get(url(&plain, "/x?sig=1"));
    pktcap__http_response resp;
    unsigned char *body = pattern(2000, 0xa1b2c3d4);
    unsigned long needed;
    (void)state;
    assert_int_equal(pktcap__http_new(&h, NULL), 0);   /* no logger: logging may not fail calls */
    set(h, "retries", "0");
    run_script(&plain, with_body(with_header(with_header(step(200), "X-A", "1"), "X-B", "2"), "body"), NULL);
    pktcap__alloc_fail_at(0);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    needed = pktcap__alloc_fail_at(0);
    pktcap__http_response_clear(&resp);
    assert_true(needed >= 5);
    for (unsigned long n = 1; n <= needed; n++) {
        run_script(&plain, with_body(with_header(with_header(step(200), "X-A", "1"), "X-B", "2"), "body"),
                   NULL);
        pktcap__alloc_fail_at(n);
        assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_NOMEM);
        pktcap__alloc_fail_at(0);
        assert_null(resp.body);
        assert_null(resp.headers);
    }

    /* a download into memory, whose buffer grows through the same allocator */
    for (unsigned long n = 1;; n++) {
        pktcap_storage *st = open_storage("mem:");
        pktcap__http_dl dl = { 0 };
        int rc;
        dl.capture_file = 1;
        run_script(&plain, with_bytes(with_header(step(200), "ETag", "\"e\""), body, 2000), NULL);
        pktcap__alloc_fail_at(n);
        rc = pktcap__http_download(h, &req, st, &dl, &resp);
        pktcap__alloc_fail_at(0);
        if (rc == 0) {
            assert_memory_storage_is(st, body, 2000);
            pktcap__http_response_clear(&resp);
            pktcap_storage_free(st);
            assert_true(n > 3);
            break;
        }
        assert_int_equal(rc, PKTCAP_E_NOMEM);
        pktcap_storage_free(st);
    }
    free(body);
    pktcap__http_free(h);
}

/* ---- TLS ------------------------------------------------------------------------------------- */

static int run(const char *const argv[])
{
    int status;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void tls_is_verified_against_the_given_ca(void **state)
{
    char cert[128], key[128], warn[128];
    const char *const openssl[] = { "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                                    "-days", "2", "-subj", "/CN=127.0.0.1",
                                    "-addext", "subjectAltName=IP:127.0.0.1",
                                    "-keyout", key, "-out", cert, NULL };
    struct server tls;
    pktcap__http *h;
    pktcap__http_request req;
    pktcap__http_response resp;
    (void)state;
    snprintf(cert, sizeof cert, "%s/cert.pem", tmpdir);
    snprintf(key, sizeof key, "%s/key.pem", tmpdir);
    if (run(openssl) != 0)
        fail_msg("openssl could not make a test certificate (is openssl installed?)");
    start_server(&tls, cert, key);
    req = get(url(&tls, "/secure"));

    /* not trusted by default */
    h = client();
    set(h, "retries", "0");
    assert_int_equal(pktcap__http_send(h, &req, &resp), PKTCAP_E_TLS);
    assert_true(strncmp(message(), "get thing: ", 11) == 0);
    assert_true(ends_with(message(), "/secure)"));
    pktcap__http_free(h);

    /* trusted with ca_file */
    h = client();
    set(h, "ca_file", cert);
    run_script(&tls, with_body(step(200), "secret data"), with_body(step(200), "again"), NULL);
    assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
    assert_int_equal(resp.status, 200);
    assert_string_equal(resp.body, "secret data");
    pktcap__http_response_clear(&resp);
    assert_int_equal(logged_count(PKTCAP_LOG_WARN, "tls_verify"), 0);
    pktcap__http_free(h);

    /* tls_verify=false works, and says so once per host */
    h = client();
    set(h, "tls_verify", "false");
    run_script(&tls, step(200), step(200), NULL);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pktcap__http_send(h, &req, &resp), 0);
        assert_int_equal(resp.status, 200);
        pktcap__http_response_clear(&resp);
    }
    snprintf(warn, sizeof warn, "TLS verification is off (tls_verify=false): the identity of "
                                "127.0.0.1 is not checked");
    assert_int_equal(logged_count(PKTCAP_LOG_WARN, "tls_verify=false"), 1);
    assert_logged(PKTCAP_LOG_WARN, warn, 1);
    pktcap__http_free(h);
    stop_server(&tls);
}

/* ---- main ------------------------------------------------------------------------------------- */

static int start_plain(void **state)
{
    (void)state;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    start_server(&plain, NULL, NULL);
    return 0;
}

static int stop_plain(void **state)
{
    (void)state;
    stop_server(&plain);
    clear_log();
    curl_global_cleanup();
    return 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, reset_log, NULL)
#define D(f) cmocka_unit_test_setup_teardown(f, make_tmpdir, remove_tmpdir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(a_200_comes_back_with_its_body_headers_and_request_id),
        T(a_503_is_retried_with_the_same_request_id),
        T(retry_after_seconds_are_waited_for),
        T(retry_after_ms_headers_are_waited_for),
        T(when_retries_run_out_the_last_response_is_returned),
        T(a_wait_beyond_the_retry_budget_gives_up_at_once),
        T(a_post_is_retried_only_when_the_server_asks),
        T(a_refused_connection_is_a_network_error_after_the_retries),
        T(a_slow_server_is_a_timeout),
        T(a_body_over_max_response_bytes_is_refused),
        T(caller_headers_and_request_ids_are_sent_on_every_attempt),
        T(only_the_final_responses_headers_are_kept),
        T(credentials_never_go_over_plain_http_to_another_host),
        T(requests_of_one_client_share_a_connection),
        T(the_rate_limit_keeps_requests_in_their_window),
        T(a_401_fetches_a_new_token_once),
        T(two_threads_can_use_one_client),
        T(nothing_secret_is_ever_logged),
        T(cookies_are_kept_and_sent_back_only_when_enabled),
        T(a_request_is_cancelled_from_another_thread),
        T(a_request_timeout_replaces_the_clients),
        T(a_login_session_logs_in_once_and_again_after_a_401),
        D(a_capture_downloads_into_memory_and_into_a_file),
        D(every_capture_magic_is_recognised),
        D(a_cut_transfer_resumes_with_range),
        D(a_server_ignoring_range_starts_the_file_again),
        D(a_transfer_cut_more_often_than_retries_leaves_no_file),
        D(a_206_from_the_wrong_byte_or_of_another_size_is_refused),
        D(a_file_over_max_bytes_is_refused),
        D(a_file_that_is_not_a_capture_is_refused),
        D(an_error_status_writes_nothing_and_returns_the_response),
        D(progress_is_reported_and_can_cancel),
        T(every_allocation_failure_is_reported_and_leaks_nothing),
        D(tls_is_verified_against_the_given_ca),
    };
    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, start_plain, stop_plain);
}
