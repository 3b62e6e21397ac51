"""Line-tagged exports read one line at a time: RefWorks tagged, Cochrane Library text.

Both put one field per line (``A1 Smith, J`` / ``AU: Smith J``), let a line without a
tag continue the field before it (wrapped abstracts), and mark where a record starts.
:class:`TaggedReader` keeps that bookkeeping in one place; each format says what a tag
looks like and what opens a record.
"""

from __future__ import annotations

import re

from livingmeta.retrieval.formats.errors import ImportFormatError
from livingmeta.retrieval.formats.fields import RawRecord


class TaggedReader:
    """Collects :class:`RawRecord` s from tagged lines, in file order."""

    def __init__(self, name: str, tag: re.Pattern[str]) -> None:
        self.name, self.tag = name, tag
        self.records: list[RawRecord] = []
        self.current: RawRecord | None = None
        self.last: list[str] | None = None
        self.last_tag: str | None = None

    def open(self, line_no: int) -> RawRecord:
        """Start a new record at ``line_no`` (the previous one, if any, is complete)."""
        self.close()
        self.current = RawRecord(len(self.records) + 1, line_no)
        return self.current

    def close(self) -> None:
        if self.current is not None:
            self.records.append(self.current)
        self.current, self.last, self.last_tag = None, None, None

    def add(self, line: str, line_no: int) -> bool:
        """Add a field line to the open record, or continue the last field; False when
        there is no open record to add to."""
        if self.current is None:
            return False
        match = self.tag.match(line)
        if match is not None:
            self.last_tag = match.group(1)
            self.last = self.current.fields.setdefault(self.last_tag, [])
            self.last.append((match.group(2) or "").strip())
        elif self.last is not None:
            self.last[-1] = f"{self.last[-1]} {line.strip()}".strip()
        else:
            raise self.fail(f"text before the first field: {line[:60]!r}", line_no)
        return True

    def fail(self, message: str, line_no: int) -> ImportFormatError:
        number = self.current.number if self.current else len(self.records) + 1
        return ImportFormatError(self.name, message, record=number, line=line_no)


def lines(text: str) -> list[tuple[int, str]]:
    """``(line number, line)`` of every line, right-stripped (``split("\\n")``: an abstract
    may hold U+2028 and other separators that ``splitlines`` would break on)."""
    return [(k, line.rstrip()) for k, line in enumerate(text.split("\n"), start=1)]
