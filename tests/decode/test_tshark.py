"""The packet-summary decoder against tshark, on every capture in tests/corpus/.

For every packet of every file tshark reads, the fields of
`pktcap summary --format json` are compared with tshark's dissection of the
same packet. Each field's agreement rate is printed; the test fails unless
every field we claim to decode agrees on every packet, apart from the
documented differences in DIFFERENCES below (each an explicit rule with its
reason, counted and printed). A rule that no longer excuses anything fails the
test too, so the list cannot go stale. The decoder's side of each difference
is documented at the top of lib/decode/summarize.c.

How tshark's view of a packet is read:
- tshark runs once per file (two at a time) with `-T fields`, every value of a
  field that occurs several times (tunnels, ICMP errors quoting a packet) is
  listed, comma separated; we always compare with the FIRST, the outermost.
- `frame.protocols` (e.g. `eth:ethertype:vlan:ethertype:ip:tcp`) gives the
  layer order: the first ip/ipv6/arp layer is the network layer we report,
  the layer right after it (after IPv6 extension headers and AH) is the
  transport; the IPv6 final next header is the next-header field of the last
  extension header in that walk.
- tshark runs with IP reassembly off (`-o ip.defragment:FALSE -o
  ipv6.defragment:FALSE`): otherwise it shows the reassembled datagram's
  ports on the LAST fragment, while a summary describes each packet alone.
"""
import collections
import concurrent.futures
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "corpus"

TSHARK_FIELDS = [
    "frame.number", "frame.len", "frame.cap_len", "frame.protocols", "frame.cb_pen",
    "_ws.short",
    "eth.src", "eth.dst", "eth.type", "sll.src.eth", "sll.etype", "sll.gretype",
    "vlan.id", "vlan.etype", "ieee8021ad.id",
    "ip.src", "ip.dst", "ip.proto", "ipv6.src", "ipv6.dst", "ipv6.nxt",
    "ipv6.hopopts.nxt", "ipv6.routing.nxt", "ipv6.fraghdr.nxt", "ipv6.dstopts.nxt",
    "ah.next_header",
    "arp.src.proto_ipv4", "arp.dst.proto_ipv4",
    "tcp.srcport", "tcp.dstport", "tcp.flags",
    "udp.srcport", "udp.dstport", "sctp.srcport", "sctp.dstport",
    "icmp.type", "icmp.code", "icmpv6.type", "icmpv6.code",
]
TSHARK_OPTIONS = ["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"]

# Link types the decoder claims (summary.h): Ethernet, raw IP, IPv4, IPv6,
# BSD loopback (NULL, LOOP), Linux cooked v1/v2.
ETHERNET, RAW, IPV4, IPV6, NULL, LOOP, SLL, SLL2 = 1, 101, 228, 229, 0, 108, 113, 276
CLAIMED_LINKTYPES = {ETHERNET, RAW, IPV4, IPV6, NULL, LOOP, SLL, SLL2}

# tshark layers the decoder walks to reach the network layer. A network
# layer reached through anything else (PPPoE, LLC/SNAP, MACsec, vendor tags,
# pseudo-wires) is one the decoder does not claim.
LINK_LAYERS = {"eth", "ethertype", "vlan", "ieee8021ad", "mpls", "sll", "null", "raw"}
# IPv6 extension headers the decoder walks to the transport header.
IPV6_NEXT_HEADER_FIELDS = {"ipv6.hopopts": "ipv6.hopopts.nxt", "ipv6.routing": "ipv6.routing.nxt",
                           "ipv6.fraghdr": "ipv6.fraghdr.nxt", "ipv6.dstopts": "ipv6.dstopts.nxt",
                           "ah": "ah.next_header"}
IPV6_EXTENSIONS = set(IPV6_NEXT_HEADER_FIELDS)
# Our protocol names for tshark's layer names.
PROTOCOL_NAMES = {"tcp": "TCP", "udp": "UDP", "sctp": "SCTP", "icmp": "ICMP", "icmpv6": "ICMPv6",
                  "igmp": "IGMP", "gre": "GRE", "esp": "ESP", "ah": "AH", "arp": "ARP"}

# The fields compared, in the order printed. Each must agree on every packet
# where it is compared.
FIELDS = ["number", "length", "cap_len", "src_mac", "dst_mac", "ethertype", "vlan",
          "src_ip", "dst_ip", "ip_proto", "src_port", "dst_port", "protocol",
          "icmp_type", "icmp_code", "tcp_flags", "unknown_linktype"]

# Intentional differences: rule name -> why. A comparison a rule excuses is
# counted under the rule, not as agreement or disagreement.
DIFFERENCES = {
    "pcapng-custom-block":
        "tshark 4.0 shows each pcapng Custom Block (CB/DCB) as a frame of its own "
        "(frame.cb_pen set); those frames are dropped and tshark's frames renumbered",
    "snaplen-cut":
        "our reader cuts a record to its interface's snaplen, as libpcap does "
        "(tests/reader/test_corpus.py judges that); tshark keeps the bytes beyond it: "
        "cap_len is not compared, nor is a field tshark decodes from bytes we do not have",
    "unclaimed-linktype":
        "a link type the decoder does not claim (802.11, PPP, Frame Relay, ...): we flag "
        "unknown_linktype and report only lengths and time; only that flag is compared "
        "(tshark also counts some pseudo-headers out of frame.len, e.g. SunATM's)",
    "unclaimed-encapsulation":
        "tshark goes on through a layer the decoder does not walk (PPPoE, LLC/SNAP, MACsec, "
        "vendor tags such as Arista's, MPLS pseudo-wires): we stop at that EtherType, so "
        "what tshark finds beyond it (addresses, ports, inner tags) is not compared",
    "cisco-isl":
        "Cisco ISL frames (tshark: eth:eth): tshark keeps the ISL header's addresses in "
        "isl.* and shows the inner frame's as eth.src/eth.dst; the decoder does not "
        "recognise ISL and reports the outer ones, so MACs are not compared",
    "partial-network-header":
        "a network header cut before its end: tshark shows the fields that were captured "
        "(ip.src of a 19-byte IPv4 header, but no ip.dst), the decoder records addresses "
        "only from a whole fixed header (IPv4 20, IPv6 40 bytes) and flags the packet "
        "truncated or malformed",
    "partial-extension-header":
        "an IPv6 extension header cut before its end: tshark still shows its next-header "
        "field, the decoder stops there and reports the cut header's own type (43, 0, 60, "
        "44, 51) as ip_proto, flagging the packet truncated or malformed",
    "tcp-flags-cut":
        "a TCP header cut before its flags byte: tshark shows no tcp.flags; the summary has "
        "no bit to say the flags are absent, so tcp_flags prints 0",
    "ipv6-behind-bogus-ipv4":
        "a version-6 packet where the link layer announced IPv4 (EtherType 0x0800, "
        "LINKTYPE_IPV4, BSD family 2): tshark decodes IPv6 behind a bogus IPv4 layer "
        "(frame.protocols ip:ipv6), the decoder flags it malformed and goes no further",
    "ieee8021ad-ethertype":
        "tshark has no field for the EtherType after an 802.1ad tag not followed by an "
        "802.1Q tag, so ethertype is not compared",
}


def need(tool):
    path = shutil.which(tool)
    assert path, f"{tool} is required (./dev deps installs it)"
    return path


def corpus_files():
    return sorted(p for p in CORPUS.rglob("*") if p.suffix in (".pcap", ".pcapng", ".cap"))


def first(value):
    """The outermost of tshark's comma-separated values, or None."""
    return value.split(",")[0] if value else None


def run_tshark(path):
    proc = subprocess.run([need("tshark"), "-n", "-r", str(path), *TSHARK_OPTIONS, "-T", "fields",
                           "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=,",
                           *[a for f in TSHARK_FIELDS for a in ("-e", f)]],
                          capture_output=True, text=True, errors="replace")
    rows = {}
    custom_blocks = 0
    for line in proc.stdout.splitlines():
        values = line.split("\t")
        if len(values) != len(TSHARK_FIELDS):
            continue
        row = dict(zip(TSHARK_FIELDS, values))
        if row["frame.cb_pen"]:
            custom_blocks += 1
            continue
        number = int(row["frame.number"]) - custom_blocks
        row["frame.number"] = str(number)
        rows[number] = row
    return rows, custom_blocks


def snaplens(cli_path, path):
    """The snaplen of each interface, as our reader applies it (0: none)."""
    proc = subprocess.run([cli_path, "info", "--json", str(path)], capture_output=True, text=True)
    return [i["snaplen"] for i in json.loads(proc.stdout)[0]["interfaces"]]


def run_ours(cli_path, path):
    proc = subprocess.run([cli_path, "summary", "--format", "json", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode in (0, 1), (path, proc.returncode, proc.stderr)
    rows = {}
    for line in proc.stdout.splitlines():
        row = json.loads(line)
        rows[row["number"]] = row
    return rows


def mac(value):
    return value.lower() if value else None


def integer(value):
    return int(value, 0) if value else None


class TsharkView:
    """What tshark says about one packet, in our fields' terms."""

    def __init__(self, row):
        self.row = row
        self.layers = row["frame.protocols"].split(":") if row["frame.protocols"] else []
        # The link layers the decoder walks end where tshark's layers leave
        # LINK_LAYERS; there the network layer is, or what we stop at.
        self.stop = 0
        while self.stop < len(self.layers) and self.layers[self.stop] in LINK_LAYERS:
            self.stop += 1
        self.net = None
        self.bogus_ipv4 = False
        if self.stop < len(self.layers) and self.layers[self.stop] in ("ip", "ipv6", "arp"):
            self.net = self.stop
            # tshark's IPv4 dissector hands a version-6 packet to IPv6.
            self.bogus_ipv4 = (self.layers[self.net] == "ip" and not row["ip.src"]
                               and self.layers[self.net + 1:self.net + 2] == ["ipv6"])
            if self.bogus_ipv4:
                self.net += 1
        # Whether tshark finds a network layer beyond where we stop.
        self.beyond = self.net is None and any(
            l in ("ip", "ipv6", "arp") for l in self.layers[self.stop:])
        self.transport = None    # the layer after the network layer (and IPv6 extensions, AH)
        if self.net is not None and self.layers[self.net] != "arp":
            j = self.net + 1
            skip = IPV6_EXTENSIONS if self.layers[self.net] == "ipv6" else {"ah"}
            while j < len(self.layers) and self.layers[j] in skip:
                j += 1
            self.transport = self.layers[j] if j < len(self.layers) else None

    def link_layers(self):
        return self.layers[:self.stop]

    def network(self):
        return self.layers[self.net] if self.net is not None else None

    def addresses(self):
        net, r = self.network(), self.row
        if net == "ip":
            return first(r["ip.src"]), first(r["ip.dst"])
        if net == "ipv6":
            return first(r["ipv6.src"]), first(r["ipv6.dst"])
        if net == "arp":
            return first(r["arp.src.proto_ipv4"]), first(r["arp.dst.proto_ipv4"])
        return None, None

    def ports(self):
        if self.transport in ("tcp", "udp", "sctp"):
            return (integer(first(self.row[self.transport + ".srcport"])),
                    integer(first(self.row[self.transport + ".dstport"])))
        return None, None

    def icmp(self):
        if self.transport in ("icmp", "icmpv6"):
            return (integer(first(self.row[self.transport + ".type"])),
                    integer(first(self.row[self.transport + ".code"])))
        return None, None

    def ip_proto(self):
        """The IPv4 protocol field, or the IPv6 final next header: the next-header
        field of the last extension header tshark walked (the header types'
        fields are separate, so the layer order says which value is whose)."""
        net = self.network()
        if net == "ip":
            return integer(first(self.row["ip.proto"]))
        if net != "ipv6":
            return None
        final = integer(first(self.row["ipv6.nxt"]))
        used = collections.Counter()
        for layer in self.layers[self.net + 1:]:
            if layer not in IPV6_EXTENSIONS:
                break
            values = (self.row[IPV6_NEXT_HEADER_FIELDS[layer]] or "").split(",")
            if used[layer] >= len(values) or not values[used[layer]]:
                break  # a header tshark could not walk: its type is the final one
            final = integer(values[used[layer]])
            used[layer] += 1
        return final

    def vlans(self):
        """Tag ids of the link layers, outer first (802.1ad and 802.1Q ids are
        separate fields in tshark, so the layer order puts them together)."""
        ids = {"vlan": (self.row["vlan.id"] or "").split(","),
               "ieee8021ad": (self.row["ieee8021ad.id"] or "").split(",")}
        used = collections.Counter()
        tags = []
        for layer in self.link_layers():
            if layer in ids and used[layer] < len(ids[layer]) and ids[layer][used[layer]]:
                tags.append(int(ids[layer][used[layer]]))
                used[layer] += 1
            if layer == "mpls":
                break
        return tags[:2]

    def ethertype(self):
        """The EtherType after the link layer's last 802.1Q tag, else the
        Ethernet or cooked header's; "unknown" where tshark has no field."""
        link = self.link_layers()
        tags = link.count("vlan")
        if tags:
            etypes = (self.row["vlan.etype"] or "").split(",")
            etype = etypes[tags - 1] if len(etypes) >= tags else ""
        elif "ieee8021ad" in link:
            return "unknown"
        else:
            etype = first(self.row["eth.type"] or self.row["sll.etype"] or self.row["sll.gretype"])
        return f"0x{integer(etype):04x}" if etype else None


class Tally:
    def __init__(self):
        self.agree = collections.Counter()
        self.disagree = collections.Counter()
        self.excused = collections.Counter()
        self.examples = collections.defaultdict(list)
        self.files = 0
        self.packets = 0
        self.only_tshark = 0
        self.only_ours = 0

    def record(self, field, ours, theirs, where, excuses=()):
        """Counts one comparison; a disagreement the first applicable rule of
        `excuses` explains is counted under that rule."""
        if ours == theirs:
            self.agree[field] += 1
            return
        for rule in excuses:
            if rule:
                assert rule in DIFFERENCES, rule
                self.excused[rule] += 1
                return
        self.disagree[field] += 1
        if len(self.examples[field]) < 10:
            self.examples[field].append(f"{where}: ours {ours!r}, tshark {theirs!r}")

    def excuse(self, rule):
        assert rule in DIFFERENCES, rule
        self.excused[rule] += 1


NETWORK_FIELDS = ("src_ip", "dst_ip", "ip_proto")
ABOVE_LINK = ("src_ip", "dst_ip", "ip_proto", "src_port", "dst_port", "icmp_type", "icmp_code",
              "tcp_flags", "protocol")
IPV6_EXTENSION_TYPES = (0, 43, 44, 51, 60)


def compare_packet(tally, ours, row, where, snaplens):
    t = TsharkView(row)
    damaged = bool({"truncated", "malformed"} & set(ours["flags"]))
    snaplen_cut = ours["cap_len"] < int(row["frame.cap_len"]) and ours["cap_len"] in snaplens

    # The header ends before the destination address: tshark shows what is there.
    src, dst = t.addresses()
    partial_header = damaged and ours["src_ip"] is None and dst is None and t.network() != "arp"
    bogus_ipv4 = t.bogus_ipv4 and "malformed" in ours["flags"] and ours["src_ip"] is None

    def check(field, theirs, *rules):
        mine = ours[field]
        tally.record(field, mine, theirs, where, rules + (
            "snaplen-cut" if snaplen_cut else None,
            "ipv6-behind-bogus-ipv4" if bogus_ipv4 and field in ABOVE_LINK else None,
            "partial-network-header" if (field in NETWORK_FIELDS and partial_header
                                         and mine is None) else None,
        ))

    check("number", int(row["frame.number"]))
    linktype = ours["linktype"]
    if linktype not in CLAIMED_LINKTYPES:
        tally.excuse("unclaimed-linktype")
        tally.record("unknown_linktype", "unknown_linktype" in ours["flags"], True, where)
        return
    tally.record("unknown_linktype", "unknown_linktype" in ours["flags"], False, where)
    check("length", int(row["frame.len"]))
    check("cap_len", int(row["frame.cap_len"]))

    # Link layer.
    if t.layers[:2] == ["eth", "eth"]:
        tally.excuse("cisco-isl")
    elif linktype == ETHERNET:
        check("src_mac", mac(first(row["eth.src"])))
        check("dst_mac", mac(first(row["eth.dst"])))
    elif linktype in (SLL, SLL2):
        check("src_mac", mac(first(row["sll.src.eth"])))
        check("dst_mac", None)
    else:
        check("src_mac", None)
        check("dst_mac", None)
    check("vlan", t.vlans())
    if linktype in (ETHERNET, SLL, SLL2):
        etype = t.ethertype()
        if etype == "unknown":
            tally.excuse("ieee8021ad-ethertype")
        else:
            check("ethertype", etype)

    # Network and transport layers.
    if t.beyond:
        tally.excuse("unclaimed-encapsulation")
        return
    check("src_ip", src)
    check("dst_ip", dst)
    check("ip_proto", t.ip_proto(),
          "partial-extension-header" if (t.network() == "ipv6" and damaged and row["_ws.short"]
                                         and ours["ip_proto"] in IPV6_EXTENSION_TYPES) else None)
    sport, dport = t.ports()
    check("src_port", sport)
    check("dst_port", dport)
    itype, icode = t.icmp()
    check("icmp_type", itype)
    check("icmp_code", icode)
    flags = integer(first(row["tcp.flags"])) if t.transport == "tcp" else None
    flags = flags & 0xff if flags is not None else None
    check("tcp_flags", flags,
          "tcp-flags-cut" if flags is None and ours["tcp_flags"] == 0 and damaged else None)
    # The protocol, where tshark's layer name maps onto ours.
    layer = t.transport if t.network() in ("ip", "ipv6") else t.network()
    if layer in PROTOCOL_NAMES:
        check("protocol", PROTOCOL_NAMES[layer])


def compare_file(cli_path, path, theirs, custom_blocks, tally):
    ours = run_ours(cli_path, path)
    sizes = snaplens(cli_path, path)
    tally.files += 1
    if custom_blocks:
        tally.excuse("pcapng-custom-block")
    name = path.relative_to(CORPUS)
    for number, row in theirs.items():
        if number not in ours:
            tally.only_tshark += 1
            continue
        tally.packets += 1
        compare_packet(tally, ours[number], row, f"{name}#{number}", sizes)
    tally.only_ours += len(set(ours) - set(theirs))


def report(tally):
    lines = [f"tshark comparison: {tally.files} files, {tally.packets} packets compared "
             f"({tally.only_tshark} packets only tshark read, {tally.only_ours} only we read)",
             f"{'field':<18} {'compared':>9} {'agree':>9} {'rate':>9}"]
    total_agree = total = 0
    for field in FIELDS:
        n = tally.agree[field] + tally.disagree[field]
        total += n
        total_agree += tally.agree[field]
        rate = 100.0 * tally.agree[field] / n if n else 100.0
        lines.append(f"{field:<18} {n:>9} {tally.agree[field]:>9} {rate:>8.3f}%")
    lines.append(f"{'overall':<18} {total:>9} {total_agree:>9} "
                 f"{100.0 * total_agree / total if total else 100.0:>8.3f}%")
    lines.append("intentional differences (comparisons each rule excused):")
    for rule in DIFFERENCES:
        lines.append(f"  {rule:<28} {tally.excused[rule]:>6}")
    for field in FIELDS:
        for example in tally.examples[field]:
            lines.append(f"  DISAGREE {field}: {example}")
    return "\n".join(lines)


def test_every_corpus_packet_agrees_with_tshark(capsys):
    cli_path = os.environ.get("PKTCAP_CLI")
    if not cli_path:
        pytest.fail("PKTCAP_CLI is not set: run this test through `meson test`")
    files = corpus_files()
    assert len(files) > 600, "the corpus is missing"

    tally = Tally()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for path, (theirs, custom_blocks) in zip(files, pool.map(run_tshark, files)):
            if theirs:  # else tshark decodes nothing in this file
                compare_file(cli_path, path, theirs, custom_blocks, tally)
    text = report(tally)
    with capsys.disabled():
        print("\n" + text)

    unused = [rule for rule in DIFFERENCES if not tally.excused[rule]]
    assert not unused, f"rules that no longer excuse anything (remove them): {unused}"
    failing = [f for f in FIELDS if tally.disagree[f]]
    assert not failing, "fields that disagree with tshark: " + ", ".join(
        f"{f} ({tally.disagree[f]})" for f in failing)
