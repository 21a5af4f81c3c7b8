"""Config parsing benchmark: keepalived-py's loader beside `keepalived -t` on the same files.

Generates two configurations (1,000 virtual_servers x 10 real_servers with TCP_CHECK, about
60k lines; and 1,000 vrrp_instances), parses each several times in a fresh process and
prints wall time and peak RSS for both implementations. `make bench` runs the whole `-t`
on both together (80k lines, runner.check_case); issue 16's target there: <= 600 ms and
<= 64 MiB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def virtual_servers(count: int = 1000, reals: int = 10) -> str:
    out = []
    for v in range(count):
        out.append(f"virtual_server 192.0.2.{v % 250 + 1} {1000 + v} {{\n    delay_loop 6\n    lb_algo wlc\n"
                   "    lb_kind NAT\n    protocol TCP\n")
        for r in range(reals):
            out.append(f"    real_server 198.51.100.{r + 1} 80 {{\n        weight 1\n        TCP_CHECK {{\n"
                       "            connect_timeout 3\n        }\n    }\n")
        out.append("}\n")
    return "".join(out)


def vrrp_instances(count: int = 1000, interface: str = "eth0", extra_interfaces: tuple[str, ...] = ()) -> str:
    """`count` instances; with `extra_interfaces`, instance i runs on the (i // 255)-th of
    (interface, *extra_interfaces), so no two share a VRID on one interface (keepalived
    rejects that) as long as there are count / 255 interfaces."""
    ifaces = (interface, *extra_interfaces)
    out = ["global_defs {\n    router_id bench\n}\n"]
    for i in range(count):
        vrid = i % 255 + 1
        iface = ifaces[min(i // 255, len(ifaces) - 1)]
        out.append(f"vrrp_instance VI_{i} {{\n    state BACKUP\n    interface {iface}\n"
                   f"    virtual_router_id {vrid}\n    priority 100\n    advert_int 1\n"
                   f"    authentication {{\n        auth_type PASS\n        auth_pass p{i % 100}\n    }}\n"
                   f"    virtual_ipaddress {{\n        203.0.113.{i % 250 + 1}/32 dev {iface}\n    }}\n}}\n")
    return "".join(out)


_CHILD = """
import resource, sys, time
t0 = time.perf_counter()
from keepalived_py.config import load_config
t1 = time.perf_counter()
r = load_config(sys.argv[1], config_id="bench", check_interfaces=False)
t2 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{t1 - t0:.4f} {t2 - t1:.4f} {rss} {len(r.diagnostics)}")
"""


_WRAP = """
import resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run([sys.argv[1], "-t", "-f", sys.argv[2]], capture_output=True)
elapsed = time.perf_counter() - start
print(f"{elapsed:.4f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss} {proc.returncode}")
"""


_WRAP_ARGV = """
import resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True)
elapsed = time.perf_counter() - start
print(f"{elapsed:.6f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss} {proc.returncode}")
"""


def time_process(argv: list[str], prefix: tuple[str, ...] | list[str] = ()) -> tuple[float, int, int]:
    """(wall seconds, peak RSS KiB, exit code) of `argv`, timed by a wrapper process of its
    own (started under `prefix`, e.g. `ip netns exec NS`) so that neither the wrapper's
    start-up nor the prefix's is counted and RUSAGE_CHILDREN holds argv's peak alone."""
    out = subprocess.run([*prefix, sys.executable, "-c", _WRAP_ARGV, *argv], check=True,
                         capture_output=True, text=True)
    elapsed, rss, code = out.stdout.split()
    return float(elapsed), int(rss), int(code)


def run_ours(path: str) -> tuple[float, float, int]:
    out = subprocess.run([sys.executable, "-c", _CHILD, path], check=True, capture_output=True, text=True)
    imp, parse, rss, _ = out.stdout.split()
    return float(imp), float(parse), int(rss)


def run_keepalived(path: str) -> tuple[float, int, int] | None:
    binary = shutil.which("keepalived") or "/usr/sbin/keepalived"
    if not os.path.exists(binary):
        return None
    # a wrapper process of its own, so RUSAGE_CHILDREN holds keepalived's peak RSS alone
    out = subprocess.run([sys.executable, "-c", _WRAP, binary, path], check=True, capture_output=True, text=True)
    elapsed, rss, code = out.stdout.split()
    return float(elapsed), int(rss), int(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    iface = next((n for _i, n in socket.if_nameindex() if n != "lo"), "lo")
    with tempfile.TemporaryDirectory(prefix="kpy-bench-") as tmp:
        cases = {
            "1000 virtual_servers x 10 real_servers": virtual_servers(),
            "1000 vrrp_instances": vrrp_instances(interface=iface),
        }
        print(f"{'config':40} {'lines':>7} {'impl':14} {'median s':>9} {'min s':>7} {'peak RSS MiB':>12}")
        for title, text in cases.items():
            path = Path(tmp) / "bench.conf"
            path.write_text(text)
            lines = text.count("\n")
            ours = [run_ours(str(path)) for _ in range(args.repeat)]
            parse_times = [p for _i, p, _r in ours]
            print(f"{title:40} {lines:>7} {'keepalived-py':14} {statistics.median(parse_times):9.3f} "
                  f"{min(parse_times):7.3f} {max(r for *_x, r in ours) / 1024:12.1f}   "
                  f"(+{statistics.median(i for i, _p, _r in ours):.3f} s import)")
            theirs = [run_keepalived(str(path)) for _ in range(args.repeat)]
            if theirs[0] is None:
                print(f"{title:40} {lines:>7} {'keepalived':14} {'not installed':>9}")
                continue
            times = [t for t, _r, _c in theirs]
            print(f"{title:40} {lines:>7} {'keepalived':14} {statistics.median(times):9.3f} {min(times):7.3f} "
                  f"{max(r for _t, r, _c in theirs) / 1024:12.1f}   (exit {theirs[0][2]}; -t, whole process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
