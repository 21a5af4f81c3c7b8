"""The IPVS port: what the check child asks of the kernel's IPVS table, and its netlink adapter.

`IpvsPort` is narrow on purpose: dump the table, apply typed operations (lvs.diff), flush
everything (`lvs_flush`), read and set the connection timeouts (`lvs_timeouts`).

`NetlinkIpvs` speaks IPVS generic netlink on its own non-blocking socket, driven by the event
loop (loop.add_reader: works on uvloop too, which refuses netlink datagram endpoints), with
the messages of lvs.netlink. It started on pyroute2's IPVS classes; measured in the guest,
their per-message encoding made 1,000 services x 10 real servers take over five minutes
where `ipvsadm -R` takes five seconds, so requests are now encoded here (byte-identical to
pyroute2's, a unit test checks) and sent in batches with one ACK each.

A refused operation does not stop the others: keepalived logs and goes on, so `apply`
returns each failure with its operation and errno.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from keepalived_py.lvs import netlink as nl
from keepalived_py.lvs.diff import Op
from keepalived_py.lvs.table import Table


@dataclass(frozen=True, slots=True)
class Timeouts:
    """IPVS connection timeouts in seconds (tcp, tcpfin, udp); 0 in a request: leave as is."""

    tcp: int = 0
    tcpfin: int = 0
    udp: int = 0


@dataclass(frozen=True, slots=True)
class OpFailure:
    op: Op
    errno: int
    message: str


class IpvsPort(Protocol):
    async def dump(self) -> Table: ...

    async def apply(self, ops: Sequence[Op]) -> list[OpFailure]: ...

    async def flush(self) -> None: ...

    async def timeouts(self) -> Timeouts: ...

    async def set_timeouts(self, timeouts: Timeouts) -> None: ...

    async def close(self) -> None: ...


class IpvsError(OSError):
    """The kernel refused a request that is not an operation on the table (dump, flush, config)."""


NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_CAP_ACK = 10      # error replies without a copy of the request
BATCH = 256               # requests per datagram (each gets its own ACK)
RCVBUF = 4 << 20


class NetlinkIpvs:
    """The production IpvsPort. One socket, one request (or batch) at a time."""

    def __init__(self, connect: Callable[[], socket.socket] | None = None) -> None:
        """`connect` replaces the kernel's socket (tests: one end of a socketpair)."""
        self._connect = connect
        self._sock: socket.socket | None = None
        self._family = 0
        self._seq = itertools.count(1)
        self._lock = asyncio.Lock()

    # ------------------------------------------------------------------ socket
    async def _open(self) -> socket.socket:
        if self._sock is not None:
            return self._sock
        sock = self._connect() if self._connect is not None else \
            socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        try:
            if self._connect is None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
                try:
                    sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
                except OSError:
                    pass
                sock.bind((0, 0))
            sock.setblocking(False)
            self._sock = sock
            seq = next(self._seq)
            got = await self._exchange([(seq, nl.getfamily_request(nl.IPVS_GENL_NAME, seq))])
            found = [r for r in got[seq] if r.kind == nl.GENL_ID_CTRL]
            family = nl.family_id(found[0]) if found else None
            if not family:
                raise IpvsError(errno.ENOENT, "no IPVS generic netlink family (is ip_vs loaded?)")
            self._family = family
            return sock
        except BaseException:
            self._sock = None
            sock.close()
            raise

    async def close(self) -> None:
        if self._sock is not None:
            sock, self._sock = self._sock, None
            sock.close()

    async def _wait(self, writable: bool = False) -> None:
        assert self._sock is not None
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        fd = self._sock.fileno()

        def ready() -> None:
            if not fut.done():
                fut.set_result(None)

        (loop.add_writer if writable else loop.add_reader)(fd, ready)
        try:
            await fut
        finally:
            (loop.remove_writer if writable else loop.remove_reader)(fd)

    async def _send(self, data: bytes) -> None:
        assert self._sock is not None
        while True:
            try:
                self._sock.send(data)
                return
            except BlockingIOError:
                await self._wait(writable=True)

    async def _recv(self) -> bytes:
        assert self._sock is not None
        while True:
            try:
                return self._sock.recv(1 << 17)
            except BlockingIOError:
                await self._wait()

    async def _exchange(self, requests: list[tuple[int, bytes]]) -> dict[int, list[nl.Reply]]:
        """Send requests (sequence, bytes) in one datagram and collect every reply to each,
        up to its ACK, error or end of dump (which is then the last reply in its list)."""
        await self._send(b"".join(data for _seq, data in requests))
        pending = {seq for seq, _data in requests}
        out: dict[int, list[nl.Reply]] = {seq: [] for seq in pending}
        while pending:
            for reply in nl.replies(await self._recv()):
                if reply.seq not in pending:
                    continue
                out[reply.seq].append(reply)
                if reply.kind in (nl.NLMSG_ERROR, nl.NLMSG_DONE):
                    pending.discard(reply.seq)
        return out

    async def _request(self, cmd: int, attrs: bytes = b"", dump: bool = False) -> list[nl.Reply]:
        """One request; its data replies. A refusal raises IpvsError."""
        await self._open()
        seq = next(self._seq)
        flags = nl.NLM_F_REQUEST | (nl.NLM_F_DUMP if dump else nl.NLM_F_ACK)
        got = (await self._exchange([(seq, nl.message(self._family, cmd, attrs, seq, flags))]))[seq]
        last = got[-1]
        if last.kind == nl.NLMSG_ERROR and last.error:
            raise IpvsError(last.error, os.strerror(last.error))
        return [r for r in got if r.kind == self._family]

    async def command(self, cmd: int, attrs: bytes = b"") -> None:
        """One command of the IPVS family outside the IpvsPort (the vrrp child's sync
        daemon start/stop) and its ACK; a refusal raises IpvsError."""
        await self._request(cmd, attrs)

    # ------------------------------------------------------------------ IpvsPort
    async def dump_raw(self) -> list[tuple[bytes, list[bytes]]]:
        """Each service's reply attributes with its destinations' (counters included): dump()
        decodes the table from them, observe/ipvs_counters.py the kernel's counters. A service
        someone else deletes between the two requests is left out (ESRCH for its dests)."""
        async with self._lock:
            out = []
            for r in await self._request(nl.CMD_GET_SERVICE, dump=True):
                key = nl.decode_service(r.attrs).key
                try:
                    got = await self._request(nl.CMD_GET_DEST, nl.service_attrs(key), dump=True)
                except IpvsError as exc:
                    if exc.errno in (errno.ESRCH, errno.ENOENT):
                        continue
                    raise
                out.append((r.attrs, [d.attrs for d in got]))
            return out

    async def dump(self) -> Table:
        """Every service and its destinations."""
        entries = []
        for svc_attrs, dest_attrs in await self.dump_raw():
            svc = nl.decode_service(svc_attrs)
            entries.append((svc, [nl.decode_dest(d, svc.key.family) for d in dest_attrs]))
        return Table.build(entries)

    async def apply(self, ops: Sequence[Op]) -> list[OpFailure]:
        """Every operation, in order, in batches; the ones the kernel refused, with errno."""
        failures: list[OpFailure] = []
        async with self._lock:
            await self._open()
            for start in range(0, len(ops), BATCH):
                chunk = ops[start:start + BATCH]
                requests = []
                by_seq: dict[int, Op] = {}
                for op in chunk:
                    seq = next(self._seq)
                    cmd, attrs = nl.op_request(op)
                    requests.append((seq, nl.message(self._family, cmd, attrs, seq)))
                    by_seq[seq] = op
                got = await self._exchange(requests)
                for seq, op in by_seq.items():
                    err = got[seq][-1].error if got[seq] else errno.EIO
                    if err:
                        failures.append(OpFailure(op, err, os.strerror(err)))
        return failures

    async def flush(self) -> None:
        async with self._lock:
            await self._request(nl.CMD_FLUSH)

    async def timeouts(self) -> Timeouts:
        async with self._lock:
            got = await self._request(nl.CMD_GET_CONFIG)
        return Timeouts(*nl.decode_timeouts(got[0].attrs)) if got else Timeouts()

    async def set_timeouts(self, timeouts: Timeouts) -> None:
        """As libipvs: values left 0 keep the kernel's current ones."""
        current = await self.timeouts()
        async with self._lock:
            await self._request(nl.CMD_SET_CONFIG, nl.timeouts_attrs(timeouts.tcp or current.tcp,
                                                                     timeouts.tcpfin or current.tcpfin,
                                                                     timeouts.udp or current.udp))
