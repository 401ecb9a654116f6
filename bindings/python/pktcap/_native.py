"""The ctypes prototypes of every public libpktcap function, in one table.

The library is found through, in order: the ``PKTCAP_LIBRARY`` environment
variable (a path to ``libpktcap.so.1``), a meson build tree beside the source
package (``build*/lib/``), then the system's dynamic loader.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import Dict, List, Optional, Tuple

SONAME = "libpktcap.so.1"

c_int = ctypes.c_int
c_uint = ctypes.c_uint
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p
c_size_t = ctypes.c_size_t
c_uint32 = ctypes.c_uint32
c_uint64 = ctypes.c_uint64
P = ctypes.POINTER


class PacketStruct(ctypes.Structure):
    """``pktcap_packet`` from file.h, field for field."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("interface", ctypes.c_uint32),
        ("ts_sec", ctypes.c_int64),
        ("ts_nsec", ctypes.c_uint32),
        ("caplen", ctypes.c_uint32),
        ("len", ctypes.c_uint32),
        ("linktype", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("comment_len", ctypes.c_uint32),
        ("data", ctypes.POINTER(ctypes.c_uint8)),
        ("comment", ctypes.c_void_p),
    ]


class SummaryStruct(ctypes.Structure):
    """``pktcap_summary`` from summary.h, field for field."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("flags", ctypes.c_uint32),
        ("number", ctypes.c_uint64),
        ("ts_sec", ctypes.c_int64),
        ("ts_nsec", ctypes.c_uint32),
        ("time_digits", ctypes.c_uint32),
        ("linktype", ctypes.c_uint32),
        ("wire_len", ctypes.c_uint32),
        ("cap_len", ctypes.c_uint32),
        ("ethertype", ctypes.c_uint16),
        ("vlan", ctypes.c_uint16 * 2),
        ("vlan_count", ctypes.c_uint8),
        ("mpls_count", ctypes.c_uint8),
        ("src_mac", ctypes.c_uint8 * 6),
        ("dst_mac", ctypes.c_uint8 * 6),
        ("ip_version", ctypes.c_uint8),
        ("ip_proto", ctypes.c_uint8),
        ("src_ip", ctypes.c_uint8 * 16),
        ("dst_ip", ctypes.c_uint8 * 16),
        ("src_port", ctypes.c_uint16),
        ("dst_port", ctypes.c_uint16),
        ("icmp_type", ctypes.c_uint8),
        ("icmp_code", ctypes.c_uint8),
        ("tcp_flags", ctypes.c_uint8),
        ("reserved", ctypes.c_uint8),
        ("protocol", ctypes.c_char * 16),
    ]


# int (*pktcap_storage_write_cb)(const void *data, size_t size, void *userdata)
STORAGE_WRITE_CB = ctypes.CFUNCTYPE(c_int, c_void_p, c_size_t, c_void_p)

# void (*pktcap_state_cb)(pktcap_session *session, int state, void *userdata)
STATE_CB = ctypes.CFUNCTYPE(None, c_void_p, c_int, c_void_p)
# void (*pktcap_packet_cb)(pktcap_session *, const pktcap_packet *, const pktcap_summary *, void *)
PACKET_CB = ctypes.CFUNCTYPE(None, c_void_p, P(PacketStruct), P(SummaryStruct), c_void_p)
# void (*pktcap_log_cb)(int level, const char *message, void *userdata)
LOG_CB = ctypes.CFUNCTYPE(None, c_int, ctypes.c_char_p, c_void_p)
# int (*pktcap_progress_cb)(uint64_t done, uint64_t total, void *userdata)
PROGRESS_CB = ctypes.CFUNCTYPE(c_int, ctypes.c_uint64, ctypes.c_uint64, c_void_p)



class GroupEventStruct(ctypes.Structure):
    """``pktcap_group_event`` from group.h, field for field."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("type", c_int),
        ("session", c_void_p),
        ("index", c_size_t),
        ("state", c_int),
        ("op", c_int),
        ("code", c_int),
        ("message", ctypes.c_char_p),
        ("done", ctypes.c_uint64),
        ("total", ctypes.c_uint64),
    ]


class GroupResultStruct(ctypes.Structure):
    """``pktcap_group_result`` from group.h, field for field."""

    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("state", c_int),
        ("done", c_int),
        ("op", c_int),
        ("code", c_int),
        ("message", ctypes.c_char * 512),
        ("fetched", c_int),
        ("bytes", ctypes.c_uint64),
        ("requests", ctypes.c_uint64),
    ]


# void (*pktcap_group_event_cb)(const pktcap_group_event *event, void *userdata)
GROUP_EVENT_CB = ctypes.CFUNCTYPE(None, P(GroupEventStruct), c_void_p)

# name -> (restype, argtypes). Opaque handles are c_void_p.
PROTOTYPES: Dict[str, Tuple[object, List[object]]] = {
    # version.h
    "pktcap_version": (c_char_p, []),
    "pktcap_version_num": (c_uint, []),
    # error.h
    "pktcap_strerror": (c_char_p, [c_int]),
    "pktcap_error_name": (c_char_p, [c_int]),
    "pktcap_error_last": (c_void_p, []),
    "pktcap_error_clear": (None, []),
    "pktcap_error_code": (c_int, [c_void_p]),
    "pktcap_error_message": (c_char_p, [c_void_p]),
    "pktcap_error_http_status": (c_int, [c_void_p]),
    "pktcap_error_provider_code": (c_char_p, [c_void_p]),
    "pktcap_error_provider_message": (c_char_p, [c_void_p]),
    # storage.h
    "pktcap_storage_open": (c_int, [P(c_void_p), c_char_p]),
    "pktcap_storage_new_callback": (c_int, [P(c_void_p), STORAGE_WRITE_CB, c_void_p]),
    "pktcap_storage_set": (c_int, [c_void_p, c_char_p, c_char_p]),
    "pktcap_storage_memory": (c_int, [P(c_void_p), P(c_size_t), c_void_p]),
    "pktcap_storage_file_count": (c_size_t, [c_void_p]),
    "pktcap_storage_file_path": (c_char_p, [c_void_p, c_size_t]),
    "pktcap_storage_free": (None, [c_void_p]),
    # file.h: writer
    "pktcap_writer_open": (c_int, [P(c_void_p), c_void_p, c_int]),
    "pktcap_writer_set_option": (c_int, [c_void_p, c_char_p, c_char_p]),
    "pktcap_writer_add_interface": (c_int, [P(c_uint32), c_void_p, c_uint32, c_uint32,
                                            c_char_p, c_char_p]),
    "pktcap_writer_set_interface_stats": (c_int, [c_void_p, c_uint32, c_uint64, c_uint64]),
    "pktcap_writer_write": (c_int, [c_void_p, P(PacketStruct)]),
    "pktcap_writer_flush": (c_int, [c_void_p]),
    "pktcap_writer_close": (c_int, [c_void_p]),
    "pktcap_writer_abort": (None, [c_void_p]),
    # file.h: reader
    "pktcap_reader_open": (c_int, [P(c_void_p), c_char_p]),
    "pktcap_reader_open_memory": (c_int, [P(c_void_p), c_void_p, c_size_t]),
    "pktcap_reader_open_fd": (c_int, [P(c_void_p), c_int]),
    "pktcap_reader_next": (c_int, [P(P(PacketStruct)), c_void_p]),
    "pktcap_reader_format": (c_int, [c_void_p]),
    "pktcap_reader_interface_count": (c_uint32, [c_void_p]),
    "pktcap_reader_interface_linktype": (c_uint32, [c_void_p, c_uint32]),
    "pktcap_reader_interface_snaplen": (c_uint32, [c_void_p, c_uint32]),
    "pktcap_reader_interface_tsresol": (c_uint64, [c_void_p, c_uint32]),
    "pktcap_reader_interface_option": (c_char_p, [c_void_p, c_uint32, c_char_p]),
    "pktcap_reader_section_option": (c_char_p, [c_void_p, c_char_p]),
    "pktcap_reader_offset": (c_uint64, [c_void_p]),
    "pktcap_reader_close": (None, [c_void_p]),
    # summary.h
    "pktcap_summarize": (c_int, [P(SummaryStruct), P(PacketStruct)]),
    "pktcap_summary_format": (c_int, [P(c_size_t), c_char_p, c_size_t, c_int, P(SummaryStruct)]),
    "pktcap_summary_header": (c_char_p, [c_int]),
    # file.h: link types
    "pktcap_linktype_name": (c_char_p, [c_uint32]),
    "pktcap_linktype_description": (c_char_p, [c_uint32]),
    # filter.h. Strings returned through char ** are read with string_at and
    # released with pktcap_free, so the out pointers are c_void_p.
    "pktcap_filter_new": (c_int, [P(c_void_p)]),
    "pktcap_filter_parse": (c_int, [P(c_void_p), c_char_p]),
    "pktcap_filter_new_bpf": (c_int, [P(c_void_p), c_char_p]),
    "pktcap_filter_dup": (c_int, [P(c_void_p), c_void_p]),
    "pktcap_filter_free": (None, [c_void_p]),
    "pktcap_filter_add_rule": (c_int, [c_void_p, c_int]),
    "pktcap_filter_rule_count": (c_size_t, [c_void_p]),
    "pktcap_filter_set_protocol": (c_int, [c_void_p, c_size_t, c_int]),
    "pktcap_filter_rule_protocol": (c_int, [c_void_p, c_size_t]),
    "pktcap_filter_set_field": (c_int, [c_void_p, c_size_t, c_int, c_char_p]),
    "pktcap_filter_add_address": (c_int, [c_void_p, c_size_t, c_int, c_char_p, c_char_p]),
    "pktcap_filter_add_port": (c_int, [c_void_p, c_size_t, c_int, c_uint32, c_uint32]),
    "pktcap_filter_field": (c_int, [P(c_void_p), c_void_p, c_size_t, c_int]),
    "pktcap_filter_bpf_expression": (c_char_p, [c_void_p]),
    "pktcap_filter_equal": (c_int, [c_void_p, c_void_p]),
    "pktcap_filter_match": (c_int, [c_void_p, P(PacketStruct)]),
    "pktcap_filter_to_string": (c_int, [P(c_void_p), c_void_p]),
    "pktcap_filter_to_bpf": (c_int, [P(c_void_p), c_void_p, c_uint32]),
    "pktcap_filter_to_azure": (c_int, [P(c_void_p), c_void_p]),
    "pktcap_filter_to_cloudflare": (c_int, [P(c_void_p), c_void_p]),
    "pktcap_filter_to_sdwan": (c_int, [P(c_void_p), c_void_p]),
    "pktcap_free": (None, [c_void_p]),
    # session.h: providers
    "pktcap_provider_open": (c_int, [P(c_void_p), c_char_p]),
    "pktcap_provider_set": (c_int, [c_void_p, c_char_p, c_char_p]),
    "pktcap_provider_caps": (c_uint32, [c_void_p]),
    "pktcap_provider_kind": (c_char_p, [c_void_p]),
    "pktcap_provider_list_sessions": (c_int, [P(c_void_p), c_void_p]),
    "pktcap_session_list_count": (c_size_t, [c_void_p]),
    "pktcap_session_list_name": (c_char_p, [c_void_p, c_size_t]),
    "pktcap_session_list_id": (c_char_p, [c_void_p, c_size_t]),
    "pktcap_session_list_state": (c_int, [c_void_p, c_size_t]),
    "pktcap_session_list_native_status": (c_char_p, [c_void_p, c_size_t]),
    "pktcap_session_list_free": (None, [c_void_p]),
    "pktcap_provider_list_targets": (c_int, [P(c_void_p), c_void_p]),
    "pktcap_target_list_count": (c_size_t, [c_void_p]),
    "pktcap_target_list_name": (c_char_p, [c_void_p, c_size_t]),
    "pktcap_target_list_description": (c_char_p, [c_void_p, c_size_t]),
    "pktcap_target_list_flags": (c_uint32, [c_void_p, c_size_t]),
    "pktcap_target_list_free": (None, [c_void_p]),
    "pktcap_provider_close": (None, [c_void_p]),
    "pktcap_provider_set_log_callback": (c_int, [c_void_p, c_int, LOG_CB, c_void_p]),
    "pktcap_session_set_progress_callback": (c_int, [c_void_p, PROGRESS_CB, c_void_p]),
    "pktcap_session_details": (c_int, [P(c_void_p), c_void_p]),
    "pktcap_session_target": (ctypes.c_char_p, [c_void_p]),
    "pktcap_provider_call": (c_int, [P(c_void_p), c_void_p, ctypes.c_char_p, ctypes.c_char_p]),
    "pktcap_session_summary_count": (c_size_t, [c_void_p]),
    "pktcap_session_summary": (c_int, [P(SummaryStruct), c_void_p, c_size_t]),
    # session.h: sessions
    "pktcap_session_new": (c_int, [P(c_void_p), c_void_p, c_char_p]),
    "pktcap_session_open": (c_int, [P(c_void_p), c_void_p, c_char_p]),
    "pktcap_session_set_target": (c_int, [c_void_p, c_char_p]),
    "pktcap_session_set_snaplen": (c_int, [c_void_p, c_uint32]),
    "pktcap_session_set_byte_limit": (c_int, [c_void_p, c_uint64]),
    "pktcap_session_set_time_limit": (c_int, [c_void_p, c_uint64]),
    "pktcap_session_set_packet_limit": (c_int, [c_void_p, c_uint64]),
    "pktcap_session_set_filter": (c_int, [c_void_p, c_void_p]),
    "pktcap_session_set_storage": (c_int, [c_void_p, c_void_p]),
    "pktcap_session_set": (c_int, [c_void_p, c_char_p, c_char_p]),
    "pktcap_session_set_state_callback": (c_int, [c_void_p, STATE_CB, c_void_p]),
    "pktcap_session_set_packet_callback": (c_int, [c_void_p, PACKET_CB, c_void_p]),
    "pktcap_session_start": (c_int, [c_void_p]),
    "pktcap_session_refresh": (c_int, [c_void_p]),
    "pktcap_session_wait": (c_int, [c_void_p, ctypes.c_int64]),
    "pktcap_session_cancel": (c_int, [c_void_p]),
    "pktcap_session_stop": (c_int, [c_void_p]),
    "pktcap_session_delete": (c_int, [c_void_p]),
    "pktcap_session_fetch": (c_int, [c_void_p, c_void_p]),
    "pktcap_session_state": (c_int, [c_void_p]),
    "pktcap_state_name": (c_char_p, [c_int]),
    "pktcap_session_name": (c_char_p, [c_void_p]),
    "pktcap_session_id": (c_char_p, [c_void_p]),
    "pktcap_session_native_status": (c_char_p, [c_void_p]),
    "pktcap_session_stop_reason": (c_char_p, [c_void_p]),
    "pktcap_session_error_text": (c_char_p, [c_void_p]),
    "pktcap_session_stat": (c_uint64, [c_void_p, c_int]),
    "pktcap_session_stat_known": (c_int, [c_void_p, c_int]),
    "pktcap_session_free": (None, [c_void_p]),
    # group.h
    "pktcap_group_new": (c_int, [P(c_void_p)]),
    "pktcap_group_set": (c_int, [c_void_p, c_char_p, c_char_p]),
    "pktcap_group_set_event_callback": (c_int, [c_void_p, GROUP_EVENT_CB, c_void_p]),
    "pktcap_group_add": (c_int, [c_void_p, c_void_p, c_void_p]),
    "pktcap_group_count": (c_size_t, [c_void_p]),
    "pktcap_group_session": (c_void_p, [c_void_p, c_size_t]),
    "pktcap_group_start": (c_int, [c_void_p]),
    "pktcap_group_stop": (c_int, [c_void_p]),
    "pktcap_group_step": (c_int, [c_void_p, P(ctypes.c_int64)]),
    "pktcap_group_wait": (c_int, [c_void_p, ctypes.c_int64]),
    "pktcap_group_fd": (c_int, [c_void_p]),
    "pktcap_group_cancel": (c_int, [c_void_p]),
    "pktcap_group_get_result": (c_int, [c_void_p, c_size_t, P(GroupResultStruct)]),
    "pktcap_group_report": (c_int, [P(c_void_p), c_void_p]),
    "pktcap_group_free": (None, [c_void_p]),
}


def _build_tree_candidates() -> List[Path]:
    root = Path(__file__).resolve().parents[3]
    found = []
    for build in sorted(root.glob("build*")):
        candidate = build / "lib" / SONAME
        if candidate.exists():
            found.append(candidate)
    return found


def find_library() -> str:
    """Return the path or name of the libpktcap to load."""
    override = os.environ.get("PKTCAP_LIBRARY")
    if override:
        if not Path(override).exists():
            raise OSError(f"PKTCAP_LIBRARY={override!r} does not exist")
        return override
    candidates = _build_tree_candidates()
    if candidates:
        return str(candidates[0])
    system = ctypes.util.find_library("pktcap")
    return system or SONAME


def load(path: Optional[str] = None) -> ctypes.CDLL:
    """Load libpktcap and give every public function its prototype."""
    lib = ctypes.CDLL(path or find_library())
    for name, (restype, argtypes) in PROTOTYPES.items():
        func = getattr(lib, name)
        func.restype = restype
        func.argtypes = argtypes
    return lib


lib = load()
