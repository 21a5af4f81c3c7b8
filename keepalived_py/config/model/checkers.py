"""Health checkers of a real_server (keepalived.conf(5): TCP_CHECK, HTTP_GET, ... BFD_CHECK)."""

from __future__ import annotations

from keepalived_py.config.schema import Model, Port, Timer, kw, model


@model
class TcpCheck(Model):
    block_keyword = "TCP_CHECK"

    connect_port: int | None = kw(Port())
    connect_timeout: float = kw(Timer(), default=5.0)
