"""A virtual_server with two NAT real servers, in the guest: the IPVS table it programs."""

from __future__ import annotations

from ..guest import run_in_guest
from ..guest.daemon import daemon_script, sections
from ..lab import Implementation
from . import Context, scenario

CONFIG = """\
global_defs {
    router_id guest
}

virtual_server 192.0.2.10 80 {
    delay_loop 6
    lb_algo wlc
    lb_kind NAT
    persistence_timeout 300
    protocol TCP

    real_server 192.0.2.11 8080 {
        weight 1
    }
    real_server 192.0.2.12 8080 {
        weight 2
    }
}
"""

# The real servers' subnet must be on an interface, or the kernel refuses them
# ("address not unicast").
SETUP = ("ip link add dummy0 type dummy && ip addr add 192.0.2.1/24 dev dummy0 "
         "&& ip link set dummy0 up")

READY = '[ "$(ipvsadm -Ln | grep -c -e Masq -e Route -e Tunnel)" -ge 2 ]'

EXPECTED = [
    "TCP 192.0.2.10:80 wlc persistent 300",
    "  -> 192.0.2.11:8080 Masq 1",
    "  -> 192.0.2.12:8080 Masq 2",
]


def normalize_ipvsadm(text: str) -> list[str]:
    """`ipvsadm -Ln` without its version line, headers and connection counters; real
    servers sorted under their service."""
    out: list[str] = []
    reals: list[str] = []

    def flush():
        out.extend(sorted(reals))
        reals.clear()

    for line in text.splitlines():
        words = line.split()
        if not words or line.startswith("IP Virtual Server") or words[0] == "Prot" \
                or words[:2] == ["->", "RemoteAddress:Port"]:
            continue
        if words[0] == "->":
            reals.append("  -> " + " ".join(words[1:4]))
        else:
            flush()
            out.append(" ".join(words))
    flush()
    return out


def parse_output(text: str) -> dict:
    sec = sections(text)
    status = sec.get("exit", "")
    return {
        "ready": sec.get("ready") == "yes",
        "table": normalize_ipvsadm(sec.get("table", "")),
        "table_after_sigterm": normalize_ipvsadm(sec.get("after-stop", "")),
        "exit_status_on_sigterm": int(status) if status.isdigit() else None,
        "completed": "end" in sec,
        "_log": sec.get("log", sec.get("exited-early", ""))[-3000:],
    }


def check(r: dict) -> list[str]:
    problems = []
    if r.get("table") != EXPECTED:
        problems.append(f"table {r.get('table')} != expected {EXPECTED}")
    if r.get("table_after_sigterm"):
        problems.append(f"SIGTERM left {r['table_after_sigterm']}")
    if r.get("exit_status_on_sigterm") != 0:
        problems.append(f"exit status on SIGTERM: {r.get('exit_status_on_sigterm')}")
    return problems


def summary(r: dict) -> str:
    t = r.get("table") or []
    return f"{len([x for x in t if not x.startswith(' ')])} svc, {len([x for x in t if x.startswith(' ')])} rs; " \
        f"after TERM {len(r.get('table_after_sigterm') or [])} lines"


@scenario("ipvs_virtual_server_table", features=("ipvs",), needs=("guest",), batch=True,
          check=check, summary=summary)
def run(impls: list[Implementation], ctx: Context) -> dict[str, dict]:
    """virtual_server 192.0.2.10:80 wlc persistence 300, two NAT real servers (no checker):
    `ipvsadm -Ln` while running and after SIGTERM.  One guest boot for all implementations."""
    commands, files = [SETUP], {}
    for n, impl in enumerate(impls):
        files[f"impl{n}.conf"] = CONFIG
        commands.append("ipvsadm -C\n" + daemon_script(
            impl, f"impl{n}", f"impl{n}.conf", ready=READY, ready_timeout_s=180,
            probes={"table": "ipvsadm -Ln"}, after_stop={"after-stop": "ipvsadm -Ln"}))
    # a Python daemon (parent, then the check child) takes over a minute to start under TCG
    res = run_in_guest(commands, timeout=60 + 220 * len(impls), files=files, keep_going=True)
    ctx.log(f"guest: boot {res.boot_seconds and round(res.boot_seconds, 1)}s, total {res.seconds:.1f}s")
    if res.steps[0].returncode != 0:
        raise RuntimeError(f"guest setup failed ({res.steps[0].returncode}): {res.steps[0].output}"
                           f"{res.console[-1500:]}")
    out = {}
    for impl, step in zip(impls, res.steps[1:], strict=True):
        r = parse_output(step.output)
        r["_exit"] = step.returncode
        r["_raw"] = step.output
        r["_timings"] = {"guest_boot_s": res.boot_seconds, "guest_total_s": round(res.seconds, 1)}
        out[impl.name] = r
    return out
