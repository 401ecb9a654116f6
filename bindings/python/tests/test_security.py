"""Secrets never leave the library: for every remote provider, a whole
lifecycle at DEBUG log level, then the failures that quote a server's
answer, and everything a program can read back (log lines, error messages
and details, session details, reprs) holds none of the credentials — client
secrets, tokens the identity service issued, API tokens and keys, passwords,
session cookies and SAS signatures.

The emulators are the ones the provider tests use; their helpers are
imported from those modules so both exercise the same setup."""
import json

import pytest

import pktcap
from pktcap import LogLevel, State

import test_azure as az
import test_cloudflare as cf
import test_sdwan as sd
from azure import ARM_AUDIENCE, AzureEmulator
from cloudflare import CloudflareEmulator
from sdwan import SdwanEmulator


class Seen:
    """Every text a program could see or log."""

    def __init__(self, provider):
        self.texts = []
        provider.on_log(lambda level, message: self.texts.append(message), LogLevel.DEBUG)

    def error(self, exc):
        e = exc.value if hasattr(exc, "value") else exc
        self.texts += [str(e), e.message, repr(e), e.provider_code or "",
                       e.provider_message or ""]

    def session(self, s):
        self.texts += [repr(s), json.dumps(s.details()), s.native_status, s.stop_reason,
                       s.error_text]

    def assert_free_of(self, secrets):
        secrets = [x for x in secrets if x]
        assert secrets
        assert len(self.texts) > 10          # the DEBUG log really ran
        for text in self.texts:
            for secret in secrets:
                assert secret not in text, f"a secret appears in: {text!r}"


def sas_signature(sas):
    return [part.split("=", 1)[1] for part in sas.split("&") if part.startswith("sig=")][0]


def test_azure_secrets_stay_secret(tmp_path):
    with AzureEmulator(time_scale=0.01, lro_retry_after="0", capture_bytes=az.CAPTURE) as emu:
        with az.provider(emu) as p:
            seen = Seen(p)
            s = az.started(p, emu, seconds=10)
            assert s.wait(az.WAIT) == State.COMPLETE
            s.fetch(str(tmp_path / "a.pcap"))
            seen.session(s)
            with pytest.raises(pktcap.NotFoundError) as e:
                p.open_session("nosuchcapture")
            seen.error(e)
            emu.revoke_tokens()                 # 401, a new token, the request again
            assert s.refresh() == State.COMPLETE
        with az.provider(emu, auth="bearer", bearer_token=emu.issue_token(ARM_AUDIENCE)) as p:
            seen2 = Seen(p)
            s = p.session("withsas")
            s.target = az.vm_id(emu)
            s.time_limit = 10
            s.storage = pktcap.Storage(az.account_id(emu))
            s.set("sas", emu.sas_token)
            s.start()
            assert s.wait(az.WAIT) == State.COMPLETE
            s.fetch(str(tmp_path / "b.pcap"))
            seen2.session(s)
            seen.texts += seen2.texts
        with az.provider(emu, client_secret="wrong-Secret~2") as p:
            seen3 = Seen(p)
            with pytest.raises(pktcap.AuthError) as e:
                az.started(p, emu)
            seen3.error(e)
            assert "AADSTS7000215" in e.value.message
            seen.texts += seen3.texts
        with emu.lock:
            tokens = list(emu._tokens)
        assert len(tokens) >= 3
        seen.assert_free_of([emu.client_secret, "wrong-Secret~2", sas_signature(emu.sas_token),
                             *tokens])


def test_cloudflare_secrets_stay_secret(tmp_path):
    with CloudflareEmulator(time_scale=0.01, capture_bytes=cf.CAPTURE) as emu:
        with cf.provider(emu) as p:
            seen = Seen(p)
            s = cf.started(p, seconds=10)
            assert s.wait(cf.WAIT) == State.COMPLETE
            s.fetch(str(tmp_path / "c.pcap"))
            seen.session(s)
            with pytest.raises(pktcap.NotFoundError) as e:
                p.open_session("0" * 32)
            seen.error(e)
        with cf.provider(emu, api_token=None, email=emu.email, api_key=emu.api_key) as p:
            seen2 = Seen(p)
            s = cf.started(p, name="key", seconds=10)
            assert s.wait(cf.WAIT) == State.COMPLETE
            seen2.session(s)
            seen.texts += seen2.texts
        with cf.provider(emu, api_token="not-the-Token-123") as p:
            seen3 = Seen(p)
            with pytest.raises(pktcap.AuthError) as e:
                cf.started(p)
            seen3.error(e)
            seen.texts += seen3.texts
        seen.assert_free_of([emu.api_token, emu.api_key, "not-the-Token-123"])


def test_sdwan_secrets_stay_secret(tmp_path):
    with SdwanEmulator(time_scale=0.01, capture_bytes=sd.CAPTURE, summary_rows=sd.ROWS) as emu:
        with sd.provider(emu) as p:
            seen = Seen(p)
            s = sd.finished(p)
            s.fetch(str(tmp_path / "s.pcapng"))
            seen.session(s)
            emu.expire_sessions()               # 401, one new login, the request again
            s2 = sd.finished(p)
            seen.session(s2)
            with emu.lock:
                cookies = [c for x in emu._sessions.values() for c in (x.token, x.ns_id)]
        with sd.provider(emu, password="not-the-Password-9") as p:
            seen2 = Seen(p)
            s = sd.new_session(p)
            with pytest.raises(pktcap.AuthError) as e:
                s.start()
            seen2.error(e)
            seen.texts += seen2.texts
        assert len(cookies) >= 2
        seen.assert_free_of([emu.password, "not-the-Password-9", *cookies])
