"""Two pure BFD sessions joined by a fake link and a fake clock (microseconds).

Timers fire in deadline order, packets arrive `delay_us` after they are sent; nothing
sleeps. A side can be cut (kill -9 of the peer) or its packets rewritten in flight.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from keepalived_py.bfd.packet import ControlPacket, decode, encode
from keepalived_py.bfd.session import Action, Report, Session, SessionConfig, Transmit


def lowest(lo: int, _hi: int) -> int:
    """No jitter at multiplier > 1 (the reduction drawn is its lower bound)."""
    return lo


class Link:
    def __init__(self, a: SessionConfig, b: SessionConfig, delay_us: int = 100,
                 rand: Callable[[int, int], int] = lowest) -> None:
        discrs = iter(range(0x1000, 0x100000))
        self.sessions = {
            "a": Session(a, 0xA0000001, rand, new_discr=lambda: next(discrs)),
            "b": Session(b, 0xB0000001, rand, new_discr=lambda: next(discrs)),
        }
        self.now = 0
        self.delay_us = delay_us
        self.flight: list[tuple[int, int, str, bytes]] = []
        self._seq = 0
        self.sent: dict[str, list[tuple[int, ControlPacket]]] = {"a": [], "b": []}
        self.reports: dict[str, list[tuple[int, bool]]] = {"a": [], "b": []}
        self.alive = {"a": True, "b": True}

    def _peer(self, side: str) -> str:
        return "b" if side == "a" else "a"

    def _do(self, side: str, actions: list[Action]) -> None:
        for act in actions:
            if isinstance(act, Transmit):
                self.sent[side].append((self.now, act.packet))
                self._seq += 1
                heapq.heappush(self.flight, (self.now + self.delay_us, self._seq, self._peer(side),
                                             encode(act.packet)))
            elif isinstance(act, Report):
                self.reports[side].append((self.now, act.up))

    def start(self, *sides: str) -> None:
        for side in sides or ("a", "b"):
            self._do(side, self.sessions[side].start(self.now))

    def kill(self, side: str) -> None:
        self.alive[side] = False

    def run_until(self, end_us: int) -> None:
        while True:
            candidates = []
            for side, s in self.sessions.items():
                due = s.next_deadline()
                if due is not None and self.alive[side]:
                    candidates.append((due, 1, side))
            if self.flight:
                candidates.append((self.flight[0][0], 0, "flight"))
            if not candidates:
                break
            at, _, what = min(candidates)
            if at > end_us:
                break
            self.now = max(self.now, at)
            if what == "flight":
                _, _, dest, data = heapq.heappop(self.flight)
                if self.alive[dest]:
                    self._do(dest, self.sessions[dest].receive(decode(data), self.now))
            else:
                self._do(what, self.sessions[what].on_timer(self.now))
        self.now = max(self.now, end_us)
