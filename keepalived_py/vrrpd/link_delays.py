"""`interface_up_down_delays`: a link's up or down is acted on only once it has lasted the
interface's delay, as keepalived 2.2.7's update_interface_flags() debounces netlink reports.

Why: a flapping link (a switch port renegotiating, a bond member) would otherwise move VRRP
instances on every blip. keepalived's rules, kept here (keepalived_netlink.c):
- the flags last acted on are the interface's; a report with those same flags cancels a
  pending change silently (the link came back before its delay ran out);
- while a change is pending, a report of the same up/down only updates the pending flags;
  one of the other direction cancels it ("Delay timer for IF cancelled") and, as the link is
  then back to what was acted on, nothing else happens;
- a change of up/down waits for the delay of its direction (down: the first number, up: the
  second, 0 when omitted) once the interface has been seen up, logging "IF: Adding flags
  change from 0xOLD to 0xNEW delay by USEC"; with no delay, or an interface never seen up,
  it is acted on at once;
- a re-created interface (a new index) is acted on at once;
- an instance's own interface may not delay as long as (down_timer_adverts - 1) adverts:
  when the configuration is read, longer delays are cut to that less 1/256 of an advert
  ("VI: interface IF debounce timer(s) not less that N * advert_int - resetting"), and with
  down_timer_adverts 1 dropped (vrrp.c vrrp_complete_instance, check_debounce_timers).
"Up" is IFF_UP and IFF_RUNNING both. Not copied: the same cut again when a VRRPv3 master
advertises a lower interval than ours (update_master_adver_int).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

IFF_UP = 0x1
IFF_RUNNING = 0x40


def flags_up(flags: int) -> bool:
    return (flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING)


class LinkDelays:
    """Per-interface debounce state; `apply(ifname, up)` is called when a change is acted on
    after its delay (a change acted on at once is the caller's, from offer())."""

    def __init__(self, scheduler: Any, clock: Any, log: Callable[[str], None],
                 apply: Callable[[str, bool], None]) -> None:
        self.scheduler = scheduler
        self.clock = clock
        self.log = log
        self.apply = apply
        self.delays: dict[str, tuple[float, float]] = {}  # ifname -> (down, up) seconds
        self.flags: dict[str, int] = {}  # flags last acted on (keepalived's ifp->ifi_flags)
        self.seen_up: set[str] = set()
        self.pending: dict[str, list[Any]] = {}  # ifname -> [flags, timer handle]

    def configure(self, config: KeepalivedConfig, plans: Any = ()) -> None:
        """The configuration's delays, cut for the instances' own interfaces (`plans`)."""
        self.delays = {d.interface: (d.down_delay, d.effective_up_delay)
                       for d in getattr(config, "interface_up_down_delays", ())}
        for plan in plans:
            self.check_instance(plan)

    def check_instance(self, plan: Any) -> None:
        """vrrp_complete_instance(): the delays of the instance's interface (and its base)
        stay below (down_timer_adverts - 1) adverts (TIMER_HZ units, as keepalived)."""
        adverts = int(plan.base_params.get("down_timer_adverts", 3))
        advert_us = round(float(plan.base_params.get("advert_int_s", 1.0)) * 1_000_000)
        base, own = plan.key[0], plan.interface
        if adverts == 1:
            if any(self.delays.get(base, (0.0, 0.0))):
                self.log(f"{plan.name}: cannot use debounce timers with down_timer_adverts = 1 - resetting")
                self.delays[base] = (0.0, 0.0)
                if own != base and own in self.delays:
                    self.delays[own] = (0.0, 0.0)
            return
        limit = (adverts - 1) * advert_us
        changed = False

        def over(seconds: float) -> bool:
            return round(seconds * 1_000_000) >= limit
        if base in self.delays and any(over(x) for x in self.delays[base]):
            changed = True
            cut = (limit - advert_us // 256) / 1_000_000
            self.delays[base] = tuple(cut if over(x) else x for x in self.delays[base])  # type: ignore[assignment]
        if own != base and own in self.delays and any(over(x) for x in self.delays[own]):
            changed = True
            fallback = self.delays.get(base, (0.0, 0.0))
            self.delays[own] = tuple(fallback[i] if over(x) else x  # type: ignore[assignment]
                                     for i, x in enumerate(self.delays[own]))
        if changed:
            self.log(f"{plan.name}: interface {own} debounce timer(s) not less that {adverts - 1} * advert_int "
                     "- resetting")

    def known(self, ifname: str, flags: int) -> None:
        """The state read when an instance starts (netlink_if_link_populate)."""
        if ifname not in self.flags:
            self.flags[ifname] = flags
        if flags_up(flags):
            self.seen_up.add(ifname)

    def offer(self, ifname: str, flags: int, immediate: bool = False) -> bool:
        """A netlink report of the link's flags: True when the caller acts on it now."""
        current = self.flags.get(ifname)
        pending = self.pending.get(ifname)
        if flags == current or immediate:
            if pending is not None:
                self._cancel(ifname)
                pending = None
            if not immediate:
                return False
        now_up = flags_up(flags)
        if pending is not None:
            if flags == pending[0]:
                return False
            if flags_up(pending[0]) == now_up:
                pending[0] = flags
                return False
            self._cancel(ifname)
            self.log(f"Delay timer for {ifname} cancelled")
        if current is None:  # first sight (an interface no instance had read yet)
            self.known(ifname, flags)
            return False
        if flags_up(current) == now_up:
            return False
        down, up = self.delays.get(ifname, (0.0, 0.0))
        delay = up if now_up else down
        if ifname in self.seen_up and delay and not immediate:
            entry: list[Any] = [flags, None]
            entry[1] = self.scheduler.call_at(self.clock.now() + delay, self._fire, ifname, entry)
            self.pending[ifname] = entry
            self.log(f"{ifname}: Adding flags change from 0x{current:x} to 0x{flags:x} delay by {round(delay * 1e6)}")
            return False
        self._acted(ifname, flags)
        return True

    def _acted(self, ifname: str, flags: int) -> None:
        self.flags[ifname] = flags
        if flags_up(flags):
            self.seen_up.add(ifname)

    def _fire(self, ifname: str, entry: list[Any]) -> None:
        if self.pending.get(ifname) is not entry:
            return
        del self.pending[ifname]
        self._acted(ifname, entry[0])
        self.apply(ifname, flags_up(entry[0]))

    def _cancel(self, ifname: str) -> None:
        entry = self.pending.pop(ifname)
        if entry[1] is not None:
            entry[1].cancel()

    def cancel_all(self) -> None:
        for ifname in list(self.pending):
            self._cancel(ifname)
