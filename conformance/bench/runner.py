"""`make bench`: keepalived-py beside keepalived 2.2.7, same run, same configs, netns lab.

    python -m conformance.bench [--quick] [--out bench-results] [--no-dataplane] [--no-profile] [--no-checker]

Runs every case for both implementations (alternating, so a change of load on this shared
machine hits both), prints one markdown table (min / median / max per implementation, the
ratio of medians keepalived-py / keepalived) and writes the same numbers, the load average
before and after and the raw samples as JSON under bench-results/ (not committed). The full
run takes about 8-10 minutes on a 2-core machine, `--quick` about 3.5 (fewer repetitions, no
v2 failover, sizes 1 and 255 only). Needs root (network namespaces), keepalived and tcpdump.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from conformance.lab import Lab, get
from conformance.lab.impl import REPO

from . import bfd_cases, check_cases, config_parse, profile, vrrp_cases
from .stats import Metric, summarize, table

IMPLS = ("keepalived", "keepalived-py")
DUMMIES = ("bench1", "bench2", "bench3")  # 1,000 instances need 4 interfaces (255 VRIDs each)


@dataclass(frozen=True)
class Plan:
    """How much of each case one run does (the full run must stay under 20 minutes)."""

    name: str
    failover_reps: int
    failover_configs: tuple[tuple[float, int, tuple[int, ...]], ...]  # (advert, version, families)
    launch_reps: int
    sizes: tuple[int, ...]
    steady_reps: int
    window: float
    check_reps: int
    dataplane: bool
    checker: bool = False  # check_cases.py: TCP_CHECK rate (host, guest) and IPVS programming (guest), ~15 min


FULL = Plan(name="full", failover_reps=2, failover_configs=((1.0, 2, (4,)), (0.1, 3, (4, 6))), launch_reps=5,
            sizes=(1, 50, 255), steady_reps=2, window=12.0, check_reps=3, dataplane=True,
            checker=True)
QUICK = Plan(name="quick", failover_reps=1, failover_configs=((0.1, 3, (4, 6)),), launch_reps=3,
             sizes=(1, 255), steady_reps=1, window=6.0, check_reps=2, dataplane=False)


def load() -> tuple[float, float, float]:
    return os.getloadavg()


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def check_configs(tmp: Path) -> dict[str, Path]:
    """The `-t` configs: keepalived's smallest useful file and the issue's large one
    (1,000 vrrp instances + 1,000 virtual servers x 10 real servers)."""
    small = tmp / "small.conf"
    small.write_text(vrrp_cases.config("r1", [vrrp_cases.instance("VI_1", 51, 100, 1.0, 2, ["192.0.2.100/24"])]))
    large = tmp / "large.conf"
    large.write_text(config_parse.vrrp_instances(1000, "eth0", DUMMIES) + config_parse.virtual_servers(1000, 10))
    return {"small": small, "large": large}


def check_case(plan: Plan, metrics: dict[str, Metric], prof_dir: Path | None = None) -> None:
    """`-t` (config test) on the small and large configs, the whole process timed, in a
    namespace that has the configs' interface."""
    with tempfile.TemporaryDirectory(prefix="kpy-bench-t-") as tmp, Lab(vrrp_cases.ONE) as lab:
        for name in DUMMIES:  # inside the lab's namespace: gone with it
            lab.exec("r1", ["ip", "link", "add", name, "type", "veth", "peer", "name", f"{name}p"])
        for name, path in check_configs(Path(tmp)).items():
            lines = path.read_text().count("\n")
            t_key, m_key = f"`-t` on {lines:,} lines: time", f"`-t` on {lines:,} lines: peak RSS"
            mt = metrics.setdefault(t_key, Metric(t_key, "ms", 1000.0))
            mr = metrics.setdefault(m_key, Metric(m_key, "MiB", 1 / 1024))
            for _ in range(plan.check_reps):
                for impl in IMPLS:
                    argv = [*get(impl).argv_prefix(), "-t", "-f", str(path)]
                    elapsed, rss_kib, code = config_parse.time_process(argv, ["ip", "netns", "exec", lab.ns("r1")])
                    mt.add(impl, elapsed)
                    mr.add(impl, rss_kib)
                    _log(f"  {impl} -t {name}: {elapsed * 1000:.0f} ms, {rss_kib / 1024:.0f} MiB, exit {code}")
            spy = Path(sys.executable).parent / "py-spy"
            if prof_dir is not None and spy.exists():
                # collapsed stacks (one line per stack and its sample count): greppable
                out = prof_dir / f"py-spy-t-{name}.txt"
                r = subprocess.run(["ip", "netns", "exec", lab.ns("r1"), str(spy), "record", "-r", "500", "-f", "raw",
                                    "-o", str(out), "--", *get("keepalived-py").argv_prefix(), "-t", "-f", str(path)],
                                   capture_output=True, text=True, timeout=120)
                _log(f"  profile {out.name}: {'ok' if out.exists() else r.stderr.strip()[-300:]}")


def compile_bytecode() -> None:
    """Write keepalived_py's .pyc files first, as installing a package does: with
    PYTHONDONTWRITEBYTECODE set (as in this tree's sessions) every start would otherwise
    compile ~140 modules from source, a third of a `-t` on a small file."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "keepalived_py")], env=env,
                   capture_output=True, check=False)
    # and the config pipeline's caches beside them (dataclass code, Lark table): an installed
    # daemon writes them on its first start
    subprocess.run([sys.executable, "-c", "from keepalived_py.config import load_text; load_text('')"], env=env,
                   capture_output=True, check=False)


def _guard(what: str, fn: Callable[[], None], errors: list[str]) -> None:
    """Run one case; a failure is recorded (and shown) and the run goes on with the next."""
    _log(f"- {what}")
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - one broken case must not lose the others' numbers
        errors.append(f"{what}: {type(e).__name__}: {e}"[:2000])
        _log(traceback.format_exc()[-3000:])


def run(plan: Plan, out_dir: Path, profile: bool) -> int:
    for impl in IMPLS:
        reason = get(impl).unavailable()
        if reason:
            _log(f"{impl}: {reason}")
            return 2
    if os.geteuid() != 0 or not shutil.which("tcpdump"):
        _log("the bench needs root (network namespaces) and tcpdump")
        return 2
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    prof_dir = out_dir / f"profile-{stamp}" if profile else None
    if prof_dir:
        prof_dir.mkdir()
    metrics: dict[str, Metric] = {}
    errors: list[str] = []
    compile_bytecode()
    load0, t0 = load(), time.monotonic()
    _log(f"bench start, load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")

    overhead: list[float] = []
    _guard("ip netns exec overhead", lambda: overhead.extend(vrrp_cases.netns_exec_overhead()), errors)
    if overhead:
        key = "`ip netns exec /bin/true` (included in launch)"
        metrics[key] = Metric(key, "ms", 1000.0, {"keepalived": list(overhead), "keepalived-py": list(overhead)})
    for impl in IMPLS:
        _guard(f"launch/stop {impl}", lambda impl=impl: vrrp_cases.launch_and_stop(
            get(impl), plan.launch_reps, metrics, _log), errors)
    _guard("-t", lambda: check_case(plan, metrics, prof_dir), errors)
    for advert, version, fams in plan.failover_configs:
        for rep in range(plan.failover_reps):
            for impl in IMPLS:
                _guard(f"failover v{version} {advert:g} s rep {rep + 1} {impl}", lambda impl=impl, a=advert, v=version, f=fams:
                       vrrp_cases.failover(get(impl), a, v, f, metrics, _log), errors)
    _guard("BFD detection (conformance/bench/bfd_cases.py)", lambda: bfd_cases.run_case(
        8 if plan.name == "quick" else 20, metrics, _log), errors)
    for count in plan.sizes:
        for rep in range(plan.steady_reps):
            for impl in IMPLS:
                last = count == max(plan.sizes) and rep == 0
                _guard(f"{count} instances rep {rep + 1} {impl}", lambda impl=impl, c=count, last=last:
                       vrrp_cases.steady(get(impl), c, plan.window, metrics, _log, reload=last,
                                         profile_dir=prof_dir if last else None), errors)
    if plan.checker:
        check_cases.run(metrics, _log, lambda what, fn: _guard(what, fn, errors))
    dataplane = ""
    if plan.dataplane:
        def dp() -> None:
            nonlocal dataplane
            r = subprocess.run([sys.executable, "-m", "conformance.bench.dataplane", "--seconds", "2"],
                               capture_output=True, text=True, timeout=300, cwd=REPO)
            dataplane = r.stdout
            if r.returncode != 0:
                raise RuntimeError(r.stderr[-2000:])
        _guard("dataplane (conformance/bench/dataplane.py)", dp, errors)

    if prof_dir is not None:
        summarize_profiles(prof_dir)
    load1, minutes = load(), (time.monotonic() - t0) / 60
    rows = sorted(metrics.values(), key=_order)
    text = table(rows)
    header = (f"keepalived-py {_version()} vs keepalived ({_ka_version()}), {platform.node()}, "
              f"{os.cpu_count()} CPUs, {minutes:.1f} min; load average {load0[0]:.2f} before, "
              f"{load1[0]:.2f} after ({plan.name} run, bytecode compiled first)")
    print(f"\n{header}\n\n{text}")
    if dataplane:
        print(f"dataplane (conformance/bench/dataplane.py, loopback):\n\n{dataplane}")
    for e in errors:
        print(f"FAILED {e}")
    doc = {"stamp": stamp, "header": header, "plan": plan.__dict__, "load_before": load0, "load_after": load1,
           "minutes": minutes, "metrics": [m.as_json(list(IMPLS[::-1])) for m in rows],
           "dataplane": dataplane, "errors": errors, "table": text,
           "profiles": str(prof_dir) if prof_dir else None}
    path = out_dir / f"bench-{stamp}.json"
    path.write_text(json.dumps(doc, indent=1, default=str))
    (out_dir / f"bench-{stamp}.md").write_text(f"{header}\n\n{text}\n{dataplane}")
    _log(f"results: {path}")
    return 1 if errors else 0


def summarize_profiles(prof_dir: Path) -> None:
    """Beside each collapsed-stack profile, its top frames (profile.render) as *.top."""
    for raw in sorted(prof_dir.glob("*.txt")):
        raw.with_suffix(".top").write_text(profile.render(raw.read_text()))


_ORDER = ("launch", "SIGTERM ->", "`ip netns", "`-t`", "failover SIGTERM", "failover kill", "BFD detection",
          "advert interval deviation p50", "advert interval deviation p99", "CPU", "PSS", "reload")


def _order(m: Metric) -> int:
    """Rows grouped by kind; within a kind, in the order measured (sizes ascending)."""
    return next((i for i, prefix in enumerate(_ORDER) if m.case.startswith(prefix)), len(_ORDER))


def _version() -> str:
    with contextlib.suppress(Exception):
        return subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
    return "?"


def _ka_version() -> str:
    with contextlib.suppress(Exception):
        r = subprocess.run([*get("keepalived").argv_prefix(), "--version"], capture_output=True, text=True)
        return (r.stdout + r.stderr).split("\n", 1)[0].strip()
    return "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a ~3 minute subset")
    ap.add_argument("--out", type=Path, default=REPO / "bench-results")
    ap.add_argument("--no-dataplane", action="store_true")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--no-checker", action="store_true", help="skip check_cases.py (its guest part takes ~10 min)")
    args = ap.parse_args(argv)
    plan = QUICK if args.quick else FULL
    if args.no_dataplane:
        plan = Plan(**{**plan.__dict__, "dataplane": False})
    if args.no_checker:
        plan = Plan(**{**plan.__dict__, "checker": False})
    return run(plan, args.out, profile=not args.no_profile)


__all__ = ["FULL", "QUICK", "Plan", "main", "run", "summarize"]
