"""The BFD bench case's judgement on capture records (pure): when both sessions count as
Up at the agreed interval, and the detection time from the peer's last packet to the
survivor's Down with diagnostic 1, through the pcap parsing of real encoded packets."""

from __future__ import annotations

import struct

from conformance.bench.bfd_cases import Bfd, agreed, bfd_packets, detection
from conformance.lab.pcap import Frame
from keepalived_py.bfd.packet import ControlPacket, Diag, State, encode

S, P = "192.0.2.1", "192.0.2.9"


def up(ts: float, src: str, dst: str, **kw) -> Bfd:
    return Bfd(ts, src, dst, ControlPacket(State.UP, 1, 2, desired_min_tx_us=50_000, required_min_rx_us=50_000, **kw))


def frame(ts: float, src: str, dst: str, pkt: ControlPacket, dport: int = 3784) -> Frame:
    payload = encode(pkt)
    udp = struct.pack("!HHHH", 49152, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 255, 17, 0,
                     bytes(map(int, src.split("."))), bytes(map(int, dst.split("."))))
    return Frame(ts, b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + udp)


def test_agreed_needs_both_directions_after_the_last_poll_final():
    pkts = [up(1.0 + i * 0.05, S, P) for i in range(6)] + [up(1.0 + i * 0.05, P, S) for i in range(6)]
    assert agreed(sorted(pkts, key=lambda x: x.ts), S, P, 0.0)
    assert not agreed(pkts, S, P, 1.2)                        # too few after `after`
    polled = pkts + [up(1.4, S, P, poll=True)]
    assert not agreed(sorted(polled, key=lambda x: x.ts), S, P, 0.0)


def test_detection_runs_from_the_peers_last_packet_to_the_first_expired_down():
    pkts = [up(1.0 + i * 0.05, P, S) for i in range(5)]        # last heard at 1.20
    assert detection(pkts, S, P, 0.0) is None
    stale = Bfd(1.1, S, P, ControlPacket(State.DOWN, 1, 0, diag=Diag.EXPIRED))   # before the last packet
    down = Bfd(1.36, S, P, ControlPacket(State.DOWN, 1, 0, diag=Diag.EXPIRED))
    other = Bfd(1.30, S, P, ControlPacket(State.DOWN, 1, 0, diag=Diag.NEIGHBOR_DOWN))
    got = detection(sorted(pkts + [stale, other, down], key=lambda x: x.ts), S, P, 0.0)
    assert got is not None and abs(got - 0.16) < 1e-9


def test_packets_parsed_from_frames():
    frames = [frame(1.0, S, P, ControlPacket(State.UP, 7, 8)), frame(1.1, S, P, ControlPacket(State.UP, 7, 8), 4784),
              Frame(1.2, b"\x00" * 10)]
    got = bfd_packets(frames)
    assert [(x.ts, x.src, x.dst, x.pkt.my_discr) for x in got] == [(1.0, S, P, 7)]
