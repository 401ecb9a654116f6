/* cloudflare_capture PROVIDER_URI SECONDS PACKETS OUT: run a simple Magic
 * Transit packet capture at Cloudflare (sampled packets, at most SECONDS
 * seconds and PACKETS packets), wait for it to end, download the file
 * Cloudflare made into OUT (showing progress), and count its packets.
 *
 *   cc -o cloudflare_capture cloudflare_capture.c $(pkg-config --cflags --libs libpktcap)
 *   export CLOUDFLARE_API_TOKEN=...   # a token allowed to write PCAPs
 *   ./cloudflare_capture cloudflare://accounts/023e105f4ecef8ad9ca31a8372d0c353 \
 *     60 5000 edge.pcap
 *
 * The library reads the API token from CLOUDFLARE_API_TOKEN (or the global
 * key from CLOUDFLARE_EMAIL and CLOUDFLARE_API_KEY). The provider URI may
 * carry provider options in its query, e.g.
 * `cloudflare://accounts/ID?poll_interval_ms=2000` (doc/cloudflare.md). */
#include <pktcap/pktcap.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define WAIT_EXTRA_MS (10 * 60 * 1000) /* beyond the time limit: start and conversion */

/* Report a failed call: the calling thread's last error message (it names
 * the file, option or request involved) and the code's name. */
static int fail(int rc)
{
    fprintf(stderr, "cloudflare_capture: %s (%s)\n", pktcap_error_message(pktcap_error_last()),
            pktcap_error_name(rc));
    return 1;
}

/* A whole number from 1 to MAX, or -1. The library checks the limits
 * against what Cloudflare accepts (at most 300 s and 10 000 packets). */
static long parse_count(const char *text, long max)
{
    char *end;
    errno = 0;
    long value = strtol(text, &end, 10);
    if (errno || end == text || *end || value < 1 || value > max)
        return -1;
    return value;
}

/* Called by pktcap_session_fetch() as bytes arrive: print the percentage
 * whenever it changes. Returning non-zero would cancel the download. */
static int on_progress(uint64_t done, uint64_t total, void *userdata)
{
    int *last = userdata;
    int percent = total ? (int)(done * 100 / total) : 0;
    if (total && percent != *last) {
        fprintf(stderr, "fetching: %d%%\n", percent);
        *last = percent;
    }
    return 0;
}

/* Count the packets of a capture file (a simple capture's packets are not
 * counted by Cloudflare: the file says how many there are). */
static int count_packets(uint64_t *count, const char *path)
{
    pktcap_reader *reader = NULL;
    const pktcap_packet *packet;
    int rc = pktcap_reader_open(&reader, path);
    *count = 0;
    while (rc == 0 && (rc = pktcap_reader_next(&packet, reader)) == 0)
        ++*count;
    pktcap_reader_close(reader);
    return rc == PKTCAP_E_END ? 0 : rc;
}

int main(int argc, char **argv)
{
    long seconds = argc == 5 ? parse_count(argv[2], 86400) : -1;
    long packets = argc == 5 ? parse_count(argv[3], 1000000) : -1;
    if (seconds < 0 || packets < 0) {
        fprintf(stderr, "usage: cloudflare_capture PROVIDER_URI SECONDS PACKETS OUT\n");
        return 1;
    }
    const char *uri = argv[1], *out = argv[4];
    pktcap_provider *provider = NULL;
    pktcap_session *session = NULL;
    pktcap_storage *file = NULL;
    int rc, status = 1, last_percent = -1;
    uint64_t count;

    if ((rc = pktcap_provider_open(&provider, uri)) < 0) {
        fail(rc);
        goto done;
    }
    /* NULL: the library names the capture pktcap-DATE-TIME-N. The target is
     * the Cloudflare system that captures; a simple capture is the default. */
    if ((rc = pktcap_session_new(&session, provider, NULL)) < 0 ||
        (rc = pktcap_session_set_target(session, "magic-transit")) < 0 ||
        (rc = pktcap_session_set_time_limit(session, (uint64_t)seconds * 1000)) < 0 ||
        (rc = pktcap_session_set_packet_limit(session, (uint64_t)packets)) < 0) {
        fail(rc);
        goto done;
    }

    /* Start sends the create request; the capture then runs at Cloudflare. */
    if ((rc = pktcap_session_start(session)) < 0) {
        fail(rc);
        goto done;
    }
    printf("started %s (capture %s)\n", pktcap_session_name(session), pktcap_session_id(session));
    fflush(stdout);

    /* Wait polls the capture's status until Cloudflare has converted it. */
    if ((rc = pktcap_session_wait(session, (int64_t)seconds * 1000 + WAIT_EXTRA_MS)) < 0) {
        fail(rc);
        fprintf(stderr, "cloudflare_capture: the capture %s runs on at Cloudflare\n",
                pktcap_session_id(session));
        goto done;
    }
    int state = pktcap_session_state(session);
    if (state == PKTCAP_STATE_FAILED) {
        fprintf(stderr, "cloudflare_capture: the capture failed: %s\n",
                pktcap_session_error_text(session));
        goto done;
    }
    printf("ended: %s (%s)\n", pktcap_state_name(state), pktcap_session_stop_reason(session));

    /* Download the file Cloudflare keeps into OUT: complete, or not at all. */
    if ((rc = pktcap_storage_open(&file, out)) < 0 ||
        (rc = pktcap_session_set_progress_callback(session, on_progress, &last_percent)) < 0 ||
        (rc = pktcap_session_fetch(session, file)) < 0) {
        fail(rc);
        goto done;
    }
    printf("fetched to %s\n", out);

    if ((rc = count_packets(&count, out)) < 0) {
        fail(rc);
        goto done;
    }
    printf("packets captured: %llu\n", (unsigned long long)count);
    status = 0;

done:
    pktcap_session_free(session);
    pktcap_storage_free(file);
    pktcap_provider_close(provider);
    return status;
}
