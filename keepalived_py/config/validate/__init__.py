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


def _validators() -> list[Validator]:
    validators: list[Validator] = []
    for name in ("global_defs", "vrrp", "lvs", "bfd"):
        try:
            module = __import__(f"keepalived_py.config.validate.{name}", fromlist=["validate"])
        except ModuleNotFoundError as exc:
            if exc.name != f"keepalived_py.config.validate.{name}":
                raise
            continue
        validators.append(module.validate)
    return validators


def validate(config: object, env: ValidationEnv) -> None:
    for validator in _validators():
        validator(config, env)
