/* Reading a hand-built capture through every input the reader has (memory,
 * file, pipe, tiny read buffer) and recording what came out, for
 * test_reader.c. Assertions are cmocka's. */
#ifndef PKTCAP_TESTS_READER_HARNESS_H
#define PKTCAP_TESTS_READER_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "builder.h"

#define MAX_SEEN 4096

typedef struct seen {
    int64_t sec;
    uint32_t nsec, caplen, len, iface, linktype, flags;
    int has_comment;
    uint32_t comment_len;
    char comment[64];
    uint32_t sum;   /* of the caplen data bytes */
    uint64_t offset; /* pktcap_reader_offset() after the packet */
} seen;

typedef struct run {
    int open_rc;
    int rc; /* the call that ended reading (open's, or next's) */
    char msg[1024];
    unsigned n;
    seen p[MAX_SEEN];
} run;

/* A scratch directory for the test run (made by the group setup). */
extern char tmpdir[64];

uint32_t fnv(const uint8_t *p, size_t n);
/* fnv() of cap_pattern(seed, n). */
uint32_t pattern_sum(unsigned seed, size_t n);
/* A zeroed run on the heap (free() it). */
run *new_run(void);

/* Each reads everything, records it in *out and checks that the final status
 * is given again (with its message) by a further call. */
void run_memory(const void *data, size_t len, run *out);
void run_file(const void *data, size_t len, run *out);
void run_sized(const void *data, size_t len, size_t buffer, run *out);
void run_pipe(const void *data, size_t len, size_t chunk, run *out);
/* Memory, file, pipe and tiny buffer must agree; returns the memory run. */
run *run_all_inputs(const capture *c);

void assert_same_runs(const run *a, const run *b);
void assert_contains(const char *text, const char *needle);
/* Reading fails after `packets` packets with `code`, the message containing `needle`. */
void expect_failure(const capture *c, unsigned packets, int code, const char *needle);
void expect_packet(const seen *s, int64_t sec, uint32_t nsec, uint32_t caplen, uint32_t len,
                   uint32_t iface, uint32_t linktype);

/* cap_pattern(seed, n) in one of four rotating static buffers. */
const uint8_t *bytes_of(unsigned seed, size_t n);
const char *temp_path(const char *name);
void write_file(const char *path, const void *data, size_t len);

#endif
