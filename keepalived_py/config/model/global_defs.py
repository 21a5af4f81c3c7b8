"""global_defs: daemon-wide settings (keepalived.conf(5) 'Global definitions')."""

from __future__ import annotations

from keepalived_py.config.schema import Entries, Model, Word, kw, model


@model
class GlobalDefs(Model):
    block_keyword = "global_defs"

    router_id: str | None = kw(Word())
    notification_email: tuple[str, ...] = kw(Entries(Word()))
    notification_email_from: str | None = kw(Word())
    smtp_server: str | None = kw(Word())
