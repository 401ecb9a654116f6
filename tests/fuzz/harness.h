/* What the URI and provider fuzz targets share (harness.c): the promises
 * every call is checked against, a guard that turns any socket the process
 * opens into a crash, and a scripted HTTP transport that answers each request
 * of the library with the next response cut from the fuzz input.
 *
 * The script: responses separated by HARNESS_SEPARATOR. A response is one
 * selector byte, then header lines ("Name: value", '\n'-separated) up to the
 * first blank line, then the body. Without a blank line everything after the
 * selector is the body. The selector, modulo 32, picks the status or the
 * transport failure (the table in harness.c; '@' + i picks entry i: '@' 200,
 * 'A' 201, 'B' 202, 'C' 204, 'D' 206, 'E' 400, 'F' 401, 'G' 403, 'H' 404,
 * 'I' 405, 'J' 408, 'K' 409, 'L' 412, 'M' 413, 'N' 415, 'O' 416, 'P' 429,
 * 'Q' 500, 'R' 502, 'S' 503, 'T' 504, 'U' 301, 'V' 299, 'W' 999,
 * 'X' connection refused, 'Y' timeout, 'Z' TLS failure, '[' a 200 then the
 * connection breaks, '\\' the connection breaks, ']' nothing at all,
 * '^' status 150, '_' a 206 then the connection breaks); an empty response
 * is nothing at all. Once the script is used up, every request is refused.
 *
 * PKTCAP_FUZZ_TRACE=1 in the environment prints each request and the answer
 * chosen (for writing seeds); PKTCAP_FUZZ_TRACE=2 the provider's log too. */
#ifndef PKTCAP_FUZZ_HARNESS_H
#define PKTCAP_FUZZ_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include <pktcap/pktcap.h>

#define HARNESS_SEPARATOR "\n@@\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Aborts with "NAME: broken promise: WHAT" unless ok. */
void harness_check(int ok, const char *what);

/* After pktcap_error_clear() and a call: rc is 0, or a PKTCAP_E_* code that
 * is also the recorded error's, with a non-empty message holding none of the
 * secrets (harness_secret). Returns rc. */
int harness_status(int rc, const char *what);

/* A string that must never appear in a message or a log line (with
 * debug_log_ok: except in DEBUG log lines — an identifier such as an e-mail),
 * unless the script holds it (a server may send anything back). */
void harness_secret(const char *secret, int debug_log_ok);

/* The session's state is a pktcap_state_t and its texts are strings. */
void harness_session(const pktcap_session *s);

/* A provider log callback checking each line (a string, no secret). */
void harness_log(int level, const char *message, void *userdata);

/* Lifecycle steps shared by the provider targets, each checked with
 * harness_status and harness_session: up to `times` refreshes while the
 * session is not terminal (a terminal state never changes); a fetch into a
 * fresh mem: target when the session is COMPLETE or STOPPED (on success the
 * bytes start with a capture magic, on failure none are kept); a listing
 * whose entries have names, ids and states of the enum. */
void harness_refresh(pktcap_session *s, int times);
void harness_fetch(pktcap_session *s);
/* Stops the session when it is PENDING or RUNNING (then refreshes it a few
 * times), and fetches it (harness_fetch). */
void harness_stop_and_fetch(pktcap_session *s);
void harness_list(pktcap_provider *p);

/* Once per process: names the target in messages, installs the socket
 * guard (seccomp; failing to install it aborts) and reads PKTCAP_FUZZ_TRACE. */
void harness_init(const char *name);

/* Every request from now on is answered from `script` (not copied: it must
 * outlive the requests), with Authorization and other credential headers
 * allowed only on URLs for which auth_ok returns non-zero. script NULL: any
 * request aborts (a target, or the end of one, that must send none). The
 * transport stays installed for the life of the process: no request of a
 * fuzz target ever reaches the network. */
void harness_script(const uint8_t *script, size_t size, int (*auth_ok)(const char *url));

/* Requests answered since harness_script. */
unsigned harness_requests(void);

/* The body of a backend target's LLVMFuzzerTestOneInput: inputs of 1 to 64
 * KiB; the first byte is the run's configuration, the rest the script of
 * answers (harness_script) for `run`, after which nothing may be sent. */
int harness_input(const uint8_t *data, size_t size, int (*auth_ok)(const char *url),
                  void (*run)(int config));

/* pktcap_session_open(id) on `p`; when it succeeds, the opened session is
 * checked (not NEW), refreshed a few times, handed to `finish` and freed. */
void harness_open(pktcap_provider *p, const char *id, void (*finish)(pktcap_session *s));

#endif
