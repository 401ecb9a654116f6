/* azure_capture WATCHER_URI VM_ID STORAGE_ACCOUNT_ID OUT: run a 60-second
 * packet capture on an Azure VM through Network Watcher, wait for it to end,
 * download the capture Azure wrote to the storage account into OUT (showing
 * progress), and delete the capture resource (the blob stays).
 *
 *   cc -o azure_capture azure_capture.c $(pkg-config --cflags --libs libpktcap)
 *   export AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=...
 *   ./azure_capture \
 *     azure:///subscriptions/$SUB/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_westeurope \
 *     /subscriptions/$SUB/resourceGroups/prod/providers/Microsoft.Compute/virtualMachines/web1 \
 *     /subscriptions/$SUB/resourceGroups/prod/providers/Microsoft.Storage/storageAccounts/captures \
 *     web1.cap
 *
 * The library reads the credentials from the environment (AZURE_TENANT_ID,
 * AZURE_CLIENT_ID, AZURE_CLIENT_SECRET; or the VM's managed identity). The
 * provider URI may carry provider options in its query, e.g.
 * `azure:///...?endpoint=https://...&poll_interval_ms=5000` (doc/azure.md). */
#include <pktcap/pktcap.h>

#include <stdint.h>
#include <stdio.h>

#define CAPTURE_SECONDS 60
#define WAIT_MS (15 * 60 * 1000) /* Azure needs time to start the agent and upload */

/* Report a failed call: the calling thread's last error message (it names
 * the file, option or request involved) and the code's name. */
static int fail(int rc)
{
    fprintf(stderr, "azure_capture: %s (%s)\n", pktcap_error_message(pktcap_error_last()),
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
    if (argc != 5) {
        fprintf(stderr, "usage: azure_capture WATCHER_URI VM_ID STORAGE_ACCOUNT_ID OUT\n");
        return 1;
    }
    const char *uri = argv[1], *vm = argv[2], *account = argv[3], *out = argv[4];
    pktcap_provider *provider = NULL;
    pktcap_session *session = NULL;
    pktcap_storage *remote = NULL, *file = NULL;
    int rc, status = 1, last_percent = -1;

    if ((rc = pktcap_provider_open(&provider, uri)) < 0) {
        fail(rc);
        goto done;
    }
    /* NULL: the library names the capture pktcap-DATE-TIME-N. */
    if ((rc = pktcap_session_new(&session, provider, NULL)) < 0 ||
        (rc = pktcap_session_set_target(session, vm)) < 0 ||
        (rc = pktcap_session_set_time_limit(session, CAPTURE_SECONDS * 1000)) < 0) {
        fail(rc);
        goto done;
    }
    /* A storage account id names where Azure writes: a remote target. */
    if ((rc = pktcap_storage_open(&remote, account)) < 0 ||
        (rc = pktcap_session_set_storage(session, remote)) < 0) {
        fail(rc);
        goto done;
    }

    /* Start sends the create request; the capture then runs at Azure. */
    if ((rc = pktcap_session_start(session)) < 0) {
        fail(rc);
        goto done;
    }
    printf("started %s\n", pktcap_session_name(session));
    fflush(stdout);

    /* Wait polls the capture's status until it ends (the time limit). */
    if ((rc = pktcap_session_wait(session, WAIT_MS)) < 0) {
        fail(rc);
        fprintf(stderr, "azure_capture: the capture %s remains at Azure\n",
                pktcap_session_name(session));
        goto done;
    }
    int state = pktcap_session_state(session);
    if (state == PKTCAP_STATE_FAILED) {
        fprintf(stderr, "azure_capture: the capture failed: %s\n",
                pktcap_session_error_text(session));
        goto done;
    }
    printf("ended: %s (%s)\n", pktcap_state_name(state), pktcap_session_stop_reason(session));

    /* Download the blob into OUT: it appears complete, or not at all. */
    if ((rc = pktcap_storage_open(&file, out)) < 0 ||
        (rc = pktcap_session_set_progress_callback(session, on_progress, &last_percent)) < 0 ||
        (rc = pktcap_session_fetch(session, file)) < 0) {
        fail(rc);
        goto done;
    }
    printf("fetched to %s\n", out);

    /* Delete the capture resource at Azure; the blob stays in the account. */
    if ((rc = pktcap_session_delete(session)) < 0) {
        fail(rc);
        goto done;
    }
    printf("deleted %s\n", pktcap_session_name(session));
    status = 0;

done:
    pktcap_session_free(session); /* a remote capture keeps running at Azure */
    pktcap_storage_free(file);
    pktcap_storage_free(remote);
    pktcap_provider_close(provider);
    return status;
}
