"""A faster __init__ for the frozen, slotted model classes.

A frozen dataclass's __init__ stores each field with object.__setattr__(self, name, value),
which looks the slot up again on every call; a model has 17-42 fields and a large
configuration makes ~23,000 models, so that was about a tenth of building one. This
__init__ calls each slot's own descriptor instead (half the cost) and is otherwise the one
dataclasses writes for these classes: the same parameters in the same order with the same
defaults. A class that needs more (a default factory, __post_init__, a field outside
__init__, a field without a default) keeps the dataclass's own.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from keepalived_py.config import codecache


def _descriptor(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    raise LookupError(name)


def install(cls: type) -> bool:
    """Give the frozen slotted dataclass `cls` the descriptor __init__; False if it keeps its own."""
    fields = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__") or any(
            not f.init or f.default is dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
            or f.name == "self" or f.name.startswith("_k") for f in fields):
        return False
    names: dict[str, Any] = {}
    params, body = [], []
    for i, f in enumerate(fields):
        setter = getattr(_descriptor(cls, f.name), "__set__", None)
        if setter is None:
            return False
        names[f"_kd{i}"] = f.default
        names[f"_ks{i}"] = setter
        params.append(f"{f.name}=_kd{i}")
        body.append(f"  _ks{i}(self, {f.name})")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or ["  pass"]) + "\n"
    exec(codecache.install().code(source), names)  # noqa: S102 - generated from field names, as dataclasses does
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = dict(getattr(cls.__init__, "__annotations__", {}))
    cls.__init__ = init
    return True
