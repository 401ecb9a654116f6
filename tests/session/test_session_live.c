/* Live captures with the local provider, on traffic the tests make
 * themselves: UDP datagrams and a TCP exchange on loopback, to random ports
 * below the ephemeral range, so that whatever else runs on the machine
 * cannot change the counts asserted (each test counts only its own ports,
 * with a filter or when reading the capture back).
 *
 * Needs root (see require_root). The two-interface test and the permission
 * test run in forked children: the first in a network namespace of its own
 * (unshare: it disappears with the child, whatever happens), the second
 * with root's privileges dropped. */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <pktcap/pktcap.h>
#include <pktcap/session.h>

#include "util.h"

#define WAIT_MS 20000          /* generous: packets arrive within milliseconds */
#define ETH_IP_UDP 42u         /* Ethernet + IPv4 + UDP headers on lo */

static const char *msg(void)
{
    return last_message();
}

#define assert_message(expected) assert_string_equal(msg(), (expected))
#define assert_ok(call)                                                                   \
    do {                                                                                  \
        int rc_ = (call);                                                                 \
        if (rc_ != 0)                                                                     \
            fail_msg("%s: %s (%s)", #call, msg(), pktcap_error_name(rc_));                \
    } while (0)

/* A statistic of a started local session: the local provider counts every
 * one of them, so each must read as known. */
static uint64_t stat_of(pktcap_session *s, int stat)
{
    assert_int_equal(pktcap_session_stat_known(s, stat), 1);
    return pktcap_session_stat(s, stat);
}

static pktcap_session *new_session(pktcap_provider *p, const char *name, const char *target,
                                   const char *filter)
{
    pktcap_session *s;
    assert_ok(pktcap_session_new(&s, p, name));
    assert_ok(pktcap_session_set_target(s, target));
    if (filter) {
        pktcap_filter *f;
        assert_ok(pktcap_filter_parse(&f, filter));
        assert_ok(pktcap_session_set_filter(s, f));
        pktcap_filter_free(f);
    }
    return s;
}

static pktcap_provider *open_local(void)
{
    pktcap_provider *p;
    assert_ok(pktcap_provider_open(&p, "local:"));
    return p;
}

static char *udp_filter(uint16_t port)
{
    static char buf[64];
    snprintf(buf, sizeof buf, "proto=udp local_port=%u", port);
    return buf;
}

/* Starts s, sends `count` datagrams of `payload` bytes to 127.0.0.1:port and
 * waits until the session has ended (a limit ends it). */
static void send_until_end(pktcap_session *s, uint16_t port, int count, size_t payload)
{
    assert_ok(pktcap_session_start(s));
    assert_int_equal(udp_send("127.0.0.1", port, count, payload), 0);
    assert_ok(pktcap_session_wait(s, WAIT_MS));
}

/* Hands s's packets to the counter c (made for `port`), starts s, sends
 * `count` datagrams of `payload` bytes to 127.0.0.1:port and waits until c
 * has counted them all. */
static void count_sent(pktcap_session *s, counter *c, uint16_t port, int count, size_t payload)
{
    assert_ok(pktcap_session_set_packet_callback(s, counter_cb, c));
    assert_ok(pktcap_session_start(s));
    assert_int_equal(udp_send("127.0.0.1", port, count, payload), 0);
    assert_int_equal(counter_wait(c, (uint64_t)count, WAIT_MS), 0);
}

/* ---- exact counts ----------------------------------------------------------- */

static void test_exact_count_with_filter(void **state)
{
    const int n = 500;
    uint16_t port = pick_port(), tcp_port = pick_port();
    pktcap_provider *p = open_local();
    pktcap_session *s = new_session(p, "exact", "lo", udp_filter(port));
    int sink = udp_sink("127.0.0.1", port);
    capture_info ci;
    counter c;
    (void)state;
    counter_init(&c, port);
    assert_ok(pktcap_session_set_packet_callback(s, counter_cb, &c));
    assert_ok(pktcap_session_start(s));
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_RUNNING);
    assert_string_equal(pktcap_session_native_status(s), "capturing on lo");
    assert_string_equal(pktcap_session_stop_reason(s), "");

    assert_int_equal(tcp_exchange(tcp_port), 0);           /* not matched */
    assert_int_equal(udp_send("127.0.0.1", port, n, 60), 0);
    if (counter_wait(&c, (uint64_t)n, WAIT_MS) != 0)
        fail_msg("saw %llu of %d datagrams", (unsigned long long)counter_matching(&c), n);
    assert_ok(pktcap_session_stop(s));
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_STOPPED);
    assert_string_equal(pktcap_session_stop_reason(s), "stopped");
    assert_string_equal(pktcap_session_error_text(s), "");

    assert_int_equal(stat_of(s, PKTCAP_STAT_PACKETS), n);
    assert_int_equal(stat_of(s, PKTCAP_STAT_BYTES), (uint64_t)n * (ETH_IP_UDP + 60));
    assert_int_equal(stat_of(s, PKTCAP_STAT_WIRE_BYTES), (uint64_t)n * (ETH_IP_UDP + 60));
    assert_int_equal(stat_of(s, PKTCAP_STAT_DROPPED), 0);
    assert_true(stat_of(s, PKTCAP_STAT_ELAPSED_MS) > 0);
    assert_int_equal(c.total, n);
    assert_true(c.numbering_ok);

    fetch_and_read(&ci, s, port, tcp_port);
    assert_int_equal(ci.packets, n);
    assert_int_equal(ci.udp_to_port, n);
    assert_int_equal(ci.tcp_on_port, 0);
    assert_int_equal(ci.format, PKTCAP_FORMAT_PCAPNG);   /* mem: defaults to pcapng */
    assert_int_equal(ci.interfaces, 1);
    assert_string_equal(ci.if_name[0], "lo");
    assert_int_equal(ci.linktype, 1);
    assert_true(ci.time_ordered);

    pktcap_session_free(s);
    counter_destroy(&c);
    close(sink);
    pktcap_provider_close(p);
}

static void test_exact_count_bpf_filter(void **state)
{
    const int n = 300;
    uint16_t port = pick_port();
    pktcap_provider *p = open_local();
    pktcap_session *s;
    pktcap_filter *f;
    int sink = udp_sink("127.0.0.1", port);
    char expr[64];
    capture_info ci;
    counter c;
    (void)state;
    counter_init(&c, port);
    snprintf(expr, sizeof expr, "udp and dst port %u", port);
    assert_ok(pktcap_filter_new_bpf(&f, expr));
    assert_ok(pktcap_session_new(&s, p, "bpf"));
    assert_ok(pktcap_session_set_target(s, "lo"));
    assert_ok(pktcap_session_set_filter(s, f));
    pktcap_filter_free(f);
    count_sent(s, &c, port, n, 10);
    assert_ok(pktcap_session_stop(s));
    assert_int_equal(stat_of(s, PKTCAP_STAT_PACKETS), n);
    fetch_and_read(&ci, s, port, 0);
    assert_int_equal(ci.packets, n);
    assert_int_equal(ci.udp_to_port, n);
    pktcap_session_free(s);
    counter_destroy(&c);
    close(sink);
    pktcap_provider_close(p);
}

/* No filter: the capture holds everything on lo, so only the packets of our
 * ports are counted, exactly; the TCP exchange must be there whole. */
static void test_exact_count_without_filter(void **state)
{
    const int n = 400;
    uint16_t port = pick_port(), tcp_port = pick_port();
    pktcap_provider *p = open_local();
    pktcap_session *s = new_session(p, "everything", "lo", NULL);
    int sink = udp_sink("127.0.0.1", port);
    capture_info ci;
    counter c;
    (void)state;
    counter_init(&c, port);
    assert_ok(pktcap_session_set(s, "buffer_size", "32Mi"));
    assert_ok(pktcap_session_set_packet_callback(s, counter_cb, &c));
    assert_ok(pktcap_session_start(s));
    assert_int_equal(tcp_exchange(tcp_port), 0);
    assert_int_equal(udp_send("127.0.0.1", port, n, 20), 0);
    assert_int_equal(counter_wait(&c, (uint64_t)n, WAIT_MS), 0);
    assert_ok(pktcap_session_stop(s));
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_STOPPED);
    if (stat_of(s, PKTCAP_STAT_DROPPED))
        fail_msg("the kernel dropped %llu packets: the counts cannot be exact",
                 (unsigned long long)stat_of(s, PKTCAP_STAT_DROPPED));

    fetch_and_read(&ci, s, port, tcp_port);
    assert_int_equal(ci.udp_to_port, n);
    assert_int_equal(ci.packets, stat_of(s, PKTCAP_STAT_PACKETS));
    assert_int_equal(ci.packets, c.total);
    assert_true(c.numbering_ok);
    assert_true(ci.syn);
    assert_true(ci.synack);
    assert_true(ci.fin_client);
    assert_true(ci.fin_server);
    /* SYN, SYN-ACK, ACK, 2 data segments, FIN each way and their ACKs, less
     * what the kernel piggybacks: at least 7. */
    assert_true(ci.tcp_on_port >= 7);
    pktcap_session_free(s);
    counter_destroy(&c);
    close(sink);
    pktcap_provider_close(p);
}

/* ---- limits ----------------------------------------------------------------- */

static void test_packet_limit(void **state)
{
    uint16_t port = pick_port();
    pktcap_provider *p = open_local();
    pktcap_session *s = new_session(p, "plimit", "lo", udp_filter(port));
    int sink = udp_sink("127.0.0.1", port);
    capture_info ci;
    (void)state;
    assert_ok(pktcap_session_set_packet_limit(s, 10));
    assert_string_equal(pktcap_session_id(s), "");   /* no id before start */
    send_until_end(s, port, 50, 30);
    assert_string_equal(pktcap_session_id(s), "plimit");   /* a local session's id: its name */
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_COMPLETE);
    assert_string_equal(pktcap_session_stop_reason(s), "packet limit");
    assert_int_equal(stat_of(s, PKTCAP_STAT_PACKETS), 10);
    assert_int_equal(stat_of(s, PKTCAP_STAT_BYTES), 10 * (ETH_IP_UDP + 30));
    fetch_and_read(&ci, s, port, 0);
    assert_int_equal(ci.packets, 10);
    assert_int_equal(ci.udp_to_port, 10);
    /* A finished session refuses stop. */
    assert_int_equal(pktcap_session_stop(s), PKTCAP_E_STATE);
    assert_message("cannot stop session \"plimit\" in state COMPLETE (allowed in PENDING or "
                   "RUNNING)");
    pktcap_session_free(s);
    close(sink);
    pktcap_provider_close(p);
}

static void test_byte_limit(void **state)
{
    const uint64_t frame = ETH_IP_UDP + 100;   /* 142 bytes */
    uint16_t port = pick_port();
    pktcap_provider *p = open_local();
    pktcap_session *s = new_session(p, "blimit", "lo", udp_filter(port));
    int sink = udp_sink("127.0.0.1", port);
    capture_info ci;
    (void)state;
    /* Room for 5 frames and a part of a sixth: the sixth is not written. */
    assert_ok(pktcap_session_set_byte_limit(s, 5 * frame + 50));
    send_until_end(s, port, 20, 100);
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_COMPLETE);
    assert_string_equal(pktcap_session_stop_reason(s), "byte limit");
    assert_int_equal(stat_of(s, PKTCAP_STAT_PACKETS), 5);
    assert_int_equal(stat_of(s, PKTCAP_STAT_BYTES), 5 * frame);
    fetch_and_read(&ci, s, port, 0);
    assert_int_equal(ci.packets, 5);
    assert_int_equal(ci.caplen_sum, 5 * frame);
    pktcap_session_free(s);

    /* Reaching the limit exactly ends the capture too. */
    s = new_session(p, "blimit-exact", "lo", udp_filter(port));
    assert_ok(pktcap_session_set_byte_limit(s, 3 * frame));
    send_until_end(s, port, 20, 100);
    assert_string_equal(pktcap_session_stop_reason(s), "byte limit");
    assert_int_equal(stat_of(s, PKTCAP_STAT_PACKETS), 3);
    assert_int_equal(stat_of(s, PKTCAP_STAT_BYTES), 3 * frame);
    pktcap_session_free(s);
    close(sink);
    pktcap_provider_close(p);
}

/* The snaplen cuts every packet (it ends nothing by itself); the byte limit
 * counts the bytes kept. */
static void test_snaplen(void **state)
{
    uint16_t port = pick_port();
    pktcap_provider *p = open_local();
    pktcap_session *s = new_session(p, "snap", "lo", udp_filter(port));
    int sink = udp_sink("127.0.0.1", port);
    capture_info ci;
    (void)state;
    assert_ok(pktcap_session_set_snaplen(s, 64));
    assert_ok(pktcap_session_set_byte_limit(s, 640));
    send_until_end(s, port, 30, 200);
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_COMPLETE);
    assert_string_equal(pktcap_session_stop_reason(s), "byte limit");
    assert_int_equal(stat_of(s, PKTCAP_STAT_PACKETS), 10);
    assert_int_equal(stat_of(s, PKTCAP_STAT_BYTES), 640);
    assert_int_equal(stat_of(s, PKTCAP_STAT_WIRE_BYTES), 10 * (ETH_IP_UDP + 200));
    fetch_and_read(&ci, s, port, 0);
    assert_int_equal(ci.packets, 10);
    assert_int_equal(ci.max_caplen, 64);
    assert_int_equal(ci.caplen_sum, 640);
    assert_int_equal(ci.len_sum, 10 * (ETH_IP_UDP + 200));
    assert_int_equal(ci.if_snaplen[0], 64);
    assert_int_equal(ci.udp_to_port, 10);   /* headers are within 64 bytes */
    pktcap_session_free(s);
    close(sink);
    pktcap_provider_close(p);
}

static void test_time_limit(void **state)
{
    const uint64_t limit = 1500, tolerance = 1000;
    uint16_t port = pick_port();
    pktcap_provider *p = open_local();
    pktcap_session *s = new_session(p, "tlimit", "lo", udp_filter(port));
    int sink = udp_sink("127.0.0.1", port);
    struct timespec t0, t1;
    uint64_t elapsed, wall;
    (void)state;
    assert_ok(pktcap_session_set_time_limit(s, limit));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    send_until_end(s, port, 7, 10);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    wall = (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
    elapsed = stat_of(s, PKTCAP_STAT_ELAPSED_MS);
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_COMPLETE);
    assert_string_equal(pktcap_session_stop_reason(s), "time limit");
    assert_int_equal(stat_of(s, PKTCAP_STAT_PACKETS), 7);
    if (elapsed < limit || elapsed > limit + tolerance || wall < limit ||
        wall > limit + tolerance)
        fail_msg("time limit %llu ms: elapsed stat %llu ms, wall clock %llu ms",
                 (unsigned long long)limit, (unsigned long long)elapsed,
                 (unsigned long long)wall);
    /* The elapsed time stops with the capture. */
    usleep(20000);
    assert_int_equal(stat_of(s, PKTCAP_STAT_ELAPSED_MS), elapsed);
    pktcap_session_free(s);
    close(sink);
    pktcap_provider_close(p);
}

/* ---- stop, refusals, callbacks ----------------------------------------------- */

static int transitions[16], ntransitions;
static void record_state(pktcap_session *s, int st, void *userdata)
{
    (void)s;
    (void)userdata;
    if (ntransitions < 16)
        transitions[ntransitions++] = st;
}

static void test_stop_mid_capture(void **state)
{
    uint16_t port = pick_port();
    pktcap_provider *p = open_local();
    pktcap_session *s = new_session(p, "midway", "lo", udp_filter(port));
    int sink = udp_sink("127.0.0.1", port);
    char *dir = make_temp_dir(), path[4200], *out = NULL;
    pktcap_storage *st;
    udp_stream stream;
    capture_info ci;
    uint64_t packets;
    counter c;
    (void)state;
    counter_init(&c, port);
    ntransitions = 0;
    snprintf(path, sizeof path, "%s/midway.pcapng", dir);
    assert_ok(pktcap_storage_open(&st, path));
    assert_ok(pktcap_session_set_storage(s, st));
    assert_ok(pktcap_session_set_packet_callback(s, counter_cb, &c));
    assert_ok(pktcap_session_set_state_callback(s, record_state, NULL));
    assert_ok(pktcap_session_start(s));
    udp_stream_start(&stream, port, 200);
    assert_int_equal(counter_wait(&c, 100, WAIT_MS), 0);
    /* While it runs, nothing is under the final name. */
    assert_int_not_equal(access(path, F_OK), 0);
    assert_ok(pktcap_session_stop(s));
    /* stop() returns with the file complete, under its final name. */
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_STOPPED);
    assert_string_equal(pktcap_session_stop_reason(s), "stopped");
    assert_int_equal(access(path, F_OK), 0);
    packets = stat_of(s, PKTCAP_STAT_PACKETS);
    assert_true(packets >= 100);
    usleep(50000);   /* the stream goes on; the capture does not */
    assert_int_equal(stat_of(s, PKTCAP_STAT_PACKETS), packets);
    udp_stream_stop(&stream);
    assert_true(stream.sent > packets);

    read_capture_file(&ci, path, port, 0);
    assert_int_equal(ci.packets, packets);
    assert_int_equal(ci.udp_to_port, packets);
    assert_int_equal(pktcap_storage_file_count(st), 1);
    assert_int_equal(run_command(&out, "capinfos -c -M '%s'", path), 0);
    {
        char want[64];
        snprintf(want, sizeof want, "Number of packets:   %llu", (unsigned long long)packets);
        if (!strstr(out, want))
            fail_msg("capinfos says:\n%s", out);
    }
    free(out);

    assert_int_equal(ntransitions, 3);
    assert_int_equal(transitions[0], PKTCAP_STATE_RUNNING);
    assert_int_equal(transitions[1], PKTCAP_STATE_STOPPING);
    assert_int_equal(transitions[2], PKTCAP_STATE_STOPPED);
    assert_int_equal(pktcap_session_stop(s), PKTCAP_E_STATE);
    assert_message("cannot stop session \"midway\" in state STOPPED (allowed in PENDING or "
                   "RUNNING)");
    pktcap_session_free(s);
    pktcap_storage_free(st);
    counter_destroy(&c);
    close(sink);
    remove_dir(dir);
    pktcap_provider_close(p);
}

struct canceler {
    pktcap_session *s;
    int delay_ms;
};
static void *cancel_later(void *arg)
{
    struct canceler *cx = arg;
    usleep((useconds_t)cx->delay_ms * 1000);
    pktcap_session_cancel(cx->s);
    return NULL;
}

static void test_running_refusals(void **state)
{
    uint16_t port = pick_port();
    pktcap_provider *p = open_local();
    pktcap_session *s = new_session(p, "busy", "lo", udp_filter(port));
    pktcap_storage *mem;
    pktcap_filter *f;
    struct canceler cx;
    pthread_t th;
    (void)state;
    assert_ok(pktcap_storage_open(&mem, "mem:"));
    assert_ok(pktcap_filter_parse(&f, "proto=tcp"));
    assert_ok(pktcap_session_start(s));
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_RUNNING);

    assert_int_equal(pktcap_session_set_target(s, "any"), PKTCAP_E_STATE);
    assert_message("cannot configure session \"busy\" in state RUNNING (allowed in NEW)");
    assert_int_equal(pktcap_session_set_snaplen(s, 100), PKTCAP_E_STATE);
    assert_int_equal(pktcap_session_set_byte_limit(s, 100), PKTCAP_E_STATE);
    assert_int_equal(pktcap_session_set_time_limit(s, 100), PKTCAP_E_STATE);
    assert_int_equal(pktcap_session_set_packet_limit(s, 100), PKTCAP_E_STATE);
    assert_int_equal(pktcap_session_set_filter(s, f), PKTCAP_E_STATE);
    assert_int_equal(pktcap_session_set_storage(s, mem), PKTCAP_E_STATE);
    assert_int_equal(pktcap_session_set(s, "promisc", "1"), PKTCAP_E_STATE);
    assert_int_equal(pktcap_session_set_packet_callback(s, counter_cb, NULL), PKTCAP_E_STATE);
    assert_int_equal(pktcap_session_set_state_callback(s, record_state, NULL), PKTCAP_E_STATE);
    assert_int_equal(pktcap_session_start(s), PKTCAP_E_STATE);
    assert_message("cannot start session \"busy\" in state RUNNING (allowed in NEW)");
    assert_int_equal(pktcap_session_fetch(s, mem), PKTCAP_E_STATE);
    assert_message("cannot fetch session \"busy\" in state RUNNING (allowed in COMPLETE or "
                   "STOPPED)");
    assert_int_equal(pktcap_session_delete(s), PKTCAP_E_STATE);
    assert_message("cannot delete session \"busy\" in state RUNNING (allowed in NEW, COMPLETE, "
                   "STOPPED or FAILED)");
    assert_int_equal(pktcap_session_refresh(s), 0);

    /* wait: a timeout, then a cancel from another thread. */
    assert_int_equal(pktcap_session_wait(s, 50), PKTCAP_E_TIMEOUT);
    assert_message("session \"busy\" still RUNNING after 50 ms");
    cx.s = s;
    cx.delay_ms = 50;
    pthread_create(&th, NULL, cancel_later, &cx);
    assert_int_equal(pktcap_session_wait(s, -1), PKTCAP_E_CANCELED);
    pthread_join(th, NULL);
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_RUNNING);   /* it goes on */

    /* Listed with its state. */
    {
        pktcap_session_list *l;
        assert_ok(pktcap_provider_list_sessions(&l, p));
        assert_int_equal(pktcap_session_list_count(l), 1);
        assert_int_equal(pktcap_session_list_state(l, 0), PKTCAP_STATE_RUNNING);
        assert_string_equal(pktcap_session_list_native_status(l, 0), "capturing on lo");
        pktcap_session_list_free(l);
    }

    assert_ok(pktcap_session_stop(s));
    assert_int_equal(pktcap_session_wait(s, 0), 0);
    assert_ok(pktcap_session_fetch(s, mem));
    /* Deleted: the in-memory capture is gone. */
    assert_ok(pktcap_session_delete(s));
    assert_int_equal(pktcap_session_fetch(s, mem), PKTCAP_E_NOTFOUND);
    assert_message("session \"busy\" was deleted: its capture is gone");
    pktcap_session_free(s);
    pktcap_filter_free(f);
    pktcap_storage_free(mem);
    pktcap_provider_close(p);
}

/* ---- two sessions at once ------------------------------------------------------ */

static void test_concurrent_sessions(void **state)
{
    const int n1 = 300, n2 = 200;
    uint16_t p1 = pick_port(), p2 = pick_port();
    pktcap_provider *p = open_local();
    pktcap_session *a, *b;
    int s1, s2, i;
    capture_info ca, cb;
    counter c1, c2;
    (void)state;
    while (p2 == p1)
        p2 = pick_port();
    a = new_session(p, "first", "lo", udp_filter(p1));
    b = new_session(p, "second", "lo", udp_filter(p2));
    s1 = udp_sink("127.0.0.1", p1);
    s2 = udp_sink("127.0.0.1", p2);
    counter_init(&c1, p1);
    counter_init(&c2, p2);
    assert_ok(pktcap_session_set_packet_callback(a, counter_cb, &c1));
    assert_ok(pktcap_session_set_packet_callback(b, counter_cb, &c2));
    assert_ok(pktcap_session_start(a));
    assert_ok(pktcap_session_start(b));
    for (i = 0; i < n1; i++) {   /* interleaved */
        assert_int_equal(udp_send("127.0.0.1", p1, 1, 40), 0);
        if (i < n2)
            assert_int_equal(udp_send("127.0.0.1", p2, 1, 40), 0);
    }
    assert_int_equal(counter_wait(&c1, (uint64_t)n1, WAIT_MS), 0);
    assert_int_equal(counter_wait(&c2, (uint64_t)n2, WAIT_MS), 0);
    assert_ok(pktcap_session_stop(a));
    assert_ok(pktcap_session_stop(b));
    assert_int_equal(stat_of(a, PKTCAP_STAT_PACKETS), n1);
    assert_int_equal(stat_of(b, PKTCAP_STAT_PACKETS), n2);
    fetch_and_read(&ca, a, p1, 0);
    fetch_and_read(&cb, b, p2, 0);
    assert_int_equal(ca.packets, n1);
    assert_int_equal(ca.udp_to_port, n1);
    assert_int_equal(cb.packets, n2);
    assert_int_equal(cb.udp_to_port, n2);
    pktcap_session_free(a);
    pktcap_session_free(b);
    counter_destroy(&c1);
    counter_destroy(&c2);
    close(s1);
    close(s2);
    pktcap_provider_close(p);
}

/* ---- outputs: files, formats, rotation, fetch ---------------------------------- */

/* capinfos -t */
#define PCAPNG_TYPE "File type:           pcapng\n"
#define PCAP_TYPE "File type:           pcap\n"

static void check_file_with_tools(const char *path, uint16_t port, unsigned expect,
                                  const char *file_type)
{
    char *out = NULL;
    char want[64];
    assert_int_equal(run_command(&out, "capinfos -t -c -M '%s' 2>&1", path), 0);
    if (!strstr(out, file_type))
        fail_msg("capinfos on %s (want \"%s\"):\n%s", path, file_type, out);
    snprintf(want, sizeof want, "Number of packets:   %u", expect);
    if (!strstr(out, want))
        fail_msg("capinfos on %s (want \"%s\"):\n%s", path, want, out);
    free(out);
    assert_int_equal(run_command(&out, "tshark -n -r '%s' -Y 'udp.dstport == %u' "
                                       "-T fields -e frame.number 2>/dev/null | wc -l",
                                 path, port),
                     0);
    if ((unsigned)atoi(out) != expect)
        fail_msg("tshark finds %s packets to port %u in %s, not %u", out, port, path, expect);
    free(out);
}

static void test_file_outputs(void **state)
{
    static const char *const names[] = {"out.pcapng", "out.pcap"};
    static const char *const types[] = {PCAPNG_TYPE, PCAP_TYPE};
    uint16_t port = pick_port();
    int sink = udp_sink("127.0.0.1", port), i;
    char *dir = make_temp_dir();
    pktcap_provider *p = open_local();
    (void)state;
    for (i = 0; i < 2; i++) {
        pktcap_session *s = new_session(p, "file", "lo", udp_filter(port));
        pktcap_storage *st;
        capture_info ci;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        assert_ok(pktcap_storage_open(&st, path));
        assert_ok(pktcap_session_set_storage(s, st));
        assert_ok(pktcap_session_set_packet_limit(s, 25));
        send_until_end(s, port, 40, 64);
        assert_string_equal(pktcap_session_stop_reason(s), "packet limit");
        read_capture_file(&ci, path, port, 0);
        assert_int_equal(ci.packets, 25);
        assert_int_equal(ci.format, i == 0 ? PKTCAP_FORMAT_PCAPNG : PKTCAP_FORMAT_PCAP);
        check_file_with_tools(path, port, 25, types[i]);
        /* fetch copies the single file. */
        {
            pktcap_storage *copy;
            char copy_path[4300], *out = NULL;
            snprintf(copy_path, sizeof copy_path, "%s/copy-%s", dir, names[i]);
            assert_ok(pktcap_storage_open(&copy, copy_path));
            assert_ok(pktcap_session_fetch(s, copy));
            assert_int_equal(run_command(&out, "cmp '%s' '%s'", path, copy_path), 0);
            free(out);
            pktcap_storage_free(copy);
        }
        /* delete leaves the user's file alone. */
        assert_ok(pktcap_session_delete(s));
        assert_int_equal(access(path, F_OK), 0);
        pktcap_session_free(s);
        pktcap_storage_free(st);
    }
    close(sink);
    remove_dir(dir);
    pktcap_provider_close(p);
}

static void test_rotation(void **state)
{
    const unsigned total = 60;
    uint16_t port = pick_port();
    int sink = udp_sink("127.0.0.1", port);
    char *dir = make_temp_dir(), uri[4300];
    pktcap_provider *p = open_local();
    pktcap_session *s = new_session(p, "rotating", "lo", udp_filter(port));
    pktcap_storage *st, *mem;
    uint64_t sum = 0;
    size_t i, files;
    (void)state;
    snprintf(uri, sizeof uri, "file://%s/ring.pcapng?rotate_bytes=2000", dir);
    assert_ok(pktcap_storage_open(&st, uri));
    assert_ok(pktcap_session_set_storage(s, st));
    assert_ok(pktcap_session_set_packet_limit(s, total));
    send_until_end(s, port, (int)total + 10, 100);
    assert_string_equal(pktcap_session_stop_reason(s), "packet limit");
    files = pktcap_storage_file_count(st);
    assert_true(files > 1);
    for (i = 0; i < files; i++) {
        capture_info ci;
        char *out = NULL;
        read_capture_file(&ci, pktcap_storage_file_path(st, i), port, 0);
        sum += ci.packets;
        assert_int_equal(run_command(&out, "capinfos '%s' >/dev/null 2>&1",
                                     pktcap_storage_file_path(st, i)),
                         0);
        free(out);
    }
    assert_int_equal(sum, total);
    assert_ok(pktcap_storage_open(&mem, "mem:"));
    assert_int_equal(pktcap_session_fetch(s, mem), PKTCAP_E_NOTSUP);
    if (!strstr(msg(), "rotates"))
        fail_msg("fetch of a rotated capture: %s", msg());
    pktcap_storage_free(mem);
    pktcap_session_free(s);
    pktcap_storage_free(st);
    close(sink);
    remove_dir(dir);
    pktcap_provider_close(p);
}

/* Fetching an in-memory capture into a file; the file passes capinfos. */
static void test_fetch_to_file(void **state)
{
    uint16_t port = pick_port();
    int sink = udp_sink("127.0.0.1", port);
    char *dir = make_temp_dir(), path[4200];
    pktcap_provider *p = open_local();
    pktcap_session *s = new_session(p, "tofile", "lo", udp_filter(port));
    pktcap_storage *st;
    (void)state;
    assert_ok(pktcap_session_set_packet_limit(s, 12));
    send_until_end(s, port, 12, 64);
    snprintf(path, sizeof path, "%s/fetched.pcapng", dir);
    assert_ok(pktcap_storage_open(&st, path));
    assert_ok(pktcap_session_fetch(s, st));
    check_file_with_tools(path, port, 12, PCAPNG_TYPE);
    /* A second fetch gives the same bytes again. */
    assert_ok(pktcap_session_fetch(s, st));
    check_file_with_tools(path, port, 12, PCAPNG_TYPE);
    pktcap_storage_free(st);
    pktcap_session_free(s);
    close(sink);
    remove_dir(dir);
    pktcap_provider_close(p);
}

/* Freeing a running session stops it and completes its file. */
static void test_free_running(void **state)
{
    uint16_t port = pick_port();
    int sink = udp_sink("127.0.0.1", port);
    char *dir = make_temp_dir(), path[4200];
    pktcap_provider *p = open_local();
    pktcap_session *s = new_session(p, "dropped", "lo", udp_filter(port));
    pktcap_storage *st;
    capture_info ci;
    counter c;
    (void)state;
    counter_init(&c, port);
    snprintf(path, sizeof path, "%s/freed.pcap", dir);
    assert_ok(pktcap_storage_open(&st, path));
    assert_ok(pktcap_session_set_storage(s, st));
    count_sent(s, &c, port, 9, 64);
    pktcap_session_free(s);
    read_capture_file(&ci, path, port, 0);
    assert_int_equal(ci.packets, 9);
    pktcap_storage_free(st);
    counter_destroy(&c);
    close(sink);
    remove_dir(dir);
    pktcap_provider_close(p);
}

/* A storage that refuses bytes: the session ends FAILED with the error. */
static int refuse_bytes(const void *data, size_t size, void *userdata)
{
    (void)data;
    (void)size;
    (*(int *)userdata)++;
    return PKTCAP_E_IO;
}

static int keep_nothing(const void *data, size_t size, void *userdata)
{
    (void)data;
    (void)size;
    (void)userdata;
    return 0;
}

static void test_write_error(void **state)
{
    uint16_t port = pick_port();
    int sink = udp_sink("127.0.0.1", port), calls = 0;
    pktcap_provider *p = open_local();
    pktcap_session *s = new_session(p, "broken", "lo", udp_filter(port));
    pktcap_storage *st, *mem;
    (void)state;
    assert_ok(pktcap_storage_new_callback(&st, refuse_bytes, &calls));
    assert_ok(pktcap_session_set_storage(s, st));
    assert_ok(pktcap_session_set_packet_limit(s, 5));
    send_until_end(s, port, 5, 64);
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_FAILED);
    assert_true(calls > 0);
    assert_true(strlen(pktcap_session_error_text(s)) > 0);
    assert_string_equal(pktcap_session_stop_reason(s), "");
    pktcap_session_free(s);
    pktcap_storage_free(st);

    /* A callback target keeps no copy: fetch has nothing to give. */
    s = new_session(p, "streamed", "lo", udp_filter(port));
    assert_ok(pktcap_storage_new_callback(&st, keep_nothing, NULL));
    assert_ok(pktcap_session_set_storage(s, st));
    assert_ok(pktcap_session_set_packet_limit(s, 2));
    send_until_end(s, port, 2, 64);
    assert_int_equal(pktcap_session_state(s), PKTCAP_STATE_COMPLETE);
    assert_ok(pktcap_storage_open(&mem, "mem:"));
    assert_int_equal(pktcap_session_fetch(s, mem), PKTCAP_E_NOTSUP);
    if (!strstr(msg(), "kept no copy"))
        fail_msg("fetch of a streamed capture: %s", msg());
    pktcap_storage_free(mem);
    pktcap_session_free(s);
    pktcap_storage_free(st);
    close(sink);
    pktcap_provider_close(p);
}

/* Immediate mode (TPACKET_V2, one frame per packet): fine for a trickle. */
static void test_immediate_mode(void **state)
{
    const int n = 20;
    uint16_t port = pick_port();
    int sink = udp_sink("127.0.0.1", port);
    pktcap_provider *p = open_local();
    pktcap_session *s = new_session(p, "prompt", "lo", udp_filter(port));
    capture_info ci;
    counter c;
    (void)state;
    counter_init(&c, port);
    assert_ok(pktcap_session_set(s, "immediate", "true"));
    assert_ok(pktcap_session_set(s, "buffer_size", "64Mi"));
    count_sent(s, &c, port, n, 64);
    assert_ok(pktcap_session_stop(s));
    assert_int_equal(stat_of(s, PKTCAP_STAT_PACKETS), n);
    fetch_and_read(&ci, s, port, 0);
    assert_int_equal(ci.udp_to_port, n);
    pktcap_session_free(s);
    counter_destroy(&c);
    close(sink);
    pktcap_provider_close(p);
}

/* `any`: Linux cooked capture, each loopback datagram once. */
static void test_any(void **state)
{
    const int n = 50;
    uint16_t port = pick_port();
    int sink = udp_sink("127.0.0.1", port);
    pktcap_provider *p = open_local();
    pktcap_session *s = new_session(p, "anywhere", "any", udp_filter(port));
    capture_info ci;
    counter c;
    (void)state;
    counter_init(&c, port);
    count_sent(s, &c, port, n, 64);
    assert_ok(pktcap_session_stop(s));
    fetch_and_read(&ci, s, port, 0);
    assert_true(ci.linktype == 113 || ci.linktype == 276);   /* LINUX_SLL, LINUX_SLL2 */
    assert_int_equal(ci.udp_to_port, stat_of(s, PKTCAP_STAT_PACKETS));
    assert_true(ci.udp_to_port == (uint64_t)n || ci.udp_to_port == 2 * (uint64_t)n);
    assert_string_equal(ci.if_name[0], "any");
    pktcap_session_free(s);
    counter_destroy(&c);
    close(sink);
    pktcap_provider_close(p);
}

/* ---- in forked children ----------------------------------------------------------- */

#define CHILD_CHECK(cond, ...)                                                            \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "child, line %d: check failed: %s: ", __LINE__, #cond);        \
            fprintf(stderr, __VA_ARGS__);                                                 \
            fprintf(stderr, "\n");                                                        \
            return 1;                                                                     \
        }                                                                                 \
    } while (0)

static void run_in_child(int (*fn)(void *), void *arg)
{
    int status = 0;
    pid_t pid;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        exit(fn(arg));   /* exit, not _exit: the leak checker runs in the child too */
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("the child failed (status 0x%x)", status);
}

static int without_privileges(void *arg)
{
    pktcap_provider *p;
    pktcap_session *s;
    int rc;
    (void)arg;
    CHILD_CHECK(setgroups(0, NULL) == 0, "%s", strerror(errno));
    CHILD_CHECK(setresgid(65534, 65534, 65534) == 0, "%s", strerror(errno));
    CHILD_CHECK(setresuid(65534, 65534, 65534) == 0, "%s", strerror(errno));
    CHILD_CHECK(pktcap_provider_open(&p, "local:") == 0, "%s", msg());
    CHILD_CHECK(pktcap_session_new(&s, p, "unprivileged") == 0, "%s", msg());
    CHILD_CHECK(pktcap_session_set_target(s, "lo") == 0, "%s", msg());
    rc = pktcap_session_start(s);
    CHILD_CHECK(rc == PKTCAP_E_PERM, "start gave %s: %s", pktcap_error_name(rc), msg());
    CHILD_CHECK(strstr(msg(), "capturing on \"lo\" needs root or the CAP_NET_RAW capability"),
                "message: %s", msg());
    CHILD_CHECK(pktcap_session_state(s) == PKTCAP_STATE_FAILED, "state %d",
                pktcap_session_state(s));
    CHILD_CHECK(strcmp(pktcap_session_error_text(s), msg()) == 0, "error text %s",
                pktcap_session_error_text(s));
    pktcap_session_free(s);
    /* An interface that does not exist is NOTFOUND, privileges or not. */
    CHILD_CHECK(pktcap_session_new(&s, p, "nowhere") == 0, "%s", msg());
    CHILD_CHECK(pktcap_session_set_target(s, "pktcap-nosuch9") == 0, "%s", msg());
    rc = pktcap_session_start(s);
    CHILD_CHECK(rc == PKTCAP_E_NOTFOUND, "start gave %s: %s", pktcap_error_name(rc), msg());
    CHILD_CHECK(strstr(msg(), "(available: ") != NULL, "%s", msg());
    pktcap_session_free(s);
    pktcap_provider_close(p);
    return 0;
}

static void test_no_permission(void **state)
{
    (void)state;
    run_in_child(without_privileges, NULL);
}

static int write_sysctl(const char *path, const char *value)
{
    int fd = open(path, O_WRONLY);
    ssize_t n;
    if (fd < 0)
        return -1;
    n = write(fd, value, strlen(value));
    close(fd);
    return n == (ssize_t)strlen(value) ? 0 : -1;
}

/* In a network namespace of its own: two veth pairs, a0-a1 and b0-b1, with
 * a0 and b0 addressed and ARP off (frames leave at once, to a0's own MAC);
 * a capture on "a0,b0" while datagrams go out of a0 and b0 alternately. */
static int two_interfaces(void *arg)
{
    const int n = 150;
    const uint16_t pa = 21001, pb = 21002;
    const char *dir = arg;
    char path[4200], *out = NULL;
    pktcap_provider *p;
    pktcap_session *s;
    pktcap_storage *st;
    pktcap_filter *f;
    capture_info ci;
    int i, rc;

    CHILD_CHECK(unshare(CLONE_NEWNET) == 0, "unshare(CLONE_NEWNET): %s", strerror(errno));
    CHILD_CHECK(write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1") == 0, "ipv6");
    CHILD_CHECK(write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1") == 0, "ipv6");
    rc = run_command(NULL, "set -e; exec 2>&1; ip link set lo up; "
                           "ip link add a0 type veth peer name a1; "
                           "ip link add b0 type veth peer name b1; "
                           "ip addr add 10.201.1.1/24 dev a0; ip addr add 10.201.2.1/24 dev b0; "
                           "ip link set a0 arp off; ip link set b0 arp off; "
                           "for i in a0 a1 b0 b1; do ip link set $i up; done");
    CHILD_CHECK(rc == 0, "setting up the interfaces (ip exit %d)", rc);

    snprintf(path, sizeof path, "%s/two.pcapng", dir);
    CHILD_CHECK(pktcap_provider_open(&p, "local:") == 0, "%s", msg());
    CHILD_CHECK(pktcap_session_new(&s, p, "pair") == 0, "%s", msg());
    CHILD_CHECK(pktcap_session_set_target(s, "a0,b0") == 0, "%s", msg());
    CHILD_CHECK(pktcap_filter_parse(&f, "proto=udp") == 0, "%s", msg());
    CHILD_CHECK(pktcap_session_set_filter(s, f) == 0, "%s", msg());
    pktcap_filter_free(f);
    CHILD_CHECK(pktcap_storage_open(&st, path) == 0, "%s", msg());
    CHILD_CHECK(pktcap_session_set_storage(s, st) == 0, "%s", msg());
    CHILD_CHECK(pktcap_session_set_packet_limit(s, 2 * n) == 0, "%s", msg());
    rc = pktcap_session_start(s);
    CHILD_CHECK(rc == 0, "start: %s", msg());
    for (i = 0; i < n; i++) {
        CHILD_CHECK(udp_send("10.201.1.2", pa, 1, 32) == 0, "send a0");
        CHILD_CHECK(udp_send("10.201.2.2", pb, 1, 48) == 0, "send b0");
    }
    rc = pktcap_session_wait(s, WAIT_MS);
    CHILD_CHECK(rc == 0, "wait: %s (%llu packets)", msg(),
                (unsigned long long)pktcap_session_stat(s, PKTCAP_STAT_PACKETS));
    CHILD_CHECK(pktcap_session_state(s) == PKTCAP_STATE_COMPLETE, "state %s",
                pktcap_state_name(pktcap_session_state(s)));
    CHILD_CHECK(strcmp(pktcap_session_stop_reason(s), "packet limit") == 0, "%s",
                pktcap_session_stop_reason(s));

    CHILD_CHECK(read_capture_file_plain(&ci, path, pa, 0) == 0, "read");
    CHILD_CHECK(ci.format == PKTCAP_FORMAT_PCAPNG, "format %d", ci.format);
    CHILD_CHECK(ci.interfaces == 2, "%u interfaces", ci.interfaces);
    CHILD_CHECK(strcmp(ci.if_name[0], "a0") == 0 && strcmp(ci.if_name[1], "b0") == 0,
                "names %s, %s", ci.if_name[0], ci.if_name[1]);
    CHILD_CHECK(ci.packets == 2u * n, "%llu packets", (unsigned long long)ci.packets);
    CHILD_CHECK(ci.per_interface[0] == (uint64_t)n && ci.per_interface[1] == (uint64_t)n,
                "%llu on a0, %llu on b0", (unsigned long long)ci.per_interface[0],
                (unsigned long long)ci.per_interface[1]);
    CHILD_CHECK(ci.per_interface_match[0] == (uint64_t)n && ci.per_interface_match[1] == 0,
                "port %u: %llu on a0, %llu on b0", pa,
                (unsigned long long)ci.per_interface_match[0],
                (unsigned long long)ci.per_interface_match[1]);
    CHILD_CHECK(ci.time_ordered, "packets out of time order");
    CHILD_CHECK(read_capture_file_plain(&ci, path, pb, 0) == 0, "read");
    CHILD_CHECK(ci.per_interface_match[1] == (uint64_t)n && ci.per_interface_match[0] == 0,
                "port %u: %llu on a0, %llu on b0", pb,
                (unsigned long long)ci.per_interface_match[0],
                (unsigned long long)ci.per_interface_match[1]);

    rc = run_command(&out, "capinfos -M '%s' 2>&1", path);
    CHILD_CHECK(rc == 0, "capinfos exit %d:\n%s", rc, out);
    CHILD_CHECK(strstr(out, "Number of interfaces in file: 2") != NULL, "capinfos:\n%s", out);
    CHILD_CHECK(strstr(out, "Number of packets:   300") != NULL, "capinfos:\n%s", out);
    CHILD_CHECK(strstr(out, "Strict time order:   True") != NULL, "capinfos:\n%s", out);
    free(out);
    rc = run_command(&out, "tshark -n -r '%s' -T fields -e frame.interface_name "
                           "-e udp.dstport 2>/dev/null | sort | uniq -c | awk '{print $1, $2, $3}'",
                     path);
    CHILD_CHECK(rc == 0, "tshark exit %d", rc);
    CHILD_CHECK(strstr(out, "150 a0 21001\n150 b0 21002\n") != NULL, "tshark:\n%s", out);
    free(out);

    pktcap_session_free(s);
    pktcap_storage_free(st);

    /* Again, ended by stop(): the held packets are written, in time order. */
    {
        counter c;
        counter_init(&c, pb);
        CHILD_CHECK(pktcap_session_new(&s, p, "pair-stop") == 0, "%s", msg());
        CHILD_CHECK(pktcap_session_set_target(s, "b0,a0") == 0, "%s", msg());
        CHILD_CHECK(pktcap_session_set_packet_callback(s, counter_cb, &c) == 0, "%s", msg());
        CHILD_CHECK(pktcap_session_start(s) == 0, "start: %s", msg());
        for (i = 0; i < 40; i++) {
            CHILD_CHECK(udp_send("10.201.1.2", pa, 1, 32) == 0, "send a0");
            CHILD_CHECK(udp_send("10.201.2.2", pb, 1, 48) == 0, "send b0");
        }
        CHILD_CHECK(counter_wait(&c, 40, WAIT_MS) == 0, "saw %llu of 40 on b0",
                    (unsigned long long)counter_matching(&c));
        CHILD_CHECK(pktcap_session_stop(s) == 0, "stop: %s", msg());
        CHILD_CHECK(pktcap_session_state(s) == PKTCAP_STATE_STOPPED, "state %s",
                    pktcap_state_name(pktcap_session_state(s)));
        CHILD_CHECK(c.numbering_ok, "callback numbering");
        {
            pktcap_storage *mem;
            const void *data;
            size_t size;
            pktcap_reader *r;
            const pktcap_packet *pkt;
            uint64_t last = 0, count = 0, on[2] = {0, 0};
            int ordered = 1;
            CHILD_CHECK(pktcap_storage_open(&mem, "mem:") == 0, "%s", msg());
            CHILD_CHECK(pktcap_session_fetch(s, mem) == 0, "fetch: %s", msg());
            CHILD_CHECK(pktcap_storage_memory(&data, &size, mem) == 0, "%s", msg());
            CHILD_CHECK(pktcap_reader_open_memory(&r, data, size) == 0, "%s", msg());
            while (pktcap_reader_next(&pkt, r) == 0) {
                uint64_t ns = (uint64_t)pkt->ts_sec * 1000000000u + pkt->ts_nsec;
                ordered &= ns >= last;
                last = ns;
                count++;
                if (pkt->interface < 2)
                    on[pkt->interface]++;
            }
            CHILD_CHECK(pktcap_reader_interface_count(r) == 2, "interfaces");
            CHILD_CHECK(strcmp(pktcap_reader_interface_option(r, 0, "if_name"), "b0") == 0,
                        "first IDB %s", pktcap_reader_interface_option(r, 0, "if_name"));
            pktcap_reader_close(r);
            pktcap_storage_free(mem);
            CHILD_CHECK(ordered, "time order");
            CHILD_CHECK(count == pktcap_session_stat(s, PKTCAP_STAT_PACKETS) &&
                            count == c.total && on[0] == 40 && on[1] == 40,
                        "%llu packets (%llu on b0, %llu on a0), stat %llu, callback %llu",
                        (unsigned long long)count, (unsigned long long)on[0],
                        (unsigned long long)on[1],
                        (unsigned long long)pktcap_session_stat(s, PKTCAP_STAT_PACKETS),
                        (unsigned long long)c.total);
        }
        pktcap_session_free(s);
        counter_destroy(&c);
    }

    /* An interface that disappears ends the capture FAILED, saying so. */
    CHILD_CHECK(pktcap_session_new(&s, p, "vanishing") == 0, "%s", msg());
    CHILD_CHECK(pktcap_session_set_target(s, "b0") == 0, "%s", msg());
    CHILD_CHECK(pktcap_session_start(s) == 0, "start: %s", msg());
    CHILD_CHECK(run_command(NULL, "ip link del b0") == 0, "ip link del");
    CHILD_CHECK(pktcap_session_wait(s, WAIT_MS) == 0, "wait: %s", msg());
    CHILD_CHECK(pktcap_session_state(s) == PKTCAP_STATE_FAILED, "state %s",
                pktcap_state_name(pktcap_session_state(s)));
    CHILD_CHECK(strstr(pktcap_session_error_text(s), "capturing on \"b0\"") != NULL,
                "error text: %s", pktcap_session_error_text(s));
    pktcap_session_free(s);
    pktcap_provider_close(p);
    return 0;
}

static void test_two_interfaces(void **state)
{
    char *dir = make_temp_dir();
    (void)state;
    run_in_child(two_interfaces, dir);
    remove_dir(dir);
}

/* Every test's files go under one directory, removed at the end even when
 * tests fail (a failing test skips its own clean-up). */
static char *run_dir;

static int make_run_dir(void **state)
{
    (void)state;
    if (!(run_dir = make_temp_dir()))
        return -1;
    return setenv("TMPDIR", run_dir, 1);
}

static int remove_run_dir(void **state)
{
    (void)state;
    remove_dir(run_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_count_with_filter),
        cmocka_unit_test(test_exact_count_bpf_filter),
        cmocka_unit_test(test_exact_count_without_filter),
        cmocka_unit_test(test_packet_limit),
        cmocka_unit_test(test_byte_limit),
        cmocka_unit_test(test_snaplen),
        cmocka_unit_test(test_time_limit),
        cmocka_unit_test(test_stop_mid_capture),
        cmocka_unit_test(test_running_refusals),
        cmocka_unit_test(test_concurrent_sessions),
        cmocka_unit_test(test_file_outputs),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_fetch_to_file),
        cmocka_unit_test(test_free_running),
        cmocka_unit_test(test_write_error),
        cmocka_unit_test(test_immediate_mode),
        cmocka_unit_test(test_any),
        cmocka_unit_test(test_no_permission),
        cmocka_unit_test(test_two_interfaces),
    };
    require_root("test_session_live");
    return cmocka_run_group_tests(tests, make_run_dir, remove_run_dir);
}
