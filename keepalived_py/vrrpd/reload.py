"""A reload as a pure difference of instance plans, by key (interface, vrid, family).

`diff(old, new)` decides everything a reload changes; the runtime only applies the result:

- an instance whose plan is unchanged keeps running untouched (`keep`: the new plan, equal
  but for the model's source position, which the runtime adopts);
- an instance whose key is gone is retired with no replacement: the runtime stops it
  (priority 0, addresses released) and removes its VMAC;
- an instance whose plan changed is retired and replaced (`start`), keeping its state as
  keepalived's reload does: a MASTER stays MASTER and gives up only `release`, the
  addresses, routes and rules the new plan no longer has (or has with other options);
  its VMAC is rebuilt only if the VMAC changed;
- a new key is started.
Retirements come in the old configuration's order, starts in the new one's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from keepalived_py.vrrp.tracking import PRIO_OWNER, Tracking
from keepalived_py.vrrpd.ops import RemoveAddress, RemoveRoute, RemoveRule
from keepalived_py.vrrpd.plan import InstancePlan, Key

Release = RemoveAddress | RemoveRoute | RemoveRule


@dataclass(frozen=True, slots=True)
class Retire:
    """An old instance that goes away: removed from the configuration, or changed."""

    old: InstancePlan
    replacement: InstancePlan | None
    release: tuple[Release, ...]
    """What a MASTER must give up because the replacement lacks it (empty when removed:
    stopping the instance releases everything)."""

    @property
    def key(self) -> Key:
        return self.old.key

    @property
    def removed(self) -> bool:
        return self.replacement is None

    @property
    def remove_vmac(self) -> bool:
        return self.replacement is None or self.replacement.vmac != self.old.vmac

    def keeps_state(self, state: str | None) -> bool:
        """Whether the replacement goes on in `state` (the old instance's state word) as
        VrrpRuntime.reload() brings it back, so the reload preview can say so: a MASTER is
        put straight back to MASTER, a BACKUP restarts as BACKUP; but not when the
        replacement must wait in INIT for a tracker's first report (an unweighted
        track_script, a track_file), is in FAULT from its configuration, or (a BACKUP) now
        owns its addresses (priority 255 starts as MASTER). Other states are decided afresh.
        A tracker the old instance tracked has reported (the instance was MASTER or BACKUP,
        not waiting in INIT) and the runtime gives its last report to the replacement
        (VrrpRuntime._seed_tracking): only trackers new to the instance are awaited."""
        new = self.replacement
        if new is None or state not in ("MASTER", "BACKUP"):
            return False
        tracking = Tracking(new.tracked)
        for obj in self.old.tracked:
            tracking.update(obj.kind, obj.name, ok=True, value=0)
        if tracking.pending() or tracking.faults():
            return False
        return state == "MASTER" or new.base_params.get("priority") != PRIO_OWNER


@dataclass(frozen=True, slots=True)
class ReloadDelta:
    keep: tuple[InstancePlan, ...]
    retire: tuple[Retire, ...]
    start: tuple[InstancePlan, ...]

    @property
    def empty(self) -> bool:
        return not self.retire and not self.start


def released(old: InstancePlan, new: InstancePlan) -> tuple[Release, ...]:
    """What `old` installed as MASTER that `new` does not install the same way."""
    out: list[Release] = [RemoveAddress(spec, old.name) for ip, spec in old.addresses.items()
                          if new.addresses.get(ip) != spec]
    out += [RemoveRoute(route, old.name) for k, route in old.routes.items() if k not in new.routes]
    out += [RemoveRule(rule, old.name) for k, rule in old.rules.items() if k not in new.rules]
    return tuple(out)


def diff(old: Mapping[Key, InstancePlan], new: Mapping[Key, InstancePlan]) -> ReloadDelta:
    retire: list[Retire] = []
    kept: set[Key] = set()
    for key, was in old.items():
        now = new.get(key)
        if now is None:
            retire.append(Retire(was, None, ()))
        elif now.same_as(was):
            kept.add(key)
        else:
            retire.append(Retire(was, now, released(was, now)))
    keep = tuple(p for key, p in new.items() if key in kept)
    start = tuple(p for key, p in new.items() if key not in kept)
    return ReloadDelta(keep, tuple(retire), start)
