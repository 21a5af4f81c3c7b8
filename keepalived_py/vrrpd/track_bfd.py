"""Which track_bfd lines the vrrp child keeps, and its keepalived.data section for them.

The vrrp-side half of BFD tracking: mapping configuration to TrackedObject plans is the
vrrp child's business (vrrpd/plan.py asks), so it lives here rather than in bfd/, whose
track.py the check child imports and which must not load the VRRP core (issue 13;
tests/unit/test_check_import_boundary.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from keepalived_py.bfd.accept import BFD_INAME_MAX, runnable
from keepalived_py.vrrp.tracking import TrackedObject

if TYPE_CHECKING:
    from keepalived_py.config.model.bfd import BfdInstance
    from keepalived_py.config.model.vrrp_types import TrackRef
    from keepalived_py.errors import SourcePos


def _read_before(a: SourcePos | None, b: SourcePos | None) -> bool:
    """config/validate/vrrp_facts.read_before: a block at `a` is read before `b` (unknown
    across files: assume so)."""
    if a is None or b is None or a.file != b.file:
        return True
    return bool(a.line < b.line)


def _vrrp_bfds(bfd_instances: Iterable[BfdInstance] | None) -> dict[str, BfdInstance]:
    """The bfd_instance blocks keepalived's vrrp process keeps (its vrrp_track_bfds), by name
    in configuration order: a checker-only block is freed at its '}', so a later block may
    reuse its name."""
    known: dict[str, BfdInstance] = {}
    for b in bfd_instances or ():
        if len(b.name) <= BFD_INAME_MAX and b.name not in known and b.notify_vrrp:
            known[b.name] = b
    return known


def vrrp_track_bfd_lines(bfd_instances: Iterable[BfdInstance] | None,
                         instances: Iterable[tuple[str, Iterable[TrackedObject]]],
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


def vrrp_tracked_bfds(bfd_instances: Iterable[BfdInstance] | None, refs: Iterable[TrackRef],
                      holder_pos: SourcePos | None = None) -> list[TrackedObject]:
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
