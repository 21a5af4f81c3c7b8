"""The vrrp runtime's restart-without-failover glue (a mixin of VrrpRuntime).

Why apart: runtime.py keeps the lifecycle and the action executor; this part decides at
start which instances resume (adopt.py), begins them (machine.begin_resume: a short listen
for another master, then MASTER with an advert at once), tells the filter and the sync
daemon about a resumed MASTER (no notify carries it), and keeps the state file its
successor reads. A sync group resumes as a whole (adopt.decide_group): its members listen
from one start over the longest member's listen, and vrrp/sync_group.py resumes them or
sends them all to keepalived's start together.
"""

from __future__ import annotations

from typing import Any

from keepalived_py.vrrp.machine import State
from keepalived_py.vrrpd.adopt import (
    Decision,
    StateFile,
    config_digest,
    decide,
    decide_group,
    group_key,
)

# how long a resuming instance listens for another master, as a share of its advert_int:
# long enough to hear a master whose adverts are due, short enough that the first advert
# leaves within one interval of the start (a BACKUP waits 3 intervals + skew)
LISTEN_SHARE = 0.5


class ResumeMixin:
    """Needs of the host class: instances, by_name, net, clock, log, kernel, firewall,
    syncd, _execute(); sets `resume`, `state_file` (both may stay off)."""

    resume: bool = False
    state_file: StateFile | None = None
    _state_pending = False

    async def _resume_decisions(self, runs: list[Any]) -> None:
        """Mark each run that may resume (run.resume) and log why or why not."""
        for run in runs:
            run.digest = config_digest(run.machine.params)
        self._listening: set[str] = set()
        self._group_t0: dict[str, float] = {}
        if not self.resume:
            return
        records = self.state_file.load() if self.state_file is not None else {}
        present: dict[tuple[str, int], set] = {}
        mine: dict[str, Decision] = {}
        seen: set[str] = set()  # names with a VIP found
        for run in runs:
            for spec in run.plan.addresses.values():
                where = (spec.ifname, spec.address.version)
                if where not in present:
                    try:
                        present[where] = {a.ip for a in await self.net.addresses(*where)}
                    except Exception:  # noqa: BLE001 - no such link: nothing found there
                        present[where] = set()
            vips = frozenset(run.plan.addresses)
            found = frozenset(a for a, s in run.plan.addresses.items()
                              if a in present[(s.ifname, s.address.version)])
            mine[run.name] = decide(records.get(run.name), run.digest, vips, found,
                                    fault=run.machine.has_own_fault(), group=_group_of(run))
            if found:
                seen.add(run.name)
        groups = {id(r.sync): r.sync for r in runs if r.sync is not None}.values()
        for group in groups:
            gd = decide_group(group.name, {n: mine.get(n, Decision(False, "not set up"))
                                           for n in group.members})
            self.log.info(f"VRRP_Group({group.name}) {'resuming' if gd.adopt else 'not resuming'}: {gd.why}")
            if not gd.adopt:
                for n in group.members:
                    if n in mine and mine[n].adopt:
                        mine[n] = Decision(False, gd.why)
        for run in runs:
            d = mine[run.name]
            run.resume = d.adopt
            if d.adopt:
                self.log.info(f"({run.name}) resuming: {d.why}")
            elif records.get(run.name, {}).get("state") == "MASTER" or run.name in seen:
                self.log.info(f"({run.name}) not resuming ({d.why}): starting as keepalived does")

    def _begin_resume(self, run: Any) -> None:
        """A group's members listen from one start for the longest of their listens, so
        none resumes before another could have heard a master (sync_group.py resumes
        them together when the first listen ends)."""
        members = [self.by_name[n] for n in run.sync.members] if run.sync is not None else [run]
        listen_us = max(int(m.machine.params.advert_int_us * LISTEN_SHARE) for m in members)
        now = self.clock.now()
        if run.sync is not None:
            now = self._group_t0.setdefault(run.sync.name, now)
        self._listening.add(run.name)
        run.machine.begin_resume(now, listen_us)
        self._execute(run.machine.take_actions())
        self.write_state()

    def _resumed(self, run: Any, was_resuming: bool) -> None:
        """After a timer or packet that found `run` listening: every instance that ended
        its listen (the run's sync group ends them together) and is MASTER tells the
        filter and syncd (the transition's notify does it otherwise)."""
        if not was_resuming:
            return
        done = [n for n in self._listening
                if n not in self.by_name or not self.by_name[n].machine.resuming]
        if not done:
            return
        masters = []
        for name in done:
            self._listening.discard(name)
            other = self.by_name.get(name)
            if other is not None and other.machine.state == State.MASTER:
                self.firewall.state(name, "MASTER")
                masters.append((name, "MASTER"))
        if masters:
            self.syncd.states(masters)
        self.write_state()

    def write_state(self) -> None:
        """Record each instance's state and configuration digest for a successor's resume,
        once per loop iteration: a start of 255 instances is one write, not 255."""
        if self.state_file is None or self._state_pending:
            return
        self._state_pending = True
        self.loop.call_soon(self.flush_state)

    def flush_state(self) -> None:
        self._state_pending = False
        if self.state_file is None:
            return
        records: dict[str, dict[str, str]] = {}
        for run in self.instances.values():
            rec = {"state": State.MASTER.value if run.machine.resuming else run.machine.state.value,
                   "config": getattr(run, "digest", "")}
            group = _group_of(run)
            if group is not None:
                rec["group"] = group
            records[run.name] = rec
        self.state_file.write(records)


def _group_of(run: Any) -> str | None:
    sync = getattr(run, "sync", None)
    return group_key(sync.name, sync.members) if sync is not None else None
