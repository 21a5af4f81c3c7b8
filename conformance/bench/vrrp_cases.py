"""The VRRP cases of the bench, each run against one implementation in the netns lab.

Times that the protocol defines (failover, advert intervals) are taken from capture
timestamps (the kernel stamps them on the bridge, so a stall of this process does not show);
start-up from the daemon's own log line, stop from the netlink event of the VIP leaving.
Every case records into `Metric`s (stats.py) and leaves nothing running: the lab tears
down in `finally` whatever happened.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil

from conformance.lab import Lab, read_pcap, vrrp_adverts
from conformance.lab.impl import Implementation
from conformance.lab.poll import wait_until
from keepalived_py.vrrp.lateness import LatenessView

from .stats import (
    Metric,
    failover_excess,
    interval_deviations,
    master_down_interval,
    max_gap,
    percentile,
    takeover_times,
)

TWO = "bridge lan 192.0.2.0/24 2001:db8:0:1::/64\nrouter r1 lan\nrouter r2 lan\n"
ONE = "bridge lan 192.0.2.0/24 2001:db8:0:1::/64\nrouter r1 lan\n"
VIP4, VIP6 = "192.0.2.100", "2001:db8:0:1::100"
PRIO_MASTER, PRIO_BACKUP = 150, 100
RELOAD_NEW_VIP = "198.51.100.1"
SETTLE = 8.0  # seconds from the last VIP up to the steady-state window
VRRP_BPF = "ip proto 112 or ip6 proto 112"  # tcpdump's `vrrp` is IPv4 only
METRICS_PORT = 9651  # keepalived-py's metrics endpoint on r1's own loopback

Log = Callable[[str], None]


def instance(name: str, vrid: int, prio: int, advert: float, version: int, vips: list[str]) -> str:
    body = "\n".join(f"        {v}" for v in vips)
    return (f"vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {vrid}\n"
            f"    priority {prio}\n    advert_int {advert:g}\n    version {version}\n"
            f"    virtual_ipaddress {{\n{body}\n    }}\n}}\n")


def config(router: str, instances: list[str]) -> str:
    return f"global_defs {{\n    router_id {router}\n}}\n" + "".join(instances)


def failover_config(router: str, prio: int, advert: float, version: int, families: tuple[int, ...]) -> str:
    inst = []
    if 4 in families:
        inst.append(instance("VI_4", 51, prio, advert, version, [f"{VIP4}/24"]))
    if 6 in families:
        inst.append(instance("VI_6", 52, prio, advert, version, [f"{VIP6}/64"]))
    return config(router, inst)


def many_config(count: int, advert: float = 1.0, changed_first: bool = False) -> str:
    """`count` instances (vrid 1..count), one /32 VIP each in 203.0.113.0/24; with
    `changed_first` instance 1 has another VIP (the reload case)."""
    inst = []
    for i in range(1, count + 1):
        vip = RELOAD_NEW_VIP if (changed_first and i == 1) else f"203.0.113.{i}"
        inst.append(instance(f"VI_{i}", i, PRIO_BACKUP, advert, 2, [f"{vip}/32"]))
    return config("bench", inst)


def _wait_log(d, text: str, count: int = 1, timeout: float = 30.0, step: float = 0.001) -> float:
    """time.monotonic() when the daemon's log first holds `count` copies of `text`: the log
    file's size is watched every `step` seconds and re-read only when it grew."""
    deadline, size = time.monotonic() + timeout, -1
    while time.monotonic() < deadline:
        now = time.monotonic()
        try:
            st = os.stat(d.log).st_size
        except OSError:
            st = -1
        if st != size:
            size = st
            if d.output().count(text) >= count:
                return now
        if not d.alive():
            raise RuntimeError(f"{d.what} exited: {d.output()[-2000:]}")
        time.sleep(step)
    raise TimeoutError(f"{d.what}: no {text!r} x{count} within {timeout} s: {d.output()[-2000:]}")


def _first_adverts(cap_path: Path, src: str, after: float, vrids: set[int], timeout: float) -> dict[int, float]:
    """{vrid: capture time} of `src`'s first non-zero-priority advert after `after` for each vrid."""
    found: dict[int, float] = {}

    def look() -> bool:
        found.clear()
        for a in vrrp_adverts(read_pcap(cap_path)):
            if a.src == src and a.ts > after and a.priority > 0 and a.vrid in vrids and a.vrid not in found:
                found[a.vrid] = a.ts
        return set(found) == vrids

    wait_until(look, timeout, step=0.05, what=f"first adverts of {src} for {sorted(vrids)}")
    return dict(found)


# ------------------------------------------------------------------------------ failover
def failover(impl: Implementation, advert: float, version: int, families: tuple[int, ...],
             metrics: dict[str, Metric], log: Log) -> None:
    """r1 (150) master, r2 (100) backup. SIGTERM r1 -> r2 takes over (bound: Skew_Time after
    r1's priority 0 advert); r1 back, preempts; kill -9 r1 -> r2 takes over (bound: r2's
    Master_Down_Interval after r1's last advert). The excess over each bound, per family."""
    vrids = {4: 51, 6: 52}
    vips = {4: VIP4, 6: VIP6}
    label = f"v{version} advert {advert:g} s"
    mdi = master_down_interval(PRIO_MASTER, advert, version)
    mdi_backup = master_down_interval(PRIO_BACKUP, advert, version)
    # adverts are told apart by priority (r1 150, or 0 when it leaves; r2 100), so IPv6's
    # link-local sources need not be learnt
    with Lab(TWO) as lab:
        obs = lab.watch_addresses(["r1", "r2"])
        cap = lab.capture("lan", VRRP_BPF)
        r1 = lab.start_daemon("r1", impl, failover_config("r1", PRIO_MASTER, advert, version, families))
        r2 = lab.start_daemon("r2", impl, failover_config("r2", PRIO_BACKUP, advert, version, families))
        for f in families:
            wait_until(lambda f=f: obs.holders(vips[f]) == {"r1"}, mdi + 30, what=f"r1 alone holds {vips[f]}")
        _wait_log(r2, "Entering BACKUP STATE", len(families))
        time.sleep(3 * advert + 0.2)  # r2 hears r1 for a while
        for fault in ("SIGTERM", "kill -9"):
            graceful = fault == "SIGTERM"
            t = lab.terminate(r1) if graceful else lab.kill(r1)
            t_wall = next(w for m, w, _ in lab.journal if m == t)
            for f in families:
                if obs.wait_for(vips[f], node="r2", after=t, timeout=mdi_backup + 10) is None:
                    raise RuntimeError(f"r2 did not take {vips[f]} after {fault}: {r2.output()[-2000:]}")

            def firsts(t_wall: float = t_wall, graceful: bool = graceful) -> dict[int, tuple]:
                recs = [(a.ts, a.vrid, a.priority) for a in vrrp_adverts(read_pcap(cap.path))]
                return {f: takeover_times(recs, vrids[f], t_wall, graceful, PRIO_MASTER, PRIO_BACKUP)
                        for f in families}

            # tcpdump -U writes each packet at once; the file is read as it grows
            with contextlib.suppress(AssertionError):
                wait_until(lambda: all(r is not None and x is not None for r, x in firsts().values()), 10,
                           step=0.05)
            for f, (ref, first) in firsts().items():
                value = None if ref is None or first is None else \
                    failover_excess(ref, first, PRIO_BACKUP, advert, version, graceful)
                key = f"failover {fault}, {label}, IPv{f}"
                metrics.setdefault(key, Metric(key, "ms over bound", 1000.0)).add(impl.name, value)
                log(f"  {impl.name} {key}: {_ms(value)}")
            if graceful:
                if r1.wait(10) is None:
                    raise RuntimeError("r1 did not stop on SIGTERM")
                t_back = lab.note("restart r1")
                r1 = lab.start_daemon("r1", impl, failover_config("r1", PRIO_MASTER, advert, version, families),
                                      name=f"{impl.name}-again")
                for f in families:
                    if obs.wait_for(vips[f], node="r2", added=False, after=t_back, timeout=mdi + 30) is None:
                        raise RuntimeError(f"r1 did not preempt: {r1.output()[-2000:]}")
                time.sleep(3 * advert + 0.2)
        r1.wait(5)
        r2.stop()
        cap.stop()


# ------------------------------------------------------------------------------ start / stop
def launch_and_stop(impl: Implementation, reps: int, metrics: dict[str, Metric], log: Log) -> None:
    """Launch -> the instance's 'Entering BACKUP STATE' log line (polled every ms), then, once
    it is MASTER, SIGTERM -> the VIP's RTM_DELADDR (netlink, read by this process)."""
    conf = config("r1", [instance("VI_1", 51, PRIO_BACKUP, 0.1, 3, [f"{VIP4}/24"])])
    start = metrics.setdefault("launch -> BACKUP state (one instance)", Metric(
        "launch -> BACKUP state (one instance)", "ms", 1000.0, note="incl. ~ms of `ip netns exec`"))
    stop = metrics.setdefault("SIGTERM -> VIP gone (one instance)", Metric("SIGTERM -> VIP gone (one instance)", "ms", 1000.0))
    with Lab(ONE) as lab:
        obs = lab.watch_addresses(["r1"])
        for i in range(reps):
            t0 = time.monotonic()
            d = lab.start_daemon("r1", impl, conf, name=f"{impl.name}-{i}")
            t_backup = _wait_log(d, "Entering BACKUP STATE")
            start.add(impl.name, t_backup - t0)
            if obs.wait_for(VIP4, node="r1", after=t0, timeout=20) is None:
                raise RuntimeError(f"no MASTER: {d.output()[-2000:]}")
            time.sleep(0.3)
            t = lab.terminate(d)
            gone = obs.wait_for(VIP4, node="r1", added=False, after=t, timeout=10)
            stop.add(impl.name, gone.mono - t if gone else None)
            d.wait(10)
            log(f"  {impl.name} launch {(t_backup - t0) * 1000:.1f} ms, stop "
                f"{'-' if gone is None else f'{(gone.mono - t) * 1000:.2f} ms'}")


def netns_exec_overhead(reps: int = 5) -> list[float]:
    """What `ip netns exec NS /bin/true` costs here: part of every launch time above."""
    out = []
    with Lab(ONE) as lab:
        for _ in range(reps):
            t0 = time.monotonic()
            subprocess.run(["ip", "netns", "exec", lab.ns("r1"), "/bin/true"], check=True)
            out.append(time.monotonic() - t0)
    return out


# ------------------------------------------------------------------------------ steady state
def _tree_stats(d) -> tuple[float, int, int]:
    """(user+system CPU seconds, PSS bytes, process count) summed over the daemon's processes."""
    cpu, pss, n = 0.0, 0, 0
    for pid in d.tree():
        with contextlib.suppress(psutil.Error):
            p = psutil.Process(pid)
            if p.name() == "ip":  # not yet exec'd by `ip netns exec`
                continue
            t = p.cpu_times()
            cpu += t.user + t.system
            pss += p.memory_full_info().pss
            n += 1
    return cpu, pss, n


def steady(impl: Implementation, count: int, window: float, metrics: dict[str, Metric], log: Log, *,
           reload: bool = False, profile_dir: Path | None = None) -> None:
    """`count` instances as MASTER, alone: advert interval deviation p50 / p99 over `window`
    seconds of capture, CPU (share of one core over the window) and PSS summed over every
    process of the daemon. With `reload`: instance 1 gets another VIP by SIGHUP; the time
    to the new VIP, and every address event of the other instances (there must be none)."""
    def m(name: str, unit: str, scale: float = 1.0) -> Metric:
        key = f"{name}, {count} instance{'s' * (count > 1)}"
        return metrics.setdefault(key, Metric(key, unit, scale))

    vips = [f"203.0.113.{i}" for i in range(1, count + 1)]
    with Lab(ONE) as lab:
        obs = lab.watch_addresses(["r1"])
        py = impl.name == "keepalived-py"
        extra = ("--metrics-listen", f"127.0.0.1:{METRICS_PORT}") if py else ()
        d = lab.start_daemon("r1", impl, many_config(count), extra=extra)
        wait_until(lambda: len({e.ip for e in obs.events if e.added} & set(vips)) == count,
                   master_down_interval(PRIO_BACKUP, 1.0, 2) + 60, what=f"{count} VIPs up")
        # past the start-up transient: keepalived's second gratuitous ARP burst (garp_master_delay
        # 5 s) costs it ~60% of a core for 2-4 s at 255 instances and delays adverts
        time.sleep(SETTLE)
        cap = lab.capture("lan", VRRP_BPF)
        late0 = _lateness(lab) if py else None
        cpu0, _pss, _n = _tree_stats(d)
        w0 = time.monotonic()
        time.sleep(window)
        cpu1, pss, nprocs = _tree_stats(d)
        late1 = _lateness(lab) if py else None
        elapsed = time.monotonic() - w0
        t_end_wall = time.time()
        if profile_dir is not None and impl.name == "keepalived-py":
            _profile(d, profile_dir / f"py-spy-{count}-instances.svg", log)
        if reload:
            d.conf.write_text(many_config(count, changed_first=True))
            t = lab.kill(d, signal.SIGHUP, tree=False)
            new = obs.wait_for(RELOAD_NEW_VIP, node="r1", after=t, timeout=60)
            old = obs.wait_for(vips[0], node="r1", added=False, after=t, timeout=5)
            time.sleep(3.0)  # anything else that moves, moves now
            moved = [e for e in obs.events if e.mono >= t and e.ip not in (vips[0], RELOAD_NEW_VIP)]
            key = f"reload of 1 instance among {count}: SIGHUP -> new VIP"
            metrics.setdefault(key, Metric(key, "ms", 1000.0)).add(impl.name, new.mono - t if new else None)
            key2 = f"reload of 1 instance among {count}: other VIPs' address events"
            metrics.setdefault(key2, Metric(key2, "events")).add(impl.name, len(moved))
            log(f"  {impl.name} reload: new VIP {'-' if new is None else f'{(new.mono - t) * 1000:.1f} ms'}, "
                f"old VIP removed: {old is not None}, other VIP events: {len(moved)}")
        frames = cap.stop()
        d.stop(30)
    ads = vrrp_adverts(frames)
    by_vrid: dict[int, list[float]] = {}
    for a in ads:
        if a.ts <= t_end_wall:
            by_vrid.setdefault(a.vrid, []).append(a.ts)
    devs = interval_deviations(by_vrid, 1.0)
    p50, p99 = percentile(devs, 50), percentile(devs, 99)
    m("advert interval deviation p50", "ms", 1000.0).add(impl.name, p50)
    m("advert interval deviation p99", "ms", 1000.0).add(impl.name, p99)
    m("CPU", "% of a core", 100.0).add(impl.name, (cpu1 - cpu0) / elapsed)
    pss_row = m("PSS summed", "MiB", 1 / 2**20)
    pss_row.add(impl.name, pss)
    if impl.name == "keepalived-py":
        # issue 16's PSS targets count all four children; a VRRP-only config starts the vrrp one
        pss_row.note = f"{nprocs} processes: parent + vrrp child, no check or bfd child in this config"
    if reload:
        # the other instances' adverts across the reload: the longest gap should stay ~1 s
        across = {}
        for a in ads:
            if a.vrid != 1 and a.ts > t_end_wall - 1.5:
                across.setdefault(a.vrid, []).append(a.ts)
        gaps = [g for g in (max_gap(ts) for ts in across.values()) if g is not None]
        key = f"reload of 1 instance among {count}: longest advert gap of the others"
        metrics.setdefault(key, Metric(key, "ms", 1000.0)).add(impl.name, max(gaps) if gaps else None)
    if late0 is not None and late1 is not None:
        # the vrrp child's own measure (vrrp/lateness.py) over the same window: send time
        # minus deadline, from the difference of two scrapes of its histogram
        win = LatenessView(late1.bounds, tuple(b - a for a, b in zip(late0.counts, late1.counts, strict=True)),
                           late1.count - late0.count, late1.sum - late0.sum, late1.max)
        lp50, lp99 = win.quantile(0.5), win.quantile(0.99)
        for q, v in (("p50", lp50), ("p99", lp99)):
            lm = m(f"advert send lateness {q} (vrrp child's histogram)", "ms", 1000.0)
            lm.note = "keepalived-py only: keepalived does not measure it"
            lm.add(impl.name, v)
        log(f"  {impl.name} {count} inst: send lateness over {win.count} adverts p50 {_ms(lp50)} p99 {_ms(lp99)}")
    log(f"  {impl.name} {count} inst: {len(devs)} intervals, dev p50 {_ms(p50)} p99 {_ms(p99)}, "
        f"CPU {(cpu1 - cpu0) / elapsed * 100:.2f}%, PSS {pss / 2**20:.1f} MiB in {nprocs} processes")


def _lateness(lab: Lab) -> LatenessView | None:
    """keepalived-py's advert send lateness histogram, scraped from r1's metrics endpoint."""
    from prometheus_client.parser import text_string_to_metric_families

    r = lab.exec("r1", ["curl", "-s", "-m", "5", f"http://127.0.0.1:{METRICS_PORT}/metrics"], check=False)
    if r.returncode != 0 or not r.stdout:
        return None
    cum: list[tuple[float, float]] = []
    total = 0.0
    for fam in text_string_to_metric_families(r.stdout):
        if fam.name != "keepalived_vrrp_send_lateness_seconds":
            continue
        for smp in fam.samples:
            if smp.labels.get("kind") != "advert":
                continue
            if smp.name.endswith("_bucket"):
                cum.append((float(smp.labels["le"]), smp.value))
            elif smp.name.endswith("_sum"):
                total = smp.value
    if not cum:
        return None
    cum.sort()
    counts = tuple(int(c - p) for (_, c), (_, p) in zip(cum, [(0.0, 0.0), *cum[:-1]], strict=True))
    bounds = tuple(le for le, _ in cum[:-1])
    return LatenessView(bounds, counts, int(cum[-1][1]), total, bounds[-1])


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v * 1000:.2f} ms"


def _profile(d, out: Path, log: Log) -> None:
    """py-spy (if installed beside this Python) on the vrrp child for a few seconds."""
    spy = Path(sys.executable).parent / "py-spy"
    pid = d.pids().get("vrrp")
    if not spy.exists() or pid is None:
        log(f"  (no profile: py-spy {'missing' if not spy.exists() else 'has no vrrp pid'})")
        return
    # the flame graph and the collapsed stacks (for the *.top summary) over the same 8 s,
    # side by side: one after the other cost the run 8 s more
    procs = [subprocess.Popen([str(spy), "record", "-p", str(pid), "-d", "8", "-r", "250", *fmt, "-o", str(path),
                               "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for fmt, path in (((), out), (("-f", "raw"), out.with_suffix(".txt")))]
    errs = []
    for p in procs:
        try:
            _, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            _, err = p.communicate()
        if p.returncode != 0:
            errs.append(err.strip()[-300:])
    log(f"  profile {out.name}: {'ok' if not errs else ' / '.join(errs)}")
