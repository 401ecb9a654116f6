/* Helpers shared by the fault tests: corpus files, packets kept in memory,
 * provider emulators (tests/emulators/run.py) run as child processes.
 * Scratch directories and listings come from tests/writer/util.h. */
#ifndef PKTCAP_TESTS_FAULTS_UTIL_H
#define PKTCAP_TESTS_FAULTS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <pktcap/pktcap.h>

/* $PKTCAP_CORPUS/REL in a static buffer (fails the test when unset). */
const char *corpus_path(const char *rel);

/* A capture file read into memory with the library's reader: its packets
 * (bytes and comments copied) and its interfaces. */
typedef struct capture {
    size_t count;
    pktcap_packet *packets;
    uint32_t interfaces;
    uint32_t *linktypes, *snaplens;
} capture;
void capture_load(capture *c, const char *path);
void capture_free(capture *c);

/* Packets in a file read with the library's reader; fails the test on a
 * read error. */
size_t count_packets(const char *path);

/* A provider emulator: `python run.py PROVIDER ARGS...` with its stdin on a
 * pipe (closing it stops the emulator) and the JSON line it printed. */
typedef struct emulator {
    pid_t pid;
    int input;
    void *info;   /* json_t * */
} emulator;
/* Starts the emulator with the interpreter and script meson gives
 * (PKTCAP_TEST_PYTHON, PKTCAP_TEST_EMULATOR); `args` ends with NULL. */
void emulator_start(emulator *e, const char *provider, const char *const *args);
/* A string from the JSON line; fails the test when absent. */
const char *emulator_get(const emulator *e, const char *key);
void emulator_stop(emulator *e);

/* How many names in `dir` are temporaries of file targets (.NAME.XXXXXX.part). */
size_t count_temporaries(const char *dir);
/* Removes every file in `dir` (not the directory). */
void empty_dir(const char *dir);

#endif
