"""The IPVS netlink codec (lvs.netlink), checked on the wire bytes; no kernel needed.

Two references: the layouts of linux/ip_vs.h and libipvs (the explicit byte checks), and
pyroute2's IPVS message classes, whose encoding ours must equal byte for byte once its typing
slips are corrected (IPv6 netmask, tunnel port order, flag mask). The guest test checks the
same messages against a real kernel.
"""

from __future__ import annotations

import ipaddress
import socket
import struct

import pytest

from keepalived_py.lvs import netlink as nl
from keepalived_py.lvs.diff import AddDest, AddService, DelDest, DelService, SetDest, SetService
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

A = ipaddress.ip_address
SVC6 = Service(ServiceKey(6, PROTO_TCP, A("2001:db8::1"), 80), "sh", SVC_F_PERSISTENT | 0x18, 300, 64, "sip")
SVC4 = Service(ServiceKey(4, PROTO_TCP, A("192.0.2.1"), 443), "wlc", SVC_F_PERSISTENT, 60, 0xFFFFFF00)
FWM = Service(ServiceKey(4, fwmark=7), "rr")
GUE = Destination(DestKey(A("192.0.2.5"), 80), FWD_TUNNEL, 7, 10, 5, 1, 6080, 2)
DEST6 = Destination(DestKey(A("2001:db8::9"), 0), 0, 1)
OPS = [AddService(SVC6), SetService(SVC4), AddService(FWM), DelService(SVC4.key), DelService(FWM.key),
       AddDest(SVC4.key, GUE), SetDest(FWM.key, GUE), DelDest(SVC6.key, GUE.key), AddDest(SVC6.key, DEST6)]


def _wire(op) -> tuple[int, dict[int, bytes]]:
    cmd, attrs = nl.op_request(op)
    raw = nl.message(0x20, cmd, attrs, 7)
    assert struct.unpack_from("=I", raw)[0] == len(raw)
    return raw[16], nl.parse_attrs(raw[20:])


def test_ipv6_service_netmask_is_the_prefix_length_in_host_order():
    cmd, top = _wire(AddService(SVC6))
    svc = nl.parse_attrs(top[nl.CMD_ATTR_SERVICE])
    assert cmd == nl.CMD_NEW_SERVICE
    assert svc[nl.SVC_NETMASK] == struct.pack("=I", 64)
    assert svc[nl.SVC_ADDR] == A("2001:db8::1").packed
    assert svc[nl.SVC_PORT] == struct.pack("!H", 80)
    assert svc[nl.SVC_PE_NAME] == b"sip\0"
    assert svc[nl.SVC_SCHED_NAME] == b"sh\0"
    assert svc[nl.SVC_FLAGS] == struct.pack("=II", SVC_F_PERSISTENT | 0x18, 0xFFFFFFFF)
    assert struct.unpack("=I", svc[nl.SVC_TIMEOUT])[0] == 300


def test_ipv4_service_netmask_is_a_big_endian_mask():
    _, top = _wire(AddService(SVC4))
    assert nl.parse_attrs(top[nl.CMD_ATTR_SERVICE])[nl.SVC_NETMASK] == bytes([255, 255, 255, 0])


def test_fwmark_service_names_no_address():
    _, top = _wire(AddService(FWM))
    svc = nl.parse_attrs(top[nl.CMD_ATTR_SERVICE])
    assert struct.unpack("=I", svc[nl.SVC_FWMARK])[0] == 7
    assert nl.SVC_ADDR not in svc and nl.SVC_PORT not in svc and nl.SVC_PE_NAME not in svc


def test_tunnel_port_is_big_endian():
    cmd, top = _wire(AddDest(SVC4.key, GUE))
    dest = nl.parse_attrs(top[nl.CMD_ATTR_DEST])
    assert cmd == nl.CMD_NEW_DEST
    assert dest[nl.DEST_TUN_PORT] == struct.pack("!H", 6080)
    assert dest[nl.DEST_TUN_TYPE] == b"\x01"
    assert struct.unpack("=H", dest[nl.DEST_TUN_FLAGS])[0] == 2
    assert struct.unpack("=I", dest[nl.DEST_WEIGHT])[0] == 7
    assert struct.unpack("=II", dest[nl.DEST_U_THRESH] + dest[nl.DEST_L_THRESH]) == (10, 5)
    # the service is named by its key only
    assert set(nl.parse_attrs(top[nl.CMD_ATTR_SERVICE])) == {nl.SVC_AF, nl.SVC_PROTOCOL, nl.SVC_ADDR, nl.SVC_PORT}


@pytest.mark.parametrize("op,cmd", [
    (SetService(SVC4), nl.CMD_SET_SERVICE), (SetDest(SVC4.key, GUE), nl.CMD_SET_DEST),
    (DelService(SVC4.key), nl.CMD_DEL_SERVICE), (DelDest(SVC4.key, GUE.key), nl.CMD_DEL_DEST)])
def test_set_is_never_a_delete(op, cmd):
    assert _wire(op)[0] == cmd


def test_delete_destination_sends_only_its_key():
    _, top = _wire(DelDest(SVC4.key, GUE.key))
    assert set(nl.parse_attrs(top[nl.CMD_ATTR_DEST])) == {nl.DEST_ADDR, nl.DEST_PORT, nl.DEST_ADDR_FAMILY}


# --------------------------------------------------------------------------- against pyroute2
def _pyroute2_bytes(op) -> bytes:
    """The same request through pyroute2's IPVS classes, its slips corrected by hand."""
    ipvs_mod = pytest.importorskip("pyroute2.ipvs")
    from pyroute2.netlink.generic import ipvs as genl

    def svc_fields(svc, full):
        key = svc if isinstance(svc, ServiceKey) else svc.key
        f = {"af": socket.AF_INET6 if key.family == 6 else socket.AF_INET}
        if key.fwmark:
            f["fwmark"] = key.fwmark
        else:
            f.update(protocol=key.protocol, addr=str(key.address), port=key.port)
        if full:
            f.update(sched_name=svc.scheduler, flags={"flags": svc.flags, "mask": 0xFFFFFFFF}, timeout=svc.timeout,
                     netmask=socket.inet_ntoa(nl.netmask_word(key.family, svc.netmask)))
            if svc.pe_name:
                f["pe_name"] = svc.pe_name
        else:
            f["netmask"] = "255.255.255.255"
        s = ipvs_mod.IPVSService(**f)
        return s.dump_nla() if full else s.dump_key()

    def dest_nla(d):
        key = d if isinstance(d, DestKey) else d.key
        f = {"addr": str(key.address), "port": key.port,
             "addr_family": socket.AF_INET6 if key.address.version == 6 else socket.AF_INET}
        if isinstance(d, Destination):
            f.update(fwd_method=d.fwd, weight=d.weight, u_thresh=d.u_threshold, l_thresh=d.l_threshold,
                     tun_type=d.tun_type, tun_port=socket.htons(d.tun_port), tun_flags=d.tun_flags)
        x = ipvs_mod.IPVSDest(**f)
        if isinstance(d, DestKey):
            for name in ("fwd_method", "weight", "tun_type", "tun_port", "tun_flags", "u_thresh", "l_thresh"):
                x.pop(name, None)
        return x.dump_nla()

    if isinstance(op, AddService | SetService):
        attrs = [("IPVS_CMD_ATTR_SERVICE", svc_fields(op.service, True))]
    elif isinstance(op, DelService):
        attrs = [("IPVS_CMD_ATTR_SERVICE", svc_fields(op.key, False))]
    else:
        attrs = [("IPVS_CMD_ATTR_SERVICE", svc_fields(op.service, False)),
                 ("IPVS_CMD_ATTR_DEST", dest_nla(op.key if isinstance(op, DelDest) else op.dest))]
    msg = genl.ipvsmsg()
    msg["cmd"], msg["version"], msg["attrs"] = nl.op_request(op)[0], 1, attrs
    msg["header"]["type"], msg["header"]["flags"], msg["header"]["sequence_number"] = 0x20, 5, 7
    msg.encode()
    return bytes(msg.data)


@pytest.mark.parametrize("op", OPS, ids=lambda o: type(o).__name__)
def test_same_bytes_as_pyroute2(op):
    cmd, attrs = nl.op_request(op)
    assert nl.message(0x20, cmd, attrs, 7) == _pyroute2_bytes(op)


# --------------------------------------------------------------------------- replies
def _kernel_reply(family_id: int, cmd: int, attrs: bytes, seq: int, flags: int = nl.NLM_F_MULTI) -> bytes:
    return nl.message(family_id, cmd, attrs, seq, flags)


def test_dumped_service_and_destination_decode_like_the_kernel_writes_them():
    # the kernel always writes 16 address bytes, its own SVC_F_HASHED, NOOUTPUT in fwd flags
    svc = nl.nla(nl.CMD_ATTR_SERVICE, b"".join([
        nl.nla(nl.SVC_AF, struct.pack("=H", 2)), nl.nla(nl.SVC_PROTOCOL, struct.pack("=H", 6)),
        nl.nla(nl.SVC_ADDR, A("192.0.2.1").packed + bytes(12)), nl.nla(nl.SVC_PORT, struct.pack("!H", 443)),
        nl.nla(nl.SVC_SCHED_NAME, b"wlc\0"), nl.nla(nl.SVC_FLAGS, struct.pack("=II", 1 | SVC_F_HASHED, 0xFFFFFFFF)),
        nl.nla(nl.SVC_TIMEOUT, struct.pack("=I", 60)), nl.nla(nl.SVC_NETMASK, bytes([255, 255, 255, 0]))]))
    dest = nl.nla(nl.CMD_ATTR_DEST, b"".join([
        nl.nla(nl.DEST_ADDR, A("192.0.2.5").packed + bytes(12)), nl.nla(nl.DEST_PORT, struct.pack("!H", 80)),
        nl.nla(nl.DEST_FWD_METHOD, struct.pack("=I", 2)), nl.nla(nl.DEST_WEIGHT, struct.pack("=I", 7)),
        nl.nla(nl.DEST_U_THRESH, struct.pack("=I", 10)), nl.nla(nl.DEST_L_THRESH, struct.pack("=I", 5)),
        nl.nla(nl.DEST_ADDR_FAMILY, struct.pack("=H", 2)), nl.nla(nl.DEST_TUN_TYPE, b"\x01"),
        nl.nla(nl.DEST_TUN_PORT, struct.pack("!H", 6080)), nl.nla(nl.DEST_TUN_FLAGS, struct.pack("=H", 2))]))
    data = (_kernel_reply(0x20, nl.CMD_NEW_SERVICE, svc, 3) + _kernel_reply(0x20, nl.CMD_NEW_DEST, dest, 3)
            + struct.pack("=IHHII", 20, nl.NLMSG_DONE, nl.NLM_F_MULTI, 3, 0) + bytes(4))
    got = list(nl.replies(data))
    assert [r.kind for r in got] == [0x20, 0x20, nl.NLMSG_DONE]
    assert nl.decode_service(got[0].attrs) == SVC4
    assert nl.decode_dest(got[1].attrs, 4) == GUE


def test_error_and_ack_replies():
    err = struct.pack("=IHHII", 36, nl.NLMSG_ERROR, 0, 9, 0) + struct.pack("=i", -34) + bytes(16)
    ack = struct.pack("=IHHII", 36, nl.NLMSG_ERROR, 0, 10, 0) + struct.pack("=i", 0) + bytes(16)
    assert [(r.seq, r.error) for r in nl.replies(err + ack)] == [(9, 34), (10, 0)]


def test_family_lookup():
    req = nl.getfamily_request("IPVS", 1)
    assert nl.parse_attrs(req[20:])[nl.CTRL_ATTR_FAMILY_NAME] == b"IPVS\0"
    reply = _kernel_reply(nl.GENL_ID_CTRL, 1, nl.nla(nl.CTRL_ATTR_FAMILY_ID, struct.pack("=H", 0x23)), 1, 0)
    assert nl.family_id(next(nl.replies(reply))) == 0x23


@pytest.mark.parametrize("family,value", [(4, 0xFFFFFFFF), (4, 0xFFFF0000), (6, 128), (6, 1)])
def test_netmask_round_trip(family, value):
    assert nl.netmask_from_word(family, nl.netmask_word(family, value)) == value


def test_timeouts():
    a = nl.timeouts_attrs(7200, 120, 60)
    assert nl.decode_timeouts(a) == (7200, 120, 60)
