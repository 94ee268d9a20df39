"""Where a lake is and with which credentials (local folders, Azure storage, OneLake)."""

from .location import Storage, resolve_options, storage_options_from_env
from .secrets import display_location, redact

__all__ = ["Storage", "display_location", "redact", "resolve_options", "storage_options_from_env"]
