"""Hypothesis strategies derived from the config schema: random valid models of any block.

Generic value types (words, numbers, timers, choices, addresses ...) map to strategies that
produce any value their parser accepts. For a field whose value type is specific to one
keyword (an address line with options, a route, a script spec ...), the strategy draws from
the values that field takes in real configurations: Debian's samples, our examples and
parity cases, and tests/property/corpus/ for keywords none of those use. A field with
neither is reported in `uncovered`, so the round-trip test can say what it did not try.
"""

from __future__ import annotations

import dataclasses
import functools
import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from keepalived_py.config import schema, values
from keepalived_py.config.schema import Entries, Model, Nested, head_fields, keyword_specs

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIRS = (Path("/usr/share/doc/keepalived/samples"), ROOT / "examples", ROOT / "conformance" / "configs",
               ROOT / "tests" / "property" / "corpus")

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


def _number(v: values.Number) -> st.SearchStrategy:
    numbers = st.integers(v.lo, v.hi)
    # a zero the handler replaces (with a warning) does not read back as itself
    return numbers.filter(lambda n: n != 0) if v.zero is not None else numbers


def _decimal(v: values.Decimal) -> st.SearchStrategy:
    scale = 10**v.digits
    hi = round((v.hi if v.hi is not None else 100000.0) * scale)
    lo = round(v.lo * scale)
    return st.integers(lo, hi).map(lambda count: round(count / scale, v.digits))


register(schema.Word, lambda v: WORD)
register(schema.Text, lambda v: SPACED)
register(values.Number, _number)
register(values.Decimal, _decimal)
register(values.Str, lambda v: WORD)
register(values.IpAddr, lambda v: st.sampled_from([ipaddress.ip_address("224.0.0.18"), ipaddress.ip_address("ff02::12")])
         if v.multicast else IPV4 | IPV6)
register(values.OptChoice, lambda v: st.sampled_from((v.default, *v.choices)))
register(values.UserGroup, lambda v: st.lists(WORD, min_size=1, max_size=2).map(tuple))
register(schema.Flag, lambda v: st.booleans())
register(schema.Choice, lambda v: st.sampled_from(v.choices))


def for_value_type(vtype: schema.ValueType) -> st.SearchStrategy | None:
    """The generic strategy registered for this value type (or a base class), else None."""
    for klass in type(vtype).__mro__:
        factory = _BY_TYPE.get(klass)
        if factory is not None:
            return factory(vtype)
    uncovered.add(type(vtype).__name__)
    return None


@functools.cache
def corpus() -> dict[tuple[type, str], tuple[Any, ...]]:
    """(model class, field) -> the distinct values it takes in the corpus configurations."""
    from keepalived_py.config import load_config

    found: dict[tuple[type, str], list[Any]] = {}
    for folder in CORPUS_DIRS:
        pattern = "keepalived.conf.*" if folder.name == "samples" else "**/*.conf"
        for path in sorted(folder.glob(pattern)):
            _collect(load_config(str(path), check_interfaces=False).config, found)
    return {key: tuple(dict.fromkeys(values)) for key, values in found.items()}


def _collect(obj: Model, found: dict[tuple[type, str], list[Any]]) -> None:
    cls = type(obj)
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    for fname, _vtype, _optional in head_fields(cls):
        value = getattr(obj, fname)
        if value is not None and value != defaults[fname]:  # a broken case may lack its name
            found.setdefault((cls, fname), []).append(value)
    body = schema.body_field(cls)
    if body is not None:
        found.setdefault((cls, body[0]), []).extend(getattr(obj, body[0]))
    for fname, spec in keyword_specs(cls):
        value = getattr(obj, fname)
        if value == defaults[fname]:
            continue
        items = value if spec.multi or isinstance(spec.vtype, Entries) else (value,)
        for item in items:
            if isinstance(spec.vtype, Nested):
                _collect(item, found)
            else:
                found.setdefault((cls, fname), []).append(item)


def _field_strategy(cls: type, fname: str, vtype: schema.ValueType) -> st.SearchStrategy | None:
    """Generic strategy for the value type, else the field's corpus values."""
    for klass in type(vtype).__mro__:
        factory = _BY_TYPE.get(klass)
        if factory is not None:
            return factory(vtype)
    values = corpus().get((cls, fname))
    if values:
        return st.sampled_from(values)
    uncovered.add(f"{cls.__name__}.{fname} ({type(vtype).__name__})")
    return None


def for_model(cls: type[Model], depth: int = 2) -> st.SearchStrategy:
    fields: dict[str, st.SearchStrategy] = {}
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    for fname, vtype, optional in head_fields(cls):
        strat = _field_strategy(cls, fname, vtype)
        if strat is None:
            continue
        fields[fname] = (st.just(defaults[fname]) | strat) if optional else strat
    body = schema.body_field(cls)
    if body is not None:
        strat = _field_strategy(cls, body[0], body[1])
        if strat is not None:
            fields[body[0]] = st.lists(strat, max_size=3).map(tuple)
    for fname, spec in keyword_specs(cls):
        strat = _for_spec(cls, fname, spec, depth)
        if strat is None:
            continue
        fields[fname] = st.just(defaults[fname]) | strat
    return st.builds(cls, **fields)


def _check_keeps(spec: schema.KeywordSpec, value: Any) -> bool:
    from keepalived_py.config.diagnostics import Diagnostics

    try:
        return spec.check(value, schema.Ctx(Diagnostics())) == value
    except schema.ValueProblem:
        return False


def _for_spec(cls: type, fname: str, spec: schema.KeywordSpec, depth: int) -> st.SearchStrategy | None:
    vtype = spec.vtype
    if isinstance(vtype, schema.Nested):
        if depth <= 0:
            return None
        inner = for_model(vtype.model, depth - 1)
        return st.lists(inner, max_size=2).map(tuple) if spec.multi else inner
    if isinstance(vtype, schema.Entries):
        entry = _field_strategy(cls, fname, vtype.entry)
        if entry is None:
            return None
        return st.lists(entry, max_size=3).map(tuple)
    strat = _field_strategy(cls, fname, vtype)
    if strat is None:
        return None
    if spec.check is not None:
        # a keyword's check may normalise (skip_check_adv_addr: any <BOOL> sets it): only values
        # it keeps read back as themselves
        strat = strat.filter(functools.partial(_check_keeps, spec))
    if spec.alts:
        strat = strat | st.sampled_from([const for _name, const in spec.alts])
    if spec.multi:
        return st.lists(strat, max_size=3).map(tuple)
    return strat


# area strategies register themselves on import
from tests.property import strategies_lvs  # noqa: E402,F401
