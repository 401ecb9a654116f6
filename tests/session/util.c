#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <pktcap/summary.h>

void require_root(const char *program)
{
    const char *allow = getenv("PKTCAP_ALLOW_NO_ROOT");
    if (geteuid() == 0)
        return;
    if (allow && strcmp(allow, "1") == 0) {
        printf("%s: skipped: not root (live captures need root or CAP_NET_RAW)\n", program);
        exit(77);
    }
    fprintf(stderr, "%s: FAILED: these tests capture live traffic and must run as root "
                    "(CI runs them as root). Set PKTCAP_ALLOW_NO_ROOT=1 to skip them instead.\n",
            program);
    exit(1);
}

static int port_free(uint16_t port)
{
    struct sockaddr_in a;
    int ok = 1, type;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    for (type = 0; type < 2 && ok; type++) {
        int fd = socket(AF_INET, type ? SOCK_STREAM : SOCK_DGRAM, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0)
            ok = 0;
        if (fd >= 0)
            close(fd);
    }
    return ok;
}

uint16_t pick_port(void)
{
    static int seeded;
    int tries;
    if (!seeded) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        srand((unsigned)(ts.tv_nsec ^ ts.tv_sec ^ (getpid() << 16)));
        seeded = 1;
    }
    for (tries = 0; tries < 1000; tries++) {
        uint16_t port = (uint16_t)(20000 + rand() % 10000);
        if (port_free(port))
            return port;
    }
    return 0;
}

static void set_addr(struct sockaddr_in *a, const char *addr, uint16_t port)
{
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    inet_pton(AF_INET, addr, &a->sin_addr);
}

int udp_sink(const char *addr, uint16_t port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_DGRAM, 0), size = 8 << 20;
    if (fd < 0)
        return -1;
    set_addr(&a, addr, port);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int udp_send(const char *addr, uint16_t port, int count, size_t payload)
{
    struct sockaddr_in a;
    char buf[2048];
    int fd = socket(AF_INET, SOCK_DGRAM, 0), i;
    if (fd < 0 || payload > sizeof buf)
        return -1;
    memset(buf, 'x', sizeof buf);
    set_addr(&a, addr, port);
    for (i = 0; i < count; i++) {
        snprintf(buf, 16, "%08d", i);
        buf[8] = 'x';
        if (sendto(fd, buf, payload, 0, (struct sockaddr *)&a, sizeof a) != (ssize_t)payload) {
            fprintf(stderr, "sendto %s:%u: %s\n", addr, port, strerror(errno));
            close(fd);
            return -1;
        }
    }
    close(fd);
    return 0;
}

static int read_full(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

int tcp_exchange(uint16_t port)
{
    struct sockaddr_in a;
    char buf[100];
    int lst = -1, cli = -1, srv = -1, one = 1, rc = -1;
    memset(buf, 'q', sizeof buf);
    set_addr(&a, "127.0.0.1", port);
    lst = socket(AF_INET, SOCK_STREAM, 0);
    cli = socket(AF_INET, SOCK_STREAM, 0);
    if (lst < 0 || cli < 0)
        goto out;
    setsockopt(lst, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lst, (struct sockaddr *)&a, sizeof a) != 0 || listen(lst, 1) != 0)
        goto out;
    if (connect(cli, (struct sockaddr *)&a, sizeof a) != 0)
        goto out;
    if ((srv = accept(lst, NULL, NULL)) < 0)
        goto out;
    if (write(cli, buf, sizeof buf) != (ssize_t)sizeof buf || read_full(srv, buf, sizeof buf))
        goto out;
    if (write(srv, buf, sizeof buf) != (ssize_t)sizeof buf || read_full(cli, buf, sizeof buf))
        goto out;
    close(cli);   /* FIN from the client */
    cli = -1;
    if (read(srv, buf, sizeof buf) != 0)   /* its EOF */
        goto out;
    close(srv);   /* FIN from the server; the client's kernel ACKs it */
    srv = -1;
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "tcp exchange on port %u: %s\n", port, strerror(errno));
    if (cli >= 0)
        close(cli);
    if (srv >= 0)
        close(srv);
    if (lst >= 0)
        close(lst);
    return rc;
}

static void *stream_main(void *arg)
{
    udp_stream *st = arg;
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    set_addr(&a, "127.0.0.1", st->port);
    while (!__atomic_load_n(&st->stop, __ATOMIC_ACQUIRE)) {
        if (sendto(fd, "stream", 6, 0, (struct sockaddr *)&a, sizeof a) == 6)
            __atomic_add_fetch(&st->sent, 1, __ATOMIC_RELAXED);
        usleep(st->interval_us);
    }
    close(fd);
    return NULL;
}

void udp_stream_start(udp_stream *st, uint16_t port, unsigned interval_us)
{
    memset(st, 0, sizeof *st);
    st->port = port;
    st->interval_us = interval_us;
    pthread_create(&st->thread, NULL, stream_main, st);
}

void udp_stream_stop(udp_stream *st)
{
    __atomic_store_n(&st->stop, 1, __ATOMIC_RELEASE);
    pthread_join(st->thread, NULL);
}

/* ---- counting in the packet callback ------------------------------------- */

void counter_init(counter *c, uint16_t udp_port)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->changed, NULL);
    c->udp_port = udp_port;
    c->numbering_ok = 1;
}

void counter_destroy(counter *c)
{
    pthread_cond_destroy(&c->changed);
    pthread_mutex_destroy(&c->lock);
}

void counter_cb(pktcap_session *s, const pktcap_packet *p, const pktcap_summary *sum,
                void *userdata)
{
    counter *c = userdata;
    (void)s;
    (void)p;
    pthread_mutex_lock(&c->lock);
    c->total++;
    if (sum->number != c->last_number + 1)
        c->numbering_ok = 0;
    c->last_number = sum->number;
    if (c->udp_port && sum->ip_proto == 17 && (sum->flags & PKTCAP_SUMMARY_HAS_PORTS) &&
        (sum->dst_port == c->udp_port || sum->src_port == c->udp_port))
        c->matching++;
    pthread_cond_broadcast(&c->changed);
    pthread_mutex_unlock(&c->lock);
}

int counter_wait(counter *c, uint64_t target, int timeout_ms)
{
    struct timespec until;
    int rc = 0;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->lock);
    while (c->matching < target && rc == 0)
        if (pthread_cond_timedwait(&c->changed, &c->lock, &until) == ETIMEDOUT)
            rc = -1;
    if (c->matching >= target)
        rc = 0;
    pthread_mutex_unlock(&c->lock);
    return rc;
}

uint64_t counter_matching(counter *c)
{
    uint64_t n;
    pthread_mutex_lock(&c->lock);
    n = c->matching;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* ---- reading captures back ----------------------------------------------- */

static int read_capture(capture_info *out, pktcap_reader *r, uint16_t port, uint16_t tcp_port)
{
    const pktcap_packet *p;
    uint64_t last_ns = 0;
    uint16_t client_port = 0;
    uint32_t i;
    int rc;
    memset(out, 0, sizeof *out);
    out->time_ordered = 1;
    out->format = pktcap_reader_format(r);
    while ((rc = pktcap_reader_next(&p, r)) == 0) {
        pktcap_summary sum;
        uint64_t ns = (uint64_t)p->ts_sec * 1000000000u + p->ts_nsec;
        memset(&sum, 0, sizeof sum);
        sum.struct_size = sizeof sum;
        pktcap_summarize(&sum, p);
        out->packets++;
        out->linktype = p->linktype;
        if (p->interface < 4)
            out->per_interface[p->interface]++;
        out->caplen_sum += p->caplen;
        out->len_sum += p->len;
        if (p->caplen > out->max_caplen)
            out->max_caplen = p->caplen;
        if (ns < last_ns)
            out->time_ordered = 0;
        last_ns = ns;
        if (!(sum.flags & PKTCAP_SUMMARY_HAS_PORTS)) {
            out->other++;
        } else if (sum.ip_proto == 17 && port &&
                   (sum.dst_port == port || sum.src_port == port)) {
            out->udp_to_port++;
            if (p->interface < 4)
                out->per_interface_match[p->interface]++;
        } else if (sum.ip_proto == 6 && tcp_port &&
                   (sum.dst_port == tcp_port || sum.src_port == tcp_port)) {
            uint8_t f = sum.tcp_flags;
            out->tcp_on_port++;
            out->tcp_flags_seen |= f;
            if ((f & 0x12) == 0x02) {
                out->syn = 1;
                client_port = sum.src_port;
            }
            if ((f & 0x12) == 0x12)
                out->synack = 1;
            if (f & 0x01) {
                if (sum.src_port == tcp_port)
                    out->fin_server = 1;
                else if (!client_port || sum.src_port == client_port)
                    out->fin_client = 1;
            }
        } else {
            out->other++;
        }
    }
    out->interfaces = pktcap_reader_interface_count(r);
    for (i = 0; i < out->interfaces && i < 4; i++) {
        const char *name = pktcap_reader_interface_option(r, i, "if_name");
        snprintf(out->if_name[i], sizeof out->if_name[i], "%s", name ? name : "");
        out->if_snaplen[i] = pktcap_reader_interface_snaplen(r, i);
    }
    if (rc != PKTCAP_E_END) {
        fprintf(stderr, "reading the capture: %s\n", last_message());
        return -1;
    }
    return 0;
}

void read_capture_mem(capture_info *out, const void *data, size_t size, uint16_t port,
                      uint16_t tcp_port)
{
    pktcap_reader *r;
    int rc = pktcap_reader_open_memory(&r, data, size);
    if (rc)
        fail_msg("opening the capture (%zu bytes): %s", size, last_message());
    rc = read_capture(out, r, port, tcp_port);
    pktcap_reader_close(r);
    assert_int_equal(rc, 0);
}

int read_capture_file_plain(capture_info *out, const char *path, uint16_t port,
                            uint16_t tcp_port)
{
    pktcap_reader *r;
    int rc = pktcap_reader_open(&r, path);
    if (rc) {
        fprintf(stderr, "opening %s: %s\n", path, last_message());
        return -1;
    }
    rc = read_capture(out, r, port, tcp_port);
    pktcap_reader_close(r);
    return rc;
}

void read_capture_file(capture_info *out, const char *path, uint16_t port, uint16_t tcp_port)
{
    if (read_capture_file_plain(out, path, port, tcp_port) != 0)
        fail_msg("cannot read %s", path);
}

void fetch_and_read(capture_info *out, pktcap_session *s, uint16_t port, uint16_t tcp_port)
{
    pktcap_storage *mem;
    const void *data;
    size_t size;
    assert_int_equal(pktcap_storage_open(&mem, "mem:"), 0);
    if (pktcap_session_fetch(s, mem) != 0)
        fail_msg("fetch: %s", last_message());
    assert_int_equal(pktcap_storage_memory(&data, &size, mem), 0);
    read_capture_mem(out, data, size, port, tcp_port);
    pktcap_storage_free(mem);
}

/* ---- commands and directories -------------------------------------------- */

int run_command(char **output, const char *fmt, ...)
{
    char cmd[4096];
    char *buf = NULL;
    size_t len = 0, cap = 0;
    va_list ap;
    FILE *f;
    int status;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    f = popen(cmd, "r");
    if (!f)
        return -1;
    for (;;) {
        size_t n;
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            buf = realloc(buf, cap);
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        if (n == 0)
            break;
        len += n;
    }
    buf[len] = '\0';
    status = pclose(f);
    if (output)
        *output = buf;
    else
        free(buf);
    if (status == -1 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

char *make_temp_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *dir = malloc(4096);
    snprintf(dir, 4096, "%s/pktcap-session-test.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        free(dir);
        return NULL;
    }
    return dir;
}

void remove_dir(char *dir)
{
    if (!dir)
        return;
    run_command(NULL, "rm -rf '%s'", dir);
    free(dir);
}

const char *last_message(void)
{
    return pktcap_error_message(pktcap_error_last());
}
