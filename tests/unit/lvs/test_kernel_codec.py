"""The pyroute2 adapter's messages, checked on the wire bytes (no kernel needed).

The guest test checks the same against a real kernel; these pin the details that pyroute2's
types get wrong for IPVS and the adapter corrects: the IPv6 persistence netmask, the tunnel
port's byte order, the flag mask, and "set" being IPVS_CMD_SET_* (pyroute2's "update" sends a
delete).
"""

from __future__ import annotations

import ipaddress
import struct

import pytest

from keepalived_py.lvs.diff import AddDest, AddService, DelDest, DelService, SetDest, SetService
from keepalived_py.lvs.kernel import (
    Pyroute2Ipvs,
    dest_from_attrs,
    netmask_attr,
    netmask_value,
    service_from_attrs,
)
from keepalived_py.lvs.table import (
    FWD_TUNNEL,
    PROTO_TCP,
    SVC_F_HASHED,
    SVC_F_PERSISTENT,
    Destination,
    DestKey,
    Service,
    ServiceKey,
)

pytest.importorskip("pyroute2")

A = ipaddress.ip_address
# linux/ip_vs.h attribute numbers
CMD_ATTR_SERVICE, CMD_ATTR_DEST = 1, 2
SVC_AF, SVC_PROTOCOL, SVC_ADDR, SVC_PORT, SVC_FWMARK, SVC_SCHED, SVC_FLAGS, SVC_TIMEOUT, SVC_NETMASK = range(1, 10)
SVC_PE_NAME = 11
DEST_ADDR, DEST_PORT, DEST_FWD, DEST_WEIGHT, DEST_U, DEST_L = range(1, 7)
DEST_TUN_TYPE, DEST_TUN_PORT, DEST_TUN_FLAGS = 13, 14, 15
IPVS_CMD = {"NEW_SERVICE": 1, "SET_SERVICE": 2, "DEL_SERVICE": 3, "NEW_DEST": 5, "SET_DEST": 6, "DEL_DEST": 7}


def _tlv(data: bytes) -> dict[int, bytes]:
    out = {}
    i = 0
    while i + 4 <= len(data):
        length, kind = struct.unpack_from("=HH", data, i)
        out[kind & 0x3FFF] = data[i + 4:i + length]
        i += (length + 3) & ~3
    return out


def _wire(op) -> tuple[int, dict[int, bytes]]:
    port = Pyroute2Ipvs()
    cmd, attrs = port._encode(op)
    msg = port._msg()
    msg["cmd"], msg["version"], msg["attrs"] = cmd, 1, attrs
    msg["header"]["type"] = 0x20
    msg.encode()
    raw = bytes(msg.data)
    return raw[16], _tlv(raw[20:])


SVC6 = Service(ServiceKey(6, PROTO_TCP, A("2001:db8::1"), 80), "sh", SVC_F_PERSISTENT | 0x18, 300, 64, "sip")
SVC4 = Service(ServiceKey(4, PROTO_TCP, A("192.0.2.1"), 443), "wlc", SVC_F_PERSISTENT, 60, 0xFFFFFF00)
FWM = Service(ServiceKey(4, fwmark=7), "rr")
GUE = Destination(DestKey(A("192.0.2.5"), 80), FWD_TUNNEL, 7, 10, 5, 1, 6080, 2)


def test_ipv6_service_netmask_is_the_prefix_length_in_host_order():
    cmd, top = _wire(AddService(SVC6))
    svc = _tlv(top[CMD_ATTR_SERVICE])
    assert cmd == IPVS_CMD["NEW_SERVICE"]
    assert svc[SVC_NETMASK] == struct.pack("=I", 64)
    assert svc[SVC_ADDR][:16] == A("2001:db8::1").packed
    assert svc[SVC_PORT] == struct.pack("!H", 80)
    assert svc[SVC_PE_NAME].rstrip(b"\0") == b"sip"
    assert svc[SVC_FLAGS] == struct.pack("=II", SVC_F_PERSISTENT | 0x18, 0xFFFFFFFF)
    assert struct.unpack("=I", svc[SVC_TIMEOUT])[0] == 300


def test_ipv4_service_netmask_is_a_big_endian_mask():
    _, top = _wire(AddService(SVC4))
    assert _tlv(top[CMD_ATTR_SERVICE])[SVC_NETMASK] == bytes([255, 255, 255, 0])


def test_fwmark_service_names_no_address():
    _, top = _wire(AddService(FWM))
    svc = _tlv(top[CMD_ATTR_SERVICE])
    assert struct.unpack("=I", svc[SVC_FWMARK])[0] == 7
    assert SVC_ADDR not in svc and SVC_PORT not in svc and SVC_PE_NAME not in svc


def test_tunnel_port_is_big_endian():
    cmd, top = _wire(AddDest(SVC4.key, GUE))
    dest = _tlv(top[CMD_ATTR_DEST])
    assert cmd == IPVS_CMD["NEW_DEST"]
    assert dest[DEST_TUN_PORT] == struct.pack("!H", 6080)
    assert dest[DEST_TUN_TYPE] == b"\x01"
    assert struct.unpack("=H", dest[DEST_TUN_FLAGS])[0] == 2
    assert struct.unpack("=I", dest[DEST_WEIGHT])[0] == 7
    assert struct.unpack("=II", dest[DEST_U] + dest[DEST_L]) == (10, 5)
    # the service is named by its key only
    assert set(_tlv(top[CMD_ATTR_SERVICE])) == {SVC_AF, SVC_PROTOCOL, SVC_ADDR, SVC_PORT}


@pytest.mark.parametrize("op,cmd", [
    (SetService(SVC4), "SET_SERVICE"), (SetDest(SVC4.key, GUE), "SET_DEST"),
    (DelService(SVC4.key), "DEL_SERVICE"), (DelDest(SVC4.key, GUE.key), "DEL_DEST")])
def test_set_is_never_a_delete(op, cmd):
    assert _wire(op)[0] == IPVS_CMD[cmd]


def test_delete_destination_sends_only_its_key():
    _, top = _wire(DelDest(SVC4.key, GUE.key))
    assert DEST_WEIGHT not in _tlv(top[CMD_ATTR_DEST])


def test_dumped_attributes_decode_to_the_table():
    svc = service_from_attrs({"AF": 10, "PROTOCOL": 6, "ADDR": "2001:db8::1", "PORT": 80, "SCHED_NAME": "sh",
                              "FLAGS": {"flags": SVC_F_PERSISTENT | 0x18 | SVC_F_HASHED, "mask": 0xFFFFFFFF},
                              "TIMEOUT": 300, "NETMASK": netmask_attr(6, 64), "PE_NAME": "sip"})
    assert svc == SVC6
    dest = dest_from_attrs({"ADDR": "192.0.2.5", "PORT": 80, "FWD_METHOD": 2 | 0x100, "WEIGHT": 7, "U_THRESH": 10,
                            "L_THRESH": 5, "TUN_TYPE": 1, "TUN_PORT": struct.unpack("=H", struct.pack("!H", 6080))[0],
                            "TUN_FLAGS": 2})
    assert dest == GUE


@pytest.mark.parametrize("family,value", [(4, 0xFFFFFFFF), (4, 0xFFFF0000), (6, 128), (6, 1)])
def test_netmask_round_trip(family, value):
    assert netmask_value(family, netmask_attr(family, value)) == value
