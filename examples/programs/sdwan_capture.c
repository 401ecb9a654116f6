/* sdwan_capture PROVIDER_URI INTERFACES SECONDS [OUT]: run a packet capture
 * on a Citrix SD-WAN appliance (INTERFACES: names joined by --, e.g.
 * MGMT--1; SECONDS: 5, 10, 15 or 30), wait for it to end, print the summary
 * of every packet the appliance returned, and download the capture file
 * (pcapng) into OUT when given (showing progress).
 *
 *   cc -o sdwan_capture sdwan_capture.c $(pkg-config --cflags --libs libpktcap)
 *   export PKTCAP_SDWAN_USER=admin PKTCAP_SDWAN_PASSWORD=...
 *   ./sdwan_capture 'sdwan://10.1.1.1?ca_file=appliance.pem' MGMT--1 10 wan.pcapng
 *
 * The library reads the appliance account from PKTCAP_SDWAN_USER and
 * PKTCAP_SDWAN_PASSWORD. The provider URI may carry provider options in its
 * query, e.g. `sdwan://10.1.1.1?scheme=http` (doc/sdwan.md). */
#include <pktcap/pktcap.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define WAIT_EXTRA_MS (2 * 60 * 1000) /* beyond the duration: the appliance's answer */

/* Report a failed call: the calling thread's last error message (it names
 * the file, option or request involved) and the code's name. */
static int fail(int rc)
{
    fprintf(stderr, "sdwan_capture: %s (%s)\n", pktcap_error_message(pktcap_error_last()),
            pktcap_error_name(rc));
    return 1;
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

int main(int argc, char **argv)
{
    long seconds = -1;
    if (argc == 4 || argc == 5) {
        char *end;
        errno = 0;
        seconds = strtol(argv[3], &end, 10);
        if (errno || end == argv[3] || *end || seconds < 1 || seconds > 3600)
            seconds = -1;
    }
    if (seconds < 0) {
        fprintf(stderr, "usage: sdwan_capture PROVIDER_URI INTERFACES SECONDS [OUT]\n");
        return 1;
    }
    const char *uri = argv[1], *interfaces = argv[2], *out = argc == 5 ? argv[4] : NULL;
    pktcap_provider *provider = NULL;
    pktcap_session *session = NULL;
    pktcap_storage *file = NULL;
    int rc, status = 1, last_percent = -1;

    if ((rc = pktcap_provider_open(&provider, uri)) < 0) {
        fail(rc);
        goto done;
    }
    /* NULL: the library names the capture pktcap-DATE-TIME-N. The appliance
     * takes a duration of 5, 10, 15 or 30 s; without a packet limit it
     * captures as many as it can ("MAX"). */
    if ((rc = pktcap_session_new(&session, provider, NULL)) < 0 ||
        (rc = pktcap_session_set_target(session, interfaces)) < 0 ||
        (rc = pktcap_session_set_time_limit(session, (uint64_t)seconds * 1000)) < 0) {
        fail(rc);
        goto done;
    }

    /* Start logs in and sends the capture request; the appliance answers
     * when the capture has ended. */
    if ((rc = pktcap_session_start(session)) < 0) {
        fail(rc);
        goto done;
    }
    printf("started %s\n", pktcap_session_name(session));
    fflush(stdout);

    if ((rc = pktcap_session_wait(session, (int64_t)seconds * 1000 + WAIT_EXTRA_MS)) < 0) {
        fail(rc);
        goto done;
    }
    int state = pktcap_session_state(session);
    if (state == PKTCAP_STATE_FAILED) {
        fprintf(stderr, "sdwan_capture: the capture failed: %s\n",
                pktcap_session_error_text(session));
        goto done;
    }
    printf("ended: %s (%s)\n", pktcap_state_name(state), pktcap_session_stop_reason(session));

    /* The appliance's answer carries a summary of every packet it captured. */
    size_t count = pktcap_session_summary_count(session);
    pktcap_summary summary = { .struct_size = sizeof summary };
    char line[2048]; /* longer than any summary line (doc/summary.md) */
    size_t length;
    for (size_t i = 0; i < count; i++) {
        if ((rc = pktcap_session_summary(&summary, session, i)) < 0 ||
            (rc = pktcap_summary_format(&length, line, sizeof line, PKTCAP_SUMMARY_TEXT,
                                        &summary)) < 0) {
            fflush(stdout);
            fail(rc);
            goto done;
        }
        puts(line);
    }
    printf("%zu packets\n", count);

    /* Download the appliance's capture file into OUT: complete, or not at all. */
    if (out) {
        fflush(stdout);
        if ((rc = pktcap_storage_open(&file, out)) < 0 ||
            (rc = pktcap_session_set_progress_callback(session, on_progress, &last_percent)) < 0 ||
            (rc = pktcap_session_fetch(session, file)) < 0) {
            fail(rc);
            goto done;
        }
        printf("fetched to %s\n", out);
    }
    status = 0;

done:
    pktcap_session_free(session);
    pktcap_storage_free(file);
    pktcap_provider_close(provider);
    return status;
}
