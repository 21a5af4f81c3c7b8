"""Semantic checks after parsing: keepalived's rules that need the whole configuration.

Each area has its own module with a `validate(config, env)` function; this one runs them in
order. `ValidationEnv` carries what the checks may look at beyond the configuration itself
(the host's interfaces), so tests can give a fake host.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from keepalived_py.config.diagnostics import Diagnostics
from keepalived_py.errors import SourcePos


def host_interfaces() -> frozenset[str]:
    """Interface names in the current network namespace."""
    try:
        return frozenset(name for _index, name in socket.if_nameindex())
    except OSError:
        return frozenset()


@dataclass(slots=True)
class ValidationEnv:
    diagnostics: Diagnostics
    #: None: do not check that interfaces exist (keepalived's dynamic_interfaces, or tests)
    interfaces: frozenset[str] | None = None
    extra: dict[str, object] = field(default_factory=dict)


Validator = Callable[[object, ValidationEnv], None]


def keyword_pos(block: object, keyword: str) -> SourcePos | None:
    """The line of `keyword` in `block` (a keyword handler's message names it), else the
    block's own line."""
    positions = getattr(block, "kw_pos", None)
    if positions:
        found = positions.get(keyword)
        if found is not None:
            return found
    return getattr(block, "pos", None)


def validate(config: object, env: ValidationEnv) -> None:
    # imported here: the area modules import ValidationEnv and keyword_pos from this one
    from keepalived_py.config.validate import bfd, global_defs, lvs, vrrp

    # keepalived -t's order: the parent's global checks, then the checker's, vrrp's and bfd's
    # configurations (validate_config() in keepalived/core/main.c)
    for area in (global_defs, lvs, vrrp, bfd):
        area.validate(config, env)
