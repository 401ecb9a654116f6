/* Helpers shared by the session tests: the root rule, traffic the tests
 * make themselves on loopback, waiting for packets, reading captures back,
 * running the third-party judges (capinfos, tshark). */
#ifndef PKTCAP_TESTS_SESSION_UTIL_H
#define PKTCAP_TESTS_SESSION_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <pktcap/pktcap.h>
#include <pktcap/session.h>

/* Live captures need root (CAP_NET_RAW). Without it the program fails with a
 * clear message, unless PKTCAP_ALLOW_NO_ROOT=1, when it exits 77 (meson's
 * "skipped"). Returns only when root. */
void require_root(const char *program);

/* A random port in 20000-29999 (below Linux's ephemeral range, so no
 * sender's source port can equal it) that is free for UDP and TCP. */
uint16_t pick_port(void);

/* A bound UDP socket on addr:port that swallows datagrams (no ICMP port
 * unreachable is generated). Returns the descriptor. */
int udp_sink(const char *addr, uint16_t port);
/* Sends `count` datagrams of `payload` bytes to addr:port from one socket.
 * Returns 0 or -1. */
int udp_send(const char *addr, uint16_t port, int count, size_t payload);
/* A TCP exchange on 127.0.0.1:port: listen, connect, client sends 100
 * bytes, server answers 100, both close (FIN each way). 0 or -1. */
int tcp_exchange(uint16_t port);

/* Sends datagrams to 127.0.0.1:port from a thread, one every `interval_us`,
 * until told to stop. */
typedef struct udp_stream {
    pthread_t thread;
    uint16_t port;
    unsigned interval_us;
    int stop;
    unsigned long sent;
} udp_stream;
void udp_stream_start(udp_stream *st, uint16_t port, unsigned interval_us);
void udp_stream_stop(udp_stream *st);

/* Counts what a packet callback sees. */
typedef struct counter {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    uint16_t udp_port;       /* counts `matching` for UDP packets to/from it (0: none) */
    uint64_t total, matching;
    uint64_t last_number;    /* summary.number of the last packet */
    int numbering_ok;        /* every summary.number was the previous + 1 */
} counter;
void counter_init(counter *c, uint16_t udp_port);
void counter_destroy(counter *c);
/* A pktcap_packet_cb; userdata is the counter. */
void counter_cb(pktcap_session *s, const pktcap_packet *p, const pktcap_summary *sum,
                void *userdata);
/* Waits until `matching` reaches `target` (0) or `timeout_ms` passes (-1). */
int counter_wait(counter *c, uint64_t target, int timeout_ms);
uint64_t counter_matching(counter *c);

/* What a capture holds. */
typedef struct capture_info {
    int format;
    uint32_t interfaces;
    uint64_t packets;
    uint64_t udp_to_port;     /* UDP packets with source or destination port == port */
    uint64_t tcp_on_port;     /* TCP packets with source or destination port == tcp_port */
    uint64_t other;           /* everything else */
    uint8_t tcp_flags_seen;   /* OR of the TCP flags of tcp_on_port packets */
    int syn, synack, fin_client, fin_server;
    uint64_t caplen_sum, len_sum;
    uint32_t max_caplen;
    int time_ordered;         /* timestamps never decrease */
    uint64_t per_interface[4];          /* packets per interface index */
    uint64_t per_interface_match[4];    /* udp_to_port packets per interface */
    char if_name[4][32];
    uint32_t if_snaplen[4];
    uint32_t linktype;
} capture_info;
/* Reads a capture from memory or a file; port/tcp_port select what is
 * counted. Fails the calling test (cmocka) on a read error. */
void read_capture_mem(capture_info *out, const void *data, size_t size, uint16_t port,
                      uint16_t tcp_port);
void read_capture_file(capture_info *out, const char *path, uint16_t port, uint16_t tcp_port);
/* The same without cmocka, for forked children: 0 or -1 (message printed). */
int read_capture_file_plain(capture_info *out, const char *path, uint16_t port,
                            uint16_t tcp_port);

/* Fetches a finished session into a fresh `mem:` target and reads it. */
void fetch_and_read(capture_info *out, pktcap_session *s, uint16_t port, uint16_t tcp_port);

/* Runs a shell command, returns its exit status (-1 if it did not run) and
 * its standard output (malloc'd, NUL-terminated) in *output when not NULL. */
int run_command(char **output, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A fresh directory under $TMPDIR or /tmp; remove_dir() deletes it and what it holds. */
char *make_temp_dir(void);
void remove_dir(char *dir);

/* "cannot ...": the last error message, for assertions. */
const char *last_message(void);

#endif
