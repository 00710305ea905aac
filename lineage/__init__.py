"""lineage: close the loop between the people who enter data and the decisions it drives.

The library holds a lineage graph (people -> systems -> datasets -> AI tools and processes ->
decisions) in SQLite (:mod:`lineage.store`) and answers questions about it
(:mod:`lineage.graph`, :mod:`lineage.select`, :mod:`lineage.checks`).
"""
from .errors import ConflictError, LineageError, NotFoundError, SelectorError, StoreError, ValidationError

__version__ = "0.1.0"
__all__ = ["ConflictError", "LineageError", "NotFoundError", "SelectorError", "StoreError", "ValidationError"]
