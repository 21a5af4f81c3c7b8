"""The demo's story, step by step: build the lab, start the web servers and two routers,
show balancing, kill the MASTER, stop and restart a web server, and tear everything down.
Each step says what happens and why, then what was measured; `results` keeps the numbers
(written as JSON with --json, which the CI test reads)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from keepalived_py.demo import conf
from keepalived_py.demo.narrate import Narrator
from keepalived_py.demo.netns import Lab, Proc
from keepalived_py.demo.traffic import Request, first_from, last_from, outage, parse, since, spread

GAP = 0.1        # the client sends a request every GAP s ...
TIMEOUT = 1.0    # ... and gives each TIMEOUT s
SAMPLE = 30      # requests counted to show the spread
STEPS = 8
#: a daemon starts in about a second; once, on a machine loaded by a qemu guest and two
#: test workers, one took over a minute to fork its children
START_TIMEOUT = 120


class StepFailed(RuntimeError):
    """Something the story waits for did not happen in time: the demo says what and stops."""


def log_text(line: str) -> str:
    """A daemon log line without its timestamp ("Wed Dec  2 07:41:33 2026: ")."""
    m = re.match(r"^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}: ", line)
    return line[m.end():].strip() if m else line.strip()


def keepalived_py_argv() -> list[str]:
    """The installed console script beside this interpreter, else the module's entry point."""
    script = Path(sys.executable).with_name("keepalived-py")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from keepalived_py.cli import main; sys.exit(main())"]


class Story:
    def __init__(self, out: Narrator, workdir: Path) -> None:
        self.n = out
        self.lab = Lab({**{c: f"{a}/24" for c, a in (("client", conf.CLIENT),)},
                        **{r: f"{a}/24" for r, a in conf.ROUTERS.items()},
                        **{w: f"{a}/24" for w, a in conf.WEBS.items()}}, workdir)
        self.reqs: list[Request] = []
        self.webs: dict[str, Proc] = {}
        self.daemons: dict[str, Proc] = {}
        self.results: dict[str, Any] = {"run": self.lab.prefix, "workdir": str(workdir),
                                        "namespaces": [], "pids": [], "steps": {}}
        self.bounds = conf.bounds()

    # -- helpers ---------------------------------------------------------------------------
    def _traffic_line(self) -> str:
        recent = self.reqs[-20:]
        ok = sum(r.ok for r in recent)
        last = recent[-1].who if recent else "-"
        return f"(last {len(recent)} requests: {ok} answered, {len(recent) - ok} failed; last {last})"

    def _wait(self, what: str, pred, timeout: float, traffic: bool = True):
        value, waited = self.n.wait(what, pred, timeout, self._traffic_line if traffic else None)
        if not value:
            raise StepFailed(f"{what}: not after {timeout:g} s")
        return value, waited

    def _log_line(self, router: str, *needles: str, offset: int = 0) -> str | None:
        """The first line of `router`'s daemon log after byte `offset` holding every needle."""
        try:
            with open(self.daemons[router].log, "rb") as f:
                f.seek(offset)
                text = f.read().decode(errors="replace")
        except OSError:
            return None
        return next((ln for ln in text.splitlines() if all(x in ln for x in needles)), None)

    def _log_size(self, router: str) -> int:
        try:
            return self.daemons[router].log.stat().st_size
        except OSError:
            return 0

    def _start_web(self, name: str) -> Proc:
        p = self.lab.spawn(name, [sys.executable, "-m", "keepalived_py.demo.web", name,
                                  str(conf.WEB_PORT)], "web")
        self.results["pids"].append(p.pid)
        return p

    def _listening(self, node: str, port: int, addr: str = "") -> bool:
        r = subprocess.run(["ip", "netns", "exec", self.lab.ns(node), "ss", "-Hltn",
                            f"sport = :{port}"], capture_output=True, text=True)
        return (addr + ":" if addr else ":") + str(port) in r.stdout

    def _bars(self, counts) -> None:
        bar = "\u2588" if self.n.tty and (self.n.out.encoding or "").lower().startswith("utf") else "#"
        for name in (*conf.WEBS, "failed"):
            if counts.get(name) or name != "failed":
                self.n.raw(f"         {name:<6} {bar * counts.get(name, 0):<{SAMPLE}} {counts.get(name, 0)}")

    def _sample(self, what: str) -> dict[str, int]:
        t0 = time.monotonic()
        self._wait(what, lambda: len(since(self.reqs, t0)) >= SAMPLE, SAMPLE * (GAP + TIMEOUT) + 10)
        counts = spread(since(self.reqs, t0)[:SAMPLE])
        self._bars(counts)
        return dict(counts)

    # -- the steps -------------------------------------------------------------------------
    def run(self) -> None:
        n, lab = self.n, self.lab
        n.title("keepalived-py demo: two routers share one address and balance web traffic")
        n.say(f"""Everything below runs on this machine in network namespaces (private copies of
            the network stack) named {lab.prefix}-*, on the documentation network {conf.NET}.
            It takes about half a minute and removes everything at the end, also if you press
            Ctrl-C.""")

        n.step("Building the lab")
        t = time.monotonic()
        lab.up()
        self.results["namespaces"] = list(lab.made)
        n.say(f"""One virtual switch joins a client ({conf.CLIENT}), two routers r1
            ({conf.ROUTERS['r1']}) and r2 ({conf.ROUTERS['r2']}), and three web servers
            web1-web3 ({', '.join(conf.WEBS.values())}). The client will only ever talk to
            the virtual IP address {conf.VIP} port {conf.VPORT}: the service's address, which
            belongs to no machine in particular.""")
        n.result(f"{len(lab.made)} namespaces and their links in {time.monotonic() - t:.1f} s")

        n.step("Starting three web servers")
        t = time.monotonic()
        for name in conf.WEBS:
            self.webs[name] = self._start_web(name)
        self._wait("web servers listening", lambda: all(
            self._listening(w, conf.WEB_PORT) for w in conf.WEBS), 20, traffic=False)
        n.say("Each answers every request with its own name, so we can see who served it.")
        n.result(f"web1, web2, web3 listening on port {conf.WEB_PORT} after {time.monotonic() - t:.1f} s")

        n.step("Starting keepalived-py on r1 and r2")
        self._start_routers()

        n.step("Requests spread over the web servers")
        self._spread()

        n.step("The MASTER router dies")
        self._failover()

        n.step("A web server stops")
        self._backend_out()

        n.step("The web server comes back")
        self._backend_back()

    def _start_routers(self) -> None:
        n, lab = self.n, self.lab
        ipvs = Path("/proc/net/ip_vs").exists()
        n.say(f"""Both routers run the same keepalived.conf apart from their priority (r1 150,
            r2 100). Its vrrp_instance makes them elect a MASTER with VRRP: the MASTER holds
            {conf.VIP} and says so on the network every {conf.ADVERT_INT} s (an advert); the
            BACKUP listens. Its virtual_server makes the router holding the address share
            connections to {conf.VIP}:{conf.VPORT} over the three web servers in turn (lb_algo
            rr), each checked with an HTTP GET every {conf.DELAY_LOOP} s. The demo runs the
            balancing in keepalived-py's userspace dataplane (--lvs-backend=userspace): it
            needs no IPVS in the kernel and no routing change on the web servers.
            {"This kernel has no IPVS, so the default (auto) would choose it too." if not ipvs
             else "This kernel has IPVS; auto would use it, which for NAT needs the web servers to route their replies through the routers."}""")
        rconf = self.lab.workdir / "r1" / "keepalived.conf"
        t0 = time.monotonic()
        for router in conf.ROUTERS:
            self._start_daemon(router)
            if router == "r1":
                n.say(f"""r1's configuration is {rconf} (until the end of the demo). r1
                    first listens for 3 adverts' time whether another router is MASTER already,
                    hears none, and takes the address.""")
                _, waited = self._wait(f"r1 becoming MASTER and adding {conf.VIP}",
                                       lambda: lab.has_address("r1", conf.VIP), START_TIMEOUT,
                                       traffic=False)
                line = self._log_line("r1", "Entering MASTER STATE")
                n.result(f"r1 is MASTER and holds {conf.VIP}, {waited:.1f} s after it was started")
                if line:
                    n.raw("         r1 log: " + log_text(line))
        self._wait("r2 becoming BACKUP with its balancer ready", lambda: (
            self._log_line("r2", "Entering BACKUP STATE") and self._listening("r2", conf.VPORT, conf.VIP)),
            START_TIMEOUT, traffic=False)
        n.result(f"r2 is BACKUP: it listens to r1's adverts and is ready to take over "
                 f"({time.monotonic() - t0:.1f} s for both routers)")
        self.results["steps"]["start"] = {"seconds": round(time.monotonic() - t0, 3)}

    def _start_daemon(self, router: str) -> None:
        d = self.lab.workdir / router
        (d / "tmp").mkdir(parents=True, exist_ok=True)
        cfile = d / "keepalived.conf"
        cfile.write_text(conf.router_conf(router))
        argv = [*keepalived_py_argv(), "-n", "-l", "-D", "-f", str(cfile),
                "-p", str(d / "keepalived.pid"), "-r", str(d / "vrrp.pid"),
                "-c", str(d / "checkers.pid"), "-b", str(d / "bfd.pid"), "--lvs-backend=userspace"]
        env = {**os.environ, "TMPDIR": str(d / "tmp")}
        self.daemons[router] = p = self.lab.spawn(router, argv, "keepalived-py", env=env)
        self.results["pids"].append(p.pid)

    def _start_client(self) -> None:
        p = self.lab.spawn("client", [sys.executable, "-m", "keepalived_py.demo.client", conf.VIP,
                                      str(conf.VPORT), str(GAP), str(TIMEOUT)], "client",
                           stdout=subprocess.PIPE)
        self.results["pids"].append(p.pid)

        def read() -> None:
            assert p.popen.stdout is not None
            for raw in p.popen.stdout:
                r = parse(raw.decode(errors="replace"))
                if r is not None:
                    self.reqs.append(r)

        threading.Thread(target=read, name="demo-client", daemon=True).start()

    def _spread(self) -> None:
        n = self.n
        n.say(f"""The client now sends an HTTP request to {conf.VIP}:{conf.VPORT} every
            {GAP:g} s, each on a new connection, and notes which web server answered. Here are
            the next {SAMPLE}:""")
        t0 = time.monotonic()
        self._start_client()
        self._wait("first answers from every web server",
                   lambda: {r.who for r in since(self.reqs, t0) if r.ok} >= set(conf.WEBS), 30)
        counts = self._sample(f"{SAMPLE} requests")
        n.result("round robin: each web server takes every third connection" if
                 all(counts.get(w) == SAMPLE // 3 for w in conf.WEBS) else f"spread: {counts}")
        self.results["steps"]["spread"] = counts

    def _failover(self) -> None:
        n, lab, b = self.n, self.lab, self.bounds
        n.say(f"""We kill keepalived-py on r1 with SIGKILL, as in a crash: it cannot warn anyone
            or remove the address, so r1's kernel keeps {conf.VIP} with nothing listening
            behind it and refuses the client's connections. r2 notices that r1's adverts have
            stopped; after the Master_Down_Interval (3 x advert_int + a skew that favours
            higher priorities = {b.master_down:.2f} s after r1's last advert) it becomes
            MASTER, adds {conf.VIP} and announces it with gratuitous ARP, so the client sends
            to r2 from then on. The client keeps sending meanwhile.""")
        t_kill = lab.kill(self.daemons["r1"], signal.SIGKILL)
        _, moved = self._wait(f"r2 taking over {conf.VIP}", lambda: lab.has_address("r2", conf.VIP), 30)
        got, _ = self._wait("traffic flowing again", lambda: outage(
            self.reqs, t_kill).back_after is not None, 20)
        o = outage(self.reqs, t_kill)
        line = self._log_line("r2", "Entering MASTER STATE")
        if line:
            n.raw("         r2 log: " + log_text(line))
        n.result(f"r2 holds {conf.VIP} {moved:.1f} s after r1 died (bound {b.master_down:.2f} s "
                 f"after r1's last advert, which came up to {conf.ADVERT_INT} s before its death)")
        n.result(f"requests failed during the switch: {o.failed}; every request since "
                 f"{o.back_after:.1f} s after the kill was answered")
        self.results["steps"]["failover"] = {"vip_moved_s": round(moved, 3), "failed": o.failed,
                                             "back_after_s": round(o.back_after or 0, 3),
                                             "bound_s": round(b.master_down + conf.ADVERT_INT, 3)}

    def _backend_out(self) -> None:
        n, lab, b = self.n, self.lab, self.bounds
        web, addr = "web2", conf.WEBS["web2"]
        n.say(f"""We stop {web}. Connections the balancer sends it now fail, until r2's health
            check notices: it fails a GET, retries {conf.RETRY} time after
            {conf.DELAY_BEFORE_RETRY} s, then takes {web} out of the pool (at most
            {b.check_out:g} s). The balancer then shares the traffic between the two left.""")
        offset = self._log_size("r2")
        t_stop = lab.kill(self.webs[web], signal.SIGTERM)
        line, took = self._wait(f"r2's health check removing {web}",
                                lambda: self._log_line("r2", "Removing service", f"[{addr}]", offset=offset),
                                b.check_out + 15)
        t_removed = time.monotonic()
        n.raw("         r2 log: " + log_text(line))
        o = outage(self.reqs, t_stop, avoid=web)
        self._wait("requests after the removal", lambda: len(since(self.reqs, t_removed)) >= 6, 10)
        after = spread(since(self.reqs, t_removed))
        n.result(f"{web} taken out {took:.1f} s after it stopped (bound {b.check_out:g} s); "
                 f"requests failed meanwhile: {o.failed}")
        n.result("since then: " + ", ".join(f"{k} {v}" for k, v in sorted(after.items())))
        self.results["steps"]["backend_out"] = {"removed_s": round(took, 3), "failed": o.failed,
                                                "bound_s": b.check_out, "after": dict(after)}

    def _backend_back(self) -> None:
        n, b = self.n, self.bounds
        web, addr = "web2", conf.WEBS["web2"]
        n.say(f"""We start {web} again. The health check keeps trying it; its first good answer
            puts it back in the pool (within {b.check_in:g} s) and it gets its share again.""")
        offset = self._log_size("r2")
        t_start = time.monotonic()
        self.webs[web] = self._start_web(web)
        line, took = self._wait(f"r2's health check adding {web} back",
                                lambda: self._log_line("r2", "Adding service", f"[{addr}]", offset=offset),
                                b.check_in + 15)
        n.raw("         r2 log: " + log_text(line))
        first, _ = self._wait(f"a request answered by {web}",
                              lambda: first_from(self.reqs, web, t_start), 10)
        n.result(f"{web} back in the pool {took:.1f} s after it started; first request served "
                 f"{first - t_start:.1f} s after it started")
        counts = self._sample(f"{SAMPLE} more requests")
        self.results["steps"]["backend_back"] = {"added_s": round(took, 3), "spread": counts,
                                                 "last_before": last_from(self.reqs, web)}

    def summary(self) -> None:
        s = self.results["steps"]
        if "backend_back" not in s:
            return
        f, o = s["failover"], s["backend_out"]
        self.n.title("\nWhat happened")
        self.n.say(f"""The service at {conf.VIP} lost {f['failed']} requests when its router
            died ({f['back_after_s']:.1f} s without answers) and {o['failed']} when a web server
            stopped; the rest was answered. This is keepalived's job: VRRP moves the address,
            health checks steer around dead servers, with the same keepalived.conf.""")


def have_tools() -> str | None:
    """Why the demo cannot run here, or None."""
    if os.geteuid() != 0:
        return "the demo needs root (it creates network namespaces): run it with sudo"
    for tool in ("ip", "ss"):
        if not shutil.which(tool):
            return f"the demo needs `{tool}` (Debian package iproute2)"
    return None
