"""The VRRP child's trackers: vrrp_script, track_file and vrrp_track_process.

Each tracker turns the world into `TrackingChanged` events for the instances
(keepalived_py/vrrp/tracking.py, the VRRP core, does the arithmetic). Kinds are the ones tracking.py keys
objects by: "script" (ok), "file" (value), "process" (ok = quorum held). One event per change
of an object's state, plus its initial state:
- a script reports nothing until its first result (instances wait in INIT for unweighted
  ones, keepalived's num_script_init); `init_fail` changes nothing, as in keepalived 2.2.7
  (see _init_fail());
- a file reports the value read at start-up (0 when absent);
- a process reports whether the quorum holds at start-up.

Only objects some vrrp_instance or vrrp_sync_group tracks are run ("Warning - script %s is
not used"). Scripts that keepalived's check_script_secure() refuses (missing, not
executable, or insecure with enable_script_security) are disabled: `disabled` lists them,
and a runtime must not wait for them (keepalived removes them from the instances).

Integration (vrrpd/runtime.py, vrrpd/daemon.py):
    trackers = Trackers(runner)              # one ScriptRunner shared with the Notifier
    disabled = trackers.prepare(config)      # optional: before building the instances
    # TrackedObject("script", name, weight, reverse, initially_ok=None) for every tracked
    # script not in `disabled` (None: no result yet, as keepalived's INIT); files and
    # processes report their initial state from start() itself
    await trackers.start(config, emit)       # emit(TrackingChanged) -> instance.handle()
    ... send Start to the instances ...
    await trackers.reload(new_config); await trackers.stop()
emit is called from the event loop (never from a thread); it must not block.

vrrp_script scheduling is keepalived's vrrp_script_thread(): first run at start-up, then
every `interval` seconds counted from the previous start; the timeout is `timeout` or, if
unset, `interval`; a run still going when the next is due is skipped ("Track script %s is
already running, expect idle - skipping run"; keepalived 2.2.7 logs this but starts a
second copy anyway, which we do not).

Time comes from the injected `clock` and `scheduler` (keepalived_py/clock.py): the runtime
passes nothing and gets the monotonic clock and the event loop's timers; tests pass a
FakeScheduler and a fake runner and move time by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from keepalived_py.clock import Clock, LoopScheduler, MonotonicClock, Scheduler, Timer
from keepalived_py.scripts.quoting import cmd_str
from keepalived_py.scripts.runner import Script, ScriptResult, ScriptRunner
from keepalived_py.scripts.security import SC_INSECURE, SC_ISSCRIPT, security_violation
from keepalived_py.track.events import TrackingChanged
from keepalived_py.track.file_watch import POLL_INTERVAL, FileWatcher, init_file, resolve_path
from keepalived_py.track.process_watch import SCAN_INTERVAL, ProcessSpec, ProcessWatcher
from keepalived_py.track.script_state import ScriptState, next_run

log = logging.getLogger("keepalived_py.track.trackers")

KIND_SCRIPT = "script"
KIND_FILE = "file"
KIND_PROCESS = "process"

Emit = Callable[[TrackingChanged], None]


def _tracked_names(config, attr: str) -> set[str]:
    names: set[str] = set()
    for holder in tuple(getattr(config, "vrrp_instance", ())) + tuple(getattr(config, "vrrp_sync_group", ())):
        for ref in getattr(holder, attr, ()) or ():
            names.add(ref.name)
    return names


def _init_fail(vs) -> bool:
    """keepalived 2.2.7 parses init_fail (init_state FAILED) but alloc_track_script() sets
    init_state back to INIT (INIT_RELOAD) for every script an instance or sync group tracks,
    and only tracked scripts run: init_fail never takes effect. Checked against keepalived
    (tests/integration/test_track_keepalived_differential.py); ScriptState keeps the
    intended meaning for when that changes."""
    return False


def _script_key(vs) -> tuple:
    """What makes a vrrp_script's runs differ (weights belong to the instances)."""
    return (vs.script, vs.interval, vs.timeout, vs.user, vs.rise, vs.fall, vs.init_fail)


@dataclass
class _ScriptTracker:
    name: str
    model: object
    script: Script
    state: ScriptState
    interval: float
    timeout: float
    last_status: int = 0
    running: bool = False
    runs: int = 0
    last_result: ScriptResult | None = None
    #: when the current run was due (the next one is due `interval` later)
    due: float = 0.0
    stopped: bool = False
    timer: Timer | None = field(default=None, repr=False)
    run_task: asyncio.Task | None = field(default=None, repr=False)


class Trackers:
    """Runs the tracked objects of one configuration; see the module docstring."""

    def __init__(self, runner: ScriptRunner | None = None, *, process_scan_interval: float = SCAN_INTERVAL,
                 file_poll_interval: float = POLL_INTERVAL, use_inotify: bool = True,
                 clock: Clock | None = None, scheduler: Scheduler | None = None,
                 log_fn: Callable[[str], None] | None = None) -> None:
        self.runner = runner
        #: a runner given by the caller may be shared (with the Notifier): stop() leaves it be
        self._owns_runner = runner is None
        self.process_scan_interval = process_scan_interval
        self.file_poll_interval = file_poll_interval
        self.use_inotify = use_inotify
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        #: None: the running loop's timers, from start() on
        self.scheduler = scheduler
        self._log = log_fn or log.info
        self._emit: Emit | None = None
        self.scripts: dict[str, _ScriptTracker] = {}
        self.files: FileWatcher | None = None
        self.file_paths: dict[str, tuple[str, tuple | None]] = {}
        self.processes: ProcessWatcher | None = None
        self.process_specs: dict[str, ProcessSpec] = {}
        #: (kind, name) of objects keepalived would drop from the instances
        self.disabled: set[tuple[str, str]] = set()
        #: check_script_secure() flags of all the scripts prepared
        self.script_flags = 0
        self._prepared: dict[str, tuple[object, Script | None]] = {}
        self._config = None

    # ------------------------------------------------------------------ events
    def _send(self, kind: str, name: str, ok: bool | None = None, value: int | None = None) -> None:
        if self._emit is None:
            return
        try:
            self._emit(TrackingChanged(kind, name, ok=ok, value=value))
        except Exception:  # noqa: BLE001 - a consumer's bug must not stop the tracker
            log.exception("emitting %s %s failed", kind, name)

    # ------------------------------------------------------------------ preparing
    def prepare(self, config) -> set[tuple[str, str]]:
        """Resolve users and check the scripts (keepalived does this while loading the
        configuration); returns `disabled`. start() calls it if the runtime did not."""
        if self.runner is None:
            self.runner = ScriptRunner(log_fn=self._log)
        self.runner.configure(config)
        self._config = config
        self._prepared = {}
        self.disabled = set()
        self.script_flags = 0
        used = _tracked_names(config, "track_script")
        for vs in getattr(config, "vrrp_script", ()):
            # keepalived checks every vrrp_script (check_vrrp_script_security()) before it
            # drops the unused ones ("Warning - script %s is not used")
            script = self._prepare_script(vs)
            if vs.name not in used:
                self._log(f"Warning - script {vs.name} is not used")
                continue
            self._prepared[vs.name] = (vs, script)
            if script is None:
                self.disabled.add((KIND_SCRIPT, vs.name))
        for tf in getattr(config, "vrrp_track_file", ()):
            if tf.name in _tracked_names(config, "track_file") and tf.file and resolve_path(tf.file) is None:
                self._log(f"Track file directory for {tf.name} does not exist - removing")
                self.disabled.add((KIND_FILE, tf.name))
        return set(self.disabled)

    def _prepare_script(self, vs) -> Script | None:
        assert self.runner is not None
        if not vs.script:
            return None
        user = vs.user[0] if vs.user else None
        group = vs.user[1] if vs.user and len(vs.user) > 1 else None
        script, check = self.runner.prepare(vs.script, user, group)
        if check is not None:
            self.script_flags |= check.flags
        if script is None:
            if check is not None and check.flags & 0x04:  # SC_INHIBIT
                self._log(f"Disabling track script {vs.name} due to insecure")
            elif check is not None and check.flags & 0x08:  # SC_NOTFOUND
                self._log(f"Disabling track script {vs.name} since not found/accessible")
        return script

    def security_violation(self) -> str | None:
        """The SECURITY VIOLATION text for the track scripts alone (see notify.py for all)."""
        return security_violation(self.script_flags, bool(self.runner and self.runner.script_security))

    # ------------------------------------------------------------------ lifecycle
    async def start_files(self, config, emit: Emit) -> None:
        """The track files only, before the instances start: keepalived reads them in
        init_track_files(), so an instance starts with its file's value (no INIT wait, and a
        sync group does not leave INIT with a notify keepalived never writes). start()
        then leaves them as they are."""
        self._emit = emit
        if self.scheduler is None:
            self.scheduler = LoopScheduler(asyncio.get_running_loop(), self.clock)
        if self._config is not config:
            self.prepare(config)
        await self._start_files(config, reload=False)

    async def start(self, config, emit: Emit) -> None:
        await self.start_files(config, emit)  # a no-op for files start_files() already began
        await self._start_processes(config)
        for vs, script in self._prepared.values():
            if script is not None:
                self._start_script(vs, script, ScriptState.new(vs.rise, vs.fall, _init_fail(vs)))

    async def reload(self, new_config) -> None:
        """Keep unchanged trackers running, start new ones, stop removed ones; a changed
        vrrp_script keeps its status (clear_diff_script). The current state of every
        tracker is reported again afterwards, for instances the reload created."""
        old_scripts = self.scripts
        old_files = dict(self.file_paths)
        old_processes = dict(self.process_specs)
        self.scripts = {}
        if self._config is not new_config:  # the runtime may have prepared it already
            self.prepare(new_config)
        for name, (vs, script) in self._prepared.items():
            old = old_scripts.pop(name, None)
            if old is not None and script is not None and _script_key(old.model) == _script_key(vs) \
                    and old.script == script:
                self.scripts[name] = old
                continue
            if old is not None:
                await self._stop_script(old)
            if script is None:
                continue
            if old is not None:
                state = old.state.reloaded(vs.rise, vs.fall)
                if state.ok is not None:
                    self._log(f"VRRP_Script({name}) considered "
                              f"{'successful' if state.ok else 'unsuccessful'} on reload")
            else:
                state = ScriptState.new(vs.rise, vs.fall, _init_fail(vs), reload=True)
            self._start_script(vs, script, state, last_status=old.last_status if old else 0)
        for old in old_scripts.values():
            await self._stop_script(old)
        await self._start_files(new_config, reload=True)
        await self._start_processes(new_config)
        # new files and processes reported their initial state as they started; the others
        # (and every script with a status) report theirs again
        for t in self.scripts.values():
            if t.state.ok is not None:
                self._send(KIND_SCRIPT, t.name, ok=t.state.ok)
        if self.files is not None:
            for wf in list(self.files.files.values()):
                if wf.name in old_files and old_files[wf.name] == self.file_paths.get(wf.name):
                    self._send(KIND_FILE, wf.name, value=wf.value)
        if self.processes is not None:
            for q in list(self.processes.quorums.values()):
                if old_processes.get(q.spec.name) == self.process_specs.get(q.spec.name, False):
                    self._send(KIND_PROCESS, q.spec.name, ok=q.have_quorum)

    async def stop(self) -> None:
        for t in list(self.scripts.values()):
            await self._stop_script(t)
        self.scripts.clear()
        if self.files is not None:
            await self.files.close()
            self.files = None
        if self.processes is not None:
            await self.processes.close()
            self.processes = None
        if self.runner is not None and self._owns_runner:
            await self.runner.stop()

    # ------------------------------------------------------------------ scripts
    def _start_script(self, vs, script: Script, state: ScriptState, last_status: int = 0) -> None:
        interval = float(vs.interval)
        timeout = float(vs.timeout) if vs.timeout else interval
        t = _ScriptTracker(vs.name, vs, script, state, interval, timeout, last_status)
        self.scripts[vs.name] = t
        if state.initial_report is not None:
            self._send(KIND_SCRIPT, vs.name, ok=state.initial_report)
        # the first run at once, as keepalived's start-up
        t.due = self.clock.now()
        assert self.scheduler is not None
        t.timer = self.scheduler.call_at(t.due, self._script_due, t)

    def _script_due(self, t: _ScriptTracker) -> None:
        """A run is due: start it unless the previous one is still going; arm the next."""
        if t.stopped:
            return
        assert self.scheduler is not None
        t.due = next_run(t.due, t.interval, self.clock.now())
        t.timer = self.scheduler.call_at(t.due, self._script_due, t)
        if t.running:
            self._log(f"Track script {t.name} is already running, expect idle - skipping run")
            return
        t.running = True
        t.run_task = asyncio.get_running_loop().create_task(self._run_once(t))

    async def _run_once(self, t: _ScriptTracker) -> None:
        try:
            assert self.runner is not None
            result = await self.runner.run(t.script, timeout=t.timeout)
        finally:
            t.running = False
        t.runs += 1
        t.last_result = result
        reason = None
        if result.status is not None:
            if result.status != t.last_status:
                self._log(f"Script `{t.name}` now returning {result.status}")
            t.last_status = result.status
            success = result.status == 0
            exit_type = "succeeded" if success else "failed"
            if not success:
                reason = f"exited with status {result.status}"
        else:
            success = False
            if result.timed_out:
                exit_type = "timed_out"
            else:
                exit_type = "failed"
                reason = f"due to signal {result.signal}"
        t.state, report = t.state.record(success)
        if report is None:
            return
        if report or reason is None:
            self._log(f"VRRP_Script({t.name}) {exit_type}")
        else:
            self._log(f"VRRP_Script({t.name}) {exit_type} ({reason})")
        self._send(KIND_SCRIPT, t.name, ok=report)

    async def _stop_script(self, t: _ScriptTracker) -> None:
        t.stopped = True
        if t.timer is not None:
            t.timer.cancel()
        task = t.run_task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ------------------------------------------------------------------ files
    async def _start_files(self, config, reload: bool) -> None:
        used = _tracked_names(config, "track_file")
        wanted: dict[str, tuple[str, tuple | None]] = {}
        for tf in getattr(config, "vrrp_track_file", ()):
            if tf.name not in used or not tf.file or (KIND_FILE, tf.name) in self.disabled:
                continue
            wanted[tf.name] = (tf.file, tf.init_file)
        if self.files is None and wanted:
            assert self.scheduler is not None
            self.files = FileWatcher(self._file_changed, poll_interval=self.file_poll_interval,
                                     use_inotify=self.use_inotify, clock=self.clock,
                                     scheduler=self.scheduler, log_fn=self._log)
            self.files.start()
        for name in list(self.file_paths):
            if self.file_paths[name] != wanted.get(name):
                del self.file_paths[name]
                if self.files is not None:
                    self.files.remove(name)
        for name, (path, init) in wanted.items():
            if name in self.file_paths:
                continue
            if init is not None:
                problem = init_file(path, init[0], init[1], reload=reload)
                if problem == "not a regular file":
                    self._log(f"Cannot initialise track file {name} - it is not a regular file")
                elif problem:
                    self._log(f"Unable to initialise track file {name}")
            resolved = resolve_path(path)
            if resolved is None:
                self._log(f"Track file directory for {name} does not exist - removing")
                self.disabled.add((KIND_FILE, name))
                continue
            assert self.files is not None
            value = self.files.add(name, resolved)
            self.file_paths[name] = (path, init)
            self._send(KIND_FILE, name, value=value)

    def _file_changed(self, name: str, value: int) -> None:
        self._send(KIND_FILE, name, value=value)

    # ------------------------------------------------------------------ processes
    async def _start_processes(self, config) -> None:
        used = _tracked_names(config, "track_process")
        wanted = {tp.name: ProcessSpec.from_model(tp) for tp in getattr(config, "vrrp_track_process", ())
                  if tp.name in used and tp.process}
        for name in list(self.process_specs):
            if self.process_specs[name] != wanted.get(name):
                del self.process_specs[name]
                if self.processes is not None:
                    self.processes.remove(name)
        new = [spec for name, spec in wanted.items() if name not in self.process_specs]
        if not new:
            return
        if self.processes is None:
            assert self.scheduler is not None
            self.processes = ProcessWatcher(self._process_changed, interval=self.process_scan_interval,
                                            clock=self.clock, scheduler=self.scheduler, log_fn=self._log)
            self.processes.start()
        initial = await self.processes.add(new)
        for spec in new:
            self.process_specs[spec.name] = spec
            self._send(KIND_PROCESS, spec.name, ok=initial[spec.name])

    def _process_changed(self, name: str, up: bool) -> None:
        self._send(KIND_PROCESS, name, ok=up)

    # ------------------------------------------------------------------ observing
    def snapshot(self) -> dict:
        scripts = {}
        init_names = {"init": "INIT", "failed": "INIT/FAILED", "init_reload": "INIT/RELOAD", "done": "unknown"}
        for name, t in self.scripts.items():
            weight, reverse = getattr(t.model, "weight", (0, False))
            # the fields and values of keepalived's dump_vscript()
            scripts[name] = {
                "command": cmd_str(t.script.argv), "interval": int(t.interval),
                "timeout": int(t.model.timeout or 0), "weight": weight, "weight_reverse": reverse,
                "rise": t.state.rise, "fall": t.state.fall, "result": t.state.result,
                "insecure": "yes" if t.script.flags & SC_INSECURE else "no",
                "init_state": init_names[t.state.init_state.value],
                "status": "GOOD" if t.state.result >= t.state.rise else "BAD",
                "uid": t.script.uid, "gid": t.script.gid,
                "state": "running" if t.running else "idle",
                # ours
                "reported": {None: None, True: "up", False: "down"}[t.state.ok],
                "last_status": t.last_status, "runs": t.runs,
            }
        files = {}
        if self.files is not None:
            for name, wf in self.files.files.items():
                files[name] = {"path": wf.path, "value": wf.value}
        processes = {}
        if self.processes is not None:
            for name, q in self.processes.quorums.items():
                processes[name] = {"process": q.spec.process_path, "count": q.count,
                                   "quorum": q.spec.quorum, "quorum_max": q.spec.quorum_max,
                                   "have_quorum": q.have_quorum,
                                   "pending": q.timer[0] if q.timer else None}
        return {"scripts": scripts, "files": files, "processes": processes,
                "disabled": sorted(f"{k} {n}" for k, n in self.disabled),
                "uses_scripts": bool(self.script_flags & SC_ISSCRIPT)}
