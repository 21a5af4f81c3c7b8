"""NetlinkIpvs against a fake kernel on a socketpair: family lookup, batched operations with
one ACK each (errors mapped to their operation), dumps spread over several datagrams,
flush and timeouts. The guest test does the same against the real kernel."""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import struct

from keepalived_py.lvs import netlink as nl
from keepalived_py.lvs.diff import (
    AddDest,
    AddService,
    ApplyError,
    DelDest,
    DelService,
    SetDest,
    SetService,
    apply_one,
    frozen,
    new_mutable,
)
from keepalived_py.lvs.kernel import BATCH, NetlinkIpvs, Timeouts
from keepalived_py.lvs.table import Destination, DestKey, Service, ServiceKey, Table

FAMILY = 0x30
A = ipaddress.ip_address


def _ack(seq: int, error: int = 0) -> bytes:
    return struct.pack("=IHHII", 36, nl.NLMSG_ERROR, 0, seq, 0) + struct.pack("=i", -error) + bytes(16)


def _done(seq: int) -> bytes:
    return struct.pack("=IHHII", 20, nl.NLMSG_DONE, nl.NLM_F_MULTI, seq, 0) + bytes(4)


class FakeKernel:
    """Answers IPVS requests on its end of the pair with the kernel's table semantics."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.table = new_mutable(Table())
        self.timeouts = (900, 120, 300)
        self.datagrams = 0
        self.cmds: list[int] = []

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            data = await loop.sock_recv(self.sock, 1 << 20)
            if not data:
                return
            self.datagrams += 1
            for out in self.answer(data):
                await loop.sock_sendall(self.sock, out)

    def answer(self, data: bytes) -> list[bytes]:
        out: list[bytes] = []
        acks = b""
        for req in nl.replies(data):
            if req.kind == nl.GENL_ID_CTRL:
                out.append(nl.message(nl.GENL_ID_CTRL, 1, nl.nla(nl.CTRL_ATTR_FAMILY_ID, struct.pack("=H", FAMILY)),
                                      req.seq, 0) + _ack(req.seq))
                continue
            self.cmds.append(req.cmd)
            if req.cmd == nl.CMD_GET_SERVICE:
                msgs = [nl.message(FAMILY, nl.CMD_NEW_SERVICE, nl.service_attrs(s), req.seq, nl.NLM_F_MULTI)
                        for s in self.table.services.values()]
                out += [b"".join(msgs[i:i + 2]) for i in range(0, len(msgs), 2)] + [_done(req.seq)]
            elif req.cmd == nl.CMD_GET_DEST:
                key = nl.decode_service(req.attrs).key
                if key not in self.table.services:
                    out.append(_ack(req.seq, errno.ESRCH))
                    continue
                msgs = [nl.message(FAMILY, nl.CMD_NEW_DEST, nl.dest_attrs(d), req.seq, nl.NLM_F_MULTI)
                        for d in self.table.dests[key].values()]
                out.append(b"".join(msgs) + _done(req.seq))
            elif req.cmd == nl.CMD_GET_CONFIG:
                out.append(nl.message(FAMILY, nl.CMD_GET_CONFIG, nl.timeouts_attrs(*self.timeouts), req.seq, 0)
                           + _ack(req.seq))
            elif req.cmd == nl.CMD_SET_CONFIG:
                self.timeouts = nl.decode_timeouts(req.attrs)
                acks += _ack(req.seq)
            elif req.cmd == nl.CMD_FLUSH:
                self.table = new_mutable(Table())
                acks += _ack(req.seq)
            else:
                acks += _ack(req.seq, self._op(req))
        return out + ([acks] if acks else [])

    def _op(self, req: nl.Reply) -> int:
        svc = nl.decode_service(req.attrs)
        top = nl.parse_attrs(req.attrs)
        dest = nl.decode_dest(req.attrs, svc.key.family) if nl.CMD_ATTR_DEST in top else None
        op = {nl.CMD_NEW_SERVICE: lambda: AddService(svc), nl.CMD_SET_SERVICE: lambda: SetService(svc),
              nl.CMD_DEL_SERVICE: lambda: DelService(svc.key), nl.CMD_NEW_DEST: lambda: AddDest(svc.key, dest),
              nl.CMD_SET_DEST: lambda: SetDest(svc.key, dest),
              nl.CMD_DEL_DEST: lambda: DelDest(svc.key, dest.key)}[req.cmd]()
        if isinstance(op, AddService) and op.service.scheduler == "nope":
            return errno.ENOENT
        try:
            apply_one(self.table, op)
        except ApplyError as exc:
            if str(exc).startswith("no service"):
                return errno.ESRCH
            return errno.EEXIST if isinstance(op, AddService | AddDest) else errno.ENOENT
        return 0


def _with_kernel(body):
    async def go():
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        theirs.setblocking(False)
        kernel = FakeKernel(theirs)
        task = asyncio.get_running_loop().create_task(kernel.serve())
        port = NetlinkIpvs(connect=lambda: ours)
        try:
            return await body(port, kernel)
        finally:
            await port.close()
            task.cancel()
            theirs.close()
    return asyncio.run(go())


def _table(n: int, m: int) -> Table:
    return Table.build((Service(ServiceKey(4, 6, A("192.0.2.1"), 1000 + i), "wlc"),
                        [Destination(DestKey(A(f"198.51.100.{j + 2}"), 80), weight=j) for j in range(m)])
                       for i in range(n))


def test_operations_go_in_batches_and_read_back():
    want = _table(60, 10)                           # 660 operations

    async def body(port, kernel):
        from keepalived_py.lvs.diff import diff
        ops = diff(Table(), want)
        failures = await port.apply(ops)
        return failures, await port.dump(), frozen(kernel.table), kernel.datagrams, len(ops)

    failures, dumped, held, datagrams, n = _with_kernel(body)
    assert failures == []
    assert held == want and dumped == want
    # family lookup + ceil(660 / BATCH) batches + 1 service dump + 60 destination dumps
    assert datagrams == 1 + -(-n // BATCH) + 1 + 60


def test_refusals_are_mapped_to_their_operations_and_the_rest_goes_on():
    good = Service(ServiceKey(4, 6, A("192.0.2.1"), 80), "wlc")
    bad = Service(ServiceKey(4, 6, A("192.0.2.1"), 81), "nope")
    d = Destination(DestKey(A("198.51.100.2"), 80))
    ops = [AddService(bad), AddDest(bad.key, d), AddService(good), AddDest(good.key, d), AddDest(good.key, d)]

    async def body(port, kernel):
        return await port.apply(ops), await port.dump()

    failures, dumped = _with_kernel(body)
    assert [(f.op, f.errno) for f in failures] == [(ops[0], errno.ENOENT), (ops[1], errno.ESRCH),
                                                    (ops[4], errno.EEXIST)]
    assert dumped == Table.build([(good, [d])])


def test_flush_and_timeouts():
    async def body(port, kernel):
        await port.apply([AddService(Service(ServiceKey(4, fwmark=3), "rr"))])
        await port.set_timeouts(Timeouts(7200, 0, 60))
        got = await port.timeouts()
        await port.flush()
        return got, await port.dump(), kernel.timeouts

    got, dumped, held = _with_kernel(body)
    assert got == Timeouts(7200, 120, 60) and held == (7200, 120, 60)
    assert dumped == Table()
