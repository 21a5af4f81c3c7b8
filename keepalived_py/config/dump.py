"""Views of a loaded configuration: `-d` text and `--dump-json` for tooling."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from typing import TYPE_CHECKING, Any

from keepalived_py.config.writer import write_config

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig


def dump_text(config: KeepalivedConfig) -> str:
    """The configuration as keepalived-py understood it, in keepalived.conf syntax."""
    return write_config(config)


def to_plain(value: Any) -> Any:
    """Models to JSON-ready data: dataclasses to dicts (with their kind), addresses to text."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        kind = getattr(type(value), "block_keyword", "") or type(value).__name__
        out["_type"] = kind
        for f in dataclasses.fields(value):
            if f.name in ("kw_pos", "end_pos", "kw_end"):
                continue
            if f.name == "pos":
                pos = value.pos
                if pos is not None:
                    out["_source"] = str(pos)
                continue
            out[f.name] = to_plain(getattr(value, f.name))
        return out
    if isinstance(value, tuple | list):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, ipaddress._BaseAddress | ipaddress._BaseNetwork | ipaddress.IPv4Interface
                  | ipaddress.IPv6Interface):
        return str(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def dump_json(config: KeepalivedConfig, indent: int | None = 2) -> str:
    return json.dumps(to_plain(config), indent=indent, sort_keys=False)
