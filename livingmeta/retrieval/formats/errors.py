"""The one error every import reader raises for a file it cannot read completely."""

from __future__ import annotations


class ImportFormatError(ValueError):
    """An import file that does not match its declared format.

    Attributes
    ----------
    path : str
        The file (or ``"<string>"``).
    record : int or None
        1-based number of the offending record in the file, when known.
    line : int or None
        1-based line number (or table row), when known.
    """

    def __init__(
        self, path: str, message: str, *, record: int | None = None, line: int | None = None
    ) -> None:
        where = []
        if record is not None:
            where.append(f"record {record}")
        if line is not None:
            where.append(f"line {line}")
        location = f" ({', '.join(where)})" if where else ""
        super().__init__(f"{path}{location}: {message}")
        self.path = path
        self.record = record
        self.line = line


def require_title_or_id(
    name: str,
    values: tuple[str | None, ...],
    *,
    record: int,
    line: int | None,
    what: str = "record",
) -> None:
    """Refuse a record with neither a title nor an identifier: it cannot be screened."""
    if not any(values):
        raise ImportFormatError(
            name, f"{what} has neither a title nor an identifier", record=record, line=line
        )
