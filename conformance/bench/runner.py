"""`make bench`: keepalived-py beside keepalived 2.2.7, same run, same configs, netns lab.

    python -m conformance.bench [--quick] [--only CASE[,CASE]] [--out bench-results] [--no-profile]

Runs the cases (selection.py lists them; `--only` picks some, e.g. `--only failover,bfd`) for
both implementations, alternating so that a change of load on this shared machine hits both,
and prints one markdown report (report.py): a header paragraph (commit, date, duration and
each case's wall time, load average at the start and the end) and one table, min / median /
max per implementation, the ratio of medians, and each row's target from issues 14, 16, 17
and 18 with its verdict (targets.py). The same goes to bench-results/bench-STAMP.md and, with
the raw samples, to bench-STAMP.json (not committed); py-spy profiles with their top frames to
bench-results/profile-STAMP/. Needs root (network namespaces), keepalived and tcpdump; the
guest part qemu.

Wall time of the full run, from each case measured alone on this shared 2-core VM at load
average 3-6 (the header of every run prints its own): launch ~18 s, config-test ~8 s,
failover 1.7 min, bfd ~35 s, steady ~5.5 min, dataplane ~40 s, check-host 1 min,
check-guest 8-9 min (one boot: 3 alternating same-work TCP_CHECK runs of both daemons at
delay_loop 20, one of each at delay_loop 1, then 3 alternating programming runs): about 19
minutes in all. `--quick` (host VRRP and BFD cases, fewer repetitions) 2.6 min.
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
from dataclasses import dataclass, field
from pathlib import Path

from conformance.lab import Lab, get
from conformance.lab.impl import REPO

from . import (
    bfd_cases,
    check_cases,
    config_parse,
    dataplane,
    profile,
    report,
    selection,
    vrrp_cases,
)
from .stats import Metric

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
    check_reps: int  # `-t`
    bfd_reps: int
    dataplane_reps: int
    dataplane_seconds: float
    check_host_reps: int
    check_window: float
    skip: tuple[str, ...] = ()  # cases this plan leaves out unless --only names them


FULL = Plan(name="full", failover_reps=2, failover_configs=((1.0, 2, (4,)), (0.1, 3, (4, 6))), launch_reps=5,
            sizes=(1, 50, 255), steady_reps=2, window=10.0, check_reps=3, bfd_reps=20, dataplane_reps=3,
            dataplane_seconds=2.0, check_host_reps=3, check_window=10.0)
QUICK = Plan(name="quick", failover_reps=1, failover_configs=((0.1, 3, (4, 6)),), launch_reps=3,
             sizes=(1, 255), steady_reps=1, window=6.0, check_reps=2, bfd_reps=8, dataplane_reps=1,
             dataplane_seconds=2.0, check_host_reps=1, check_window=6.0, skip=("dataplane", "check-host", "check-guest"))


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
            # issue 16's large file had 114,000 lines for the same 1,000 + 1,000 x 10 (more
            # keywords a block): its targets are judged here on fewer lines, so say so
            note = "1,000 vrrp instances + 1,000 x 10 real servers; the issue's file of these was 114,000 lines" \
                if name == "large" else ""
            mt = metrics.setdefault(t_key, Metric(t_key, "ms", 1000.0, note=note))
            mr = metrics.setdefault(m_key, Metric(m_key, "MiB", 1 / 1024, note=note))
            for _ in range(plan.check_reps):
                for impl in IMPLS:
                    argv = [*get(impl).argv_prefix(), "-t", "-f", str(path)]
                    elapsed, rss_kib, code = config_parse.time_process(argv, ["ip", "netns", "exec", lab.ns("r1")])
                    ok = code == 0  # a rejected config's time is not the time to check a good one
                    mt.add(impl, elapsed if ok else None)
                    mr.add(impl, rss_kib if ok else None)
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
    # daemon writes them on its first start, with the dataclass code of the role runtimes its
    # parent preloads (core/supervisor.save_code_cache)
    warm = ("from keepalived_py.config import codecache, load_text; load_text('')\n"
            "from keepalived_py.core.child import resolve_role\n"
            "for role in ('vrrp', 'check', 'bfd'):\n    resolve_role(role)\n"
            "codecache.save()")
    subprocess.run([sys.executable, "-c", warm], env=env, capture_output=True, check=False)


def _guard(what: str, fn: Callable[[], None], errors: list[str]) -> None:
    """Run one case; a failure is recorded (and shown) and the run goes on with the next."""
    _log(f"- {what}")
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - one broken case must not lose the others' numbers
        errors.append(f"{what}: {type(e).__name__}: {e}"[:2000])
        _log(traceback.format_exc()[-3000:])


@dataclass
class Ctx:
    """What every case gets: the plan, the rows to fill, where profiles go, the failures."""

    plan: Plan
    metrics: dict[str, Metric] = field(default_factory=dict)
    prof_dir: Path | None = None
    errors: list[str] = field(default_factory=list)

    def guard(self, what: str, fn: Callable[[], None]) -> None:
        _guard(what, fn, self.errors)


def case_launch(c: Ctx) -> None:
    overhead: list[float] = []
    c.guard("ip netns exec overhead", lambda: overhead.extend(vrrp_cases.netns_exec_overhead()))
    if overhead:
        key = "`ip netns exec /bin/true` (included in launch)"
        c.metrics[key] = Metric(key, "ms", 1000.0, {"keepalived": list(overhead), "keepalived-py": list(overhead)})
    for impl in IMPLS:
        c.guard(f"launch/stop {impl}", lambda impl=impl: vrrp_cases.launch_and_stop(
            get(impl), c.plan.launch_reps, c.metrics, _log))


def case_config_test(c: Ctx) -> None:
    c.guard("-t", lambda: check_case(c.plan, c.metrics, c.prof_dir))


def case_failover(c: Ctx) -> None:
    for advert, version, fams in c.plan.failover_configs:
        for rep in range(c.plan.failover_reps):
            for impl in IMPLS:
                c.guard(f"failover v{version} {advert:g} s rep {rep + 1} {impl}",
                        lambda impl=impl, a=advert, v=version, f=fams:
                        vrrp_cases.failover(get(impl), a, v, f, c.metrics, _log))


def case_bfd(c: Ctx) -> None:
    c.guard("BFD detection", lambda: bfd_cases.run_case(c.plan.bfd_reps, c.metrics, _log))


def case_steady(c: Ctx) -> None:
    for count in c.plan.sizes:
        for rep in range(c.plan.steady_reps):
            for impl in IMPLS:
                last = count == max(c.plan.sizes) and rep == 0
                c.guard(f"{count} instances rep {rep + 1} {impl}", lambda impl=impl, count=count, last=last:
                        vrrp_cases.steady(get(impl), count, c.plan.window, c.metrics, _log, reload=last,
                                          profile_dir=c.prof_dir if last else None))


def case_dataplane(c: Ctx) -> None:
    def once(rep: int) -> None:
        r = subprocess.run([sys.executable, "-m", "conformance.bench.dataplane", "--seconds",
                            str(c.plan.dataplane_seconds), "--json"],
                           capture_output=True, text=True, timeout=300, cwd=REPO)
        if r.returncode != 0:
            raise RuntimeError(r.stderr[-2000:])
        results = json.loads(r.stdout.strip().splitlines()[-1])
        dataplane.add_metrics(results, c.plan.dataplane_seconds, c.metrics)
        _log(f"  rep {rep + 1}: " + "; ".join(f"{n}: " + ", ".join(f"{t} {v[0]:,.0f}" for t, v in tests.items())
                                            for n, tests in results.items()))
    for rep in range(c.plan.dataplane_reps):
        c.guard(f"dataplane rep {rep + 1}", lambda rep=rep: once(rep))


def case_check_host(c: Ctx) -> None:
    c.guard("TCP_CHECK rate on the host (keepalived-py)", lambda: check_cases.host_case(
        c.metrics, _log, window=c.plan.check_window, reps=c.plan.check_host_reps))


def case_check_guest(c: Ctx) -> None:
    c.guard("TCP_CHECK rate and IPVS programming in the guest (both, one boot)", lambda: check_cases.guest_case(
        c.metrics, _log, window=c.plan.check_window))


CASE_FUNCS: dict[str, Callable[[Ctx], None]] = {
    "launch": case_launch, "config-test": case_config_test, "failover": case_failover, "bfd": case_bfd,
    "steady": case_steady, "dataplane": case_dataplane, "check-host": case_check_host,
    "check-guest": case_check_guest,
}
assert tuple(CASE_FUNCS) == selection.NAMES


def run(plan: Plan, out_dir: Path, profile: bool, cases: list[str]) -> int:
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
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    ctx = Ctx(plan, prof_dir=out_dir / f"profile-{stamp}" if profile else None)
    if ctx.prof_dir:
        ctx.prof_dir.mkdir()
    compile_bytecode()
    load0, t0 = load(), time.monotonic()
    _log(f"bench start ({plan.name}: {', '.join(cases)}), load average {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
    seconds: dict[str, float] = {}
    for name in cases:
        _log(f"= {name}: {dict(selection.CASES)[name]}")
        c0 = time.monotonic()
        CASE_FUNCS[name](ctx)
        seconds[name] = time.monotonic() - c0
        _log(f"= {name}: {seconds[name]:.0f} s (load {load()[0]:.2f})")

    if ctx.prof_dir is not None:
        summarize_profiles(ctx.prof_dir)
    facts = report.RunFacts(commit=_version(), date=date, host=platform.node(), cpus=os.cpu_count(),
                            plan=plan.name if cases == selection.select(None, plan.skip)
                            else f"{plan.name}, only {','.join(cases)}",
                            keepalived=_ka_version(), minutes=(time.monotonic() - t0) / 60, load_start=load0,
                            load_end=load(), case_seconds=seconds, errors=ctx.errors,
                            profiles=sorted(str(p.relative_to(out_dir)) for p in ctx.prof_dir.iterdir())
                            if ctx.prof_dir else [])
    text = report.markdown(facts, list(ctx.metrics.values()))
    print(f"\n{text}")
    doc = {**report.as_json(facts, list(ctx.metrics.values())), "stamp": stamp, "plan": plan.__dict__,
           "cases": cases, "profiles": str(ctx.prof_dir) if ctx.prof_dir else None, "markdown": text}
    path = out_dir / f"bench-{stamp}.json"
    path.write_text(json.dumps(doc, indent=1, default=str))
    (out_dir / f"bench-{stamp}.md").write_text(text)
    _log(f"results: {path} and {path.with_suffix('.md')}")
    return 1 if ctx.errors else 0


def summarize_profiles(prof_dir: Path) -> None:
    """Beside each collapsed-stack profile, its top frames (profile.render) as *.top."""
    for raw in sorted(prof_dir.glob("*.txt")):
        raw.with_suffix(".top").write_text(profile.render(raw.read_text()))


def _version() -> str:
    """HEAD's short hash, marked when tracked files differ from it (the numbers are then not
    that commit's alone)."""
    with contextlib.suppress(Exception):
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return f"{head} (with uncommitted changes)" if dirty else head
    return "?"


def _ka_version() -> str:
    with contextlib.suppress(Exception):
        r = subprocess.run([*get("keepalived").argv_prefix(), "--version"], capture_output=True, text=True)
        return (r.stdout + r.stderr).split("\n", 1)[0].strip()
    return "?"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 epilog="cases: " + "; ".join(f"{n}: {d}" for n, d in selection.CASES)
                                 + "; aliases: " + ", ".join(f"{a} = {'+'.join(v)}" for a, v in selection.ALIASES.items()))
    ap.add_argument("--quick", action="store_true", help="a ~3 minute subset (host VRRP/BFD cases, fewer reps)")
    ap.add_argument("--only", metavar="CASE[,CASE]", help="run only these cases (names below)")
    ap.add_argument("--out", type=Path, default=REPO / "bench-results")
    ap.add_argument("--no-dataplane", action="store_true")
    ap.add_argument("--no-profile", action="store_true")
    ap.add_argument("--no-checker", action="store_true", help="skip the check cases (the guest part takes ~6 min)")
    args = ap.parse_args(argv)
    plan = QUICK if args.quick else FULL
    skip = [*(() if args.only else plan.skip), *(["dataplane"] if args.no_dataplane else []),
            *(selection.ALIASES["check"] if args.no_checker else ())]
    try:
        cases = selection.select(args.only, skip)
    except ValueError as e:
        ap.error(str(e))
    if not cases:
        ap.error("no case left to run")
    return run(plan, args.out, profile=not args.no_profile, cases=cases)


__all__ = ["FULL", "QUICK", "Plan", "main", "run"]
