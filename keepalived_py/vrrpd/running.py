"""The vrrp runtime's small parts: one running instance, the loop scheduler, counters.

Why apart: plain holders the runtime and its mixins share, kept out of runtime.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from keepalived_py.vrrp.machine import VrrpInstance
from keepalived_py.vrrp.sync_group import SyncGroup
from keepalived_py.vrrpd.plan import InstancePlan
from keepalived_py.vrrpd.sockets import VrrpSocket


@dataclass
class Running:
    plan: InstancePlan
    machine: VrrpInstance
    rx: VrrpSocket | None = None
    tx: VrrpSocket | None = None
    group_joined: Any = None
    timers: dict[str, Any] = field(default_factory=dict)
    deferred: dict[str, float] = field(default_factory=dict)  # timers armed after the work
    rx_buf: int = 0  # this instance's share of its socket's receive buffer
    sync: SyncGroup | None = None
    resume: bool = False  # resumes its predecessor's MASTER state (resume.py)
    digest: str = ""  # its parameters' digest, for the state file (adopt.py)
    wire: tuple | None = None  # (SendAdvert, socket, prepared datagrams): wire._send_advert
    #: dynamic_interfaces: its interface does not exist yet (no sockets, FAULT): dynamic_if.py
    waiting: bool = False
    attach: Any = None  # the task attaching it to its interface once it exists
    attach_again: bool = False  # something changed on it while that task ran

    @property
    def name(self) -> str:
        return self.plan.name


def rx_buf_bytes(plan: InstancePlan) -> int:
    """The plan's receive buffer share in bytes (MTU policy: read the interface's MTU)."""
    if plan.rx_buf is None:
        return 0
    kind, n = plan.rx_buf
    if kind == "mtu":
        try:
            with open(f"/sys/class/net/{plan.interface}/mtu") as f:
                return n * int(f.read().strip())
        except (OSError, ValueError):
            return 0
    return n


class LoopScheduler:
    """Timers on the event loop, deadlines on the runtime's clock (both monotonic)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, clock) -> None:
        self.loop = loop
        self.clock = clock

    def call_at(self, at: float, callback, *args) -> asyncio.TimerHandle:
        delay = max(0.0, at - self.clock.now())
        return self.loop.call_at(self.loop.time() + delay, callback, *args)


@dataclass
class RuntimeCounters:
    rx_total: int = 0
    rx_too_short: int = 0
    rx_unknown_vrid: int = 0
    tx_errors: int = 0
    netlink_errors: int = 0
