"""Send the same bad adverts to real keepalived and to our instance; compare the counters.

Why: the receive checks claim keepalived's statistics names and attribution. This proves
it packet by packet: keepalived 2.2.7 runs as address owner (MASTER at once, advert_int 60
so no periodic adverts disturb the counts) in one netns; a raw socket in a second netns
injects each datagram; keepalived's JSON dump (`--signum=JSON`) before and after gives the
counters it moved. Our VrrpInstance, with the same parameters and in the same state, gets
the same datagram. Only counters keepalived reports in its JSON are compared.

Run as root: .venv/bin/python -m conformance.packets.stats_differential
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from ipaddress import IPv4Address
from pathlib import Path

from conformance.lab.poll import wait_until, watch
from keepalived_py.vrrp.events import Ipv4DatagramReceived, Start
from keepalived_py.vrrp.machine import State, VrrpInstance
from keepalived_py.vrrp.packet import (
    IPPROTO_AH,
    VRRP_MCAST4,
    AuthType,
    VrrpAdvert,
    build_ipv4,
    encode,
    password_bytes,
)
from keepalived_py.vrrp.params import VrrpInstanceParams

KA_ADDR = IPv4Address("192.0.2.1")
INJ_ADDR = IPv4Address("192.0.2.2")
VIPS = (IPv4Address("192.0.2.100"), IPv4Address("192.0.2.101"))
JSON_FIELDS = ("advert_rcvd", "advert_sent", "become_master", "release_master", "packet_len_err",
               "advert_interval_err", "ip_ttl_err", "invalid_type_rcvd", "addr_list_err",
               "invalid_authtype", "authtype_mismatch", "auth_failure", "pri_zero_rcvd",
               "pri_zero_sent")
# Where we count on purpose and keepalived 2.2.7 does not (an interval mismatch, which
# keepalived drops without counting, is counted in our own interval_mismatch, outside its JSON):
# - an AH datagram for a non-AH instance: keepalived opens no AH socket then, so it never
#   sees one; handed such a datagram, our instance files it where keepalived's own check
#   (vrrp_check_packet) would, authtype_mismatch.
KNOWN_EXTRA = {"ah_header": {"authtype_mismatch"}}

PARAMS = VrrpInstanceParams("VI_1", "veth", 51, KA_ADDR, priority=255, advert_int_s=60,
                            auth_type=AuthType.PASS, auth_pass="secret", virtual_ipaddress=VIPS,
                            garp_master_delay_s=0)

CONF = f"""
global_defs {{
    router_id kpy_stats
}}
vrrp_instance VI_1 {{
    interface IFNAME
    state MASTER
    virtual_router_id 51
    priority 255
    advert_int 60
    garp_master_delay 0
    authentication {{
        auth_type PASS
        auth_pass secret
    }}
    virtual_ipaddress {{
        {VIPS[0]}
        {VIPS[1]}
    }}
}}
"""


def _adv(**kw) -> VrrpAdvert:
    base = dict(version=2, vrid=51, priority=50, advert_int_cs=6000, addresses=VIPS,
                auth_type=AuthType.PASS, auth_data=password_bytes("secret"))
    base.update(kw)
    return VrrpAdvert(**base)


def _dgram(adv: VrrpAdvert, ttl: int = 255, proto: int = 112, cut: int = 0) -> bytes:
    msg = encode(adv, INJ_ADDR, VRRP_MCAST4)
    if cut:
        msg = msg[:-cut]
    return build_ipv4(INJ_ADDR, VRRP_MCAST4, msg, ttl=ttl, protocol=proto)


def cases() -> dict[str, bytes]:
    bad_csum = bytearray(_dgram(_adv()))
    bad_csum[20 + 6] ^= 0x55
    return {
        "good_lower_priority": _dgram(_adv()),
        "priority_zero": _dgram(_adv(priority=0)),
        "ttl_64": _dgram(_adv(), ttl=64),
        "version_3": build_ipv4(INJ_ADDR, VRRP_MCAST4, encode(
            VrrpAdvert(3, 51, 50, 100, VIPS), INJ_ADDR, VRRP_MCAST4)),
        "type_2": _dgram(_adv(type=2)),
        "auth_type_3": _dgram(_adv(auth_type=3)),
        "auth_none": _dgram(_adv(auth_type=0, auth_data=bytes(8))),
        "wrong_password": _dgram(_adv(auth_data=password_bytes("guess"))),
        "interval_mismatch": _dgram(_adv(advert_int_cs=100)),
        "address_count": _dgram(_adv(addresses=VIPS + (IPv4Address("192.0.2.102"),))),
        "address_differs": _dgram(_adv(addresses=(VIPS[0], IPv4Address("192.0.2.109")))),
        "bad_checksum": bytes(bad_csum),
        "truncated": _dgram(_adv(), cut=4),
        "ah_header": _dgram(_adv(), proto=IPPROTO_AH),
    }


def ours(datagram: bytes) -> set[str]:
    inst = VrrpInstance(replace(PARAMS))
    inst.handle(Start(), 1000.0)
    assert inst.state == State.MASTER
    before = inst.stats.as_dict()
    inst.handle(Ipv4DatagramReceived(datagram), 1001.0)
    after = inst.stats.as_dict()
    return {k for k in JSON_FIELDS if after[k] != before[k]}


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def _inject_main() -> int:
    """Child mode, inside the injector netns: send each hex datagram from stdin."""
    ifname = sys.argv[2]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
    for line in sys.stdin:
        data = bytes.fromhex(line.strip())
        s.sendto(data, (str(VRRP_MCAST4), 0))
        sys.stdout.write("sent\n")
        sys.stdout.flush()
    return 0


def theirs(keepalived: str = "/usr/sbin/keepalived") -> dict[str, set[str]]:
    tag = f"kps{os.getpid() % 100000:05d}{uuid.uuid4().hex[:4]}"
    ns_ka, ns_inj = f"{tag}k", f"{tag}i"
    if_ka, if_inj = f"{tag}a", f"{tag}b"
    work = Path(tempfile.mkdtemp(prefix=f"{tag}-"))
    created: list[str] = []
    procs: list[subprocess.Popen] = []
    results: dict[str, set[str]] = {}
    try:
        for ns in (ns_ka, ns_inj):
            _run("ip", "netns", "add", ns)
            created.append(ns)
            _run("ip", "-n", ns, "link", "set", "lo", "up")
        _run("ip", "-n", ns_ka, "link", "add", if_ka, "type", "veth", "peer", "name", if_inj,
             "netns", ns_inj)
        _run("ip", "-n", ns_ka, "addr", "add", f"{KA_ADDR}/24", "dev", if_ka)
        _run("ip", "-n", ns_inj, "addr", "add", f"{INJ_ADDR}/24", "dev", if_inj)
        _run("ip", "-n", ns_ka, "link", "set", if_ka, "up")
        _run("ip", "-n", ns_inj, "link", "set", if_inj, "up")
        _run("ip", "-n", ns_inj, "route", "add", "224.0.0.0/4", "dev", if_inj)
        conf = work / "keepalived.conf"
        conf.write_text(CONF.replace("IFNAME", if_ka))
        pidfile = work / "ka.pid"
        ka = subprocess.Popen(
            ["ip", "netns", "exec", ns_ka, keepalived, "-n", "-l", "-D", "-P", "-f", str(conf),
             "-p", str(pidfile), "-r", str(work / "vrrp.pid"), "-c", str(work / "check.pid")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "TMPDIR": str(work)})
        procs.append(ka)
        inj = subprocess.Popen(
            ["ip", "netns", "exec", ns_inj, sys.executable, "-m",
             "conformance.packets.stats_differential", "--inject", if_inj],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            cwd=Path(__file__).resolve().parents[2])
        procs.append(inj)
        signum = int(_run(keepalived, "--signum=JSON").stdout.strip())
        dump = work / "keepalived.json"

        def stats() -> dict[str, int]:
            dump.unlink(missing_ok=True)
            os.kill(int(pidfile.read_text().strip()), signum)

            def written() -> dict[str, int] | None:
                try:
                    return json.loads(dump.read_text())[0]["stats"]
                except (FileNotFoundError, json.JSONDecodeError, IndexError, KeyError):
                    return None
            return wait_until(written, 5, step=0.05, what=f"a JSON dump from keepalived in {work}")

        watch(pidfile.exists, 10, step=0.05)
        time.sleep(1.5)  # owner: MASTER at once; let the start-up adverts go out
        for name, datagram in cases().items():
            before = stats()
            assert inj.stdin is not None and inj.stdout is not None
            inj.stdin.write(datagram.hex() + "\n")
            inj.stdin.flush()
            inj.stdout.readline()
            time.sleep(0.3)
            after = stats()
            results[name] = {k for k in JSON_FIELDS if after.get(k) != before.get(k)}
    finally:
        for p in procs:
            if p.poll() is None:
                if p is procs[0]:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
                else:
                    p.kill()
                    p.wait()
        for ns in created:
            _run("ip", "netns", "del", ns, check=False)
    shutil.rmtree(work, ignore_errors=True)
    return results


def compare(keepalived: str = "/usr/sbin/keepalived") -> list[str]:
    """Differences beyond the documented ones; empty when we agree with keepalived."""
    problems = []
    real = theirs(keepalived)
    for name, datagram in cases().items():
        mine = ours(datagram) - KNOWN_EXTRA.get(name, set())
        if mine != real[name]:
            problems.append(f"{name}: keepalived moved {sorted(real[name])}, we moved {sorted(mine)}")
    return problems


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--inject":
        return _inject_main()
    if os.geteuid() != 0:
        print("needs root", file=sys.stderr)
        return 2
    real = theirs()
    for name, datagram in cases().items():
        mine = ours(datagram)
        print(f"{name:22} keepalived={sorted(real[name])} ours={sorted(mine)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
