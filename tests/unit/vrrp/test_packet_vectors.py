"""Our codec against adverts captured from real keepalived 2.2.7 (conformance/packets)."""

from __future__ import annotations

import json
from ipaddress import ip_address
from pathlib import Path

import pytest

from keepalived_py.errors import PacketError
from keepalived_py.vrrp.ah import build_ah_datagram, open_ah_datagram
from keepalived_py.vrrp.packet import (
    AuthType,
    Family,
    VrrpAdvert,
    build_ipv4,
    decode,
    encode,
    parse_ipv4,
    password_bytes,
)

VECTORS = sorted((Path(__file__).resolve().parents[3] / "conformance/packets/vectors").glob("*.json"))
CASES = [(p, kind) for p in VECTORS for kind in ("advert", "priority_zero")]


def _expected(vec: dict, kind: str) -> VrrpAdvert:
    p = vec["params"]
    v2 = p["version"] == 2
    return VrrpAdvert(
        version=p["version"],
        vrid=p["vrid"],
        priority=p["priority"] if kind == "advert" else 0,
        advert_int_cs=round(p["advert_int_s"] * 100),
        addresses=tuple(ip_address(a) for a in p["vips"]),
        auth_type=AuthType[p["auth_type"]] if v2 else AuthType.NONE,
        auth_data=(b"" if not v2 or p["family"] == "inet6"
                   else password_bytes(p["auth_pass"]) if p["auth_type"] == "PASS" else b"\0" * 8),
    )


def test_vectors_cover_the_acceptance_matrix():
    names = {p.stem for p in VECTORS}
    assert any(n.startswith("v2_ipv4_noauth") for n in names)
    assert any(n.startswith("v2_ipv4_pass") for n in names)
    assert any(n.startswith("v3_ipv4") for n in names)
    assert any(n.startswith("v3_ipv6") for n in names)
    assert any(n.startswith("v2_ipv4_ah") for n in names)
    assert any(n.startswith("v2_ipv6") for n in names)
    assert len(VECTORS) >= 10


@pytest.mark.parametrize(("path", "kind"), CASES, ids=[f"{p.stem}-{k}" for p, k in CASES])
def test_encode_matches_keepalived_bytes(path: Path, kind: str):
    vec = json.loads(path.read_text())
    cap = vec[kind]
    assert cap is not None, "keepalived sends priority 0 on SIGTERM; capture should hold it"
    src, dst = ip_address(cap["src"]), ip_address(cap["dst"])
    assert encode(_expected(vec, kind), src, dst).hex() == cap["vrrp_hex"]


@pytest.mark.parametrize(("path", "kind"), CASES, ids=[f"{p.stem}-{k}" for p, k in CASES])
def test_decode_reads_keepalived_bytes(path: Path, kind: str):
    vec = json.loads(path.read_text())
    cap = vec[kind]
    fam = Family.INET if vec["params"]["family"] == "inet" else Family.INET6
    src, dst = ip_address(cap["src"]), ip_address(cap["dst"])
    got = decode(bytes.fromhex(cap["vrrp_hex"]), fam, src, dst)
    assert got == _expected(vec, kind)
    assert got.checksum == int(cap["vrrp_hex"][12:16], 16)
    assert cap["ttl"] == 255


@pytest.mark.parametrize("path", [p for p in VECTORS if "ipv4" in p.stem and "_ah_" not in p.stem],
                         ids=lambda p: p.stem)
def test_ipv4_header_as_keepalived_builds_it(path: Path):
    cap = json.loads(path.read_text())["advert"]
    raw = bytes.fromhex(cap["ip_hex"])
    info, payload = parse_ipv4(raw)
    assert payload.hex() == cap["vrrp_hex"]
    assert (str(info.src), str(info.dst), info.ttl, info.protocol) == (cap["src"], cap["dst"], 255, 112)
    rebuilt = build_ipv4(info.src, info.dst, payload)
    # keepalived leaves id and checksum to the kernel; compare the rest of the header
    assert rebuilt[:4] == raw[:4] and rebuilt[6:10] == raw[6:10] and rebuilt[12:] == raw[12:]


AH_CASES = [(p, kind) for p in VECTORS if "_ah_" in p.stem for kind in ("advert", "priority_zero")]


@pytest.mark.parametrize(("path", "kind"), AH_CASES, ids=[f"{p.stem}-{k}" for p, k in AH_CASES])
def test_ah_datagram_matches_keepalived_bytes(path: Path, kind: str):
    vec = json.loads(path.read_text())
    cap = vec[kind]
    raw = bytes.fromhex(cap["ip_hex"])
    ip_id = int.from_bytes(raw[4:6], "big")
    seq = int.from_bytes(raw[28:32], "big")
    key = password_bytes(vec["params"]["auth_pass"])
    src, dst = ip_address(cap["src"]), ip_address(cap["dst"])
    vrrp = encode(_expected(vec, kind), src, dst)
    assert build_ah_datagram(src, dst, vrrp, key, seq, ip_id).hex() == cap["ip_hex"]
    info, ah, payload = open_ah_datagram(raw, key)
    assert (ah.seq, ah.spi, payload) == (seq, int(src), vrrp)
    with pytest.raises(PacketError) as exc:
        open_ah_datagram(raw, password_bytes("wrong"))
    assert exc.value.reason == "auth_failure"
