"""Top-level blocks beside global_defs: SSL, track_group, linkbeat / up-down delays."""

from __future__ import annotations

from keepalived_py.config.schema import Entries, Model, Word, head, kw, model


@model
class SslDefs(Model):
    block_keyword = "SSL"

    password: str | None = kw(Word())
    ca: str | None = kw(Word())
    certificate: str | None = kw(Word())
    key: str | None = kw(Word())


@model
class TrackGroup(Model):
    block_keyword = "track_group"

    name: str = head(Word(), default="")
    group: tuple[str, ...] = kw(Entries(Word()))
