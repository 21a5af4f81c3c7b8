"""`dynamic_interfaces`: an instance whose interface does not exist yet waits for it in FAULT.

Why: keepalived 2.2.7 (vrrp_if.c if_get_by_ifname with IF_CREATE_IF_DYNAMIC) keeps such an
instance, logging "Configuration specifies interface X which doesn't currently exist - will
use if created", starts it in FAULT (notified as any FAULT), and when the interface is
created, comes up and has an address, the instance enters BACKUP and runs; an interface
deleted later puts it in FAULT and its re-creation brings it back (wire.py reopens the
sockets on the new index). Without dynamic_interfaces the instance is left out, as before.
Seen beside keepalived 2.2.7 in a netns: the same states and FIFO lines in the same order.

Here: the instance is built with no sockets (`Running.waiting`) and its own interface down;
link events (and address events, for an interface that comes up before its address) for
that name attach it: sockets on the interface's index, the advert source address read
then, and the interface's state delivered. Until then link events do not reach it.
Not covered (each said at runtime): an instance with use_vmac / use_ipvlan or a VIP's VMAC
on a missing base interface is left out with an error line (its VMAC is made at start
only); `allow_if_changes` (accept an interface re-created as another type) changes nothing,
as keepalived-py never compares interface types across re-creation: logged once at start
(dynamic_notes).
"""

from __future__ import annotations

import asyncio
import contextlib
from ipaddress import IPv4Address, IPv6Address
from typing import TYPE_CHECKING, Any

from keepalived_py.vrrp.events import InterfaceUp
from keepalived_py.vrrp.packet import IPPROTO_AH, IPPROTO_VRRP, AuthType
from keepalived_py.vrrpd.adopt import config_digest

if TYPE_CHECKING:
    from keepalived_py.vrrpd.plan import InstancePlan
    from keepalived_py.vrrpd.running import Running


def dynamic_notes(config: Any) -> list[str]:
    """What the vrrp child says once at start about the parts it does not act on."""
    g = config.global_defs
    value = g.dynamic_interfaces if g is not None else False
    notes = []
    if value == "allow_if_changes":
        notes.append("dynamic_interfaces allow_if_changes: keepalived-py does not compare an interface's type "
                     "across re-creation, so a changed interface is always used (as allow_if_changes allows); "
                     "the duplicate VRID fault on changeable interfaces is not raised")
    return notes


def placeholder_address(family: int) -> IPv4Address | IPv6Address:
    """The advert source of an instance still waiting (it sends nothing: FAULT)."""
    return IPv4Address(0) if family == 4 else IPv6Address(0)


class DynamicIfMixin:
    """Needs of the host class: log, net, pool, instances, by_name, link_up, link_delays,
    loop, _primary_address() and _deliver()."""

    log: Any
    net: Any
    pool: Any
    instances: dict
    by_name: dict
    link_up: dict
    link_delays: Any
    loop: Any

    dynamic_interfaces: bool = False

    def set_dynamic_interfaces(self, config: Any) -> None:
        """At start and at each reload, before instances are made."""
        g = config.global_defs
        self.dynamic_interfaces = bool(g is not None and g.dynamic_interfaces)

    async def vmac_base_missing(self, plan: InstancePlan) -> bool:
        """A VMAC / ipvlan instance whose base is missing: keepalived-py makes VMACs at start
        only, so under dynamic_interfaces it says so and leaves the instance out."""
        if not self.dynamic_interfaces or (plan.vmac is None and not plan.addr_vmacs):
            return False
        bases = {v.base for v in (plan.vmac, *plan.addr_vmacs) if v is not None}
        missing = [b for b in sorted(bases) if await self.net.link(b) is None]
        if missing:
            self.log.error(f"({plan.name}) interface {missing[0]} not found - instance ignored (dynamic_interfaces: "
                           "keepalived-py makes VMACs only when their base interface exists at start)")
        return bool(missing)

    def waits_for_interface(self, plan: InstancePlan) -> bool:
        """dynamic_interfaces is set and the instance needs no VMAC on the missing interface."""
        return self.dynamic_interfaces and plan.vmac is None and not plan.addr_vmacs

    def wait_for_interface(self, run: Running) -> None:
        run.waiting = True
        self.note_missing(run.plan.interface)

    def note_missing(self, ifname: str) -> None:
        """keepalived's line, once per interface name (if_get_by_ifname makes the entry once)."""
        said = self.__dict__.setdefault("_missing_said", set())
        if self.dynamic_interfaces and ifname not in said:
            said.add(ifname)
            self.log.info(f"Configuration specifies interface {ifname} which doesn't currently exist"
                          " - will use if created")

    def any_waiting(self) -> bool:
        return any(run.waiting for run in self.instances.values())

    def attach_waiting(self, ifname: str) -> None:
        """The interface `ifname` appeared, changed or got an address: attach what waits for it."""
        for run in list(self.instances.values()):
            if not run.waiting or run.plan.interface != ifname:
                continue
            if run.attach is not None and not run.attach.done():
                run.attach_again = True  # the running attach tries once more
            else:
                run.attach = self.loop.create_task(self._attach(run))

    async def _attach(self, run: Running) -> None:
        attached = False
        while not attached:
            run.attach_again = False
            attached = await self._try_attach(run)
            if not run.attach_again:
                break
        if not attached:
            return
        # link events reach it from now on; tell it the state the link is in now
        link = await self.net.link(run.plan.interface)
        up = link is not None and link.up
        self.link_up[run.plan.interface] = up
        if link is not None:
            self.link_delays.known(run.plan.interface, link.flags)
        if up:
            self._deliver(run, InterfaceUp(run.plan.interface))

    async def _try_attach(self, run: Running) -> bool:
        plan = run.plan
        try:
            link = await self.net.link(plan.interface)
            if link is None or not run.waiting or self.by_name.get(run.name) is not run:
                return False
            primary = plan.source
            if primary is None:
                primary = await self._primary_address(plan.key[0], plan.family, set(plan.addresses))
            if primary is None or not run.waiting:
                return False  # keepalived: FAULT (no address for interface) until one comes
            params = plan.params(primary)
            proto = IPPROTO_AH if params.auth_type == AuthType.AH else IPPROTO_VRRP
            run.rx = run.tx = self.pool.acquire(plan.interface, link.index, plan.family, proto,
                                                run.group_joined, run.rx_buf)
        except Exception as exc:  # noqa: BLE001 - one bad instance must not stop the others
            self.log.error(f"({plan.name}) cannot attach to {plan.interface}: {exc}")
            return False
        run.machine.params = params
        run.digest = config_digest(params)
        run.waiting = False
        return True

    async def cancel_attaches(self) -> None:
        for run in self.instances.values():
            if run.attach is not None and not run.attach.done():
                run.attach.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await run.attach
