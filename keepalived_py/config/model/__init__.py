"""Typed, immutable models of keepalived.conf, one module per area."""

from keepalived_py.config.model.root import KeepalivedConfig

__all__ = ["KeepalivedConfig"]
