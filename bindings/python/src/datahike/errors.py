"""The exceptions of the datahike package: one class per error kind of the engine (datahike.h).

Every error the engine reports is a DatahikeError with .kind (a Keyword such as :query/error),
.message and .data (the error map's :data, Python values). The subclass is chosen by the kind; a
kind this package does not know gives a plain DatahikeError. DatahikeException is pydatahike's
name for the base class.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Type

from . import _datahike
from .edn import EdnError, Keyword, loads

__all__ = [
    "DatahikeError", "DatahikeException", "ParseError", "SchemaError", "TransactionError",
    "QueryError", "NotFoundError", "StorageError", "ConflictError", "MisuseError",
    "InternalError", "UnsupportedError", "ERROR_CLASSES", "error_from_native",
]


class DatahikeError(Exception):
    """An error reported by the engine: kind (Keyword), message (str), data (Python value)."""

    kind: Keyword = Keyword("datahike/error")

    def __init__(self, message: str = "", kind: Optional[Keyword] = None, data: Any = None):
        super().__init__(message)
        self.message = message
        if kind is not None:
            self.kind = Keyword(kind)
        self.data = data

    def __str__(self) -> str:
        return f"{self.kind} {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, kind={str(self.kind)!r})"


DatahikeException = DatahikeError


class ParseError(DatahikeError, ValueError):
    """:parse/error - malformed EDN or JSON text."""

    kind = Keyword("parse/error")


class SchemaError(DatahikeError):
    """:schema/violation - a schema violation or invalid schema change (unknown attribute, ...)."""

    kind = Keyword("schema/violation")


class TransactionError(DatahikeError):
    """:transaction/error - invalid tx-data, failed cas, unique conflict, ..."""

    kind = Keyword("transaction/error")


class QueryError(DatahikeError):
    """:query/error - invalid query, pull pattern or query input."""

    kind = Keyword("query/error")


class NotFoundError(DatahikeError, LookupError):
    """:not-found - database, entity or listener missing."""

    kind = Keyword("not-found")


class StorageError(DatahikeError, OSError):
    """:storage/error - storage I/O, corrupt data, unknown backend."""

    kind = Keyword("storage/error")


class ConflictError(DatahikeError):
    """:conflict - the database exists already, a lock is held elsewhere."""

    kind = Keyword("conflict")


class MisuseError(DatahikeError):
    """:misuse - a bad config, a closed connection or released db, a missing argument."""

    kind = Keyword("misuse")


class InternalError(DatahikeError):
    """:internal - a bug in the engine, or out of memory."""

    kind = Keyword("internal")


class UnsupportedError(DatahikeError, NotImplementedError):
    """:unsupported - a pydatahike operation this engine does not offer (yet)."""

    kind = Keyword("unsupported")


# The class of each error kind: every subclass above.
ERROR_CLASSES: Dict[str, Type[DatahikeError]] = {
    str(c.kind): c for c in DatahikeError.__subclasses__()
}


def error_from_native(status: int, text: str) -> DatahikeError:
    """The exception for a failed ABI call: its status code and EDN error map. The extension
    raises what this returns (registered below)."""
    kind = Keyword(_datahike.status_name(status))
    message, data = text, None
    try:
        m = loads(text)
        if isinstance(m, dict):
            kind = Keyword(m.get(Keyword("error/kind"), kind))
            message = m.get(Keyword("message"), text)
            data = m.get(Keyword("data"))
    except (EdnError, TypeError, ValueError):
        pass
    cls = ERROR_CLASSES.get(str(kind), DatahikeError)
    return cls(str(message), kind, data)


_datahike.set_types({"error_from_native": error_from_native})
