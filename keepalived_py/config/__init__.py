"""keepalived.conf: lexical layer, Lark grammar, typed models, validation, writer."""

from keepalived_py.config import codecache

codecache.install()  # before any model class is made: their dataclass code comes from the cache

from keepalived_py.config.diagnostics import ConfigErr, Diagnostic  # noqa: E402
from keepalived_py.config.loader import LoadResult, load_config, load_text  # noqa: E402

codecache.save()

__all__ = ["ConfigErr", "Diagnostic", "LoadResult", "load_config", "load_text"]
