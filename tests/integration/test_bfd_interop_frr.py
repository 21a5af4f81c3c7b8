"""keepalived-py's BFD against FRR's bfdd (Debian `frr`, an independent implementation),
single hop, IPv4 and IPv6: Up on both sides, both report 50 ms intervals (bfdd through
`show bfd peers json`, ours on the wire), and after kill -9 of bfdd we send Down with
diagnostic 1 within the detection time + 50 ms of the last packet heard.

FRR drops single-hop packets whose hop limit is not 255 (RFC 5881 section 5) while
keepalived sends IPv6 with hop limit 64 unless told otherwise, so the IPv6 case sets
`hoplimit 255`, as a keepalived user peering with FRR must.

A link-local IPv6 session (fe80:: neighbour and source, bfdd told the interface) comes Up
too, and its Down after kill -9 follows the same rule: keepalived 2.2.7 cannot run one
(bind() fails with ENODEV: no scope), keepalived-py takes the scope from source_ip's
interface (conformance/DIFFERENCES.md)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import tempfile
from pathlib import Path

import pytest

from conformance.lab.pcap import read_pcap
from conformance.lab.poll import wait_until
from keepalived_py.bfd.packet import Diag, State
from tests.integration.test_bfd_support import (
    TWO,
    bfd_conf,
    bfd_frames,
    both_up,
    expired_down_seen,
    settled,
)

pytestmark = [pytest.mark.root, pytest.mark.slow]

FRR = Path("/usr/lib/frr")


def need_frr() -> None:
    from tests.envcheck import require_all

    if not (FRR / "bfdd").exists() or not shutil.which("vtysh"):
        if require_all():
            pytest.fail("FRR is not installed (apt-get install frr; `make install` does it)")
        pytest.skip("needs FRR's bfdd (apt-get install frr)")
    try:
        pwd.getpwnam("frr")
    except KeyError:
        pytest.skip("the frr user does not exist")


def start_frr(la, node: str, peer: str, local: str, rundir: Path, peer_opts: str = "",
              interval_ms: int = 50):
    ent = pwd.getpwnam("frr")
    rundir.mkdir(mode=0o755)
    os.chown(rundir, ent.pw_uid, ent.pw_gid)
    (rundir / "zebra.conf").write_text("!\n")
    (rundir / "bfdd.conf").write_text(
        f"bfd\n peer {peer} local-address {local}{peer_opts}\n  receive-interval {interval_ms}\n"
        f"  transmit-interval {interval_ms}\n"
        "  detect-multiplier 3\n  no shutdown\n !\n!\n")
    for name in ("zebra.conf", "bfdd.conf"):
        os.chown(rundir / name, ent.pw_uid, ent.pw_gid)
    common = ["--vty_socket", str(rundir), "-z", str(rundir / "zserv.api"), "-u", "frr", "-g", "frr",
              "-A", "127.0.0.1", "--log", "stdout"]
    zebra = la.spawn(node, [str(FRR / "zebra"), "-f", str(rundir / "zebra.conf"),
                            "-i", str(rundir / "zebra.pid"), *common], what="zebra")
    wait_until(lambda: (rundir / "zserv.api").exists(), 15, what="zebra's socket")
    bfdd = la.spawn(node, [str(FRR / "bfdd"), "-f", str(rundir / "bfdd.conf"), "-i", str(rundir / "bfdd.pid"),
                           "--bfdctl", str(rundir / "bfdd.sock"), *common], what="bfdd")
    return zebra, bfdd


def frr_peer(la, node: str, rundir: Path) -> dict:
    r = la.exec(node, ["vtysh", "--vty_socket", str(rundir), "-c", "show bfd peers json"], check=False)
    try:
        peers = json.loads(r.stdout or "[]")
    except ValueError:
        return {}
    return peers[0] if peers else {}


@pytest.mark.parametrize("v6", [False, True], ids=["ipv4", "ipv6"])
def test_interop_frr(lab, implementation, v6):
    need_frr()
    py = implementation("keepalived-py", features=("bfd",))
    la = lab(TWO)
    a1, a2 = la.addr("r1", v6=v6), la.addr("r2", v6=v6)
    rundir = Path(tempfile.mkdtemp(prefix="kpy-bfd-frr-")) / "run"
    rundir.parent.chmod(0o755)
    try:
        cap = la.capture("lan", "udp port 3784")
        _zebra, bfdd = start_frr(la, "r2", a1, a2, rundir)
        r1 = la.start_daemon("r1", py, bfd_conf("b1", a2, a1, extra="    hoplimit 255\n" if v6 else ""))

        def frames():
            return bfd_frames(read_pcap(cap.path)) if cap.path.exists() else []

        try:
            wait_until(lambda: both_up(frames(), a1, a2), 20, what="both sides sending Up")
            peer = wait_until(lambda: (p := frr_peer(la, "r2", rundir)).get("status") == "up"
                              and p.get("remote-transmit-interval") == 50 and p, 10, what="bfdd up, 50 ms")
            wait_until(lambda: len(settled(frames(), a1)) > 10 and len(settled(frames(), a2)) > 10, 10,
                       what="intervals agreed")
        except Exception:
            print(r1.output()[-4000:], bfdd.output()[-4000:], frr_peer(la, "r2", rundir))
            raise
        # bfdd's view: 50 ms both ways, multiplier 3 both ways
        assert peer["receive-interval"] == 50 and peer["transmit-interval"] == 50, peer
        assert peer["remote-receive-interval"] == 50 and peer["remote-detect-multiplier"] == 3, peer
        la.kill(bfdd)
        wait_until(lambda: expired_down_seen(frames(), a1), 5, what="our Down")
        got = bfd_frames(cap.stop())
        last_heard = max(f.ts for f in got if f.src == a2)
        before = [f for f in got if f.ts <= last_heard]
        ours, theirs = settled(before, a1), settled(before, a2)
        assert ours and theirs
        for f in ours + theirs:
            assert f.pkt.desired_min_tx_us == 50_000 and f.pkt.required_min_rx_us == 50_000
            assert f.pkt.detect_mult == 3 and f.ttl == 255 and f.pkt.state == State.UP
        assert {f.pkt.your_discr for f in ours} == {theirs[-1].pkt.my_discr}
        assert {f.pkt.your_discr for f in theirs} == {ours[-1].pkt.my_discr}
        assert all(49152 <= f.sport <= 65535 for f in ours)
        downs = [f for f in got if f.src == a1 and f.ts > last_heard and f.pkt is not None
                 and f.pkt.state == State.DOWN and f.pkt.diag == Diag.EXPIRED]
        assert downs, r1.output()[-3000:]
        delay = downs[0].ts - last_heard
        print(f"after kill -9 of bfdd keepalived-py sent Down/diag 1 {delay * 1000:.1f} ms after the last packet")
        assert delay <= 0.150 + 0.050
    finally:
        shutil.rmtree(rundir.parent, ignore_errors=True)


def link_local(la, node: str) -> str:
    """`node`'s eth0 link-local address, once duplicate address detection is over."""
    def ready() -> str | None:
        out = la.exec(node, ["ip", "-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"]).stdout
        if not out.strip() or "tentative" in out:
            return None
        return out.split("inet6 ", 1)[1].split("/", 1)[0]
    return wait_until(ready, 15, what=f"{node}'s link-local address")


def test_interop_frr_link_local(lab, implementation):
    need_frr()
    py = implementation("keepalived-py", features=("bfd",))
    la = lab(TWO)
    a1, a2 = link_local(la, "r1"), link_local(la, "r2")
    rundir = Path(tempfile.mkdtemp(prefix="kpy-bfd-frr-ll-")) / "run"
    rundir.parent.chmod(0o755)
    try:
        cap = la.capture("lan", "udp port 3784")
        _zebra, bfdd = start_frr(la, "r2", a1, a2, rundir, peer_opts=" interface eth0")
        r1 = la.start_daemon("r1", py, bfd_conf("b1", a2, a1, extra="    hoplimit 255\n"))

        def frames():
            return bfd_frames(read_pcap(cap.path)) if cap.path.exists() else []

        try:
            wait_until(lambda: both_up(frames(), a1, a2), 20, what="both sides sending Up")
            wait_until(lambda: (p := frr_peer(la, "r2", rundir)).get("status") == "up"
                       and p.get("remote-transmit-interval") == 50 and p, 10, what="bfdd up, 50 ms")
            wait_until(lambda: len(settled(frames(), a1)) > 10 and len(settled(frames(), a2)) > 10, 10,
                       what="intervals agreed")
        except Exception:
            print(r1.output()[-4000:], bfdd.output()[-4000:], frr_peer(la, "r2", rundir))
            raise
        la.kill(bfdd)
        wait_until(lambda: expired_down_seen(frames(), a1), 5, what="our Down")
        got = bfd_frames(cap.stop())
        last_heard = max(f.ts for f in got if f.src == a2)
        ours = settled([f for f in got if f.ts <= last_heard], a1)
        assert ours and all(f.dst == a2 and f.ttl == 255 and 49152 <= f.sport <= 65535 for f in ours)
        downs = [f for f in got if f.src == a1 and f.ts > last_heard and f.pkt is not None
                 and f.pkt.state == State.DOWN and f.pkt.diag == Diag.EXPIRED]
        assert downs and downs[0].ts - last_heard <= 0.150 + 0.050, r1.output()[-3000:]
        assert "(b1) Entering Up state" in r1.output()
    finally:
        shutil.rmtree(rundir.parent, ignore_errors=True)
