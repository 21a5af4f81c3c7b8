"""Tracking arithmetic: effective priority and fault from track_* objects.

keepalived semantics (vrrp_track.c):
- weight 0: the object failing puts the instance in FAULT (with `reverse`, succeeding does);
- weight > 0: added while the object is up (`reverse` subtracts instead);
- weight < 0: added (so subtracted) while the object is down (`reverse` negates);
- track_file: value * weight (* -1 if reverse) is added; with weight 0 a non-zero value is a
  fault; a total at or below -254 is a fault as well;
- effective priority = base + contributions, clamped to 1..254; an owner (255) stays 255.
An object never reported yet is pending: weighted ones add nothing, unweighted ones hold
the instance in INIT (keepalived's num_script_init).
"""

from __future__ import annotations

from dataclasses import dataclass

PRIO_OWNER = 255
FILE_FAULT_AT = -254


@dataclass(frozen=True, slots=True)
class TrackedObject:
    kind: str  # interface, script, file, process, bfd
    name: str
    weight: int = 0
    reverse: bool = False
    initially_ok: bool | None = True
    """Status before the first report: True/False, or None to wait for it (scripts)."""


@dataclass(frozen=True, slots=True)
class TrackStatus:
    ok: bool | None
    value: int = 0


def contribution(obj: TrackedObject, st: TrackStatus) -> int:
    """What `obj` adds to the priority in status `st`."""
    mult = -1 if obj.reverse else 1
    if obj.kind == "file":
        return st.value * obj.weight * mult if st.ok is not None else 0
    if obj.weight == 0 or st.ok is None:
        return 0
    if obj.weight > 0:
        return obj.weight * mult if st.ok else 0
    return 0 if st.ok else obj.weight * mult


def is_fault(obj: TrackedObject, st: TrackStatus) -> bool:
    if st.ok is None:
        return False
    if obj.kind == "file":
        if obj.weight == 0:
            return (st.value != 0) != obj.reverse
        return contribution(obj, st) <= FILE_FAULT_AT
    if obj.weight != 0:
        return False
    return st.ok == obj.reverse


def clamp_priority(base: int, total: int) -> int:
    """keepalived's vrrp_set_effective_priority."""
    if base == PRIO_OWNER:
        return PRIO_OWNER
    return max(1, min(PRIO_OWNER - 1, base + total))


class Tracking:
    """The current status of every object one instance tracks."""

    def __init__(self, objects: tuple[TrackedObject, ...] = ()) -> None:
        self.objects: dict[tuple[str, str], TrackedObject] = {}
        self.status: dict[tuple[str, str], TrackStatus] = {}
        for obj in objects:
            self.add(obj)

    def add(self, obj: TrackedObject) -> None:
        key = (obj.kind, obj.name)
        # keepalived (add_vrrp_to_track_script/_bfd/_process, add_obj_to_track_file,
        # add_vrrp_to_interface): tracked on both the instance (added first) and its sync
        # group -> one entry, the group's weight and reverse unless the instance's is unweighted
        if key in self.objects and self.objects[key].weight == 0:
            return
        self.objects[key] = obj
        self.status.setdefault(key, TrackStatus(obj.initially_ok))

    def update(self, kind: str, name: str, ok: bool | None = None, value: int | None = None) -> bool:
        """Record a report; True if this instance tracks the object."""
        key = (kind, name)
        if key not in self.objects:
            return False
        if kind == "file":
            self.status[key] = TrackStatus(True, int(value or 0))
        else:
            self.status[key] = TrackStatus(bool(ok) if ok is not None else True, 0)
        return True

    def total_weight(self) -> int:
        return sum(contribution(o, self.status[k]) for k, o in self.objects.items())

    def faults(self) -> list[str]:
        """Names of the objects currently putting the instance in FAULT."""
        return [f"{k[0]} {k[1]}" for k, o in self.objects.items() if is_fault(o, self.status[k])]

    def pending(self) -> list[str]:
        """Unweighted objects not yet reported: the instance waits in INIT for them."""
        return [f"{k[0]} {k[1]}" for k, o in self.objects.items()
                if self.status[k].ok is None and (o.weight == 0 or o.kind == "file")]
