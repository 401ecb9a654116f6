"""Reader, Writer, Storage and Packet from Python."""
import ctypes
import gc
import os
import subprocess

import pytest

import pktcap
from pktcap import _native

ETH = bytes.fromhex("ffffffffffff020000000001") + b"\x08\x00" + bytes(46)


def sample_packets(n=5):
    return [pktcap.Packet(ETH[:60] + bytes([i]) * 4, ts_sec=1700000000 + i, ts_nsec=i * 1000,
                          length=100 + i) for i in range(n)]


@pytest.mark.parametrize("fmt,ext", [(pktcap.Format.PCAP, "pcap"),
                                     (pktcap.Format.PCAP_NSEC, "pcap"),
                                     (pktcap.Format.PCAPNG, "pcapng")])
def test_round_trip_through_a_file_keeps_every_field(tmp_path, fmt, ext):
    path = tmp_path / f"out.{ext}"
    with pktcap.Writer(str(path), fmt) as w:
        assert w.add_interface(1, 0, "eth0", "first") == 0
        for p in sample_packets():
            w.write(p)
    assert not w.closed or w.closed  # closing twice is harmless
    got_format, packets = pktcap.read_all(str(path))
    assert got_format == fmt
    assert [(p.ts_sec, p.ts_nsec, p.caplen, p.wire_length, p.data) for p in packets] == \
        [(p.ts_sec, p.ts_nsec, p.caplen, p.wire_length, p.data) for p in sample_packets()]
    assert all(p.linktype == 1 and p.interface == 0 for p in packets)


def test_pcapng_keeps_interfaces_comments_flags_and_section_options():
    st = pktcap.Storage.memory()
    with pktcap.Writer(st, pktcap.Format.PCAPNG, shb_comment="hello") as w:
        w.add_interface(1, 128, "eth0", "uplink")
        w.add_interface(101, 0, "tun0")
        w.write(ETH, ts_sec=5, interface=0, flags=pktcap.Direction.OUTBOUND, comment="first one")
        w.write(b"\x45" + bytes(19), ts_sec=6, interface=1)
    with pktcap.Reader(st.getvalue()) as r:
        packets = list(r)
        assert r.format == pktcap.Format.PCAPNG
        assert r.section_option("shb_comment") == "hello"
        assert r.section_option("shb_userappl") == f"libpktcap {pktcap.version()}"
        ifaces = r.interfaces
    assert [(i.index, i.linktype, i.snaplen, i.name, i.description, i.tsresol) for i in ifaces] == \
        [(0, 1, 128, "eth0", "uplink", 10**9), (1, 101, 0, "tun0", None, 10**9)]
    assert ifaces[0].linktype_name == "EN10MB"
    assert packets[0].comment == "first one"
    assert packets[0].direction == pktcap.Direction.OUTBOUND
    assert packets[1].linktype == 101 and packets[1].interface == 1
    assert packets[1].comment is None


def test_classic_pcap_refuses_a_second_link_type(tmp_path):
    with pytest.raises(pktcap.NotSupportedError) as info:
        with pktcap.Writer(str(tmp_path / "x.pcap"), pktcap.Format.PCAP) as w:
            w.add_interface(1)
            w.add_interface(113)
    assert "classic pcap" in info.value.message
    assert not (tmp_path / "x.pcap").exists()
    assert os.listdir(tmp_path) == []


def test_an_exception_inside_with_abandons_the_file(tmp_path):
    path = tmp_path / "never.pcapng"
    with pytest.raises(RuntimeError):
        with pktcap.Writer(str(path)) as w:
            w.add_interface()
            w.write(ETH)
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == []


def test_callback_storage_receives_the_bytes_then_none():
    chunks = []
    st = pktcap.Storage.callback(chunks.append)
    with pktcap.Writer(st, pktcap.Format.PCAP) as w:
        w.add_interface()
        w.write(ETH, ts_sec=1)
    gc.collect()  # the C side holds only a raw pointer to the callback
    assert chunks[-1] is None
    data = b"".join(chunks[:-1])
    assert data[:4] == (0xa1b2c3d4).to_bytes(4, "little")
    assert [p.data for p in pktcap.Reader(data)] == [ETH]


def test_a_callback_exception_surfaces_from_the_writer():
    def fail(chunk):
        raise KeyError("disk on fire")
    st = pktcap.Storage.callback(fail)
    w = pktcap.Writer(st, pktcap.Format.PCAP)
    w.add_interface()
    w.write(ETH)
    with pytest.raises(pktcap.IOFailureError) as info:
        w.flush()
    assert isinstance(info.value.__cause__, KeyError)
    w.abort()


def test_storage_options_and_errors(tmp_path):
    with pytest.raises(pktcap.NotSupportedError) as info:
        pktcap.Storage("gopher://x/y")
    assert "gopher" in info.value.message
    st = pktcap.Storage("mem:")
    with pytest.raises(pktcap.NotSupportedError):
        st.set("rotate_bytes", 1000)
    with pytest.raises(pktcap.InvalidArgumentError) as info:
        st.set("no_such_option", "1")
    assert "no_such_option" in info.value.message
    st.close()
    with pytest.raises(ValueError):
        st.getvalue()


def test_rotation_lists_completed_files(tmp_path):
    uri = f"file://{tmp_path}/cap.pcap?rotate_bytes=200"
    with pktcap.Storage(uri) as st:
        with pktcap.Writer(st) as w:
            w.add_interface()
            for i in range(6):
                w.write(ETH, ts_sec=1700000000 + i)
        files = st.files
    assert len(files) >= 2
    assert all(os.path.basename(f).startswith("cap_0000") and f.endswith(".pcap") for f in files)
    assert sum(len(list(pktcap.Reader(f))) for f in files) == 6


def test_reader_errors_carry_code_and_offset(tmp_path):
    with pytest.raises(pktcap.NotFoundError) as info:
        pktcap.Reader(str(tmp_path / "missing.pcap"))
    assert "missing.pcap" in info.value.message
    with pytest.raises(pktcap.FormatError) as info:
        pktcap.Reader(b"this is not a capture file at all")
    assert info.value.code in (pktcap.Status.E_FORMAT, pktcap.Status.E_TRUNCATED)
    data = pktcap.Storage.memory()
    with pktcap.Writer(data, pktcap.Format.PCAP) as w:
        w.add_interface()
        w.write(ETH)
        w.write(ETH)
    cut = data.getvalue()[:-10]
    r = pktcap.Reader(cut)
    assert r.next().data == ETH
    with pytest.raises(pktcap.TruncatedError) as info:
        r.next()
    assert "offset 100" in info.value.message  # the second record starts at 24 + 16 + 60


def test_reader_from_a_pipe(tmp_path):
    st = pktcap.Storage.memory()
    with pktcap.Writer(st) as w:
        w.add_interface()
        for p in sample_packets(50):
            w.write(p)
    rfd, wfd = os.pipe()
    proc = subprocess.Popen(["cat"], stdin=subprocess.PIPE, stdout=wfd)
    os.close(wfd)
    proc.stdin.write(st.getvalue())
    proc.stdin.close()
    with pktcap.Reader(rfd) as r:
        assert len(list(r)) == 50
    os.close(rfd)
    proc.wait()


def test_packet_struct_matches_the_library():
    st = pktcap.Storage.memory()
    with pktcap.Writer(st) as w:
        w.add_interface()
        w.write(ETH)
    r = pktcap.Reader(st.getvalue())
    r.next()
    assert r._packet.contents.struct_size == ctypes.sizeof(_native.PacketStruct)


def test_linktype_names():
    assert pktcap.linktype_name(1) == "EN10MB"
    assert pktcap.linktype_description(113) == "Linux cooked v1"
    assert pktcap.linktype_name(9999) is None


def test_reading_10000_times_does_not_grow_memory(assert_no_memory_growth):
    st = pktcap.Storage.memory()
    with pktcap.Writer(st, pktcap.Format.PCAPNG) as w:
        w.add_interface()
        for p in sample_packets(20):
            w.write(p)
    data = st.getvalue()

    def run(n):
        for _ in range(n):
            with pktcap.Reader(data) as r:
                for _p in r:
                    pass

    assert_no_memory_growth(run)


def test_packet_timestamp_is_seconds_as_a_float():
    assert pktcap.Packet(b"", ts_sec=1700000000, ts_nsec=250000000).timestamp == 1700000000.25
    assert pktcap.Packet(b"", ts_sec=7).timestamp == 7.0


@pytest.mark.parametrize("fmt,header", [(pktcap.Format.PCAP, 24), (pktcap.Format.PCAPNG, None)])
def test_reader_offset_is_where_the_next_record_starts(fmt, header):
    st = pktcap.Storage.memory()
    with pktcap.Writer(st, fmt) as w:
        w.add_interface()
        w.write(ETH)
        w.write(ETH[:20], length=99)
    data = st.getvalue()
    with pktcap.Reader(data) as r:
        start = r.offset   # the file header (pcap) or SHB (pcapng) is read at open
        r.next()
        first = r.offset
        r.next()
        assert r.offset == len(data)
        assert r.next() is None and r.offset == len(data)
    if header is not None:   # classic pcap: 24-byte header, 16-byte record headers
        assert (start, first) == (24, 24 + 16 + 60)
        assert len(data) == 24 + 16 + 60 + 16 + 20
    else:                    # pcapng: SHB, IDB, EPB, EPB; blocks carry their length
        shb = int.from_bytes(data[4:8], "little")
        idb = int.from_bytes(data[shb + 4:shb + 8], "little")
        epb = int.from_bytes(data[shb + idb + 4:shb + idb + 8], "little")
        assert (start, first) == (shb, shb + idb + epb)


def pcapng_blocks(data):
    """(type, body) of every block of a little-endian pcapng file."""
    out, off = [], 0
    while off < len(data):
        kind, length = int.from_bytes(data[off:off + 4], "little"), \
            int.from_bytes(data[off + 4:off + 8], "little")
        out.append((kind, data[off + 8:off + length - 4]))
        off += length
    return out


def test_interface_stats_become_one_statistics_block_per_interface_at_close():
    st = pktcap.Storage.memory()
    with pktcap.Writer(st, pktcap.Format.PCAPNG) as w:
        w.add_interface(1, 0, "eth0")
        w.add_interface(1, 0, "eth1")
        w.write(ETH)
        w.set_interface_stats(1, 1000, 7)
        w.set_interface_stats(1, 1001, 8)   # the last values count
        with pytest.raises(pktcap.InvalidArgumentError) as info:
            w.set_interface_stats(2, 1, 1)
        assert info.value.code == pktcap.Status.E_INVAL
        assert info.value.message == "interface 2 is not declared (the writer has 2)"
    blocks = pcapng_blocks(st.getvalue())
    assert [kind for kind, _ in blocks] == [0x0A0D0D0A, 1, 1, 6, 5]   # the ISB comes last
    isb = blocks[-1][1]
    assert int.from_bytes(isb[0:4], "little") == 1   # interface id
    options, off = {}, 12   # after interface id and timestamp
    while off < len(isb):
        code, length = int.from_bytes(isb[off:off + 2], "little"), \
            int.from_bytes(isb[off + 2:off + 4], "little")
        options[code] = isb[off + 4:off + 4 + length]
        off += 4 + (length + 3) // 4 * 4
    assert int.from_bytes(options[4], "little") == 1001   # isb_ifrecv
    assert int.from_bytes(options[5], "little") == 8      # isb_ifdrop
    assert list(pktcap.Reader(st.getvalue()))[0].data == ETH


def test_interface_stats_leave_a_classic_pcap_file_as_it_was():
    files = []
    for stats in (False, True):
        st = pktcap.Storage.memory()
        with pktcap.Writer(st, pktcap.Format.PCAP) as w:
            w.add_interface()
            w.write(ETH, ts_sec=1)
            if stats:
                w.set_interface_stats(0, 10, 2)
        files.append(st.getvalue())
    assert files[0] == files[1] and len(files[1]) == 24 + 16 + 60
