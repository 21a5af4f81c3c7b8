"""The checker daemon's IPVS table through a story, in the guest (real IPVS): real keepalived
and keepalived-py, run as daemons with `-n -l -C` on the same configurations, must leave the
same sorted `ipvsadm -S -n` after start, after a real server's listener stops (removed, or
weight 0 with inhibit_on_failure, or the sorry server when quorum is lost), after it returns,
after a SIGHUP with a changed configuration, and after SIGTERM.

One guest boot for every case and implementation: the driver (DRIVER, run by the guest's
python) keeps the real servers' listeners, runs the implementations one after the other
(keepalived first: its settled tables are the reference each later implementation is polled
against, up to a deadline, so a slow Python start under TCG does not snapshot it half way),
and prints one `KPY-STORY {json}` line per implementation and case.

    python -m conformance.scenarios.ipvs_check_story  (in the guest; see run_story())
"""

from __future__ import annotations

import json

from ..guest import run_in_guest
from ..lab import Implementation
from . import Context, scenario

SETUP = ("ip link add kpyst0 type dummy && ip addr add 192.0.2.1/24 dev kpyst0 && ip link set kpyst0 up && "
         "for n in 11 12 13 15; do ip addr add 192.0.2.$n/24 dev kpyst0; done")

_TCP = """TCP_CHECK {
            connect_port 8080
            connect_timeout 1
            retry 0
            delay_before_retry 1
            warmup 0
        }"""


def _rs(addr: str, port: str = " 8080", body: str = "") -> str:
    return f"""    real_server {addr}{port} {{
        {body}
        {_TCP}
    }}
"""


def _vs(head: str, body: str, servers: str) -> str:
    return f"""virtual_server {head} {{
    delay_loop 1
{body}
{servers}}}
"""


GLOBAL = "global_defs {\n    router_id kpystory\n}\n"

#: name -> (configuration, configuration after the HUP, the address whose listener stops)
CASES: dict[str, tuple[str, str, str]] = {
    "nat_rr_remove": (
        GLOBAL + _vs("192.0.2.10 80", "    lb_algo rr\n    lb_kind NAT\n    protocol TCP",
                     _rs("192.0.2.11", body="weight 1") + _rs("192.0.2.12", body="weight 2")),
        GLOBAL + _vs("192.0.2.10 80", "    lb_algo wrr\n    lb_kind NAT\n    protocol TCP",
                     _rs("192.0.2.11", body="weight 3") + _rs("192.0.2.12", body="weight 2")
                     + _rs("192.0.2.13", body="weight 1")),
        "192.0.2.12"),
    "inhibit_wrr": (
        GLOBAL + _vs("192.0.2.10 81", "    lb_algo wrr\n    lb_kind NAT\n    protocol TCP",
                     _rs("192.0.2.11", body="weight 2\n        inhibit_on_failure")
                     + _rs("192.0.2.12", body="weight 1")),
        GLOBAL + _vs("192.0.2.10 81", "    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n"
                     "    persistence_timeout 60",
                     _rs("192.0.2.11", body="weight 2\n        inhibit_on_failure")),
        "192.0.2.11"),
    "quorum_sorry": (
        GLOBAL + _vs("192.0.2.10 82", "    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    quorum 2\n"
                     "    sorry_server 192.0.2.15 8080",
                     _rs("192.0.2.11") + _rs("192.0.2.12")),
        GLOBAL + _vs("192.0.2.10 82", "    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n    quorum 1\n"
                     "    sorry_server 192.0.2.15 8080",
                     _rs("192.0.2.11") + _rs("192.0.2.12")),
        "192.0.2.12"),
    "dr_fwmark": (
        GLOBAL + _vs("fwmark 7", "    lb_algo wlc\n    lb_kind DR", _rs("192.0.2.11", "") + _rs("192.0.2.12", "")),
        GLOBAL + _vs("fwmark 7", "    lb_algo wlc\n    lb_kind DR", _rs("192.0.2.11", "") + _rs("192.0.2.12", ""))
        + _vs("192.0.2.10 83", "    lb_algo sh\n    lb_kind DR\n    protocol TCP", _rs("192.0.2.13", " 83")),
        "192.0.2.11"),
    "group_alpha": (
        GLOBAL + "virtual_server_group G1 {\n    192.0.2.30-31 80\n}\n"
        + _vs("group G1", "    lb_algo rr\n    lb_kind NAT\n    protocol TCP",
              _rs("192.0.2.11", body="alpha") + _rs("192.0.2.12", body="weight 2")),
        GLOBAL + "virtual_server_group G1 {\n    192.0.2.30-32 80\n}\n"
        + _vs("group G1", "    lb_algo rr\n    lb_kind NAT\n    protocol TCP",
              _rs("192.0.2.11", body="alpha") + _rs("192.0.2.12", body="weight 3")),
        "192.0.2.12"),
}

STAGES = ("start", "down", "up", "hup", "stop")

DRIVER = r'''
import json, os, signal, socket, subprocess, sys, threading, time

impls = json.loads(sys.argv[1])        # [[name, [argv prefix...]], ...], the reference first
cases = json.loads(sys.argv[2])        # name -> [conf, hup_conf, stop_addr]
scratch = sys.argv[3]
LISTEN = ("192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.15")
socks = {}

def listen(addr):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 8080)); s.listen(64); socks[addr] = s
    def serve():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            c.close()
    threading.Thread(target=serve, daemon=True).start()

def unlisten(addr):
    s = socks.pop(addr)
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    s.close()

def table():
    out = subprocess.run(["ipvsadm", "-S", "-n"], capture_output=True, text=True).stdout
    return sorted(l for l in out.splitlines() if l.strip())

def settle(prev, ref, deadline_s, proc):
    """The reference: wait until the table differs from `prev` and stays so for 3 s. Others:
    until it equals `ref` (the reference's table at this stage), else the deadline."""
    end = time.time() + deadline_s
    last, since = None, time.time()
    while time.time() < end:
        t = table()
        if ref is not None:
            if t == ref:
                time.sleep(1.0)            # and it stays so
                return table()
        else:
            if t != last:
                last, since = t, time.time()
            elif t != prev and t and time.time() - since >= 3.0:
                return t
        if proc is not None and proc.poll() is not None:
            return table()
        time.sleep(0.3)
    return table()

refs = {}
for name, argv in impls:
    for case, (conf, hup, addr) in cases.items():
        for a in LISTEN:
            if a not in socks:
                listen(a)
        subprocess.run(["ipvsadm", "-C"])
        d = f"/tmp/story-{name}-{case}"
        os.makedirs(d + "/tmp", exist_ok=True)
        cf = f"{d}/k.conf"
        open(cf, "w").write(conf)
        log = open(f"{d}/log", "w")
        cmd = argv + ["-n", "-l", "-D", "-C", "-f", cf, "-p", f"{d}/k.pid", "-c", f"{d}/c.pid"]
        env = dict(os.environ, TMPDIR=d + "/tmp")
        t0 = time.time()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        ref = refs.get(case)
        got = {}
        got["start"] = settle([], ref and ref["start"], 90, proc)
        unlisten(addr)
        got["down"] = settle(got["start"], ref and ref["down"], 30, proc)
        listen(addr)
        got["up"] = settle(got["down"], ref and ref["up"], 30, proc)
        open(cf, "w").write(hup)
        proc.send_signal(signal.SIGHUP)
        got["hup"] = settle(got["up"], ref and ref["hup"], 40, proc)
        exited_early = proc.poll()
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill(); rc = proc.wait()
        got["stop"] = table()
        log.close()
        if name == impls[0][0]:
            refs[case] = got
        tail = open(f"{d}/log").read()[-4000:]
        print("KPY-STORY " + json.dumps({"impl": name, "case": case, "tables": got, "rc": rc,
                                         "exited_early": exited_early, "seconds": round(time.time() - t0, 1),
                                         "log": tail}), flush=True)
'''


def run_story(impls: list[tuple[str, list[str]]], cases: dict[str, tuple[str, str, str]] | None = None,
              timeout: float | None = None) -> tuple[dict[str, dict[str, dict]], object]:
    """Run the story in one guest boot: {impl: {case: result}} and the GuestResult."""
    cases = cases or CASES
    files = {"story.py": DRIVER}
    cmd = (f"python3 -u $KPY_SCRATCH/story.py {_q(json.dumps(impls))} {_q(json.dumps(cases))} $KPY_SCRATCH")
    res = run_in_guest([SETUP, cmd], timeout=timeout or 120 + 150 * len(cases) * len(impls), files=files,
                       keep_going=True)
    out: dict[str, dict[str, dict]] = {}
    for line in res.steps[1].output.splitlines() if len(res.steps) > 1 else ():
        if line.startswith("KPY-STORY "):
            r = json.loads(line[len("KPY-STORY "):])
            out.setdefault(r["impl"], {})[r["case"]] = r
    return out, res


def _q(text: str) -> str:
    import shlex
    return shlex.quote(text)


def check(r: dict) -> list[str]:
    problems = []
    for case in CASES:
        c = r.get(case)
        if c is None:
            problems.append(f"{case}: did not run")
            continue
        if not c.get("start"):
            problems.append(f"{case}: nothing programmed at start")
        # keepalived may leave a group's emptied services (DIFFERENCES.md); destinations never
        if any(not line.startswith("-A ") for line in c.get("stop") or ()):
            problems.append(f"{case}: SIGTERM left {c['stop']}")
        if c.get("start") == c.get("down"):
            problems.append(f"{case}: the table did not change when a listener stopped")
    return problems


def summary(r: dict) -> str:
    ran = [c for c in CASES if c in r]
    return f"{len(ran)} cases x {len(STAGES)} stages"


@scenario("ipvs_check_story", features=("ipvs",), needs=("guest",), batch=True, check=check, summary=summary)
def run(impls: list[Implementation], ctx: Context) -> dict[str, dict]:
    """Checker daemons on the same configurations (NAT rr removal, inhibit_on_failure wrr,
    quorum + sorry server, DR fwmark, a group with an alpha server): sorted `ipvsadm -S -n` after start, a listener down,
    back, a SIGHUP with a changed configuration, SIGTERM. One guest boot."""
    order = sorted(impls, key=lambda i: i.name != "keepalived")
    results, res = run_story([(i.name, i.argv_prefix()) for i in order])
    ctx.log(f"guest: boot {getattr(res, 'boot_seconds', None)}, total {getattr(res, 'seconds', 0):.1f}s")
    out: dict[str, dict] = {}
    for impl in impls:
        per = results.get(impl.name, {})
        out[impl.name] = {case: per[case]["tables"] for case in per}
        out[impl.name]["_logs"] = {case: per[case]["log"][-1500:] for case in per}
    return out
