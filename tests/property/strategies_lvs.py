"""Strategies for the LVS/checker value types (keepalived_py.config.model.lvs / checkers)."""

from __future__ import annotations

import ipaddress

from hypothesis import strategies as st

from keepalived_py.config import values
from keepalived_py.config.model import checkers as ck
from keepalived_py.config.model import lvs
from keepalived_py.config.model import newer_types as nt
from tests.property.strategies import IPV4, IPV6, WORD, for_value_type, register

ADDRESS = IPV4 | IPV6
PORT = st.integers(1, 65535)
HEX_WORD = st.text("0123456789abcdefABCDEF", min_size=1, max_size=6)
MASK_WORD = st.text("0123456789abcdefxX", min_size=1, max_size=6)


def _forwarding(_v) -> st.SearchStrategy:
    plain = st.builds(lvs.Forwarding, st.sampled_from(["NAT", "DR", "TUN"]))
    ipip = st.builds(lvs.Forwarding, st.sampled_from(["NAT", "DR", "TUN"]), st.just("ipip"), st.none(),
                     st.sampled_from([None, "nocsum"]))
    gue = st.builds(lvs.Forwarding, st.just("TUN"), st.just("gue"), PORT,
                    st.sampled_from([None, "nocsum", "csum", "remcsum"]))
    gre = st.builds(lvs.Forwarding, st.just("TUN"), st.just("gre"), st.none(), st.sampled_from([None, "nocsum", "csum"]))
    return plain | ipip | gue | gre


def _target(_v) -> st.SearchStrategy:
    return (st.builds(lvs.VsTarget, address=ADDRESS, port=st.none() | PORT)
            | st.builds(lvs.VsTarget, fwmark=st.integers(1, 2**32 - 1))
            | st.builds(lvs.VsTarget, group=WORD))


def _status(_v) -> st.SearchStrategy:
    pair = st.tuples(st.integers(100, 599), st.integers(100, 599)).map(lambda p: (min(p), max(p)))
    return st.lists(pair, min_size=1, max_size=3).map(tuple)


def _hex(v: ck.HexString) -> st.SearchStrategy:
    words = st.lists(MASK_WORD if v.mask else HEX_WORD, min_size=1, max_size=3).map(" ".join)
    return (st.just("") | words) if v.min_args == 0 else words


register(ck.Digest, lambda v: st.text("0123456789abcdef", min_size=32, max_size=32))
register(ck.StatusCodes, _status)
register(ck.RegexOptions, lambda v: st.lists(st.sampled_from(ck.REGEX_OPTIONS), min_size=1, max_size=3).map(tuple))
register(ck.RegexStack, lambda v: st.tuples(st.integers(0, 10**6), st.integers(0, 10**6)).map(
    lambda p: (min(p), max(p))))
register(ck.RegexOffset, lambda v: st.integers(0, 10**6))
register(ck.Regex, lambda v: WORD)
register(ck.HexString, _hex)
register(ck.FileWeightType, lambda v: st.builds(ck.FileWeight, st.integers(-ck.WEIGHT_LIMIT, ck.WEIGHT_LIMIT),
                                                st.booleans()))
register(lvs.VsTargetType, _target)
register(lvs.PortHead, lambda v: PORT)
register(lvs.ServerAddressType, lambda v: st.builds(lvs.ServerAddress, ADDRESS, st.none() | PORT))
register(lvs.ForwardingType, _forwarding)
register(lvs.PersistenceTimeout, lambda v: st.integers(1, lvs.MAX_PERSISTENCE_TIMEOUT))
register(lvs.Granularity, lambda v: st.integers(1, 128).map(str))  # valid whatever the family
register(lvs.VsgEntryType, lambda v: st.builds(lambda a, n, p: lvs.VsgRange(a, type(a)(int(a) + n), p),
                                               st.integers(1, 2**31).map(ipaddress.IPv4Address), st.integers(0, 20),
                                               st.none() | PORT)
         | st.builds(lvs.VsgFwmark, st.integers(0, 2**32 - 1), st.sampled_from([None, "inet", "inet6"])))
register(ck.WithMissing, lambda v: for_value_type(v.inner))
register(ck.BfdName, lambda v: WORD)

# the VRRP area's script types, used by the LVS models too (registering twice is harmless)
register(values.NotifyScriptType, lambda v: st.builds(values.NotifyScript, WORD, st.none() | WORD).flatmap(
    lambda n: st.just(n) if n.user is None else st.builds(values.NotifyScript, st.just(n.command), st.just(n.user),
                                                          st.none() | WORD)))
register(values.ScriptCommand, lambda v: WORD)
register(ck.DnsName, lambda v: st.from_regex(r"[a-z]{2,8}(\.[a-z]{2,8}){0,2}", fullmatch=True))

# value types of keywords newer than keepalived 2.2.7 (config/model/newer_types.py)
register(nt.PathArg, lambda v: WORD)
register(nt.OptPriority, lambda v: st.integers(1, 254))
register(nt.SniName, lambda v: st.just("") | WORD)
register(nt.HmacKeyType, lambda v: st.builds(
    nt.HmacKey, st.integers(1, 255),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=nt.HMAC_KEY_MIN, max_size=nt.HMAC_KEY_MAX)
    | st.binary(min_size=nt.HMAC_KEY_MIN, max_size=nt.HMAC_KEY_MAX).map(lambda b: "hex:" + b.hex())))
