"""What vrrp instances track: vrrp_script, vrrp_track_file, vrrp_track_process."""

from __future__ import annotations

from keepalived_py.config.schema import Int, Model, Script, Timer, Word, head, kw, model


@model
class VrrpScript(Model):
    block_keyword = "vrrp_script"

    name: str = head(Word(), default="")
    script: str | None = kw(Script())
    interval: float = kw(Timer(), default=1.0)
    weight: int = kw(Int(-253, 253), default=0)


@model
class TrackFile(Model):
    block_keyword = "vrrp_track_file"

    name: str = head(Word(), default="")
    file: str | None = kw(Word())
    weight: int = kw(Int(-254, 254), default=1)


@model
class TrackProcess(Model):
    block_keyword = "vrrp_track_process"

    name: str = head(Word(), default="")
    process: str | None = kw(Word())
