"""Does real keepalived take over exactly when our state machine says it should?

Why: the scenario tests check our timers against the RFC formulas with a fake clock; this
checks the same formulas against keepalived 2.2.7 on a real (namespaced) wire. A fake
master in one netns sends adverts to keepalived (BACKUP) in the other, then goes silent or
sends priority 0; tcpdump on the injector's veth timestamps both directions. The same
adverts, at the captured times, are fed to our VrrpInstance; its predicted takeover time
is compared with keepalived's first advert.

Run as root: .venv/bin/python -m conformance.packets.timing_differential
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from ipaddress import IPv4Address
from pathlib import Path

from conformance.lab.poll import watch
from keepalived_py.vrrp.events import PacketReceived, RxMeta, Start
from keepalived_py.vrrp.machine import State, VrrpInstance
from keepalived_py.vrrp.packet import VRRP_MCAST4, VrrpAdvert, build_ipv4, encode
from keepalived_py.vrrp.params import VrrpInstanceParams

KA_ADDR = IPv4Address("192.0.2.1")
INJ_ADDR = IPv4Address("192.0.2.2")
VIP = IPv4Address("192.0.2.100")


@dataclass(frozen=True)
class Scenario:
    name: str
    version: int
    advert_int_s: float  # keepalived's configured interval
    sent_int_cs: int  # interval our fake master announces (v3: learned by the backup)
    period_s: float  # how often the fake master sends
    count: int
    final_priority: int | None  # None: go silent; 0: send priority 0
    fake_priority: int = 200
    nopreempt: bool = False
    preempt_delay_s: float = 0.0

    def params(self) -> VrrpInstanceParams:
        return VrrpInstanceParams("VI_1", "veth", 51, KA_ADDR, priority=100, version=self.version,
                                  advert_int_s=self.advert_int_s, virtual_ipaddress=(VIP,),
                                  nopreempt=self.nopreempt, preempt_delay_s=self.preempt_delay_s)

    def conf(self, ifname: str) -> str:
        extra = " nopreempt\n" if self.nopreempt else ""
        if self.preempt_delay_s:
            extra += f" preempt_delay {self.preempt_delay_s:g}\n"
        return (f"vrrp_instance VI_1 {{\n interface {ifname}\n state BACKUP\n version {self.version}\n"
                f" virtual_router_id 51\n priority 100\n advert_int {self.advert_int_s:g}\n"
                f" garp_master_delay 0\n{extra} virtual_ipaddress {{\n  {VIP}\n }}\n}}\n")

    def datagram(self, priority: int) -> bytes:
        adv = VrrpAdvert(self.version, 51, priority, self.sent_int_cs, (VIP,),
                         0, bytes(8) if self.version == 2 else b"")
        return build_ipv4(INJ_ADDR, VRRP_MCAST4, encode(adv, INJ_ADDR, VRRP_MCAST4))


SCENARIOS = (
    Scenario("v2_master_down", 2, 1, 100, 1.0, 4, None),
    Scenario("v2_priority_zero", 2, 1, 100, 1.0, 4, 0),
    # v2 skew is (256 - prio) / 256 s whatever the interval (RFC 3768, keepalived)
    Scenario("v2_priority_zero_int2", 2, 2, 200, 2.0, 3, 0),
    Scenario("v3_learned_interval", 3, 1, 50, 0.5, 6, None),
    Scenario("v3_priority_zero_learned", 3, 2, 50, 0.5, 6, 0),
    # a lower-priority master: kept by nopreempt until it goes silent
    Scenario("v2_nopreempt_lower_master", 2, 1, 100, 1.0, 6, None, fake_priority=50, nopreempt=True),
    # ... or for preempt_delay after the first advert, then its adverts are discarded
    Scenario("v2_preempt_delay_lower_master", 2, 1, 100, 1.0, 9, None, fake_priority=50,
             preempt_delay_s=2.5),
)


def read_pcap_ts(path: Path) -> list[tuple[float, bytes]]:
    data = path.read_bytes()
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1",) else ">"
    out, off = [], 24
    while off + 16 <= len(data):
        sec, usec, incl = struct.unpack(endian + "III", data[off:off + 12])
        out.append((sec + usec / 1e6, data[off + 16:off + 16 + incl]))
        off += 16 + incl
    return out


def _theirs(pcap: Path) -> list[float]:
    """Times of keepalived's own adverts (priority > 0) in the capture so far."""
    if not pcap.exists() or pcap.stat().st_size < 24:
        return []
    return [t for t, f in read_pcap_ts(pcap)
            if len(f) > 36 and f[14 + 12:14 + 16] == KA_ADDR.packed and f[14 + 22] != 0]


def predict(sc: Scenario, rx_times: list[tuple[float, bytes]]) -> float:
    """When our instance, fed the same adverts at the same times, would become MASTER."""
    inst = VrrpInstance(sc.params())
    inst.handle(Start(), rx_times[0][0] - 0.5)
    for t, frame in rx_times:
        assert inst.state == State.BACKUP and inst.sands is not None
        if inst.sands <= t:
            return inst.sands
        ip = frame[14:]
        inst.handle(PacketReceived(ip[20:], RxMeta(INJ_ADDR, VRRP_MCAST4, ip[8])), t)
    assert inst.sands is not None
    return inst.sands


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def _inject_main() -> int:
    """Child mode in the injector netns: lines of 'sleep_s hex' -> sleep, send."""
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, sys.argv[2].encode())
    for line in sys.stdin:
        pause, hexdata = line.split()
        time.sleep(float(pause))
        s.sendto(bytes.fromhex(hexdata), (str(VRRP_MCAST4), 0))
    return 0


def run_scenario(sc: Scenario, keepalived: str = "/usr/sbin/keepalived") -> tuple[float, float]:
    """(keepalived's takeover delay after the fake master's last advert before it, ours)."""
    tag = f"kpt{os.getpid() % 100000:05d}{uuid.uuid4().hex[:4]}"
    ns_ka, ns_inj, if_ka, if_inj = f"{tag}k", f"{tag}i", f"{tag}a", f"{tag}b"
    work = Path(tempfile.mkdtemp(prefix=f"{tag}-"))
    created: list[str] = []
    procs: list[subprocess.Popen] = []
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
        pcap = work / "t.pcap"
        tcpdump = subprocess.Popen(
            ["ip", "netns", "exec", ns_inj, "tcpdump", "-i", if_inj, "-U", "-n", "-w", str(pcap),
             "ip proto 112"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(tcpdump)
        inj = subprocess.Popen(
            ["ip", "netns", "exec", ns_inj, sys.executable, "-m",
             "conformance.packets.timing_differential", "--inject", if_inj],
            stdin=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
        procs.append(inj)
        time.sleep(0.5)
        assert inj.stdin is not None
        lines = [f"0 {sc.datagram(sc.fake_priority).hex()}"]
        lines += [f"{sc.period_s} {sc.datagram(sc.fake_priority).hex()}"] * (sc.count - 1)
        if sc.final_priority is not None:
            lines.append(f"{sc.period_s} {sc.datagram(sc.final_priority).hex()}")
        conf = work / "k.conf"
        conf.write_text(sc.conf(if_ka))
        ka = subprocess.Popen(
            ["ip", "netns", "exec", ns_ka, keepalived, "-n", "-l", "-D", "-P", "-f", str(conf),
             "-p", str(work / "k.pid"), "-r", str(work / "v.pid"), "-c", str(work / "c.pid")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "TMPDIR": str(work)})
        procs.append(ka)
        time.sleep(0.5)  # keepalived is BACKUP and listening before the first advert
        inj.stdin.write("".join(line + "\n" for line in lines))
        inj.stdin.close()
        inj.wait(timeout=30)
        watch(lambda: _theirs(pcap), 8, step=0.1)  # the caller judges what keepalived sent
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for ns in created:
            _run("ip", "netns", "del", ns, check=False)
    frames = read_pcap_ts(pcap)
    injected = [(t, f) for t, f in frames if f[14 + 12:14 + 16] == INJ_ADDR.packed]
    theirs = _theirs(pcap)
    if not injected or not theirs:
        raise RuntimeError(f"{sc.name}: capture incomplete in {work}")
    predicted = predict(sc, injected)
    before = [t for t, _ in injected if t < theirs[0]]
    last = before[-1] if before else injected[0][0]
    shutil.rmtree(work, ignore_errors=True)  # kept only when something went wrong
    return theirs[0] - last, predicted - last


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--inject":
        return _inject_main()
    for sc in SCENARIOS:
        real, ours = run_scenario(sc)
        print(f"{sc.name:26} keepalived {real * 1000:9.3f} ms  ours {ours * 1000:9.3f} ms  "
              f"diff {(real - ours) * 1000:+.3f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
