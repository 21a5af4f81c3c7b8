"""What a lab run created, written down before it is created, so that teardown (and a
later `python -m conformance.lab --cleanup` after a crash) removes exactly that.

One JSON file per run in STATE_DIR (default /run/kpy-conformance, tmpfs: gone after a
reboot together with everything it describes).  Processes are recorded as (pid, start
time) so a recycled pid is never signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

PREFIX = "kpy"
RUN_ID_RE = re.compile(r"^kpy([0-9a-f]{6})-")


def state_dir() -> Path:
    return Path(os.environ.get("KPY_LAB_STATE_DIR", "/run/kpy-conformance"))


def new_run_id() -> str:
    return secrets.token_hex(3)


def proc_start(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def same_process(pid: int, start: float | None) -> bool:
    now = proc_start(pid)
    return now is not None and (start is None or abs(now - start) < 0.05)


@dataclass
class RunState:
    run_id: str
    owner_pid: int = field(default_factory=os.getpid)
    owner_start: float | None = None
    namespaces: list[str] = field(default_factory=list)
    processes: list[dict] = field(default_factory=list)
    dirs: list[str] = field(default_factory=list)
    path: Path | None = None

    def __post_init__(self) -> None:
        if self.owner_start is None:
            self.owner_start = proc_start(self.owner_pid)
        if self.path is None:
            self.path = state_dir() / f"{PREFIX}{self.run_id}.json"

    # -- recording (always before the thing exists) ---------------------------------
    def save(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "run_id": self.run_id,
            "owner_pid": self.owner_pid,
            "owner_start": self.owner_start,
            "namespaces": self.namespaces,
            "processes": self.processes,
            "dirs": self.dirs,
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, self.path)

    def add_namespace(self, name: str) -> None:
        self.namespaces.append(name)
        self.save()

    def add_process(self, pid: int, what: str) -> None:
        self.processes.append({"pid": pid, "start": proc_start(pid), "what": what})
        self.save()

    def add_dir(self, path: str) -> None:
        self.dirs.append(path)
        self.save()

    @classmethod
    def load(cls, path: Path) -> RunState:
        d = json.loads(path.read_text())
        return cls(
            run_id=d["run_id"],
            owner_pid=d["owner_pid"],
            owner_start=d.get("owner_start"),
            namespaces=list(d.get("namespaces", [])),
            processes=list(d.get("processes", [])),
            dirs=list(d.get("dirs", [])),
            path=path,
        )

    def owner_alive(self) -> bool:
        return same_process(self.owner_pid, self.owner_start)

    # -- teardown ----------------------------------------------------------------------
    def teardown(self, keep_dirs: bool = False) -> list[str]:
        """Remove everything recorded; return a list of problems (empty when clean)."""
        problems: list[str] = []
        kill_processes(self, problems)
        for ns in reversed(self.namespaces):
            delete_namespace(ns, problems)
        if not keep_dirs:
            for d in self.dirs:
                shutil.rmtree(d, ignore_errors=True)
        if not problems and self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
        return problems


def namespace_pids(ns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split() if x.isdigit()]


def existing_namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    return {line.split()[0] for line in out.stdout.splitlines() if line.strip()}


def kill_processes(st: RunState, problems: list[str]) -> None:
    """SIGKILL every process we started (by pid, checked against its start time), their
    descendants and process groups, and anything still running inside our namespaces."""
    victims: dict[int, float | None] = {}
    for p in st.processes:
        pid, start = p["pid"], p.get("start")
        if not same_process(pid, start):
            continue
        victims[pid] = start
        try:
            for child in psutil.Process(pid).children(recursive=True):
                victims[child.pid] = proc_start(child.pid)
        except psutil.Error:
            pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            # start_new_session made each spawned process the leader of its own group
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
    known = existing_namespaces()
    for ns in st.namespaces:
        if ns in known:
            for pid in namespace_pids(ns):
                victims.setdefault(pid, proc_start(pid))
    for pid, start in victims.items():
        if pid == os.getpid() or not same_process(pid, start):
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    for pid, start in victims.items():
        while same_process(pid, start) and time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.Error:
                break
            time.sleep(0.02)
        if same_process(pid, start):
            try:
                zombie = psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
            except psutil.Error:
                zombie = True
            if not zombie:
                problems.append(f"process {pid} survived SIGKILL")


def delete_namespace(ns: str, problems: list[str]) -> None:
    if ns not in existing_namespaces():
        return
    r = subprocess.run(["ip", "netns", "delete", ns], capture_output=True, text=True)
    if r.returncode != 0 and ns in existing_namespaces():
        problems.append(f"cannot delete namespace {ns}: {r.stderr.strip()}")


def cleanup(force: bool = False, verbose: bool = True) -> int:
    """Clean up runs whose owner process is gone (all runs with `force`).

    Also removes namespaces that carry our run prefix but no state file (a run killed
    between writing its state and ... cannot happen, since intent is recorded first; this
    catches state files deleted by hand).  Returns the number of problems left."""
    problems: list[str] = []
    live_ids: set[str] = set()
    d = state_dir()
    for path in sorted(d.glob(f"{PREFIX}*.json")) if d.is_dir() else []:
        try:
            st = RunState.load(path)
        except (OSError, ValueError, KeyError) as e:
            problems.append(f"unreadable state file {path}: {e}")
            continue
        if st.owner_alive() and not force:
            live_ids.add(st.run_id)
            if verbose:
                print(f"run {st.run_id}: owner pid {st.owner_pid} still running, left alone")
            continue
        if verbose:
            print(f"run {st.run_id}: cleaning {len(st.namespaces)} namespaces, {len(st.processes)} processes")
        problems += st.teardown()
    for ns in sorted(existing_namespaces()):
        m = RUN_ID_RE.match(ns)
        if m and m.group(1) not in live_ids and not (d / f"{PREFIX}{m.group(1)}.json").exists():
            if verbose:
                print(f"orphan namespace {ns}: deleting")
            orphan = RunState(run_id=m.group(1), namespaces=[ns], path=Path("/nonexistent"))
            kill_processes(orphan, problems)
            delete_namespace(ns, problems)
    for p in problems:
        print("problem:", p)
    return len(problems)
