"""An in-memory LAN of VRRP routers driven by a fake clock.

Each router is a VrrpInstance (or a SyncGroup of them). The LAN executes their actions the
way a runtime would: SetTimer arms a timer on the event heap, SendAdvert puts the encoded
bytes on the wire to every other router (or to unicast peers) after `delay_s`, unless the
link is lossy or partitioned. Due events fire strictly in time order (ties in the order
they were queued), and the fake clock jumps to each one: no sleeping, exact timing.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from itertools import count

from keepalived_py.clock import FakeClock
from keepalived_py.vrrp.actions import (
    AddAddresses,
    RemoveAddresses,
    RunNotify,
    SendAdvert,
    SetTimer,
)
from keepalived_py.vrrp.events import (
    Ipv4DatagramReceived,
    PacketReceived,
    RxMeta,
    Start,
    Stop,
    TimerExpired,
)
from keepalived_py.vrrp.machine import State, VrrpInstance
from keepalived_py.vrrp.params import VrrpInstanceParams
from keepalived_py.vrrp.sync_group import SyncGroup


@dataclass
class Router:
    name: str
    instances: dict[str, VrrpInstance]
    group: SyncGroup | None = None
    up: bool = True
    vips: set = field(default_factory=set)
    timer_gen: dict = field(default_factory=dict)

    def handle(self, inst: str, event, now: float) -> list:
        if self.group is not None:
            return self.group.handle(inst, event, now)
        return self.instances[inst].handle(event, now)


class Lan:
    def __init__(self, start: float = 1000.0, delay_s: float = 0.0, seed: int = 0) -> None:
        self.clock = FakeClock(start)
        self.delay_s = delay_s
        self.loss = 0.0
        self.rng = random.Random(seed)
        self.routers: dict[str, Router] = {}
        self.partition: dict[str, int] = {}
        self._heap: list = []
        self._seq = count()
        self.log: list[tuple[float, str, object]] = []
        self.watchers: list = []

    # ------------------------------------------------------------------ building
    def add(self, name: str, *params: VrrpInstanceParams, tracked=(), group: str | None = None,
            group_tracked=()) -> Router:
        insts = {p.name: VrrpInstance(p, tracked) for p in params}
        sg = SyncGroup(group, list(insts.values()), group_tracked) if group else None
        r = Router(name, insts, sg)
        self.routers[name] = r
        return r

    def instance(self, router: str, inst: str | None = None) -> VrrpInstance:
        r = self.routers[router]
        return r.instances[inst] if inst else next(iter(r.instances.values()))

    # ------------------------------------------------------------------ driving
    @property
    def now(self) -> float:
        return self.clock.now()

    def _push(self, at: float, kind: str, *payload) -> None:
        heapq.heappush(self._heap, (at, next(self._seq), kind, payload))

    def start(self, router: str) -> None:
        r = self.routers[router]
        r.up = True
        if r.group is not None:
            self._execute(r, r.group.start(self.now))
        else:
            for name in r.instances:
                self.deliver(router, name, Start())

    def deliver(self, router: str, inst: str, event) -> list:
        r = self.routers[router]
        actions = r.handle(inst, event, self.now)
        self._execute(r, actions)
        return actions

    def stop(self, router: str) -> None:
        """Graceful shutdown (SIGTERM): priority 0 goes out."""
        r = self.routers[router]
        for name in r.instances:
            self.deliver(router, name, Stop())
        r.up = False

    def crash(self, router: str) -> None:
        """kill -9: silence, timers gone, addresses stay until restart."""
        r = self.routers[router]
        r.up = False
        r.timer_gen = {k: v + 1 for k, v in r.timer_gen.items()}

    def restart(self, router: str, tracked=()) -> None:
        """A fresh process with the same configuration."""
        old = self.routers[router]
        params = [i.params for i in old.instances.values()]
        group = old.group.name if old.group else None
        new = self.add(router, *params, tracked=tracked, group=group)
        new.timer_gen = {k: v + 1 for k, v in old.timer_gen.items()}
        self.start(router)

    def run_until(self, t: float) -> None:
        while self._heap and self._heap[0][0] <= t + 1e-12:
            at, _, kind, payload = heapq.heappop(self._heap)
            self.clock.set(max(at, self.now))
            if kind == "timer":
                router, inst, timer, gen = payload
                r = self.routers[router]
                if r.up and r.timer_gen.get((inst, timer)) == gen:
                    self.deliver(router, inst, TimerExpired(timer))
            elif kind == "packet":
                router, inst, data, meta = payload
                if self.routers[router].up:
                    self.deliver(router, inst, PacketReceived(data, meta))
            elif kind == "datagram":
                router, inst, data = payload
                if self.routers[router].up:
                    self.deliver(router, inst, Ipv4DatagramReceived(data))
            for w in self.watchers:
                w(self)
        if t > self.now:
            self.clock.set(t)

    def run_for(self, seconds: float) -> None:
        self.run_until(self.now + seconds)

    # ------------------------------------------------------------------ the wire
    def _linked(self, a: str, b: str) -> bool:
        return self.partition.get(a, 0) == self.partition.get(b, 0)

    def _execute(self, r: Router, actions: list) -> None:
        for a in actions:
            self.log.append((self.now, r.name, a))
            if isinstance(a, SetTimer):
                key = (a.instance, a.timer)
                gen = r.timer_gen.get(key, 0) + 1
                r.timer_gen[key] = gen
                if a.at is not None:
                    self._push(a.at, "timer", r.name, a.instance, a.timer, gen)
            elif isinstance(a, SendAdvert):
                self._transmit(r, a)
            elif isinstance(a, AddAddresses):
                r.vips |= set(a.addresses)
            elif isinstance(a, RemoveAddresses):
                r.vips -= set(a.addresses)

    def _transmit(self, sender: Router, a: SendAdvert) -> None:
        datagrams = a.datagrams or (None,) * len(a.dsts)
        for dst, payload, datagram in zip(a.dsts, a.payloads, datagrams, strict=True):
            for other in self.routers.values():
                if other is sender or not self._linked(sender.name, other.name):
                    continue
                for inst in other.instances.values():
                    p = inst.params
                    if p.vrid != a.advert.vrid or p.family != sender.instances[a.instance].params.family:
                        continue
                    if not dst.is_multicast and dst != p.primary_address:
                        continue
                    if self.loss and self.rng.random() < self.loss:
                        continue
                    if datagram is not None:  # AH: the IP header is part of what is signed
                        self._push(self.now + self.delay_s, "datagram", other.name, inst.name, datagram)
                        continue
                    meta = RxMeta(a.src, dst, 255)
                    self._push(self.now + self.delay_s, "packet", other.name, inst.name, payload, meta)

    # ------------------------------------------------------------------ views
    def states(self, vrid: int | None = None) -> dict[str, State]:
        """States of the routers that are running (a crashed one is out of the count)."""
        out = {}
        for r in self.routers.values():
            if not r.up:
                continue
            for i in r.instances.values():
                if vrid is None or i.params.vrid == vrid:
                    out[f"{r.name}/{i.name}" if len(r.instances) > 1 else r.name] = i.state
        return out

    def masters(self, vrid: int | None = None) -> list[str]:
        return [n for n, s in self.states(vrid).items() if s == State.MASTER]

    def actions_of(self, router: str, kind: type) -> list[tuple[float, object]]:
        return [(t, a) for t, n, a in self.log if n == router and isinstance(a, kind)]

    def notifies(self, router: str) -> list[str]:
        return [a.state for _, a in self.actions_of(router, RunNotify)]
