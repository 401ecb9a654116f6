"""pktcap.Filter: parsing, building, renderings, matching (judged by tcpdump), errors, freeing."""
import functools
import copy
import ipaddress
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import pktcap
from pktcap import Field, Filter, Protocol

CORPUS = Path(__file__).resolve().parents[3] / "tests" / "corpus" / "tcpdump"
LDP = CORPUS / "ldp-common-session.pcap"         # 22 Ethernet/IPv4 TCP and UDP, some in VLAN 202
MPTCP = CORPUS / "mptcp-aa-v1.pcap"              # 24 Ethernet/IPv4: 2 DNS, 22 TCP
BFD = CORPUS / "bfd-sbfd.pcap"                   # 20 Ethernet UDP, half IPv4, half IPv6
DHCP46 = CORPUS / "dhcpv4v6-rfc5970-rfc8572.pcap"  # 14 Ethernet DHCPv4 and DHCPv6
HANDSHAKE_NS = CORPUS / "tcp-handshake-nano.pcap"  # 3 TCP, Linux cooked



def needs_tcpdump(test):
    """tcpdump is a judge here; ./dev installs it, so its absence fails the test."""
    @functools.wraps(test)
    def run(*args, **kwargs):
        assert shutil.which("tcpdump"), "tcpdump is required (./dev deps installs it)"
        return test(*args, **kwargs)
    return run


def tcpdump_count(path, expression):
    """How many packets tcpdump's expression accepts. The suite may run with a
    sanitizer runtime in LD_PRELOAD: the judge runs without it."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    args = ["tcpdump", "--count", "-r", str(path)] + ([expression] if expression else [])
    proc = subprocess.run(args, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    number, word = proc.stdout.split()
    assert word in ("packet", "packets")
    return int(number)


# --- parsing and the canonical text -------------------------------------------

@pytest.mark.parametrize("text,canonical", [
    ("", ""),
    ("proto=any", "proto=any"),
    ("PROTO=TCP remote_port=80;443; localIPAddress=10.0.0.0-10.0.0.255",
     "proto=tcp local=10.0.0.0/24 remote_port=80;443"),
    ("proto=udp remote=2001:db8::/64 local_port=5000-5100 or proto=tcp",
     "proto=udp remote=2001:db8::/64 local_port=5000-5100 or proto=tcp"),
    ("bpf:tcp port 80", "bpf:tcp port 80"),
])
def test_parse_and_str_round_trip(text, canonical):
    f = Filter.parse(text)
    assert str(f) == f.to_string() == canonical
    assert Filter.parse(str(f)) == f
    assert repr(f) == f"Filter.parse({canonical!r})"


def test_the_empty_filter():
    f = Filter()
    assert len(f) == f.rule_count == 0
    assert str(f) == "" and f.to_bpf() == "" and f.to_azure() == [] and f.to_cloudflare() == {}
    assert f == Filter.parse("   ")
    assert f.bpf_expression is None and not f.is_bpf


def test_the_builder_equals_the_parsed_filter():
    built = Filter()
    assert built.add_rule(Protocol.TCP, local=("10.0.0.1", "10.0.0.9"),
                          remote_port=[80, 443]) == 0
    assert built.add_rule("udp", remote=ipaddress.ip_network("2001:db8::/64"),
                          local_port=(5000, 5100)) == 1
    assert built.add_rule(remote=["10.1.0.0/16", ipaddress.ip_address("192.168.0.1"),
                                  ("172.16.0.1", "172.16.0.9")],
                          remote_port=[(8000, 8080), 22, "443", "9000-9001"]) == 2
    parsed = Filter.parse(
        "proto=tcp local=10.0.0.1-10.0.0.9 remote_port=80;443 "
        "or proto=udp remote=2001:db8::/64 local_port=5000-5100 "
        "or remote=10.1.0.0/16;192.168.0.1;172.16.0.1-172.16.0.9 "
        "remote_port=8000-8080;22;443;9000-9001")
    assert built == parsed
    assert len(built) == 3
    assert [built.protocol(i) for i in range(3)] == [Protocol.TCP, Protocol.UDP, Protocol.ANY]
    assert built.field(0, Field.LOCAL_ADDRESS) == "10.0.0.1-10.0.0.9"
    assert built.field(0, Field.REMOTE_PORT) == "80;443"
    assert built.field(0, Field.LOCAL_PORT) == ""
    assert built.field(-1, Field.REMOTE_PORT) == "8000-8080;22;443;9000-9001"
    assert built != Filter() and built != "not a filter"


def test_notation_strings_and_setters():
    f = Filter()
    f.add_rule(Protocol.TCP, local="10.0.0.1;10.0.0.5;", remote_port="80-90")
    assert str(f) == "proto=tcp local=10.0.0.1;10.0.0.5 remote_port=80-90"
    f.set_field(0, Field.REMOTE_PORT, 443)
    f.set_protocol(0, Protocol.UDP)
    f.set_field(0, Field.LOCAL_ADDRESS, None)
    assert str(f) == "proto=udp remote_port=443"
    f.set_field(0, Field.LOCAL_PORT, "1024-65535")
    f.set_field(0, Field.REMOTE_ADDRESS, [ipaddress.ip_network("10.0.0.0/8")])
    assert str(f) == "proto=udp remote=10.0.0.0/8 local_port=1024-65535 remote_port=443"
    f.set_field(0, Field.LOCAL_PORT, "")
    assert f.field(0, Field.LOCAL_PORT) == ""


# --- errors -----------------------------------------------------------------

@pytest.mark.parametrize("text,message", [
    ("local=10.0.0.256", 'rule 1, local: not an IPv4 or IPv6 address: "10.0.0.256"'),
    ("local=10.0.0.9-10.0.0.1",
     'rule 1, local: reversed range (the first address exceeds the last): "10.0.0.9-10.0.0.1"'),
    ("proto=tcp or remote_port=70000", 'rule 2, remote_port: port outside 0-65535: "70000"'),
    ("remote=10.0.0.1-::1", 'rule 1, remote: range mixes IPv4 and IPv6: "10.0.0.1-::1"'),
    ("proto=icmp", 'rule 1, proto: unknown protocol "icmp" (expected tcp, udp or any)'),
    ("local_port=80;;443",
     "rule 1, local_port: empty list item (only a trailing ';' may end a list) in \"80;;443\""),
    ("colour=blue",
     'rule 1, unknown key "colour" (keys: proto, local, remote, local_port, remote_port)'),
])
def test_parse_errors_raise_invalid_argument_with_the_message(text, message):
    with pytest.raises(pktcap.InvalidArgumentError) as info:
        Filter.parse(text)
    assert info.value.code == pktcap.Status.E_INVAL
    assert info.value.message == message
    assert isinstance(info.value, ValueError)
    assert str(info.value) == message + " (PKTCAP_E_INVAL)"


def test_builder_errors_leave_the_filter_unchanged():
    f = Filter.parse("proto=tcp local_port=80")
    before = str(f)
    with pytest.raises(pktcap.InvalidArgumentError, match="local_port: port 70000 is outside 0-65535"):
        f.add_rule(Protocol.UDP, remote="10.0.0.1", local_port=70000)
    with pytest.raises(pktcap.InvalidArgumentError, match="remote_port: port -1 is outside"):
        f.add_rule(remote_port=(-1, 5))
    with pytest.raises(pktcap.InvalidArgumentError,
                       match=r'remote: not an IPv4 or IPv6 address: "10\.0\.0\.256"'):
        f.add_rule(Protocol.UDP, remote_port=53, remote="10.0.0.256")
    with pytest.raises(pktcap.InvalidArgumentError, match="reversed range"):
        f.add_rule(local=("10.0.0.9", "10.0.0.1"))
    with pytest.raises(pktcap.InvalidArgumentError, match="range mixes IPv4 and IPv6"):
        f.add_rule(local=("10.0.0.1", "::1"))
    with pytest.raises(pktcap.InvalidArgumentError, match="reversed range"):
        f.set_field(0, Field.LOCAL_PORT, [80, (90, 85)])
    with pytest.raises(pktcap.InvalidArgumentError, match="empty list item"):
        f.set_field(0, Field.LOCAL_PORT, "80;;443")
    with pytest.raises(pktcap.InvalidArgumentError, match="unknown protocol 'icmp'"):
        f.add_rule("icmp")
    with pytest.raises(pktcap.InvalidArgumentError, match="unknown protocol 1 "):
        f.set_protocol(0, 1)
    with pytest.raises(TypeError):
        f.add_rule(local_port=80.5)
    with pytest.raises(TypeError):
        f.add_rule(local=10)
    assert str(f) == before and len(f) == 1
    with pytest.raises(pktcap.InvalidArgumentError, match="no rule 5"):
        f.protocol(5)
    with pytest.raises(pktcap.InvalidArgumentError, match="no rule 1 "):
        f.field(1, Field.LOCAL_PORT)
    with pytest.raises(ValueError):
        f.field(0, 7)


def test_limits_state_and_unsupported_renderings():
    with pytest.raises(pktcap.LimitError, match="at most 100 rules"):
        Filter.parse(" or ".join(["proto=tcp"] * 101))
    with pytest.raises(pktcap.LimitError):
        Filter().add_rule(local_port=list(range(257)))
    raw = Filter.bpf("tcp[tcpflags] & tcp-syn != 0")
    assert raw.bpf_expression == "tcp[tcpflags] & tcp-syn != 0" and raw.is_bpf
    assert len(raw) == 0
    with pytest.raises(pktcap.StateError):
        raw.add_rule(Protocol.TCP)
    with pytest.raises(pktcap.NotSupportedError, match="raw BPF"):
        raw.to_azure()
    with pytest.raises(pktcap.NotSupportedError, match="raw BPF"):
        raw.to_cloudflare()
    with pytest.raises(pktcap.NotSupportedError,
                       match="Cloudflare filter_v1 holds one rule; this filter has 2"):
        Filter.parse("proto=tcp or proto=udp").to_cloudflare()
    with pytest.raises(pktcap.NotSupportedError, match="remote_port is a range"):
        Filter.parse("remote_port=80-90").to_cloudflare()
    with pytest.raises(pktcap.NotSupportedError, match="Azure"):
        Filter.parse("remote_port=80;90-99").to_azure()
    with pytest.raises(pktcap.InvalidArgumentError, match="syntax error"):
        Filter.bpf("tcp port")
    with pytest.raises(pktcap.InvalidArgumentError):
        Filter.bpf("")


# --- renderings -------------------------------------------------------------

def test_renderings():
    f = Filter.parse("proto=tcp local=10.100.1.10 local_port=80 remote=20.147.11.23 "
                     "remote_port=100-120")
    assert f.to_azure() == [{"protocol": "TCP", "localIPAddress": "10.100.1.10",
                             "localPort": "80", "remoteIPAddress": "20.147.11.23",
                             "remotePort": "100-120"}]
    assert f.to_azure_json().startswith('[{"protocol":"TCP","localIPAddress"')
    g = Filter.parse("proto=udp local=203.0.113.10 remote_port=53")
    assert g.to_cloudflare() == {"destination_address": "203.0.113.10", "protocol": 17,
                                 "source_port": 53}
    assert g.to_sdwan() == ("(ip src host 203.0.113.10 and udp dst port 53) or "
                            "(ip dst host 203.0.113.10 and udp src port 53)")
    assert g.to_bpf() == g.to_bpf(1) and g.to_bpf().startswith("(ip[19] >= 0 and ")
    assert g.to_bpf(101) == ("ip[19] >= 0 and (ip[9] != 17 or ip[6:2] & 0x1fff != 0 or "
                             "udp[3] >= 0) and " + g.to_sdwan().join("()"))
    raw = Filter.bpf("icmp or arp")
    assert raw.to_sdwan() == "icmp or arp" and raw.to_bpf() == "icmp or arp"
    assert str(raw) == "bpf:icmp or arp"
    assert Filter.parse("").to_bpf(101) == ""


def test_copy_is_independent():
    f = Filter.parse("proto=tcp local_port=80")
    g = f.copy()
    assert g == f and g is not f
    g.add_rule(Protocol.UDP)
    assert g != f and len(f) == 1 and len(g) == 2
    assert copy.copy(f) == f and copy.deepcopy(f) == f
    f.close()
    assert f.closed
    with pytest.raises(ValueError):
        str(f)
    assert repr(f) == "<Filter closed>"
    assert len(g) == 2


# --- matching ---------------------------------------------------------------

MATCH_RULES = [
    "", "proto=tcp", "proto=udp", "proto=tcp remote_port=646", "remote=224.0.0.0/4",
    "proto=udp local_port=646 or proto=tcp local_port=55555",
    "local=192.168.125.165 remote_port=53", "local=192.168.0.1-192.168.0.255 remote_port=0-1024",
    "local=2000:0:0:40::/64", "remote_port=47657 remote=1.0.0.1;2000:0:0:40::1",
    "local=fe80::/10 local_port=546", "proto=udp remote_port=67;68 or local=ff02::1:2",
]


@needs_tcpdump
@pytest.mark.parametrize("path", [LDP, MPTCP, BFD, DHCP46], ids=lambda p: p.name)
def test_match_agrees_with_tcpdump_on_the_bpf_rendering(path):
    with pktcap.Reader(str(path)) as r:
        packets = list(r)
    for text in MATCH_RULES:
        f = Filter.parse(text)
        ours = sum(f.match(p) for p in packets)
        assert ours == tcpdump_count(path, f.to_bpf(packets[0].linktype)), text
        assert ours == len(list(f.filter(packets)))
    for expression in ["udp", "tcp", "ip6", "vlan and udp", "tcp[tcpflags] & tcp-syn != 0"]:
        f = Filter.bpf(expression)
        assert sum(f.match(p) for p in packets) == tcpdump_count(path, expression), expression


def test_match_on_linux_cooked_and_summaries_with_a_filter():
    f = Filter.parse("proto=tcp local=137.116.81.94 local_port=80")
    with pktcap.Reader(str(HANDSHAKE_NS)) as r:
        assert all(f(p) for p in r)
    with pktcap.Reader(str(LDP)) as r:
        rows = list(r.summaries(filter=Filter.parse("proto=udp")))
    assert [s.number for s in rows] == [3, 4, 5, 6, 14, 17, 18, 19, 22]
    assert {s.protocol for s in rows} == {"UDP"}
    with pktcap.Reader(str(LDP)) as r:
        assert [s.number for s in r.summaries(filter=Filter.bpf("udp"))] == [5, 14, 18, 22]


def test_match_on_an_unknown_link_type():
    wlan = pktcap.Packet(bytes(24), linktype=105)
    with pytest.raises(pktcap.NotSupportedError):
        Filter.parse("proto=tcp").match(wlan)
    assert Filter().match(wlan) is True
    assert Filter.parse("proto=udp").match(pktcap.Packet(b"", linktype=1)) is False


def test_10000_filters_do_not_grow_memory(assert_no_memory_growth):
    packet = next(iter(pktcap.Reader(str(LDP))))

    def run(n):
        for i in range(n):
            f = Filter.parse(f"proto=tcp local=10.0.0.0/8 remote_port={i % 65536};443 "
                             "or proto=udp remote=2001:db8::/64")
            g = f.copy()
            g.add_rule(Protocol.TCP, local_port=[80, 8080], remote=("10.1.0.1", "10.1.0.9"))
            str(g), g.to_bpf(), g.to_sdwan(), g.to_azure(), g.field(0, Field.REMOTE_PORT)
            g.match(packet)
            try:
                g.to_cloudflare()
            except pktcap.NotSupportedError:
                pass
            try:
                Filter.parse("local=10.0.0.256")
            except pktcap.InvalidArgumentError:
                pass
            b = Filter.bpf("udp port 53")
            b.match(packet), b.to_bpf()

    assert_no_memory_growth(run)
