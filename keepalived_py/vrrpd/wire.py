"""The VRRP runtime's wire edges (a mixin of VrrpRuntime): datagrams in, dispatched by
(interface, family, VRID); adverts out on the instance's socket; link changes in.

Why apart: runtime.py keeps the instances' lifecycle and the action executor; this is the
part that reads and writes packets and link state, with its counters and rate-limited
drop lines.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from keepalived_py.net.linkbeat import POLLING_DELAY_S, link_running
from keepalived_py.net.ports import AddressEvent, LinkEvent
from keepalived_py.track.events import TrackingChanged
from keepalived_py.vrrp.actions import SendAdvert
from keepalived_py.vrrp.checks import DropReason
from keepalived_py.vrrp.events import (
    Event,
    InterfaceDown,
    InterfaceUp,
    Ipv4DatagramReceived,
    PacketReceived,
    RxMeta,
)
from keepalived_py.vrrp.packet import IPPROTO_AH, IPPROTO_VRRP
from keepalived_py.vrrpd.link_delays import IFF_RUNNING, IFF_UP
from keepalived_py.vrrpd.plan import linkbeat_polled, saddr_name
from keepalived_py.vrrpd.sockets import Received

AH_HEADER_LEN = 24


class WireMixin:
    """Needs of the host class: counters, dispatch, by_name, instances, link_up, pool,
    links, clock, log, log_unknown_vrids, config, _drop_log and _deliver()."""

    #: linkbeat's probe: is the interface up with a carrier (replaced by tests)
    linkbeat_probe: Callable[[str], bool] = staticmethod(link_running)

    # ---------------------------------------------------------------- packets
    def _on_packet(self, pkt: Received) -> None:
        self.counters.rx_total += 1
        data = pkt.data
        if pkt.family == 4:
            if len(data) < 20:
                self.counters.rx_too_short += 1
                return
            off = (data[0] & 0x0F) * 4
            if pkt.protocol == IPPROTO_AH:
                off += AH_HEADER_LEN
            if len(data) < off + 2:
                self.counters.rx_too_short += 1
                return
            vrid = data[off + 1]
        else:
            if len(data) < 2:
                self.counters.rx_too_short += 1
                return
            vrid = data[1]
        run = self.dispatch.get((pkt.ifname, pkt.family, vrid))
        if run is None:
            self.counters.rx_unknown_vrid += 1
            if self.log_unknown_vrids and self._drop_log_allowed(f"*{pkt.ifname}", None):
                src = f" from {pkt.src}" if pkt.src is not None else ""
                self.log.info(f"Unknown VRID({vrid}) received on interface({pkt.ifname}){src}. ignoring...")
            return
        if pkt.family == 4:
            event: Event = Ipv4DatagramReceived(bytes(data))
        else:
            dst = pkt.dst if pkt.dst is not None else run.machine.params.mcast_group
            event = PacketReceived(bytes(data), RxMeta(pkt.src, dst, pkt.hoplimit, None, IPPROTO_VRRP))
        self._deliver(run, event)

    # ---------------------------------------------------------------- links
    async def _watch_links(self) -> None:
        poller = addresses = None
        if self.linkbeat_interfaces():
            self.log.info("Using MII-BMSR/ETHTOOL NIC polling thread(s)...")
            poller = asyncio.get_running_loop().create_task(self._poll_links())
        if self.any_waiting() or any(o.kind == "saddr" for run in self.instances.values() for o in run.plan.tracked):
            addresses = asyncio.get_running_loop().create_task(self._watch_addresses())
        try:
            async for ev in self.net.link_events():
                self.on_link_event(ev)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            self.log.exception("link monitor failed")
        finally:
            for task in (poller, addresses):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def _watch_addresses(self) -> None:
        try:
            events = self.net.address_events()
            await self.check_sources()
            async for ev in events:
                await self.on_address_event(ev)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            self.log.exception("address monitor failed")

    async def check_sources(self) -> None:
        """track_src_ip at start: a configured source address that is not on its interface
        puts the instance in FAULT until it comes (keepalived.conf(5))."""
        for run in list(self.instances.values()):
            for obj in run.plan.tracked:
                if obj.kind != "saddr":
                    continue
                ifname, addr = obj.name.rsplit(" ", 1)
                have = {str(a.ip) for a in await self.net.addresses(ifname, 6 if ":" in addr else 4)}
                if addr not in have:
                    self.log.info(f"({run.name}) source address {addr} not on {ifname}")
                    self._deliver(run, TrackingChanged("saddr", obj.name, ok=False))

    async def on_address_event(self, ev: AddressEvent) -> None:
        """track_src_ip (keepalived_netlink.c netlink_if_address_filter): the configured
        source address leaving an interface left with no other address of its family
        (IPv6: no other link-local) takes the instance down - FAULT - until the address
        is back. While another address remains keepalived keeps the instance up; VIPs
        do not count (ignore_address_if_ours_or_link_local)."""
        if ev.added:
            self.attach_waiting(ev.ifname)  # dynamic_interfaces: it waited for an address
        name = saddr_name(ev.ifname, ev.address)
        runs = [run for run in self.instances.values()
                if any(o.kind == "saddr" and o.name == name for o in run.plan.tracked)]
        if not runs:
            return
        ok = ev.added
        if not ev.added:
            ours = {ip for run in self.instances.values() for ip in run.plan.addresses}
            left = [a for a in await self.net.addresses(ev.ifname, ev.address.version)
                    if a.ip != ev.address and a.ip not in ours]
            if ev.address.version == 6:
                left = [a for a in left if a.ip.is_link_local]
            if left:
                return
            self.log.info(f"Deassigned address {ev.address} from interface {ev.ifname}")
        for run in runs:
            self._deliver(run, TrackingChanged("saddr", name, ok=ok))

    def linkbeat_interfaces(self) -> frozenset[str]:
        """Interfaces polled instead of followed through netlink (plan.linkbeat_polled),
        from the configuration running now (a reload may change them)."""
        config = getattr(self, "config", None)
        if config is None:
            return frozenset()
        return linkbeat_polled(config, (run.plan for run in self.instances.values()))

    async def _poll_links(self) -> None:
        """keepalived's if_linkbeat_refresh_thread: every POLLING_DELAY."""
        while True:
            await asyncio.sleep(POLLING_DELAY_S)
            try:
                self.poll_links_once()
            except Exception:  # noqa: BLE001 - one bad probe must not stop the polling
                self.log.exception("linkbeat poll failed")

    def poll_links_once(self) -> None:
        """Probe each polled interface; a change is reported as keepalived's linkbeat
        does ('Linkbeat reports IF up|down') and handled as a netlink one would be."""
        for ifname in sorted(self.linkbeat_interfaces()):
            up = self.linkbeat_probe(ifname)
            known = ifname in self.link_up
            if self.link_up.get(ifname) == up:
                continue
            self.link_up[ifname] = up
            if known:
                self.log.info(f"Linkbeat reports {ifname} {'up' if up else 'down'}")
                self._link_changed(ifname, up)

    def on_link_event(self, ev: LinkEvent) -> None:
        up = ev.up and not ev.deleted
        self.links.forget_link(ev.ifname)  # its MAC is looked up again for the next GARP
        recreated = False
        if not ev.deleted:
            self.attach_waiting(ev.ifname)  # dynamic_interfaces (dynamic_if.py)
            try:
                if self.pool.rebind(ev.ifname, ev.index):
                    recreated = True
                    self.log.info(f"Interface {ev.ifname} re-created (index {ev.index}) - VRRP sockets reopened")
            except OSError as exc:
                self.log.error(f"Cannot reopen VRRP sockets on {ev.ifname}: {exc}")
        if ev.ifname in self.linkbeat_interfaces():
            return  # keepalived_netlink.c: the status of a polled interface is linkbeat's
        if ev.deleted:
            flags = 0  # keepalived: flags 0 means deleted
        elif ev.flags is not None:
            flags = ev.flags
        else:
            flags = (IFF_UP | IFF_RUNNING) if up else 0
        # interface_up_down_delays (link_delays.py): acted on now, later, or not at all
        if self.link_delays.offer(ev.ifname, flags, immediate=recreated):
            self._netlink_change(ev.ifname, up)

    def _netlink_change(self, ifname: str, up: bool) -> None:
        """process_interface_flags_change(): logged only for an interface some instance
        tracks (its own, its base's or a track_interface), as keepalived's tracking_vrrp."""
        self.link_up[ifname] = up
        if any(ifname in (run.plan.interface, run.plan.key[0]) or any(
                o.kind == "interface" and o.name == ifname for o in run.plan.tracked)
               for run in self.instances.values()):
            self.log.info(f"Netlink reports {ifname} {'up' if up else 'down'}")
        self._link_changed(ifname, up)

    def _link_changed(self, ifname: str, up: bool) -> None:
        event = InterfaceUp(ifname) if up else InterfaceDown(ifname)
        for run in list(self.instances.values()):
            if run.waiting and ifname == run.plan.interface:
                continue  # attached first (dynamic_if.py), then told
            tracks = ifname == run.plan.interface or any(
                o.kind == "interface" and o.name == ifname for o in run.plan.tracked)
            if tracks:
                self._deliver(run, event)

    def _drop_log_allowed(self, who: str, reason: DropReason | None) -> bool:
        """Dropped-packet lines are rate limited (drop_log.py) by who dropped the packet
        and why; the first line after a window reports what that window left out."""
        ok, suppressed = self._drop_log.allow((who, reason), self.clock.now())
        if suppressed:
            why = f" ({reason})" if reason is not None else ""
            self.log.info(f"({who}) {suppressed} more dropped packet messages suppressed{why}")
        return ok

    def _send_advert(self, act: SendAdvert) -> None:
        """Send on the instance's socket what was prepared for this very action: the
        machine hands back the same SendAdvert while its bytes do not change (machine
        _send_advert), so at steady state an advert is one sendto of bytes built once."""
        run = self.by_name.get(act.instance)
        if run is None or run.tx is None:
            return
        sock = run.tx
        cached = run.wire
        if cached is not None and cached[0] is act and cached[1] is sock.sock:
            prepared = cached[2]
        else:
            if act.datagrams:
                prepared = sock.prepare_datagrams(act.datagrams, act.dsts)
            else:
                ttl = run.plan.unicast_ttl if run.machine.params.unicast else 255
                prepared = sock.prepare(act.src, act.dsts, act.payloads, ttl)
            # keyed by the socket object too: an interface re-created gets a new one (rebind)
            run.wire = (act, sock.sock, prepared)
        if not sock.send_prepared(prepared):
            self.counters.tx_errors += 1
