"""Every error papers-etl raises on purpose derives from EtlError.

Each carries the context an operator needs (which file, which line) as
attributes, and its ``str()`` is a one-line message that says what to do.
"""

from __future__ import annotations

from pathlib import Path


class EtlError(Exception):
    """Base class: a problem papers-etl can explain in one line."""


class InputError(EtlError):
    """A capture file (or a part of one) cannot be used."""

    def __init__(self, reason: str, path: str | Path | None = None, line_no: int | None = None):
        self.reason = reason
        self.path = str(path) if path is not None else None
        self.line_no = line_no
        super().__init__(self.__str__())

    def __reduce__(self):
        # Crosses from the parsing process with its attributes (Exception would keep only the message).
        return type(self), (self.reason, self.path, self.line_no)

    def at(self, path: str | Path) -> InputError:
        """The same error, located in ``path`` (parsers work on text and do not know the file)."""
        return type(self)(self.reason, self.path or path, self.line_no)

    def __str__(self) -> str:
        where = self.path or "<text>"
        if self.line_no is not None:
            where = f"{where}:{self.line_no}"
        return f"{where}: {self.reason}"


class LayoutError(InputError):
    """The page matches none of the known layouts."""


class JsonInputError(InputError):
    """A JSON input (a papers API answer, a page's data-props) is not JSON, is cut short,
    or is not in a shape papers-etl reads."""


class EncodingError(InputError):
    """The file is not UTF-8 text."""


class NoInputError(EtlError):
    """A path given on the command line matches no file."""


class ConfigError(EtlError):
    """The database URL or another setting is unusable."""


class DatabaseError(EtlError):
    """The database cannot be reached or refused an operation."""


class DatabaseBusy(DatabaseError):
    """Another program holds the SQLite database's write lock (for longer than the load waits)."""


class SchemaRevisionError(DatabaseError):
    """The database schema is not at the revision this version of papers-etl expects."""


class LockNotAcquired(EtlError):
    """Another papers-etl load holds this database's load lock (its own exit status)."""


class ParserProcessError(EtlError):
    """The load's parsing process stopped unexpectedly (killed, out of memory)."""


class FetchError(EtlError):
    """The run cannot go on: the token was refused, the endpoint cannot be reached, the folder cannot be written."""


class DateRangeError(EtlError):
    """The days asked for are not a valid range (a usage error)."""
