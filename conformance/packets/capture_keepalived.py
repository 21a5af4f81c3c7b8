"""Capture VRRP adverts from the real keepalived so our codec is checked against its bytes.

Why: the codec's only trustworthy reference is what keepalived 2.2.7 puts on the wire.
This script builds two network namespaces joined by a veth pair (fixed MACs, so IPv6
link-local sources are the same on every run), runs keepalived in one of them with one
`vrrp_instance` per vector, records everything with tcpdump in the other, stops keepalived
(SIGTERM, which also yields its priority-0 adverts) and writes one JSON file per vector:
the instance parameters, the IP header fields that matter (src, dst, TTL / hop limit) and
the VRRP message in hex.

Run as root:  .venv/bin/python -m conformance.packets.capture_keepalived [--out DIR]
Everything it creates carries a per-run unique prefix and is removed in `finally`; the only
processes it ends are the ones it started, by PID.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from conformance.lab.poll import watch

VECTOR_DIR = Path(__file__).resolve().parent / "vectors"

IF_ADDR4 = "192.0.2.1"
PEER_ADDR4 = "192.0.2.2"
IF_MAC = "02:00:5e:10:00:01"
PEER_MAC = "02:00:5e:10:00:02"
IF_LLADDR6 = "fe80::5eff:fe10:1"  # EUI-64 of IF_MAC


@dataclass(frozen=True)
class VectorSpec:
    """One vrrp_instance: the parameters our encoder is given to reproduce the bytes."""

    name: str
    version: int
    family: str  # "inet" or "inet6"
    vrid: int
    priority: int
    advert_int_s: float
    vips: tuple[str, ...]
    auth_type: str = "NONE"  # NONE, PASS, AH (v2 only)
    auth_pass: str = ""
    extra: tuple[str, ...] = field(default=())


SPECS: tuple[VectorSpec, ...] = (
    VectorSpec("v2_ipv4_noauth_p100_1vip", 2, "inet", 10, 100, 1, ("192.0.2.100",)),
    VectorSpec("v2_ipv4_noauth_p150_3vip_int2", 2, "inet", 11, 150, 2,
               ("192.0.2.101", "192.0.2.102", "192.0.2.103")),
    VectorSpec("v2_ipv4_pass_p200_2vip", 2, "inet", 12, 200, 1,
               ("192.0.2.104", "192.0.2.105"), "PASS", "s3cret"),
    VectorSpec("v2_ipv4_pass8_p1_1vip", 2, "inet", 13, 1, 1, ("192.0.2.106",), "PASS", "longpass"),
    VectorSpec("v2_ipv4_noauth_p255_1vip", 2, "inet", 14, 255, 1, ("192.0.2.107",)),
    VectorSpec("v2_ipv4_ah_p100_1vip", 2, "inet", 15, 100, 1, ("192.0.2.120",), "AH", "ahpass"),
    VectorSpec("v2_ipv4_ah_p220_2vip", 2, "inet", 16, 220, 1, ("192.0.2.121", "192.0.2.122"),
               "AH", "0123456789"),
    VectorSpec("v3_ipv4_p100_1vip", 3, "inet", 20, 100, 1, ("192.0.2.110",)),
    VectorSpec("v3_ipv4_p254_4vip_int0.5", 3, "inet", 21, 254, 0.5,
               ("192.0.2.111", "192.0.2.112", "192.0.2.113", "192.0.2.114")),
    VectorSpec("v3_ipv4_p50_2vip_int3", 3, "inet", 22, 50, 3, ("192.0.2.115", "192.0.2.116")),
    VectorSpec("v3_ipv6_p100_1vip", 3, "inet6", 30, 100, 1, ("2001:db8::100",)),
    VectorSpec("v3_ipv6_p200_3vip_int0.25", 3, "inet6", 31, 200, 0.25,
               ("2001:db8::101", "2001:db8::102", "2001:db8::103")),
    VectorSpec("v3_ipv6_p255_2vip", 3, "inet6", 32, 255, 1, ("2001:db8::104", "2001:db8::105")),
    # not in any RFC, but keepalived sends it for an explicit `version 2` on IPv6
    VectorSpec("v2_ipv6_p100_2vip", 2, "inet6", 33, 100, 1, ("2001:db8::110", "2001:db8::111")),
)


def _run(*cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=check)


def keepalived_conf(specs: tuple[VectorSpec, ...], ifname: str) -> str:
    """One instance per vector; garp off so the capture holds adverts only."""
    lines = [
        "global_defs {",
        "    router_id kpy_capture",
        "    vrrp_garp_master_delay 0",
        "    vrrp_garp_master_repeat 1",
        "}",
    ]
    for s in specs:
        lines += [
            f"vrrp_instance {s.name} {{",
            f"    interface {ifname}",
            "    state BACKUP",
            f"    version {s.version}",
            f"    virtual_router_id {s.vrid}",
            f"    priority {s.priority}",
            f"    advert_int {s.advert_int_s:g}",
        ]
        if s.auth_type != "NONE":
            lines += ["    authentication {", f"        auth_type {s.auth_type}",
                      f"        auth_pass {s.auth_pass}", "    }"]
        lines += ["    virtual_ipaddress {"] + [f"        {v}" for v in s.vips] + ["    }"]
        lines += [f"    {x}" for x in s.extra]
        lines.append("}")
    return "\n".join(lines) + "\n"


def read_pcap(path: Path) -> list[bytes]:
    """The frames of a classic little/big-endian pcap file (tcpdump -w)."""
    data = path.read_bytes()
    if len(data) < 24:
        return []
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    if linktype != 1:
        raise RuntimeError(f"unexpected pcap link type {linktype}")
    frames, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def split_frame(frame: bytes) -> dict | None:
    """Ethernet -> IP fields and VRRP bytes, or None if this is not a VRRP frame."""
    ethertype = struct.unpack("!H", frame[12:14])[0]
    ip = frame[14:]
    if ethertype == 0x0800:
        ihl = (ip[0] & 0x0F) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        proto = ip[9]
        if proto not in (112, 51):
            return None
        return {
            "family": "inet",
            "src": ".".join(str(b) for b in ip[12:16]),
            "dst": ".".join(str(b) for b in ip[16:20]),
            "ttl": ip[8],
            "tos": ip[1],
            "protocol": proto,
            "ip_hex": ip[:total].hex(),
            "vrrp_hex": ip[ihl + (24 if proto == 51 else 0):total].hex(),
        }
    if ethertype == 0x86DD:
        if ip[6] != 112:
            return None
        plen = struct.unpack("!H", ip[4:6])[0]
        import ipaddress

        return {
            "family": "inet6",
            "src": str(ipaddress.IPv6Address(ip[8:24])),
            "dst": str(ipaddress.IPv6Address(ip[24:40])),
            "ttl": ip[7],
            "tos": ((ip[0] & 0x0F) << 4) | (ip[1] >> 4),
            "protocol": 112,
            "ip_hex": ip[:40 + plen].hex(),
            "vrrp_hex": ip[40:40 + plen].hex(),
        }
    return None


def capture(specs: tuple[VectorSpec, ...], keepalived: str = "/usr/sbin/keepalived",
            run_seconds: float | None = None) -> dict[str, dict]:
    """Run keepalived for `specs` in a fresh netns pair; return vectors keyed by spec name."""
    tag = f"kpc{os.getpid() % 100000:05d}{uuid.uuid4().hex[:4]}"
    ns_ka, ns_cap = f"{tag}k", f"{tag}c"
    veth_ka, veth_cap = f"{tag}a", f"{tag}b"
    workdir = Path(tempfile.mkdtemp(prefix=f"{tag}-"))
    procs: list[subprocess.Popen] = []
    longest = max(s.advert_int_s for s in specs)
    if run_seconds is None:
        run_seconds = 3 * longest + 3.0
    created_ns: list[str] = []
    try:
        for ns in (ns_ka, ns_cap):
            _run("ip", "netns", "add", ns)
            created_ns.append(ns)
            _run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0")
            _run("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv6.conf.default.accept_dad=0")
            _run("ip", "-n", ns, "link", "set", "lo", "up")
        _run("ip", "-n", ns_ka, "link", "add", veth_ka, "address", IF_MAC, "type", "veth",
             "peer", "name", veth_cap, "address", PEER_MAC, "netns", ns_cap)
        _run("ip", "-n", ns_ka, "addr", "add", f"{IF_ADDR4}/24", "dev", veth_ka)
        _run("ip", "-n", ns_cap, "addr", "add", f"{PEER_ADDR4}/24", "dev", veth_cap)
        _run("ip", "-n", ns_ka, "link", "set", veth_ka, "up")
        _run("ip", "-n", ns_cap, "link", "set", veth_cap, "up")

        conf = workdir / "keepalived.conf"
        conf.write_text(keepalived_conf(specs, veth_ka))
        pcap = workdir / "capture.pcap"
        tcpdump = subprocess.Popen(
            ["ip", "netns", "exec", ns_cap, "tcpdump", "-i", veth_cap, "-U", "-n", "-s", "0",
             "-w", str(pcap), "ip proto 112 or ip proto 51 or ip6 proto 112"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        procs.append(tcpdump)
        watch(pcap.exists, 5, step=0.05)
        time.sleep(0.3)
        ka = subprocess.Popen(
            ["ip", "netns", "exec", ns_ka, keepalived, "-n", "-l", "-D", "-P",
             "-f", str(conf), "-p", str(workdir / "ka.pid"), "-r", str(workdir / "vrrp.pid"),
             "-c", str(workdir / "check.pid")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "TMPDIR": str(workdir)})
        procs.append(ka)
        time.sleep(run_seconds)
        ka.send_signal(signal.SIGTERM)
        try:
            ka_log = ka.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            ka.kill()
            ka_log = ka.communicate()[0]
        time.sleep(0.5)
        tcpdump.send_signal(signal.SIGTERM)
        tcpdump.wait(timeout=5)
        (workdir / "keepalived.log").write_text(ka_log)
        frames = [f for f in (split_frame(fr) for fr in read_pcap(pcap)) if f]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for ns in created_ns:
            _run("ip", "netns", "del", ns, check=False)

    version = _run(keepalived, "-v", check=False)
    ka_version = (version.stdout + version.stderr).splitlines()[0].strip()
    out: dict[str, dict] = {}
    for spec in specs:
        fam = spec.family
        mine = [f for f in frames if f["family"] == fam and bytes.fromhex(f["vrrp_hex"])[1] == spec.vrid]
        adverts = [f for f in mine if bytes.fromhex(f["vrrp_hex"])[2] != 0]
        stops = [f for f in mine if bytes.fromhex(f["vrrp_hex"])[2] == 0]
        if not adverts:
            raise RuntimeError(f"{spec.name}: no advert captured; keepalived log in {workdir}")
        out[spec.name] = {
            "name": spec.name,
            "source": ka_version,
            "params": {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(spec).items()
                       if k not in ("name", "extra")},
            "advert": adverts[0],
            "priority_zero": stops[0] if stops else None,
        }
    shutil.rmtree(workdir, ignore_errors=True)  # kept only when something went wrong
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=VECTOR_DIR)
    ap.add_argument("--keepalived", default="/usr/sbin/keepalived")
    args = ap.parse_args(argv)
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    vectors = capture(SPECS, args.keepalived)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, vec in vectors.items():
        (args.out / f"{name}.json").write_text(json.dumps(vec, indent=2, sort_keys=True) + "\n")
        print(f"{name}: {vec['advert']['vrrp_hex']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
