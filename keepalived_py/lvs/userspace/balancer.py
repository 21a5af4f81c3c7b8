"""The userspace IPVS table: services, destinations, connections, templates and counters.

Pure (the time is an injected `now`, randomness an injected `rand`). `Balancer.apply` takes
the same typed operations the kernel gets (lvs.diff) with the kernel's refusals (EEXIST,
ENOENT, ESRCH), so reconcile, checkers, quorum and sorry_server drive it unchanged; `table()`
is what a kernel dump would return. The proxies (tcp.py, udp.py) ask `connect` for a real
server and report each connection's life, which keeps the counters the schedulers read the
way IPVS keeps them:
- a TCP connection is inactive until the real server accepted it, active while it is open,
  then inactive again for the tcpfin timeout (IPVS's FIN_WAIT / TIME_WAIT), or for 10 s
  (IPVS's CLOSE) when the real server could not be reached;
- a UDP session is inactive from its first to its last datagram plus the udp timeout;
- persistence (SVC_F_PERSISTENT) keeps a template per client network (address masked by
  the service's netmask): new connections go to the template's real server, even a quiesced
  one (expire_quiescent_template is 0 by default), while it exists; a template lives until
  `timeout` after its last use, and at least as long as connections it placed are open;
- deleting a real server leaves its open connections alone (they finish), as the kernel's.
"""

from __future__ import annotations

import errno
import ipaddress
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from keepalived_py.lvs.diff import (
    AddDest,
    AddService,
    DelDest,
    DelService,
    Op,
    SetDest,
    SetService,
)
from keepalived_py.lvs.table import (
    PROTO_TCP,
    SVC_F_PERSISTENT,
    Destination,
    DestKey,
    IPAddress,
    Service,
    ServiceKey,
    Table,
)
from keepalived_py.lvs.userspace.schedulers import Change, DestState, Request, Scheduler, make

#: IPVS's defaults (ipvsadm --set 900 120 300)
TCP_TIMEOUT = 900
TCPFIN_TIMEOUT = 120
UDP_TIMEOUT = 300
#: IPVS's TCP CLOSE state timeout, for a connection the real server refused
CLOSE_TIMEOUT = 10.0


@dataclass(slots=True)
class Counters:
    """As the kernel's ip_vs_stats: packets and bytes client->server (in) and back (out).
    Packets here are the reads the proxy made, not wire segments (see the README)."""

    conns: int = 0
    inpkts: int = 0
    outpkts: int = 0
    inbytes: int = 0
    outbytes: int = 0


@dataclass(frozen=True, slots=True)
class DestStats:
    key: DestKey
    active: int
    inactive: int
    persistent: int
    counters: Counters


@dataclass(frozen=True, slots=True)
class ServiceStats:
    key: ServiceKey
    counters: Counters
    dests: tuple[DestStats, ...]


@dataclass(eq=False, slots=True)
class Template:
    dest: DestState
    expires: float
    controlled: int = 0


@dataclass(eq=False, slots=True)
class Conn:
    """One client connection (TCP) or session (UDP) bound to a real server."""

    service: ServiceKey
    dest: DestState
    target: tuple[str, int]
    template: Template | None = None
    active: bool = False
    expires: float | None = None       # set once the connection lingers as inactive
    counters: Counters = field(default_factory=Counters)
    service_counters: Counters = field(default_factory=Counters)
    released: bool = False

    def add_in(self, nbytes: int) -> None:
        for c in (self.counters, self.service_counters):
            c.inpkts += 1
            c.inbytes += nbytes

    def add_out(self, nbytes: int) -> None:
        for c in (self.counters, self.service_counters):
            c.outpkts += 1
            c.outbytes += nbytes


@dataclass(eq=False)
class ServiceState:
    service: Service
    scheduler: Scheduler
    dests: list[DestState] = field(default_factory=list)          # newest first, as the kernel
    attrs: dict[DestKey, Destination] = field(default_factory=dict)
    counters: Counters = field(default_factory=Counters)
    dest_counters: dict[DestKey, Counters] = field(default_factory=dict)
    templates: dict[IPAddress, Template] = field(default_factory=dict)

    def index(self, key: DestKey) -> int:
        for i, d in enumerate(self.dests):
            if d.key == key:
                return i
        return -1


class Refused(Exception):
    def __init__(self, err: int, message: str) -> None:
        super().__init__(message)
        self.errno = err


def client_net(addr: IPAddress, netmask: int) -> IPAddress:
    """The client's network for persistence: a v4 mask as an integer, a v6 prefix length."""
    if addr.version == 4:
        return ipaddress.IPv4Address(int(addr) & netmask)
    bits = max(0, min(128, netmask))
    return ipaddress.IPv6Address(int(addr) & (((1 << bits) - 1) << (128 - bits)))


class Balancer:
    """The table and every connection's bookkeeping. Not thread-safe; one event loop."""

    def __init__(self, rand: Callable[[], int] = lambda: 0) -> None:
        self.services: dict[ServiceKey, ServiceState] = {}
        self.timeouts = (TCP_TIMEOUT, TCPFIN_TIMEOUT, UDP_TIMEOUT)
        #: lingering connections by how long they linger: each deque is in expiry order
        self.lingering: dict[float, deque[Conn]] = {}
        self.rand = rand
        #: every connection ever made (never goes back): how the storm clean-up sees a storm
        self.total = 0

    # ------------------------------------------------------------------ table
    def apply(self, ops: Sequence[Op]) -> list[tuple[Op, int, str]]:
        """Every operation in order; each refusal with its errno, as the kernel's."""
        failures = []
        for op in ops:
            try:
                self._apply_one(op)
            except Refused as exc:
                failures.append((op, exc.errno, str(exc)))
        return failures

    def _apply_one(self, op: Op) -> None:
        if isinstance(op, AddService):
            if op.service.key in self.services:
                raise Refused(errno.EEXIST, f"service {op.service.key} exists")
            self.services[op.service.key] = ServiceState(op.service, self._scheduler(op.service))
            return
        if isinstance(op, (SetService, DelService)):
            key = op.service.key if isinstance(op, SetService) else op.key
            st = self.services.get(key)
            if st is None:
                raise Refused(errno.ESRCH, f"no service {key}")
            if isinstance(op, DelService):
                del self.services[key]
                return
            old, st.service = st.service, op.service
            if (old.scheduler, old.flags) != (op.service.scheduler, op.service.flags):
                st.scheduler = self._scheduler(op.service)
                if st.dests:     # the kernel's init_service sees the whole list at once
                    st.scheduler.changed(st.dests, Change("set", 0, st.dests[0]))
            if not op.service.flags & SVC_F_PERSISTENT:
                st.templates.clear()
            return
        st = self.services.get(op.service)
        if st is None:
            raise Refused(errno.ESRCH, f"no service {op.service}")
        if isinstance(op, AddDest):
            if op.dest.key in st.attrs:
                raise Refused(errno.EEXIST, f"destination {op.dest.key} exists in {op.service}")
            d = DestState(op.dest.key, op.dest.weight, op.dest.u_threshold, op.dest.l_threshold)
            st.dests.insert(0, d)
            st.attrs[d.key] = op.dest
            st.dest_counters[d.key] = Counters()
            st.scheduler.changed(st.dests, Change("add", 0, d))
        elif isinstance(op, SetDest):
            i = st.index(op.dest.key)
            if i < 0:
                raise Refused(errno.ENOENT, f"no destination {op.dest.key} in {op.service}")
            d = st.dests[i]
            d.weight, d.u_threshold, d.l_threshold = op.dest.weight, op.dest.u_threshold, op.dest.l_threshold
            if d.weight > 0:
                d.last_weight = d.weight
            if not d.u_threshold or d.u_threshold > d.total:
                d.overloaded = False
            st.attrs[d.key] = op.dest
            st.scheduler.changed(st.dests, Change("set", i, d))
        elif isinstance(op, DelDest):
            i = st.index(op.key)
            if i < 0:
                raise Refused(errno.ENOENT, f"no destination {op.key} in {op.service}")
            d = st.dests[i]
            st.scheduler.changed(st.dests, Change("del", i, d))
            del st.dests[i]
            del st.attrs[op.key]
            del st.dest_counters[op.key]
            st.templates = {n: t for n, t in st.templates.items() if t.dest is not d}

    @staticmethod
    def _scheduler(service: Service) -> Scheduler:
        try:
            return make(service.scheduler, service.flags)
        except KeyError:
            raise Refused(errno.ENOENT, f"no scheduler {service.scheduler!r}") from None

    def table(self) -> Table:
        return Table.build((st.service, st.attrs.values()) for st in self.services.values())

    def flush(self) -> None:
        self.services.clear()

    def stats(self) -> list[ServiceStats]:
        out = []
        for st in sorted(self.services.values(), key=lambda s: s.service.key.sort_key()):
            dests = tuple(DestStats(d.key, d.active, d.inactive, d.persistent, st.dest_counters[d.key])
                          for d in sorted(st.dests, key=lambda d: d.key.sort_key()))
            out.append(ServiceStats(st.service.key, st.counters, dests))
        return out

    # ------------------------------------------------------------------ connections
    def find(self, protocol: int, vaddr: IPAddress, vport: int) -> ServiceKey | None:
        key = ServiceKey(vaddr.version, protocol, vaddr, vport)
        return key if key in self.services else None

    def connect(self, key: ServiceKey, saddr: IPAddress, sport: int, daddr: IPAddress,
                now: float) -> Conn | None:
        """A real server for a new connection, or None (no service, nobody available)."""
        self._expire_conns(now)
        st = self.services.get(key)
        if st is None:
            return None
        template: Template | None = None
        dest: DestState | None = None
        svc = st.service
        if svc.flags & SVC_F_PERSISTENT:
            snet = client_net(saddr, svc.netmask)
            template = st.templates.get(snet)
            if template is not None and template.controlled == 0 and template.expires <= now:
                del st.templates[snet]
                template.dest.persistent -= 1
                template = None
            if template is not None and template.dest in st.dests:
                dest = template.dest
                template.expires = max(template.expires, now + svc.timeout)
            else:
                template = None
        if dest is None:
            dest = st.scheduler.schedule(st.dests, Request(saddr, sport, daddr, now, self.rand))
            if dest is None:
                return None
            if svc.flags & SVC_F_PERSISTENT:
                template = Template(dest, now + svc.timeout)
                st.templates[client_net(saddr, svc.netmask)] = template
                dest.persistent += 1
        if template is not None:
            template.controlled += 1
        dest.inactive += 1
        dest.update_overload()
        counters = st.dest_counters[dest.key]
        counters.conns += 1
        st.counters.conns += 1
        self.total += 1
        port = dest.key.port or key.port
        return Conn(key, dest, (dest.host, port), template, counters=counters,
                    service_counters=st.counters)

    def established(self, conn: Conn) -> None:
        """The real server accepted: the connection counts as active (TCP ESTABLISHED)."""
        if not conn.active and not conn.released and conn.expires is None:
            conn.active = True
            conn.dest.inactive -= 1
            conn.dest.active += 1

    def closed(self, conn: Conn, now: float, failed: bool = False) -> None:
        """The proxy is done with it: it lingers as inactive (TCP FIN_WAIT / CLOSE)."""
        if conn.released or conn.expires is not None:
            return
        if conn.active:
            conn.active = False
            conn.dest.active -= 1
            conn.dest.inactive += 1
        linger = CLOSE_TIMEOUT if failed else float(self.timeouts[1])
        if conn.service.protocol != PROTO_TCP:
            linger = 0.0
        conn.expires = now + linger
        self._end_control(conn, now)
        if linger > 0:
            self.lingering.setdefault(linger, deque()).append(conn)
        else:
            self._release(conn)

    def _end_control(self, conn: Conn, now: float) -> None:
        t = conn.template
        if t is not None:
            t.controlled -= 1
            if t.controlled == 0:
                t.expires = max(t.expires, now)

    def _release(self, conn: Conn) -> None:
        if conn.released:
            return
        conn.released = True
        conn.dest.inactive -= 1
        conn.dest.update_overload()

    def _expire_conns(self, now: float) -> None:
        for queue in self.lingering.values():
            while queue and queue[0].expires is not None and queue[0].expires <= now:
                self._release(queue.popleft())

    def expire(self, now: float) -> None:
        """Connections whose linger ended and unused templates go; thresholds follow."""
        self._expire_conns(now)
        for st in self.services.values():
            if st.templates:
                stale = [n for n, t in st.templates.items() if t.controlled == 0 and t.expires <= now]
                for n in stale:
                    st.templates.pop(n).dest.persistent -= 1

    def compact(self) -> None:
        """After a storm: template dicts emptied by expiry are made again at their present
        size (a dict keeps the table of its largest size); empty linger queues go."""
        for st in self.services.values():
            st.templates = dict(st.templates)
        self.lingering = {k: q for k, q in self.lingering.items() if q}

    def lingering_count(self) -> int:
        return sum(len(q) for q in self.lingering.values())

    def live(self) -> Iterable[Conn]:
        """The lingering connections (inactive, after their proxy finished)."""
        return (c for q in self.lingering.values() for c in q)
