"""vrrp_sync_group: member instances move together (keepalived's vrrp_sync.c).

- a member becoming MASTER pulls every member that is not FAULT to MASTER, but only when
  every other member also wants MASTER (vrrp_sync_can_goto_master: prefer BACKUP rather
  than thrash);
- a member going BACKUP pushes the MASTER members to BACKUP;
- a member going FAULT pushes every member to FAULT, and none leaves FAULT until no member
  has a fault of its own;
- the group's own `track_*` objects are tracked by every member;
- every group state change runs the group notify ("GROUP name STATE"), after the
  members' own INSTANCE notifies: the triggering member's, then the others' in member
  order (vrrp_sync_master/backup/fault call send_group_notifies last);
- a member does not leave INIT while another member waits for its first tracking result
  (keepalived's num_member_init); the member that finishes last brings the others along;
- before its members start, the group takes BACKUP (FAULT when a member has a fault,
  MASTER when all are address owners) and notifies it first (begin());
- at shutdown the group sends "GROUP name STOP" (notify_shutdown, after the instances);
- keepalived-py's restart without a failover (vrrp/resume.py): the members of a group that
  was MASTER listen together; when the first listen ends without a master heard, every
  member resumes MASTER at once, with no sync, no notify and no GARP (the group was MASTER
  and stays so); when one member falls back (a master heard, a fault), every member falls
  back to keepalived's start, the group first taking its start state (begin()).
The group wraps its members' `handle`: route a member's events through `handle(member, ...)`.
"""

from __future__ import annotations

import dataclasses

from keepalived_py.vrrp.actions import Action, Log, RunNotify
from keepalived_py.vrrp.events import Event, Start, TrackingChanged
from keepalived_py.vrrp.machine import State, VrrpInstance
from keepalived_py.vrrp.tracking import TrackedObject

PRIO_OWNER = 255


def owner_member_weights(tracked: list[TrackedObject] | tuple[TrackedObject, ...],
                         priorities: list[int] | tuple[int, ...]) -> tuple[TrackedObject, ...]:
    """A group with an address owner among its members (vrrp.c sync_group_tracking_init):
    an owner runs no floating priority, so every weighted object the group tracks gets
    weight 0 (still tracked: down still means FAULT). `priorities` are the members'
    configured priorities; -t and the start log give keepalived 2.2.7's line for each
    (config/validate/vrrp_complete.py)."""
    objs = tuple(tracked)
    if PRIO_OWNER not in priorities:
        return objs
    return tuple(dataclasses.replace(o, weight=0) if o.weight else o for o in objs)


class SyncGroup:
    def __init__(self, name: str, members: list[VrrpInstance],
                 tracked: tuple[TrackedObject, ...] = ()) -> None:
        if len({m.name for m in members}) != len(members):
            raise ValueError(f"vrrp_sync_group {name}: duplicate members")
        self.name = name
        self.members: dict[str, VrrpInstance] = {m.name: m for m in members}
        self.state = State.INIT
        for m in members:
            m.sync = self
            for obj in tracked:
                m.add_tracked(obj)

    # ------------------------------------------------------------ hooks used by members
    def can_goto_master(self, inst: VrrpInstance) -> bool:
        if self.state == State.MASTER:
            return True
        return all(o.wantstate == State.MASTER for o in self.members.values() if o is not inst)

    def member_init_pending(self, inst: VrrpInstance) -> bool:
        """Another member still waits for a first tracking result (num_member_init)."""
        return any(o.tracking.pending() for o in self.members.values() if o is not inst)

    def may_leave_fault(self, inst: VrrpInstance) -> bool:
        return not any(o.has_own_fault() for o in self.members.values() if o is not inst)

    def lower_prio_garp(self, inst: VrrpInstance, now: float) -> None:
        """A master member saw a lower-priority advert: the others refresh their ARP / ND
        entries too, with their own garp_lower_prio_* settings (keepalived's master_rx)."""
        for o in self.members.values():
            if o is not inst:
                o.lower_prio_link_update(now)

    # ------------------------------------------------------------ driving
    def handle(self, member: str, event: Event, now: float) -> list[Action]:
        """Deliver `event` to `member`, then bring the group in line."""
        inst = self.members[member]
        before = {n: m.state for n, m in self.members.items()}
        resuming = inst.resuming
        out = inst.handle(event, now)
        if resuming and not inst.resuming:
            out = self._resume_outcome(inst, out, now)
        out += self._collect_others(inst)
        out += self._sync(inst, before, now)
        return out

    def handle_group_tracking(self, event: TrackingChanged, now: float) -> list[Action]:
        """A group-level track_* object changed: every member sees it."""
        out: list[Action] = []
        for name in self.members:
            out += self.handle(name, event, now)
        return out

    def begin(self) -> list[Action]:
        """The group's state before its members start, and its notify (keepalived's
        vrrp_sync_set_group() then vrrp_init_state(): the groups in BACKUP or FAULT
        notify before any instance does). MASTER only when every member is an address
        owner (that group notifies nothing now, nor when its members become MASTER);
        FAULT when a member already has a fault; still INIT, silent, while a member waits
        for its first tracking result."""
        if self.state != State.INIT:
            return []
        members = list(self.members.values())
        owners = all(m.wantstate == State.MASTER and m.base_priority == 255 for m in members)
        self.state = State.MASTER if members and owners else State.BACKUP
        if any(m.has_own_fault() for m in members):
            self.state = State.FAULT
        elif any(m.tracking.pending() for m in members):
            self.state = State.INIT  # vrrp_track.c: num_member_init; notified on leaving it
        if self.state in (State.MASTER, State.INIT):
            return []
        return [RunNotify("GROUP", self.name, self.state.value, 0)]

    def start(self, now: float) -> list[Action]:
        out: list[Action] = self.begin()
        for name in self.members:
            out += self.handle(name, Start(), now)
        return out

    def stop(self) -> list[Action]:
        """notify_shutdown: once the members sent their STOP, the group sends its own."""
        self.state = State.STOP
        return [RunNotify("GROUP", self.name, State.STOP.value, 0)]

    def _resume_outcome(self, inst: VrrpInstance, out: list[Action], now: float) -> list[Action]:
        """`inst` ended its listen: the others follow it, resumed or fallen back."""
        others = [o for o in self.members.values() if o is not inst and o.resuming]
        if inst.state == State.MASTER:
            self.state = State.MASTER
            for o in others:
                o.resume_master(now)
            return [*out, Log(f"VRRP_Group({self.name}) Resumed MASTER state with every member")]
        front = self.begin()
        for o in others:
            o.resume_fallback(now, f"sync group {self.name}: {inst.name} did not resume")
        return [*front, *out]

    def _collect_others(self, inst: VrrpInstance) -> list[Action]:
        out: list[Action] = []
        for o in self.members.values():
            if o is not inst:
                out += o.take_actions()
        return out

    def _set_group_state(self, state: State, out: list[Action]) -> bool:
        """Log the sync; the caller appends the GROUP notify after the members' actions."""
        if self.state == state:
            return False
        self.state = state
        out.append(Log(f"VRRP_Group({self.name}) Syncing instances to {state.value} state"))
        return True

    def _sync(self, inst: VrrpInstance, before: dict[str, State], now: float) -> list[Action]:
        out: list[Action] = []
        if inst.state == before[inst.name] and inst.state == self.state:
            return out
        others = [o for o in self.members.values() if o is not inst]
        changed = False
        if inst.state == State.FAULT:
            changed = self._set_group_state(State.FAULT, out)
            for o in others:
                if o.state in (State.MASTER, State.BACKUP, State.INIT) and o.started:
                    o.enter_fault(now)
                    out += o.take_actions()
        elif inst.state == State.MASTER:
            changed = self._set_group_state(State.MASTER, out)
            for o in others:
                if o.state in (State.BACKUP, State.INIT) and o.started and not o.tracking.pending():
                    o.goto_master(now, forced=True)
                    out += o.take_actions()
        elif inst.state == State.BACKUP:
            changed = self._set_group_state(State.BACKUP, out)
            for o in others:
                if o.state == State.MASTER:
                    o.leave_master(now, State.BACKUP, False)
                elif (o.state == State.FAULT or (o.state == State.INIT and o.started
                                                 and not o.tracking.pending())) \
                        and not o.has_own_fault() and self.may_leave_fault(o):
                    o.leave_fault(now)
                out += o.take_actions()
        if changed:
            out.append(RunNotify("GROUP", self.name, self.state.value, 0))
        return out
