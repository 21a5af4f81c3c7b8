"""The vrrp runtime's restart-without-failover glue (a mixin of VrrpRuntime).

Why apart: runtime.py keeps the lifecycle and the action executor; this part decides at
start which instances resume (adopt.py), begins them (machine.begin_resume: a short listen
for another master, then MASTER with an advert at once), tells the filter and the sync
daemon about a resumed MASTER (no notify carries it), and keeps the state file its
successor reads.
"""

from __future__ import annotations

from typing import Any

from keepalived_py.vrrp.machine import State
from keepalived_py.vrrpd.adopt import StateFile, config_digest, decide

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
        if not self.resume:
            return
        records = self.state_file.load() if self.state_file is not None else {}
        present: dict[tuple[str, int], set] = {}
        for run in runs:
            specs = list(run.plan.addresses.values())
            for spec in specs:
                where = (spec.ifname, spec.address.version)
                if where not in present:
                    try:
                        present[where] = {a.ip for a in await self.net.addresses(*where)}
                    except Exception:  # noqa: BLE001 - no such link: nothing found there
                        present[where] = set()
            vips = frozenset(run.plan.addresses)
            found = frozenset(a for a, s in run.plan.addresses.items()
                              if a in present[(s.ifname, s.address.version)])
            d = decide(records.get(run.name), run.digest, vips, found,
                       in_sync_group=run.sync is not None, fault=run.machine.has_own_fault())
            run.resume = d.adopt
            if d.adopt:
                self.log.info(f"({run.name}) resuming: {d.why}")
            elif records.get(run.name, {}).get("state") == "MASTER" or found:
                self.log.info(f"({run.name}) not resuming ({d.why}): starting as keepalived does")

    def _begin_resume(self, run: Any) -> None:
        listen_us = int(run.machine.params.advert_int_us * LISTEN_SHARE)
        run.machine.begin_resume(self.clock.now(), listen_us)
        self._execute(run.machine.take_actions())
        self.write_state()

    def _resumed(self, run: Any, was_resuming: bool) -> None:
        """After a timer or packet: a resumed MASTER tells the filter and syncd (the
        transition's notify does it otherwise)."""
        if was_resuming and not run.machine.resuming:
            if run.machine.state == State.MASTER:
                self.firewall.state(run.name, "MASTER")
                self.syncd.states([(run.name, "MASTER")])
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
        self.state_file.write({
            run.name: {"state": State.MASTER.value if run.machine.resuming else run.machine.state.value,
                       "config": getattr(run, "digest", "")}
            for run in self.instances.values()})
