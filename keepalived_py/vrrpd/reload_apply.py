"""Reload and tracker reports for the vrrp runtime (a mixin of VrrpRuntime).

Why apart: runtime.py keeps the lifecycle, instance set-up and the action executor; this
part applies a reload (the pure diff of reload.py: unchanged instances alone, removed ones
stopped with a DELETED notify, changed and new ones started, a MASTER put back to MASTER),
writes fifo_write_vrrp_states_on_reload's lines, and passes tracker reports on, keeping
each tracker's last report for the instances a reload rebuilds (keepalived keeps a script's
result across a reload).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keepalived_py.track.events import RunNotify as Notify
from keepalived_py.vrrp.events import Stop, TrackingChanged
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrpd.plan import Key, plan_all
from keepalived_py.vrrpd.reload import diff
from keepalived_py.vrrpd.reload_fifo import reload_fifo_notes

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig
    from keepalived_py.vrrp.actions import Action
    from keepalived_py.vrrpd.running import Running


class ReloadMixin:
    """Needs of the host class: instances, by_name, groups, kernel, log, clock, notifier,
    config, link_delays, _tracking_seen and the runtime's instance helpers (_create,
    _destroy, _drain, _cancel_timers, _configure_extras, _rebuild_index, _build_groups,
    _begin_groups, _start_instance, _deliver, _execute, set_dynamic_interfaces,
    write_state)."""

    instances: dict[Key, Any]
    _tracking_seen: dict[tuple[str, str], TrackingChanged]

    async def reload(self, config: KeepalivedConfig, disabled: set[tuple[str, str]] = frozenset()) -> None:
        """Apply the difference by key (reload.py decides it): unchanged instances keep
        running untouched; removed ones stop (priority 0, addresses released); new ones
        start; a changed one is rebuilt but a MASTER stays MASTER, giving up only what the
        new configuration dropped."""
        delta = diff({key: run.plan for key, run in self.instances.items()}, plan_all(config, disabled))
        self.set_dynamic_interfaces(config)
        states_before = ({name: g.state for name, g in self.groups.items()},
                         {run.name: run.machine.state for run in self.instances.values()})
        was_master: set[Key] = set()
        for ret in delta.retire:
            run = self.instances[ret.key]
            if ret.removed:
                self.log.info(f"({run.name}) removed from the configuration - stopping it")
                self._delete(run)
            elif run.machine.state == State.MASTER:
                was_master.add(ret.key)
                for op in ret.release:
                    self.kernel.put(op)
            self._cancel_timers(run)
            await self._drain(3.0)
            await self._destroy(run, remove_vmac=ret.remove_vmac)
            del self.instances[ret.key]
        self._configure_extras(config, start=False)
        for plan in delta.keep:
            self.instances[plan.key].plan = plan  # same values; the model's new source position
        started = []
        for plan in delta.start:
            run = await self._create(plan)
            if run is not None:
                self.instances[plan.key] = run
                started.append(run)
                self.link_delays.check_instance(plan)
        self._rebuild_index()
        self._build_groups(config, only=started)
        self._begin_groups(started)
        for run in started:
            self._seed_tracking(run)
            self._start_instance(run)
            if run.plan.key in was_master and run.machine.state == State.BACKUP:
                run.machine.goto_master(self.clock.now(), forced=True)
                self._execute(run.machine.take_actions())
        self.config = config
        if config.global_defs is not None and config.global_defs.fifo_write_vrrp_states_on_reload:
            self._fifo_states(config, *states_before)
        self.write_state()

    def _fifo_states(self, config: KeepalivedConfig, groups_before: dict, instances_before: dict) -> None:
        """fifo_write_vrrp_states_on_reload (reload_fifo.py): FIFO lines only, no scripts or mail."""
        runs = [self.by_name[i.name] for i in config.vrrp_instance if i.name in self.by_name]
        groups = [(sg.name, self.groups[sg.name].state) for sg in config.vrrp_sync_group if sg.name in self.groups]
        notes = reload_fifo_notes(groups, groups_before, [(r.name, r.machine.state, r.machine.effective_priority)
                                                          for r in runs], instances_before)
        if self.notifier is not None:
            for note in notes:
                self.notifier.handle(note)

    def _delete(self, run: Running) -> None:
        """An instance gone from the configuration at a reload (vrrp.c clear_diff_vrrp):
        released like a stop, but its notify says DELETED, not STOP, and an instance in
        FAULT says nothing unless it has notify_deleted."""
        was = run.machine.state
        actions = run.machine.handle(Stop(), self.clock.now())
        deleted = run.plan.model.notify_deleted or was != State.FAULT
        out: list[Action] = []
        for act in actions:
            if isinstance(act, Notify) and act.kind == "INSTANCE" and act.name == run.name and act.state == "STOP":
                if deleted:
                    out.append(Notify("INSTANCE", run.name, "DELETED", act.priority))
                continue
            out.append(act)
        self._execute(out)

    def deliver_tracking(self, event: TrackingChanged) -> None:
        """A tracker's report (trackers.py emit): every instance tracking it hears it."""
        self._tracking_seen[(event.kind, event.name)] = event
        for run in list(self.instances.values()):
            self._deliver(run, event)

    def _seed_tracking(self, run: Running) -> None:
        """Before a reload starts a new or rebuilt instance, it hears the last report of
        every tracker it tracks that has reported: keepalived keeps a script's result
        across a reload (clear_diff_script), so a changed MASTER tracking an unweighted
        script is not held in INIT for a report, and is put back to MASTER like any other
        (the trackers' reports after the reload then only confirm it)."""
        now = self.clock.now()
        for key in run.machine.tracking.objects:
            event = self._tracking_seen.get(key)
            if event is not None:
                self._execute(run.machine.handle(event, now))
