"""The codec: golden bytes, and each datagram check a counted drop reason."""

from __future__ import annotations

import pytest

from keepalived_py.bfd.packet import (
    ControlPacket,
    DecodeError,
    Diag,
    DropReason,
    State,
    decode,
    encode,
)

# keepalived 2.2.7's first packet (Down, idle 1 s, min_rx 50 ms, mult 3), as tcpdump shows it
GOLDEN = bytes.fromhex("20 40 03 18 a0 00 00 01 00 00 00 00 00 0f 42 40 00 00 c3 50 00 00 00 00")


def test_golden_down_packet():
    pkt = decode(GOLDEN)
    assert pkt == ControlPacket(state=State.DOWN, my_discr=0xA0000001, detect_mult=3,
                                desired_min_tx_us=1_000_000, required_min_rx_us=50_000)
    assert encode(pkt) == GOLDEN


def test_flags_and_diag_positions():
    pkt = ControlPacket(state=State.UP, my_discr=1, your_discr=2, diag=Diag.EXPIRED, poll=True,
                        demand=True, cpi=True)
    data = encode(pkt)
    assert data[0] == 0x21 and data[1] == 0xC0 | 0x20 | 0x08 | 0x02
    assert decode(data) == pkt


def _raw(**over: int) -> bytearray:
    data = bytearray(encode(ControlPacket(state=State.UP, my_discr=1, your_discr=2)))
    for idx, value in over.items():
        data[int(idx[1:])] = value
    return data


@pytest.mark.parametrize(("data", "reason"), [
    (b"\x20" * 23, DropReason.TOO_SHORT),
    (_raw(b0=0x40), DropReason.BAD_VERSION),
    (_raw(b3=25), DropReason.BAD_LENGTH),
    (_raw(b3=23), DropReason.BAD_LENGTH),
    (_raw(b2=0), DropReason.ZERO_MULTIPLIER),
    (_raw(b1=0xC1), DropReason.MULTIPOINT),
    (_raw(b7=0), DropReason.ZERO_MY_DISCR),
    (_raw(b11=0), DropReason.ZERO_YOUR_DISCR),
    (_raw(b1=0xF0), DropReason.POLL_AND_FINAL),
    (_raw(b0=0x29), DropReason.BAD_DIAG),
    (_raw(b1=0xC4), DropReason.BAD_LENGTH),  # A bit without an auth section
    (bytes(_raw(b1=0xC4, b3=27)) + b"\x01\x02\x00", DropReason.BAD_AUTH_SECTION),
])
def test_each_check_has_its_reason(data, reason):
    with pytest.raises(DecodeError) as exc:
        decode(bytes(data))
    assert exc.value.reason is reason


def test_zero_your_discr_is_fine_while_down():
    assert decode(bytes(_raw(b1=0x40, b11=0))).state == State.DOWN


def test_trailing_bytes_beyond_length_are_ignored():
    assert decode(GOLDEN + b"\x00\x00").my_discr == 0xA0000001


def test_auth_section_is_kept_for_the_session_to_refuse():
    pkt = ControlPacket(state=State.DOWN, my_discr=5, auth=b"\x01\x05\x01ab")
    back = decode(encode(pkt))
    assert back.auth_type == 1 and back.auth == pkt.auth and encode(pkt)[3] == 29
