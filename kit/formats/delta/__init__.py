"""Delta Lake tables: the log, the read paths, the change data feed."""

from .source import DeltaSource

__all__ = ["DeltaSource"]
