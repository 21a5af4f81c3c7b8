"""The BFD case of the bench (issue 17, acceptance 5): detection time, keepalived beside
keepalived-py, in one lab at the same moment.

Setup: min_tx / min_rx 50 ms, multiplier 3 (detection time 150 ms). One peer, real
keepalived 2.2.7 in namespace `p`, runs a bfd_instance with each survivor: keepalived in
`ka`, keepalived-py in `py`. Each repetition starts the peer, waits until both sessions are
Up with the 50 ms intervals agreed, kills the peer with kill -9 (its whole tree, frozen
first), and reads from the capture, for each survivor, the time from the last packet the
peer sent it to the survivor's first Down with diagnostic 1 (Control Detection Time
Expired). Both survivors lose the same peer at the same instant under the same load, so the
two columns compare like with like. Capture timestamps only: no daemon clock, no log line.

    python -m conformance.bench.bfd_cases [--reps N]   # this case alone, prints its table
"""

from __future__ import annotations

import argparse
import ipaddress
import struct
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from conformance.lab import Lab, get
from conformance.lab.pcap import ETH_IPV4, _l3, read_pcap
from conformance.lab.poll import wait_until
from keepalived_py.bfd.packet import ControlPacket, DecodeError, Diag, State, decode

from .stats import Metric, percentile, table

TOPO = "bridge lan 192.0.2.0/24\nrouter ka lan\nrouter py lan\nrouter p lan\n"
INTERVAL_MS, MULT = 50, 3
DETECT = INTERVAL_MS * MULT / 1000
SURVIVORS = (("keepalived", "ka"), ("keepalived-py", "py"))
ROW = f"BFD detection, {INTERVAL_MS} ms x {MULT}, kill -9 of the peer: last peer packet -> Down/diag 1"
Log = Callable[[str], None]


@dataclass(frozen=True)
class Bfd:
    ts: float
    src: str
    dst: str
    pkt: ControlPacket


def bfd_packets(frames: Iterable) -> list[Bfd]:
    """The valid IPv4 BFD Control packets (UDP 3784) of a capture, in order."""
    out = []
    for f in frames:
        l3 = _l3(f.data)
        if l3 is None or l3[0] != ETH_IPV4:
            continue
        body = l3[2]
        if len(body) < 28 or body[9] != 17:
            continue
        ihl = (body[0] & 0x0F) * 4
        udp = body[ihl:]
        if len(udp) < 8 or struct.unpack_from("!H", udp, 2)[0] != 3784:
            continue
        try:
            pkt = decode(udp[8:])
        except DecodeError:
            continue
        out.append(Bfd(f.ts, str(ipaddress.IPv4Address(body[12:16])), str(ipaddress.IPv4Address(body[16:20])), pkt))
    return out


def agreed(pkts: Sequence[Bfd], a: str, b: str, after: float, n: int = 5) -> bool:
    """Both a -> b and b -> a have sent `n` Up packets at 50 ms since `after`, no Poll/Final."""
    def ok(src: str, dst: str) -> bool:
        ups = [x for x in pkts if x.ts > after and x.src == src and x.dst == dst and x.pkt.state == State.UP]
        last_pf = max((i for i, x in enumerate(ups) if x.pkt.poll or x.pkt.final), default=-1)
        tail = ups[last_pf + 1:]
        return len(tail) >= n and all(x.pkt.desired_min_tx_us == INTERVAL_MS * 1000 for x in tail)
    return ok(a, b) and ok(b, a)


def detection(pkts: Sequence[Bfd], survivor: str, peer: str, after: float) -> float | None:
    """Seconds from the peer's last packet to `survivor` (after `after`) to the survivor's
    first Down with diagnostic 1 after it; None when it is not (yet) in the capture."""
    heard = [x.ts for x in pkts if x.ts > after and x.src == peer and x.dst == survivor]
    if not heard:
        return None
    last = max(heard)
    downs = [x.ts for x in pkts if x.ts > last and x.src == survivor and x.dst == peer
             and x.pkt.state == State.DOWN and x.pkt.diag == Diag.EXPIRED]
    return downs[0] - last if downs else None


def conf(router_id: str, pairs: Sequence[tuple[str, str, str]]) -> str:
    """bfd_instances (name, neighbour, source) at the case's intervals."""
    out = [f"global_defs {{\n    router_id {router_id}\n}}\n"]
    for name, neighbor, source in pairs:
        out.append(f"bfd_instance {name} {{\n    neighbor_ip {neighbor}\n    source_ip {source}\n"
                   f"    min_rx {INTERVAL_MS}\n    min_tx {INTERVAL_MS}\n    multiplier {MULT}\n}}\n")
    return "".join(out)


def run_case(reps: int, metrics: dict[str, Metric], log: Log) -> None:
    """`reps` kills of the peer; every survivor's detection time goes into the two rows."""
    samples: dict[str, list[float]] = {impl: [] for impl, _ in SURVIVORS}
    with Lab(TOPO) as lab:
        addr = {node: lab.addr(node) for node in ("ka", "py", "p")}
        for impl, node in SURVIVORS:
            lab.start_daemon(node, get(impl), conf(node, [("to_p", addr["p"], addr[node])]))
        peer_conf = conf("p", [(f"to_{node}", addr[node], addr["p"]) for _, node in SURVIVORS])

        for rep in range(reps):
            # a capture per repetition: small files, so polling them costs the survivors little
            cap = lab.capture("lan", "udp port 3784")

            def pkts(cap=cap) -> list[Bfd]:
                return bfd_packets(read_pcap(cap.path)) if cap.path.exists() else []

            t0 = time.time()
            peer = lab.start_daemon("p", get("keepalived"), peer_conf, name=f"peer{rep}")
            wait_until(lambda t0=t0: all(agreed(pkts(), addr["p"], addr[n], t0) for _, n in SURVIVORS), 30,
                       step=0.1, what="both sessions Up at 50 ms")
            lab.kill(peer)
            wait_until(lambda t0=t0: all(detection(pkts(), addr[n], addr["p"], t0) is not None
                                         for _, n in SURVIVORS), 10, step=0.25, what="both survivors' Down/diag 1")
            p = bfd_packets(cap.stop())
            line = []
            for impl, node in SURVIVORS:
                d = detection(p, addr[node], addr["p"], t0)
                assert d is not None
                samples[impl].append(d)
                line.append(f"{impl} {d * 1000:.1f} ms")
            log(f"  rep {rep + 1}: " + ", ".join(line))
            peer.wait(10)
    all_row = metrics.setdefault(ROW, Metric(ROW, "ms", 1000.0, note=f"detection time {DETECT * 1000:.0f} ms"))
    p50 = metrics.setdefault(f"{ROW}, p50", Metric(f"{ROW}, p50", "ms", 1000.0))
    p99 = metrics.setdefault(f"{ROW}, p99", Metric(f"{ROW}, p99", "ms", 1000.0))
    for impl, vals in samples.items():
        for v in vals:
            all_row.add(impl, v)
        p50.add(impl, percentile(vals, 50))
        p99.add(impl, percentile(vals, 99))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=20)
    args = ap.parse_args(argv)
    metrics: dict[str, Metric] = {}
    run_case(args.reps, metrics, lambda m: print(m, file=sys.stderr, flush=True))
    print(table(list(metrics.values())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
