"""Property: every valid BFD Control packet survives encode -> decode, and no byte string
makes the decoder fail other than with DecodeError (a counted drop reason)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from keepalived_py.bfd.packet import ControlPacket, DecodeError, Diag, State, decode, encode

U32 = st.integers(min_value=0, max_value=0xFFFFFFFF)


@st.composite
def packets(draw: st.DrawFn) -> ControlPacket:
    state = draw(st.sampled_from(list(State)))
    poll = draw(st.booleans())
    auth = b""
    if draw(st.booleans()):
        body = draw(st.binary(max_size=40))
        auth = bytes([draw(st.integers(1, 5)), 2 + len(body)]) + body
    return ControlPacket(
        state=state, my_discr=draw(st.integers(1, 0xFFFFFFFF)),
        your_discr=draw(U32) if state in (State.DOWN, State.ADMIN_DOWN) else draw(st.integers(1, 0xFFFFFFFF)),
        diag=draw(st.sampled_from(list(Diag))), detect_mult=draw(st.integers(1, 255)),
        desired_min_tx_us=draw(U32), required_min_rx_us=draw(U32), required_min_echo_rx_us=draw(U32),
        poll=poll, final=not poll and draw(st.booleans()), cpi=draw(st.booleans()),
        demand=draw(st.booleans()), auth=auth)


@given(packets())
def test_round_trip(pkt: ControlPacket) -> None:
    data = encode(pkt)
    assert len(data) == data[3]
    assert decode(data) == pkt


@given(st.binary(max_size=80))
def test_arbitrary_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        pkt = decode(data)
    except DecodeError:
        return
    assert encode(pkt) == data[: data[3]]
