"""When a keyword line's built value may stand for another line with the same words.

A large configuration repeats its keyword lines (`weight 1`, `lb_kind NAT`, `priority 100`
in every block), and parsing each copy again was most of building the models after the
dispatch. build_model keeps, per model class and load, the value of a line that built
cleanly and hands it to the next line with the same words. That gives the same model only
when the value is a function of the words alone, so a value is kept when:

- its keyword sets a plain field (not `multi`, no `check`, not a block or a list of entries,
  not read from the raw text, not a keyword newer than 2.2.7 whose note is once a load);
- building it reported nothing and it is not a parsed-but-not-implemented keyword (those
  report per line, so their lines are built every time);
- the value holds no position and nothing mutable: numbers, strings, enums, addresses, and
  tuples and frozen dataclasses of those (a value that carries its line, like a
  VirtualAddress, never).

A block's head words (`real_server 198.51.100.1 80`) are reused the same way when they built
cleanly into such values.

The keyword's positions are still recorded per line, so messages keep their lines.
"""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
from typing import Any

from keepalived_py.errors import SourcePos

_SCALARS = (int, float, str, bytes, bool, type(None), enum.Enum, ipaddress.IPv4Address, ipaddress.IPv6Address,
            ipaddress.IPv4Network, ipaddress.IPv6Network, ipaddress.IPv4Interface, ipaddress.IPv6Interface)


def reusable(spec: Any, value: Any) -> bool:
    """Whether `value`, built for a plain keyword line of `spec` (build_model leaves out blocks and
    entry lists: their values carry positions), may stand for any line with its words."""
    if spec.multi or spec.check is not None or spec.since is not None or spec.merge or spec.vtype.reads_raw:
        return False
    return position_free(value)


def position_free(value: Any, depth: int = 0) -> bool:
    """Immutable and without a SourcePos anywhere inside (bounded depth: deeper is 'no')."""
    if isinstance(value, SourcePos) or depth > 4:
        return False
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, (tuple, frozenset)):
        return all(position_free(v, depth + 1) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = getattr(type(value), "__dataclass_params__", None)
        if params is None or not params.frozen:
            return False
        return all(position_free(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value))
    return False
