"""The store: the kit's own record of every first landing it has seen, kept between runs.

Real lakes vacuum their change feed within hours or days; the store remembers what the feed
showed. See ``kit.store.store``.
"""

from .store import Store, StoredTable

__all__ = ["Store", "StoredTable"]
