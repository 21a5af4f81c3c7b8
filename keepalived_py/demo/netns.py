"""The demo's network and processes: namespaces on one bridge, programs started inside them,
and a teardown that removes exactly what was made, whatever ended the run.

Names are `kpdemo<4 hex>-<node>` (the bridge lives in `...-sw`), so two demos, or a demo and
the test suite's labs (`kpy<6 hex>-`), never share a name. Interfaces are made inside the
namespaces, so deleting a namespace deletes its links. Everything is written to a state file
(/run/keepalived-py-demo/<run>.json) before it exists: `python -m keepalived_py.demo
--cleanup` removes what a run killed with SIGKILL left behind. Processes are remembered by
(pid, start time), so a recycled pid is never signalled; only processes the demo started,
or that run inside its own namespaces, are ever ended.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "kpdemo"
STATE_DIR = Path(os.environ.get("KPY_DEMO_STATE_DIR", "/run/keepalived-py-demo"))


class LabError(RuntimeError):
    pass


def run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if check and r.returncode != 0:
        raise LabError(f"{' '.join(argv)} failed: {r.stderr.strip()}")
    return r


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (/proc/PID/stat field 22)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def alive(pid: int, start: int | None) -> bool:
    """Whether `pid` is still the process that started at `start` (and not a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0] != "Z" and (start is None or int(fields[19]) == start)


def namespaces() -> set[str]:
    out = run(["ip", "netns", "list"], check=False).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def namespace_pids(ns: str) -> list[int]:
    return [int(x) for x in run(["ip", "netns", "pids", ns], check=False).stdout.split() if x.isdigit()]


@dataclass
class Proc:
    node: str
    what: str
    popen: subprocess.Popen
    start: int | None
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None


@dataclass
class Lab:
    """Namespaces `nodes` (name -> IPv4 interface) on one bridge."""

    nodes: dict[str, str]
    workdir: Path
    run_id: str = field(default_factory=lambda: secrets.token_hex(2))
    procs: list[Proc] = field(default_factory=list)
    made: list[str] = field(default_factory=list)    # namespaces, in order of creation

    @property
    def prefix(self) -> str:
        return f"{PREFIX}{self.run_id}"

    @property
    def state_file(self) -> Path:
        return STATE_DIR / f"{self.prefix}.json"

    def ns(self, node: str) -> str:
        return f"{self.prefix}-{node}"

    def _save(self) -> None:
        STATE_DIR.mkdir(parents=True, exist_ok=True)
        data = {"owner": [os.getpid(), start_time(os.getpid())], "namespaces": self.made,
                "processes": [[p.pid, p.start, f"{p.node}:{p.what}"] for p in self.procs],
                "workdir": str(self.workdir)}
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.state_file)

    def __post_init__(self) -> None:
        taken = namespaces()
        while any(self.ns(node) in taken for node in ("sw", *self.nodes)):
            self.run_id = secrets.token_hex(2)   # another run's names: never touch them

    def up(self) -> None:
        self._save()
        sw = self.ns("sw")
        for node in ("sw", *self.nodes):
            self.made.append(self.ns(node))
            self._save()
            r = run(["ip", "netns", "add", self.ns(node)], check=False)
            if r.returncode != 0:
                self.made.pop()   # not ours (made by someone else meanwhile?): not deleted
                self._save()
                raise LabError(f"ip netns add {self.ns(node)} failed: {r.stderr.strip()}")
            run(["ip", "-n", self.ns(node), "link", "set", "lo", "up"])
        run(["ip", "-n", sw, "link", "add", "lan", "type", "bridge", "stp_state", "0",
             "forward_delay", "0"])
        run(["ip", "-n", sw, "link", "set", "lan", "up"])
        for node, addr in self.nodes.items():
            ns = self.ns(node)
            run(["ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", node,
                 "netns", sw])
            run(["ip", "-n", sw, "link", "set", node, "master", "lan", "up"])
            run(["ip", "-n", ns, "addr", "add", addr, "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])

    def spawn(self, node: str, argv: list[str], what: str, env: dict[str, str] | None = None,
              stdout: int | None = None) -> Proc:
        """Start `argv` in `node`'s namespace, in a session of its own (Ctrl-C at the terminal
        reaches the demo, which then stops it), output to a log file unless `stdout` is PIPE."""
        log = self.workdir / f"{node}-{what}.log"
        with open(log, "ab") as logf:
            popen = subprocess.Popen(["ip", "netns", "exec", self.ns(node), *argv],
                                     stdin=subprocess.DEVNULL, stdout=stdout or logf,
                                     stderr=logf, env=env, start_new_session=True)
        proc = Proc(node, what, popen, start_time(popen.pid), log)
        self.procs.append(proc)
        self._save()
        return proc

    def kill(self, proc: Proc, sig: int = signal.SIGKILL) -> float:
        """`sig` to the process's whole group (a daemon and its children at once, as a
        crash of the machine would); returns the monotonic time it was sent."""
        t = time.monotonic()
        if alive(proc.pid, proc.start):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
        return t

    def has_address(self, node: str, addr: str) -> bool:
        out = run(["ip", "-n", self.ns(node), "-o", "-4", "addr", "show", "dev", "eth0"], check=False)
        return f" {addr}/" in out.stdout

    def down(self, keep_logs: bool = False) -> list[str]:
        """Stop every process (SIGTERM, then SIGKILL after 3 s), delete the namespaces and
        check nothing is left; returns what could not be removed (empty: clean)."""
        problems = teardown(self.made, [(p.pid, p.start) for p in self.procs])
        for p in self.procs:
            with contextlib.suppress(Exception):
                p.popen.wait(1)
        if not problems:
            with contextlib.suppress(FileNotFoundError):
                self.state_file.unlink()
            if not keep_logs:
                shutil.rmtree(self.workdir, ignore_errors=True)
        return problems


def teardown(made: list[str], procs: list[tuple[int, int | None]]) -> list[str]:
    """End our processes (their groups, then anything left inside our namespaces: nothing
    else runs there), delete our namespaces, and report what survived."""
    problems: list[str] = []
    ours = [(pid, st) for pid, st in procs if alive(pid, st)]
    for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
        for pid, _st in ours:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
        present = namespaces()
        stray = [(pid, start_time(pid)) for ns in made if ns in present for pid in namespace_pids(ns)]
        for pid, _st in stray:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        ours = list({*ours, *stray})
        end = time.monotonic() + grace
        while time.monotonic() < end and any(alive(p, s) for p, s in ours):
            for pid, _st in ours:
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)
            time.sleep(0.05)
        ours = [(p, s) for p, s in ours if alive(p, s)]
        if not ours:
            break
    problems += [f"process {pid} is still running" for pid, _ in ours]
    present = namespaces()
    for ns in reversed(made):
        if ns in present:
            r = run(["ip", "netns", "delete", ns], check=False)
            if r.returncode != 0:
                problems.append(f"namespace {ns}: {r.stderr.strip()}")
    left = namespaces() & set(made)
    problems += [f"namespace {ns} is still there" for ns in sorted(left)]
    return problems


def cleanup() -> list[str]:
    """Tear down the runs whose demo process is gone (it was killed with SIGKILL)."""
    problems: list[str] = []
    for path in sorted(STATE_DIR.glob(f"{PREFIX}*.json")) if STATE_DIR.is_dir() else []:
        data = json.loads(path.read_text())
        if alive(*data["owner"]):
            continue
        found = teardown(data["namespaces"], [(p, s) for p, s, _ in data["processes"]])
        problems += found
        if not found:
            path.unlink()
            shutil.rmtree(data["workdir"], ignore_errors=True)
    return problems
