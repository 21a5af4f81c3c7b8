"""The userspace dataplane behind the same `IpvsPort` as the kernel's IPVS, and the choice
between the two.

`UserspaceIpvs` keeps the table in memory (lvs.userspace.balancer) and, after each change,
listens on every virtual service it can serve: TCP and UDP services with an address and a
port. The check child drives it exactly like `NetlinkIpvs`: reconcile's diff operations,
dump, flush, timeouts. What it cannot serve is logged once per service and otherwise kept in
the table (so the diff stays quiet): fwmark services (no address to listen on), SCTP, and
port-0 (all ports) services.

DR and TUN real servers are served as NAT after a warning, once per real server: a
userspace process cannot rewrite only the MAC or encapsulate, but it can still balance, so
the same configuration keeps working on a host without IPVS. `forwarding_warnings(config)`
names each such virtual / real server with its file and line for the start-up log.

`choose_backend(prefer)` is the backend choice (the check child's command-line option passes
`prefer`): "kernel" or "userspace" forces one, None tries the kernel's IPVS generic netlink
family and falls back to userspace; the choice is logged once.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from keepalived_py.log import get_logger
from keepalived_py.lvs import netlink as nl
from keepalived_py.lvs.diff import AddDest, Op, SetDest
from keepalived_py.lvs.kernel import NETLINK_GENERIC, IpvsPort, NetlinkIpvs, OpFailure, Timeouts
from keepalived_py.lvs.table import FWD_MASQ, PROTO_TCP, PROTO_UDP, ServiceKey, Table
from keepalived_py.lvs.userspace import memory
from keepalived_py.lvs.userspace.balancer import Balancer, ServiceStats
from keepalived_py.lvs.userspace.tcp import TcpListener
from keepalived_py.lvs.userspace.udp import UdpListener

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

log = get_logger("lvs.userspace")

#: how often idle connections, lingering entries and templates are looked at
SWEEP_INTERVAL = 1.0


class UserspaceIpvs:
    """IpvsPort on an in-memory table, with a listener per servable virtual service."""

    def __init__(self, now: Callable[[], float] = time.monotonic, max_conns: int = 8192,
                 rand: Callable[[], int] | None = None) -> None:
        rng = random.Random()
        self.balancer = Balancer(rand or (lambda: rng.getrandbits(32)))
        self.now = now
        self.max_conns = max_conns
        self.listeners: dict[ServiceKey, TcpListener | UdpListener] = {}
        self._said: set[Any] = set()
        self._sweeper: asyncio.Task | None = None
        self.storms = memory.StormTracker()

    # ------------------------------------------------------------------ IpvsPort
    async def dump(self) -> Table:
        return self.balancer.table()

    async def apply(self, ops: Sequence[Op]) -> list[OpFailure]:
        failures = [OpFailure(op, err, msg) for op, err, msg in self.balancer.apply(ops)]
        for op in ops:
            if isinstance(op, (AddDest, SetDest)) and op.dest.fwd != FWD_MASQ:
                self._once(("fwd", op.service, op.dest.key),
                           "userspace IPVS: %s real server %s is DR/TUN; served as NAT "
                           "(the real server must answer the balancer)", op.service, op.dest.key)
        await self._sync()
        return failures

    async def flush(self) -> None:
        self.balancer.flush()
        await self._sync()

    async def timeouts(self) -> Timeouts:
        return Timeouts(*self.balancer.timeouts)

    async def set_timeouts(self, timeouts: Timeouts) -> None:
        tcp, fin, udp = self.balancer.timeouts
        self.balancer.timeouts = (timeouts.tcp or tcp, timeouts.tcpfin or fin, timeouts.udp or udp)

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for key in list(self.listeners):
            await self.listeners.pop(key).stop(abort=True)

    # ------------------------------------------------------------------ beyond IpvsPort
    def stats(self) -> list[ServiceStats]:
        """Per service and real server: connections, packets, bytes, active / inactive."""
        self.balancer.expire(self.now())
        return self.balancer.stats()

    def _once(self, what: Any, msg: str, *args: Any) -> None:
        if what not in self._said:
            self._said.add(what)
            log.warning(msg, *args)

    def _servable(self, key: ServiceKey) -> bool:
        if key.fwmark:
            self._once(("fwmark", key), "userspace IPVS: cannot serve %s: fwmark services need the "
                       "kernel's IPVS", key)
            return False
        if key.protocol not in (PROTO_TCP, PROTO_UDP):
            self._once(("proto", key), "userspace IPVS: cannot serve %s: only TCP and UDP", key)
            return False
        if not key.port:
            self._once(("port0", key), "userspace IPVS: cannot serve %s: no port (all ports)", key)
            return False
        return True

    async def _sync(self) -> None:
        """Listeners for exactly the servable services of the table."""
        wanted = {k for k in self.balancer.services if self._servable(k)}
        for key in [k for k in self.listeners if k not in wanted]:
            await self.listeners.pop(key).stop(abort=False)
        for key in sorted(wanted - set(self.listeners), key=ServiceKey.sort_key):
            cls = TcpListener if key.protocol == PROTO_TCP else UdpListener
            listener = cls(self.balancer, key, self.max_conns, now=self.now)
            try:
                await listener.start()
            except OSError as exc:
                self._once(("bind", key, exc.errno), "userspace IPVS: cannot listen on %s: %s", key,
                           exc.strerror)
                continue
            self.listeners[key] = listener
            log.info("userspace IPVS: serving %s", key)
        if self.listeners and self._sweeper is None:
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            self.sweep()

    def sweep(self) -> None:
        tcp, _fin, udp = self.balancer.timeouts
        for listener in list(self.listeners.values()):
            listener.sweep(tcp if isinstance(listener, TcpListener) else udp)
        self.balancer.expire(self.now())
        open_now = self.balancer.lingering_count() + sum(lst.open_count() for lst in self.listeners.values())
        if self.storms.ended(self.balancer.total, open_now):
            self._after_storm()

    def _after_storm(self) -> None:
        """A storm ended: tables grown by it made again, memory handed back (memory.py)."""
        started = time.monotonic()
        for listener in self.listeners.values():
            listener.compact()
        self.balancer.compact()
        memory.release()
        log.debug("userspace IPVS: storm over, memory handed back in %.1f ms",
                  (time.monotonic() - started) * 1000)


def forwarding_warnings(config: KeepalivedConfig) -> list[str]:
    """One line per virtual or real server whose DR/TUN the userspace dataplane serves as
    NAT, with its file and line."""
    out = []
    for vs in getattr(config, "virtual_server", ()):
        for rs in vs.real_server:
            method = vs.rs_setting(rs, "lvs_method").method
            if method == "NAT":
                continue
            pos = rs.pos or vs.pos
            where = f"{pos.file}:{pos.line}" if pos is not None else "?"
            out.append(f"{where}: real_server {rs.address} {rs.port or ''} uses {method}; "
                       "the userspace dataplane serves it as NAT")
    return out


def kernel_has_ipvs(timeout: float = 1.0) -> bool:
    """Whether the kernel knows the IPVS generic netlink family (ip_vs loaded or loadable
    on demand). Blocking, once, at start-up."""
    try:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    except OSError:
        return False
    with sock:
        try:
            sock.settimeout(timeout)
            sock.bind((0, 0))
            sock.send(nl.getfamily_request(nl.IPVS_GENL_NAME, 1))
            while True:
                for reply in nl.replies(sock.recv(1 << 16)):
                    if reply.seq != 1:
                        continue
                    if reply.kind == nl.GENL_ID_CTRL:
                        return bool(nl.family_id(reply))
                    if reply.kind in (nl.NLMSG_ERROR, nl.NLMSG_DONE):
                        return False
        except OSError:
            return False


_chosen: list[str] = []


def choose_backend(prefer: str | None = None) -> IpvsPort:
    """The IPVS backend: `prefer` "kernel" or "userspace" (the command-line option), else
    KPY_IPVS_BACKEND, else the kernel's when it has IPVS, otherwise userspace. The choice is
    logged once per process."""
    prefer = prefer or os.environ.get("KPY_IPVS_BACKEND") or None
    if prefer not in (None, "kernel", "userspace"):
        raise ValueError(f"unknown IPVS backend {prefer!r} (kernel, userspace)")
    if prefer is None:
        prefer = "kernel" if kernel_has_ipvs() else "userspace"
        why = "the kernel has IPVS" if prefer == "kernel" else "the kernel has no IPVS"
    else:
        why = "as asked"
    if not _chosen:
        log.info("IPVS backend: %s (%s)", prefer, why)
    _chosen.append(prefer)
    return NetlinkIpvs() if prefer == "kernel" else UserspaceIpvs()
