"""Hypothesis strategies derived from the config schema: random valid models of any block.

Each value type maps to a strategy producing values its parser accepts and its writer
writes back unchanged. Entry types of the area models register here too; a value type with
no strategy is reported by `uncovered` so the round-trip test can say what it did not try.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from keepalived_py.config import schema
from keepalived_py.config.schema import Model, head_fields, keyword_specs

# words keepalived's tokeniser reads back as themselves
_WORD_ALPHABET = st.characters(whitelist_categories=("Ll", "Lu", "Nd"), whitelist_characters="_-.:/@+%=",
                               max_codepoint=127)
WORD = st.text(_WORD_ALPHABET, min_size=1, max_size=12).filter(
    lambda w: w[0] not in "@$~" and not w.startswith("include"))
SPACED = st.lists(WORD, min_size=1, max_size=4).map(" ".join)
IPV4 = st.integers(1, 2**32 - 2).map(ipaddress.IPv4Address)
IPV6 = st.integers(1, 2**128 - 2).map(ipaddress.IPv6Address)

_BY_TYPE: dict[type, Callable[[Any], st.SearchStrategy]] = {}
uncovered: set[str] = set()


def register(vtype_class: type, factory: Callable[[Any], st.SearchStrategy]) -> None:
    _BY_TYPE[vtype_class] = factory


def _int(v: schema.Int) -> st.SearchStrategy:
    lo = v.lo if v.lo is not None else -(2**31)
    hi = v.hi if v.hi is not None else 2**31 - 1
    return st.integers(lo, hi)


def _timer(v: schema.Timer) -> st.SearchStrategy:
    hi = int((v.hi if v.hi is not None else 100000.0) * 1_000_000)
    lo = int(v.lo * 1_000_000)
    return st.integers(lo, hi).map(lambda micro: round(micro / 1_000_000, 6))


def _address(v: schema.Address) -> st.SearchStrategy:
    if v.family == 4:
        return IPV4
    if v.family == 6:
        return IPV6
    return IPV4 | IPV6


register(schema.Word, lambda v: WORD)
register(schema.Words, lambda v: st.lists(WORD, min_size=max(1, v.min_args), max_size=4).map(tuple))
register(schema.Text, lambda v: SPACED)
register(schema.Script, lambda v: SPACED)
register(schema.Int, _int)
register(schema.Port, _int)
register(schema.Timer, _timer)
register(schema.Bool, lambda v: st.booleans())
register(schema.Flag, lambda v: st.booleans())
register(schema.Choice, lambda v: st.sampled_from(v.choices))
register(schema.Address, _address)


def for_value_type(vtype: schema.ValueType) -> st.SearchStrategy | None:
    for klass in type(vtype).__mro__:
        factory = _BY_TYPE.get(klass)
        if factory is not None:
            return factory(vtype)
    uncovered.add(type(vtype).__name__)
    return None


def for_model(cls: type[Model], depth: int = 2) -> st.SearchStrategy:
    fields: dict[str, st.SearchStrategy] = {}
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    for fname, vtype, optional in head_fields(cls):
        strat = for_value_type(vtype)
        if strat is None:
            continue
        fields[fname] = (st.none() | strat) if optional else strat
    for fname, spec in keyword_specs(cls):
        strat = _for_spec(spec, depth)
        if strat is None:
            continue
        fields[fname] = st.just(defaults[fname]) | strat
    return st.builds(cls, **fields)


def _for_spec(spec: schema.KeywordSpec, depth: int) -> st.SearchStrategy | None:
    vtype = spec.vtype
    if isinstance(vtype, schema.Nested):
        if depth <= 0:
            return None
        inner = for_model(vtype.model, depth - 1)
        return st.lists(inner, max_size=2).map(tuple) if spec.multi else inner
    if isinstance(vtype, schema.Entries):
        entry = for_value_type(vtype.entry)
        if entry is None:
            return None
        return st.lists(entry, max_size=3).map(tuple)
    strat = for_value_type(vtype)
    if strat is None:
        return None
    if spec.alts:
        strat = strat | st.sampled_from([const for _name, const in spec.alts])
    if spec.multi:
        return st.lists(strat, max_size=3).map(tuple)
    return strat


# area strategies register themselves on import
from tests.property import strategies_lvs  # noqa: E402,F401
