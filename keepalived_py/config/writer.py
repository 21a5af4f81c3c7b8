"""Models back to keepalived.conf text, driven by the same keyword specs as the builder.

Only values that differ from their defaults are written, in declaration order, so a
written file parses back to an equal model (the round-trip property tests hold us to it).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from keepalived_py.config.schema import (
    Entries,
    Model,
    Nested,
    body_field,
    head_fields,
    keyword_specs,
)

INDENT = "    "


def write_config(config: Model) -> str:
    """The whole configuration as keepalived.conf text."""
    lines: list[str] = []
    _write_body(config, 0, lines)
    return "\n".join(lines) + "\n"


def _defaults(cls: type) -> dict[str, Any]:
    cached = cls.__dict__.get("__kw_defaults__")  # its own: a subclass model (SslUrl) adds fields
    if cached is None:
        cached = {f.name: f.default for f in dataclasses.fields(cls)}
        cls.__kw_defaults__ = cached
    return cached


def _write_body(obj: Model, depth: int, lines: list[str]) -> None:
    defaults = _defaults(type(obj))
    pad = INDENT * depth
    body = body_field(type(obj))
    if body is not None:
        for entry in getattr(obj, body[0]):
            lines.append(pad + " ".join(body[1].format(entry)))
    for fname, spec in keyword_specs(type(obj)):
        value = getattr(obj, fname)
        if value == defaults[fname]:
            continue
        items = value if spec.multi else (value,)
        for item in items:
            alt = next((name for name, const in spec.alts if type(const) is type(item) and const == item), None)
            if alt is not None:
                lines.append(pad + alt)
                continue
            vtype = spec.vtype
            if isinstance(vtype, Nested):
                words = _head_words(item)
                lines.append(pad + " ".join([spec.name, *words, "{"]))
                _write_body(item, depth + 1, lines)
                lines.append(pad + "}")
            elif isinstance(vtype, Entries):
                lines.append(pad + spec.name + " {")
                for entry in item:
                    lines.append(pad + INDENT + " ".join(vtype.entry.format(entry)))
                lines.append(pad + "}")
            else:
                words = vtype.format(item)
                lines.append(pad + " ".join([spec.name, *words]))


def _head_words(obj: Model) -> list[str]:
    words: list[str] = []
    for fname, vtype, _optional in head_fields(type(obj)):
        value = getattr(obj, fname)
        if value is None:
            break
        words.extend(vtype.format(value))
    return words

