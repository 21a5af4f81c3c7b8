"""The vrrp child's one ordered queue of kernel work (ops.py values).

Netlink is async, but order must hold: a VIP is removed after it was added, never before,
and a GARP / NA burst goes out after the addresses queued before it. One worker task
applies the ops in order through the NetPort; a failure is counted and logged, and the
queue goes on; a GARP / NA burst is handed to link_updates.py, which paces its frames
per interface without holding up the queue. The nftables filter (net/nft.py, blocking
libnftables calls) runs in a thread from the same queue, so that it is set before the
VIPs come and removed after they go.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from keepalived_py.net.ports import NetPort
from keepalived_py.vrrp.actions import SendGarp, SendNa
from keepalived_py.vrrpd.ops import (
    AddAddress,
    AddRoute,
    AddRule,
    FirewallConfig,
    FirewallState,
    FirewallStop,
    KernelOp,
    LinkUpdate,
    Mark,
    RemoveAddress,
    RemoveRoute,
    RemoveRule,
    Syncd,
    describe,
)


class KernelQueue:
    def __init__(self, net: NetPort, log: logging.Logger, loop: asyncio.AbstractEventLoop, *,
                 link_update: Callable[[SendGarp | SendNa], Awaitable[None]],
                 on_error: Callable[[], None]) -> None:
        """`link_update`: sends a GARP / NA burst (link_updates.py, paced per interface);
        `on_error`: counts a failed op."""
        self.net = net
        self.log = log
        self.loop = loop
        self.link_update = link_update
        self.on_error = on_error
        self._queue: asyncio.Queue[KernelOp] = asyncio.Queue()
        self._worker: asyncio.Task | None = None
        self.firewall: Any = None  # net.nft.NftFirewall, when the configuration needs one
        self.syncd: Any = None  # syncd.NetlinkSyncd, when lvs_sync_daemon is configured

    def start(self) -> None:
        self._worker = self.loop.create_task(self._run())

    def put(self, op: KernelOp) -> None:
        self._queue.put_nowait(op)

    async def drain(self, timeout: float) -> None:
        """Wait (at most `timeout` s) until everything queued so far is applied."""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._queue.join(), timeout)

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._worker

    async def _run(self) -> None:
        while True:
            op = await self._queue.get()
            try:
                await self._apply(op)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - one failed op must not stop the queue
                self.on_error()
                self.log.error(f"({op.owner}) {describe(op)}: {exc}")
            finally:
                self._queue.task_done()

    async def _apply(self, op: KernelOp) -> None:
        match op:
            case AddAddress(spec=spec):
                await self.net.add_address(spec)
            case RemoveAddress(spec=spec):
                await self.net.remove_address(spec)
            case AddRoute(route=route):
                await self.net.add_route(route)
            case RemoveRoute(route=route):
                await self.net.remove_route(route)
            case AddRule(rule=rule):
                await self.net.add_rule(rule)
            case RemoveRule(rule=rule):
                await self.net.remove_rule(rule)
            case FirewallState() | FirewallConfig() | FirewallStop():
                await self._firewall(op)
            case LinkUpdate(action=act):
                await self.link_update(act)
            case Mark(done=done):
                done()
            case Syncd(cmd=cmd, attrs=attrs):
                if self.syncd is not None:
                    await self.syncd(cmd, attrs)

    async def _firewall(self, op: FirewallState | FirewallConfig | FirewallStop) -> None:
        fw = self.firewall
        if fw is None:
            return
        match op:
            case FirewallState(instance=name, state=state):
                await asyncio.to_thread(fw.instance_state, name, state)
            case FirewallConfig(config=config, start=True):
                await asyncio.to_thread(fw.start, config)
            case FirewallConfig(config=config):
                await asyncio.to_thread(fw.reload, config)
            case FirewallStop():
                await asyncio.to_thread(fw.stop)
        notes, fw.notes = list(fw.notes), []
        for note in notes:
            self.log.info(note)
