"""The netns lab: a topology made real, processes started in it, faults, guaranteed teardown.

    topo = Topology.parse("bridge lan 192.0.2.0/24\\nrouter r1 lan\\nrouter r2 lan")
    with Lab(topo) as lab:
        vips = lab.watch_addresses()                 # netlink events from every router
        cap = lab.capture("lan", "vrrp or arp")      # tcpdump in the bridge namespace
        r1 = lab.start_daemon("r1", get("keepalived"), CONF1)
        vips.wait_for("192.0.2.100", node="r1")
        lab.kill(r1)                                 # kill -9, the whole process tree
        ...

Names: every namespace is `kpy<run id>-<node>` (the bridges live in `kpy<run id>-sw`);
the interfaces live only inside those namespaces (a node's ports are eth0, eth1, ...), so
deleting the namespaces deletes every link.  Everything is recorded in a state file
before it is created (state.py); teardown runs in `__exit__` whatever happened, and
`python -m conformance.lab --cleanup` does the same for a run that crashed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .impl import Implementation, PidFiles
from .observe import AddressObserver
from .pcap import Frame, read_pcap
from .poll import WaitTimeout, wait_until
from .state import PREFIX, RunState, new_run_id, proc_start, same_process
from .topology import Topology, TopologyError


class LabError(RuntimeError):
    pass


class FaultUnsupported(LabError):
    """The machine cannot inject this fault (e.g. no sch_netem in the kernel)."""


def _run(argv: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise LabError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr.strip()}")
    return r


@dataclass
class Proc:
    """A process started in a lab namespace (the pid is the program itself:
    `ip netns exec` execs it)."""

    lab: Lab
    node: str
    what: str
    popen: subprocess.Popen
    log: Path
    start: float | None = None

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(sig)

    def tree(self) -> list[int]:
        """This process, its descendants and the members of its process group, by pid."""
        import psutil
        pids = {self.pid} if same_process(self.pid, self.start) else set()
        with contextlib.suppress(psutil.Error):
            pids |= {c.pid for c in psutil.Process(self.pid).children(recursive=True)}
        for p in psutil.process_iter(["pid"]):
            with contextlib.suppress(psutil.Error, ProcessLookupError):
                if os.getpgid(p.pid) == self.pid:
                    pids.add(p.pid)
        return sorted(pids)

    def wait(self, timeout: float | None = None) -> int | None:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def output(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""


@dataclass
class Daemon(Proc):
    """keepalived or keepalived-py running in a router namespace."""

    impl: Implementation | None = None
    conf: Path | None = None
    pidfiles: PidFiles | None = None

    def pids(self) -> dict[str, int]:
        assert self.pidfiles is not None
        return self.pidfiles.read()

    def stop(self, timeout: float = 10.0) -> int | None:
        assert self.impl is not None
        return self.impl.stop(self.popen, timeout)

    def wait_pidfiles(self, keys: tuple[str, ...] = ("main", "vrrp"), timeout: float = 15.0) -> bool:
        """Wait until the daemon has written these pid files (its children are up);
        False when it exits or the time runs out first."""
        try:
            wait_until(lambda: set(keys) <= set(self.pids()) or not self.alive(), timeout)
        except WaitTimeout:
            return False
        return set(keys) <= set(self.pids())


@dataclass
class Capture:
    """tcpdump writing a pcap file in the bridge namespace."""

    proc: Proc
    path: Path
    frames: list[Frame] = field(default_factory=list)

    def stop(self) -> list[Frame]:
        if self.proc.alive():
            self.proc.signal(signal.SIGTERM)  # tcpdump flushes and exits
            if self.proc.wait(5) is None:
                self.proc.signal(signal.SIGKILL)
                self.proc.wait(5)
        self.frames = read_pcap(self.path) if self.path.exists() else []
        return self.frames


class Lab:
    def __init__(self, topology: Topology | str, *, run_id: str | None = None,
                 workdir: Path | str | None = None, keep_workdir: bool = False):
        self.topology = Topology.parse(topology) if isinstance(topology, str) else topology
        self.run_id = run_id or new_run_id()
        self.prefix = f"{PREFIX}{self.run_id}"
        self.state = RunState(self.run_id)
        self._workdir_arg = workdir
        self.keep_workdir = keep_workdir
        self.workdir: Path = Path()
        self.procs: list[Proc] = []
        self.observers: list[AddressObserver] = []
        self.captures: list[Capture] = []
        self.journal: list[tuple[float, float, str]] = []  # (monotonic, wall, what)
        self._up = False
        peers = [p.peer for n in self.topology.nodes.values() for p in n.ports]
        if len(set(peers)) != len(peers):
            raise TopologyError("node/bridge names too long: bridge port names collide")

    # -- names -----------------------------------------------------------------------------
    def ns(self, node: str) -> str:
        if node != "sw" and node not in self.topology.nodes:
            raise KeyError(f"no node {node!r} in this lab")
        return f"{self.prefix}-{node}"

    @property
    def switch(self) -> str:
        return self.ns("sw")

    def addr(self, node: str, bridge: str | None = None, v6: bool = False) -> str:
        port = self.topology.nodes[node].port(bridge)
        iface = port.v6 if v6 else port.v4
        if iface is None:
            raise KeyError(f"{node} has no {'IPv6' if v6 else 'IPv4'} address on {port.bridge}")
        return str(iface.ip)

    def note(self, what: str) -> float:
        mono = time.monotonic()
        self.journal.append((mono, time.time(), what))
        return mono

    # -- build / teardown -------------------------------------------------------------------
    def __enter__(self) -> Lab:
        try:
            self.up()
        except BaseException:
            self.down()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # a teardown problem must not hide the exception that ended the scenario; what
        # was left stays in the state file for `--cleanup`
        self.down(strict=exc_type is None)

    def up(self) -> None:
        if self._up:
            return
        self._up = True
        self.state.save()
        if self._workdir_arg is None:
            self.workdir = Path(tempfile.mkdtemp(prefix=f"{self.prefix}-"))
        else:
            self.workdir = Path(self._workdir_arg)
            self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.keep_workdir and self._workdir_arg is None:
            self.state.add_dir(str(self.workdir))
        for node in ["sw", *self.topology.nodes]:
            ns = self.ns(node)
            self.state.add_namespace(ns)
            _run(["ip", "netns", "add", ns])
            _run(["ip", "-n", ns, "link", "set", "lo", "up"])
            # no duplicate address detection: addresses usable at once, on every port
            # (written from inside the namespace: /proc/sys/net is per namespace; no
            # dependency on procps' sysctl)
            _run(["ip", "netns", "exec", ns, "/bin/sh", "-c",
                  "for k in all default; do echo 0 > /proc/sys/net/ipv6/conf/$k/accept_dad; done"])
        for br in self.topology.bridges.values():
            _run(["ip", "-n", self.switch, "link", "add", br.name, "type", "bridge",
                  "stp_state", "0", "forward_delay", "0", "mcast_snooping", "0"])
            _run(["ip", "-n", self.switch, "link", "set", br.name, "up"])
        for node in self.topology.nodes.values():
            ns = self.ns(node.name)
            for p in node.ports:
                _run(["ip", "-n", ns, "link", "add", p.ifname, "type", "veth",
                      "peer", "name", p.peer, "netns", self.switch])
                _run(["ip", "-n", self.switch, "link", "set", p.peer, "master", p.bridge, "up"])
                for iface in (p.v4, p.v6):
                    if iface is not None:
                        extra = ["nodad"] if iface.version == 6 else []
                        _run(["ip", "-n", ns, "addr", "add", str(iface), "dev", p.ifname, *extra])
                _run(["ip", "-n", ns, "link", "set", p.ifname, "up"])
        self.note("lab up")

    def down(self, strict: bool = True) -> list[str]:
        """Tear everything down; safe to call twice.  Returns problems (empty: clean);
        with `strict` a problem raises LabError instead."""
        for obs in self.observers:
            with contextlib.suppress(Exception):
                obs.stop()
        for cap in self.captures:
            with contextlib.suppress(Exception):
                if cap.proc.alive():
                    cap.stop()
        problems = self.state.teardown(keep_dirs=self.keep_workdir)
        for p in self.procs:  # reap our children
            with contextlib.suppress(Exception):
                p.popen.wait(1)
        self._up = False
        if problems:
            msg = "teardown left things behind: " + "; ".join(problems)
            if strict:
                raise LabError(msg)
            print(f"conformance.lab: {msg} (python -m conformance.lab --cleanup)", file=sys.stderr)
        return problems

    # -- processes ----------------------------------------------------------------------------
    def exec(self, node: str, argv: list[str] | str, check: bool = True, timeout: float = 30,
             **kw) -> subprocess.CompletedProcess:
        """Run a short command in `node` and wait for it (a str is run by /bin/sh -c)."""
        if isinstance(argv, str):
            argv = ["/bin/sh", "-c", argv]
        return _run(["ip", "netns", "exec", self.ns(node), *argv], check=check, timeout=timeout, **kw)

    def ping(self, node: str, addr: str, count: int = 1, wait_s: int = 1) -> bool:
        """Whether `node` gets an echo reply from `addr` (iputils ping, or busybox's)."""
        tool = ["ping"] if shutil.which("ping") else [shutil.which("busybox") or "busybox", "ping"]
        r = self.exec(node, [*tool, "-c", str(count), "-W", str(wait_s), addr], check=False,
                      timeout=count * wait_s + 10)
        return r.returncode == 0

    def spawn(self, node: str, argv: list[str], *, what: str | None = None,
              env: dict[str, str] | None = None, cls=Proc, **fields) -> Proc:
        """Start a long-running process in `node`, output to a log file in the workdir."""
        what = what or Path(argv[0]).name
        log = self.workdir / f"{node}-{what}-{len(self.procs)}.log"
        with open(log, "wb") as logf:
            popen = subprocess.Popen(["ip", "netns", "exec", self.ns(node), *argv],
                                     stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                     env=env, start_new_session=True)
        self.state.add_process(popen.pid, f"{node}:{what}")
        proc = cls(self, node, what, popen, log, proc_start(popen.pid), **fields)
        self.procs.append(proc)
        self.note(f"spawn {node} {what} pid {popen.pid}")
        return proc

    def start_daemon(self, node: str, impl: Implementation, config: str, *,
                     name: str | None = None, extra: tuple[str, ...] = ()) -> Daemon:
        """Start `impl` in `node` with `config` (text), its own pid files, TMPDIR and log."""
        reason = impl.unavailable()
        if reason:
            raise LabError(f"{impl.name} cannot run here: {reason}")
        d = self.workdir / f"{node}-{name or impl.name}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "tmp").mkdir(exist_ok=True)
        conf = d / "keepalived.conf"
        conf.write_text(config)
        pids = PidFiles.in_dir(d)
        argv = impl.command(conf, pids, extra=extra)
        return self.spawn(node, argv, what=name or impl.name, env=impl.env(d / "tmp"),
                          cls=Daemon, impl=impl, conf=conf, pidfiles=pids)

    # -- observation --------------------------------------------------------------------------
    def watch_addresses(self, nodes: list[str] | None = None) -> AddressObserver:
        """Start recording address events in `nodes` (default: every router)."""
        names = nodes or [n.name for n in self.topology.routers()] or list(self.topology.nodes)
        obs = AddressObserver({n: self.ns(n) for n in names})
        self.observers.append(obs)
        return obs.start()

    def capture(self, bridge: str, bpf: str = "", *, ready_timeout: float = 10.0) -> Capture:
        """tcpdump on `bridge` (in the bridge namespace); returns once it is listening."""
        if bridge not in self.topology.bridges:
            raise KeyError(f"no bridge {bridge!r}")
        path = self.workdir / f"capture-{bridge}-{len(self.captures)}.pcap"
        # --immediate-mode: without it libpcap's TPACKET_V3 ring hands frames over a block at
        # a time (up to a second late), and the frames of the last second before stop() were
        # lost with the block: a resigning master's priority-0 advert went missing that way
        argv = ["tcpdump", "-i", bridge, "-w", str(path), "-U", "--immediate-mode", "-Z", "root", "-n"]
        if bpf:
            argv += bpf.split()
        proc = self.spawn("sw", argv, what=f"tcpdump-{bridge}")
        cap = Capture(proc, path)
        self.captures.append(cap)

        def listening() -> bool:
            # tcpdump reports readiness only on stderr (our log file)
            if "listening on" in proc.output():
                return True
            if not proc.alive():
                raise LabError(f"tcpdump exited: {proc.output().strip()}")
            return False

        try:
            wait_until(listening, ready_timeout)
        except WaitTimeout:
            raise LabError("tcpdump did not start listening") from None
        return cap

    # -- faults ---------------------------------------------------------------------------------
    def kill(self, proc: Proc, sig: int = signal.SIGKILL, tree: bool = True) -> float:
        """Send `sig` to the process (and with `tree` every process of its tree and group,
        like a crash of the whole daemon).  Returns the monotonic time it was sent."""
        pids = proc.tree() if tree else [proc.pid]
        if tree and sig == signal.SIGKILL:
            # Freeze the whole tree first: a child must not see its parent die (keepalived's
            # children get SIGTERM by PR_SET_PDEATHSIG and would leave gracefully, sending a
            # priority 0 advert) before its own SIGKILL lands.
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGSTOP)
        mono = self.note(f"signal {sig} to {proc.node}:{proc.what} pids {pids}")
        for pid in sorted(pids, key=lambda p: p == proc.pid):  # the main process last
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        return mono

    def terminate(self, proc: Proc) -> float:
        """SIGTERM to the main process only (a graceful stop)."""
        return self.kill(proc, signal.SIGTERM, tree=False)

    def _port(self, node: str, ifname: str | None, bridge: str | None):
        n = self.topology.nodes[node]
        for p in n.ports:
            if (ifname is None or p.ifname == ifname) and (bridge is None or p.bridge == bridge):
                return p
        raise KeyError(f"{node} has no such port ({ifname or bridge})")

    def link_down(self, node: str, ifname: str = "eth0") -> float:
        _run(["ip", "-n", self.ns(node), "link", "set", ifname, "down"])
        return self.note(f"link down {node} {ifname}")

    def link_up(self, node: str, ifname: str = "eth0") -> float:
        _run(["ip", "-n", self.ns(node), "link", "set", ifname, "up"])
        return self.note(f"link up {node} {ifname}")

    def partition(self, node: str, bridge: str | None = None) -> float:
        """Detach the node's port from the bridge: its link stays up, but nothing passes."""
        p = self._port(node, None, bridge)
        _run(["ip", "-n", self.switch, "link", "set", p.peer, "nomaster"])
        return self.note(f"partition {node} from {p.bridge}")

    def heal(self, node: str, bridge: str | None = None) -> float:
        p = self._port(node, None, bridge)
        _run(["ip", "-n", self.switch, "link", "set", p.peer, "master", p.bridge])
        return self.note(f"heal {node} to {p.bridge}")

    def loss(self, node: str, percent: float, ifname: str = "eth0") -> float:
        """Drop `percent` of packets leaving `node` on `ifname` (tc netem); 0 removes it."""
        ns = self.ns(node)
        if percent <= 0:
            _run(["tc", "-n", ns, "qdisc", "del", "dev", ifname, "root"], check=False)
            return self.note(f"loss off {node} {ifname}")
        r = _run(["tc", "-n", ns, "qdisc", "replace", "dev", ifname, "root", "netem",
                  "loss", f"{percent}%"], check=False)
        if r.returncode != 0:
            if "unknown" in r.stderr.lower():
                raise FaultUnsupported(f"packet loss needs sch_netem, which this kernel lacks: {r.stderr.strip()}")
            raise LabError(f"tc netem failed: {r.stderr.strip()}")
        return self.note(f"loss {percent}% {node} {ifname}")


def netem_available() -> bool:
    """Whether this kernel has sch_netem (checked in a throw-away namespace)."""
    with Lab(Topology().bridge("b", "192.0.2.0/24").client("c", "b")) as lab:
        try:
            lab.loss("c", 1)
            return True
        except FaultUnsupported:
            return False
