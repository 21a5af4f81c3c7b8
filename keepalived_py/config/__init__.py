"""keepalived.conf: lexical layer, Lark grammar, typed models, validation, writer."""

from keepalived_py.config.diagnostics import ConfigErr, Diagnostic
from keepalived_py.config.loader import LoadResult, load_config, load_text

__all__ = ["ConfigErr", "Diagnostic", "LoadResult", "load_config", "load_text"]
