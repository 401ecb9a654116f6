#!/usr/bin/env python3
"""azure_capture WATCHER_URI VM_ID STORAGE_ACCOUNT_ID OUT: run a 60-second
packet capture on an Azure VM through Network Watcher, wait for it to end,
download the capture Azure wrote to the storage account into OUT (showing
progress), and delete the capture resource (the blob stays).

    export AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=...
    python3 azure_capture.py \\
      azure:///subscriptions/$SUB/resourceGroups/NetworkWatcherRG/providers/Microsoft.Network/networkWatchers/NetworkWatcher_westeurope \\
      /subscriptions/$SUB/resourceGroups/prod/providers/Microsoft.Compute/virtualMachines/web1 \\
      /subscriptions/$SUB/resourceGroups/prod/providers/Microsoft.Storage/storageAccounts/captures \\
      web1.cap

The library reads the credentials from the environment (AZURE_TENANT_ID,
AZURE_CLIENT_ID, AZURE_CLIENT_SECRET; or the VM's managed identity). The
provider URI may carry provider options in its query, e.g.
``azure:///...?endpoint=https://...&poll_interval_ms=5000`` (doc/azure.md).
The same program in C: examples/programs/azure_capture.c.
"""
import sys
from pathlib import Path

try:
    import pktcap
except ImportError:   # run from a source checkout: the package is next to this folder
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import pktcap

CAPTURE_SECONDS = 60
WAIT_SECONDS = 15 * 60   # Azure needs time to start the agent and upload


def main(argv):
    if len(argv) != 5:
        print("usage: azure_capture WATCHER_URI VM_ID STORAGE_ACCOUNT_ID OUT", file=sys.stderr)
        return 1
    uri, vm, account, out = argv[1:]
    last_percent = -1

    def on_progress(done, total):
        """Called by fetch() as bytes arrive: print the percentage whenever it
        changes. Returning True would cancel the download."""
        nonlocal last_percent
        percent = done * 100 // total if total else 0
        if total and percent != last_percent:
            print(f"fetching: {percent}%", file=sys.stderr)
            last_percent = percent

    try:
        with pktcap.Provider(uri) as provider, provider.session() as session:
            session.target = vm
            session.time_limit = CAPTURE_SECONDS
            # A storage account id names where Azure writes: a remote target.
            session.storage = pktcap.Storage(account)
            # start() sends the create request; the capture then runs at Azure.
            session.start()
            print(f"started {session.name}", flush=True)
            # wait() polls the capture's status until it ends (the time limit).
            state = session.wait(WAIT_SECONDS)
            if not state.terminal:
                print(f"azure_capture: {session.name} did not end within {WAIT_SECONDS} s; "
                      "it remains at Azure", file=sys.stderr)
                return 1
            if state == pktcap.State.FAILED:
                print(f"azure_capture: the capture failed: {session.error_text}", file=sys.stderr)
                return 1
            print(f"ended: {state.name} ({session.stop_reason})")
            # Download the blob into OUT: it appears complete, or not at all.
            session.fetch(out, progress=on_progress)
            print(f"fetched to {out}")
            # Delete the capture resource at Azure; the blob stays in the account.
            session.delete()
            print(f"deleted {session.name}")
    except pktcap.PktcapError as e:
        print(f"azure_capture: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
