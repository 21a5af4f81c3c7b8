"""What the config tests share: building models without the semantic checks, and messages
without the block names keepalived puts in them."""

from __future__ import annotations

import re

from keepalived_py.config.diagnostics import ConfigErr, Diagnostics
from keepalived_py.config.model import KeepalivedConfig
from keepalived_py.config.parser import parse_lines
from keepalived_py.config.preprocess import Preprocessor
from keepalived_py.config.schema import Usage, build_model


def parse_only(text: str, *, with_info: bool = False):
    """The model and the parser's diagnostics (without informational ones unless `with_info`),
    without the semantic checks."""
    diags = Diagnostics()
    lines = Preprocessor(diagnostics=diags).read_text(text, "keepalived.conf")
    config = build_model(KeepalivedConfig, None, (), parse_lines(lines, diags), diags, Usage(), None)
    return config, [d for d in diags if with_info or d.code != ConfigErr.OK]


def bare(message: str, *names: str) -> str:
    """A message without the block name keepalived puts in it ('(VI_1) ', '[VI_1]', ' chk'), so
    the tests hold whether or not the builder passes block names to the value types."""
    for name in names:
        message = re.sub(rf"\({re.escape(name)}\):? ", "", message)
        message = message.replace(f"[{name}]", "").replace(f" {name} ", " ")
    return message
