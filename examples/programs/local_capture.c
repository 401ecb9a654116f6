/* local_capture IFACE FILTER SECONDS OUT: capture on a network interface of
 * this host for SECONDS seconds, keeping only the packets FILTER matches, into
 * the capture file OUT; then print how the capture ended and its statistics.
 *
 *   cc -o local_capture local_capture.c $(pkg-config --cflags --libs libpktcap)
 *   sudo ./local_capture eth0 'proto=tcp remote_port=80;443' 30 web.pcapng
 *
 * FILTER is pktcap's one-line rule syntax (doc/filters.md; '' captures
 * everything). OUT is a path (.pcap: classic pcap, otherwise pcapng) or a
 * storage URI with rotation (doc/storage.md). Capturing needs root or the
 * CAP_NET_RAW capability: without them the start fails with PKTCAP_E_PERM. */
#include <pktcap/pktcap.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Report a failed call: the calling thread's last error message (it names
 * the file, option or request involved) and the code's name. */
static int fail(int rc)
{
    fprintf(stderr, "local_capture: %s (%s)\n", pktcap_error_message(pktcap_error_last()),
            pktcap_error_name(rc));
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: local_capture IFACE FILTER SECONDS OUT\n");
        return 1;
    }
    const char *iface = argv[1], *rules = argv[2], *out = argv[4];
    char *end;
    double seconds = strtod(argv[3], &end);
    if (*end != '\0' || !(seconds > 0 && seconds <= 86400)) {
        fprintf(stderr, "local_capture: SECONDS must be a number of seconds, not '%s'\n", argv[3]);
        return 1;
    }

    pktcap_provider *provider = NULL;
    pktcap_session *session = NULL;
    pktcap_filter *filter = NULL;
    pktcap_storage *storage = NULL;
    int rc, status = 1;

    /* "local:" is this host, through libpcap. A session is one capture on it,
     * configured while NEW (a NULL name picks pktcap-DATE-TIME-N). */
    if ((rc = pktcap_provider_open(&provider, "local:")) < 0) {
        fail(rc);
        goto done;
    }
    if ((rc = pktcap_session_new(&session, provider, NULL)) < 0 ||
        (rc = pktcap_session_set_target(session, iface)) < 0) {
        fail(rc);
        goto done;
    }
    /* The session keeps its own copy of the filter. */
    if ((rc = pktcap_filter_parse(&filter, rules)) < 0 ||
        (rc = pktcap_session_set_filter(session, filter)) < 0) {
        fail(rc);
        goto done;
    }
    if ((rc = pktcap_session_set_time_limit(session, (uint64_t)(seconds * 1000 + 0.5))) < 0) {
        fail(rc);
        goto done;
    }
    /* The storage target is borrowed: it must outlive the capture. */
    if ((rc = pktcap_storage_open(&storage, out)) < 0 ||
        (rc = pktcap_session_set_storage(session, storage)) < 0) {
        fail(rc);
        goto done;
    }

    /* A local session is RUNNING when start returns: every interface captures. */
    if ((rc = pktcap_session_start(session)) < 0) {
        fail(rc);
        goto done;
    }
    printf("capturing on %s for %s s\n", iface, argv[3]);
    fflush(stdout);

    /* Block until the session ends: here, when the time limit is reached. */
    if ((rc = pktcap_session_wait(session, -1)) < 0) {
        fail(rc);
        goto done;
    }
    int state = pktcap_session_state(session);
    if (state == PKTCAP_STATE_FAILED) {
        fprintf(stderr, "local_capture: the capture failed: %s\n",
                pktcap_session_error_text(session));
        goto done;
    }
    printf("ended: %s (%s)\n", pktcap_state_name(state), pktcap_session_stop_reason(session));
    printf("packets     %llu\n",
           (unsigned long long)pktcap_session_stat(session, PKTCAP_STAT_PACKETS));
    printf("bytes       %llu\n", (unsigned long long)pktcap_session_stat(session, PKTCAP_STAT_BYTES));
    printf("dropped     %llu\n",
           (unsigned long long)pktcap_session_stat(session, PKTCAP_STAT_DROPPED));
    printf("if-dropped  %llu\n",
           (unsigned long long)pktcap_session_stat(session, PKTCAP_STAT_IF_DROPPED));
    /* The file took its final name when the capture ended. */
    for (size_t i = 0; i < pktcap_storage_file_count(storage); i++)
        printf("file        %s\n", pktcap_storage_file_path(storage, i));
    status = 0;

done:
    pktcap_session_free(session); /* before the storage it borrows */
    pktcap_storage_free(storage);
    pktcap_filter_free(filter);
    pktcap_provider_close(provider);
    return status;
}
