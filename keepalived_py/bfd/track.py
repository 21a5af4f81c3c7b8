"""The receiving end of BfdState in the vrrp and check children.

keepalived's vrrp_handle_bfd_event: each event becomes a tracking report (kind "bfd", as
vrrp/tracking.py names track_bfd objects) for every instance and sync group tracking that
bfd_instance. Repeats are passed on, not filtered as keepalived does: the parent replays
the last states to a child once it is ready, and a report that arrived before the
runtime had its instances must not hide that replay (the tracking core ignores a report
that changes nothing). vrrp_tracked_bfds() is the other half: which track_bfd lines the
vrrp child keeps, with which weight and first state (vrrpd/plan.py asks).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from keepalived_py.bfd.accept import BFD_INAME_MAX, runnable
from keepalived_py.ipc.messages import BfdState
from keepalived_py.track.events import TrackingChanged
from keepalived_py.vrrp.tracking import TrackedObject


def _read_before(a: Any, b: Any) -> bool:
    """config/validate/vrrp_facts.read_before: a block at `a` is read before `b` (unknown
    across files: assume so)."""
    if a is None or b is None or a.file != b.file:
        return True
    return bool(a.line < b.line)


def _vrrp_bfds(bfd_instances: Any) -> dict[str, Any]:
    """The bfd_instance blocks keepalived's vrrp process keeps (its vrrp_track_bfds), by name
    in configuration order: a checker-only block is freed at its '}', so a later block may
    reuse its name."""
    known: dict[str, Any] = {}
    for b in bfd_instances or ():
        if len(b.name) <= BFD_INAME_MAX and b.name not in known and b.notify_vrrp:
            known[b.name] = b
    return known


def vrrp_track_bfd_lines(bfd_instances: Any, instances: Iterable[tuple[str, Iterable[TrackedObject]]],
                         groups: Iterable[tuple[str, Iterable[str], Iterable[TrackedObject]]],
                         bfd_up: Mapping[str, bool]) -> list[str]:
    """keepalived.data's '------< VRRP Track BFDs >------' (vrrp_data.c dump_vrrp_tracked_bfd):
    every bfd_instance the vrrp process keeps, its own weight, whether the vrrp child last
    heard it Up (`bfd_up`; never heard: down), and the instances tracking it with the weight
    each uses: the instances' own track_bfd lines in configuration order (`instances`: name
    and planned tracked objects), then each sync group's (`groups`: name, members, tracked),
    merged as add_vrrp_to_track_bfd does (the group's weight unless the instance's is 0)."""
    known = _vrrp_bfds(bfd_instances)
    users: dict[str, dict[str, tuple[int, bool]]] = {name: {} for name in known}
    for inst, tracked in instances:
        for o in tracked:
            if o.kind == "bfd" and o.name in users:
                users[o.name].setdefault(inst, (o.weight, o.reverse))
    for _group, members, tracked in groups:
        for o in tracked:
            if o.kind != "bfd" or o.name not in users:
                continue
            for m in members:
                old = users[o.name].get(m)
                if old is None or old[0] != 0:
                    users[o.name][m] = (o.weight, o.reverse)
    out: list[str] = []
    for name, b in known.items():
        weight, reverse = b.weight
        out += [f" VRRP Track BFD = {name}", f"   Weight = {weight}{' reverse' if reverse else ''}",
                f"   Bfd is {'up' if bfd_up.get(name) else 'down'}", "   Tracking VRRP instances :"]
        if users[name]:  # dump_tracking_obj_list's own heading, after dump_vrrp_tracked_bfd's
            out.append("   Tracking instances :")
            out += [f"     {inst}, weight {w}{' reverse' if r else ''}" for inst, (w, r) in users[name].items()]
    return ["------< VRRP Track BFDs >------", *out] if out else []


def vrrp_tracked_bfds(bfd_instances: Any, refs: Any, holder_pos: Any = None) -> list[TrackedObject]:
    """A vrrp_instance's or vrrp_sync_group's track_bfd lines as keepalived's vrrp process
    resolves them (alloc_track_bfd, alloc_vrrp_tracked_bfd, bfd_vrrp_end_handler):
    - only a bfd_instance read before the line, named at most 31 characters, not
      restricted to the checker (`checker` without `vrrp`) and the first such block of its
      name, is found; a line naming another, or repeating a name, is ignored (-t says so:
      config/validate/vrrp.py);
    - the weight and `reverse` are the bfd_instance's unless the line gives its own (a
      line's `weight N` without `reverse` keeps the instance's reverse);
    - the vrrp process starts with every bfd down (bfd_up false) until the bfd process
      reports it; one the bfd process does not run (no neighbour, duplicate address, ...)
      stays down for good, so it starts down here, while one with a session waits for the
      bfd child's first report (pending, as a respawned child waits for the replay)."""
    known = _vrrp_bfds(bfd_instances)
    # the sessions whose events reach the vrrp child (the bfd process keeps the first block
    # of a name, which may be another block than the vrrp process's)
    sessions = {b.name for b in runnable(bfd_instances) if b.notify_vrrp}
    out: list[TrackedObject] = []
    seen: set[str] = set()
    for ref in refs:
        b = known.get(ref.name)
        if b is None or not _read_before(b.pos, ref.pos or holder_pos) or ref.name in seen:
            continue
        seen.add(ref.name)
        weight, reverse = b.weight
        out.append(TrackedObject("bfd", ref.name, weight if ref.weight is None else ref.weight,
                                 reverse if ref.reverse is None else ref.reverse,
                                 None if b.name in sessions else False))
    return out


def _received(msg: BfdState, detail_log: Callable[[str], None] | None) -> None:
    """With -D, keepalived's vrrp and checker processes both say what they received."""
    if detail_log is not None:
        delivered = max(0, int((time.monotonic() - msg.sent_time) * 1_000_000)) if msg.sent_time else 0
        detail_log(f"Received BFD event: instance {msg.name} is in state {'Up' if msg.up else 'Down'} "
                   f"(delivered in {delivered} usec)")


def bfd_tracking(deliver: Callable[[TrackingChanged], None],
                 detail_log: Callable[[str], None] | None = None) -> Callable[[Any], None]:
    """A ctx.on_message hook turning BfdState into TrackingChanged("bfd", name, ok)."""
    def on_message(msg: Any) -> None:
        if not isinstance(msg, BfdState):
            return
        _received(msg, detail_log)
        deliver(TrackingChanged("bfd", msg.name, ok=msg.up))

    return on_message


def bfd_checking(deliver: Callable[[str, bool], None],
                 detail_log: Callable[[str], None] | None = None) -> Callable[[Any], None]:
    """The check child's hook: BfdState -> deliver(name, up) (CheckRuntime.bfd_event, which
    keeps the last state and lets BFD_CHECK ignore repeats as keepalived does)."""
    def on_message(msg: Any) -> None:
        if not isinstance(msg, BfdState):
            return
        _received(msg, detail_log)
        deliver(msg.name, msg.up)

    return on_message
