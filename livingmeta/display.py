"""Untrusted text made safe to show in a terminal or a web page.

Titles, abstracts and author names come from servers and exports that livingmeta does not
control. Shown as received, an ANSI escape sequence can recolour, move the cursor or
rewrite a reviewer's terminal (and so hide or fake a record), and a right-to-left override
can make ``exe.pdf`` read as ``fdp.exe``. :func:`printable` keeps the text readable but
makes every such character visible instead of letting it act. HTML escaping is Jinja's
job, and links are built only from validated identifiers (:mod:`livingmeta.links`); this
module is about what escaping leaves alone.
"""

from __future__ import annotations

import re

#: Bidirectional embeddings, overrides and isolates: they reorder the text around them.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` with escape sequences, control and bidi characters shown, not obeyed.

    An escape sequence becomes ``␛`` followed by its (now inert) characters, a control
    character its Unicode "control picture" (``␇`` for BEL), and a bidi control its code
    point in brackets. Tabs become spaces; newlines too unless ``keep_newlines``.

    >>> printable("Trial\\x1b[2J\\u202eexe.pdf\\x07")
    'Trial␛[2J[U+202E]exe.pdf␇'
    """
    text = _ANSI.sub(lambda m: "\u241b" + m.group()[1:], text)
    text = text.replace("\t", " ")
    if not keep_newlines:
        text = text.replace("\r\n", " ").replace("\n", " ")
    text = _CONTROL.sub(_picture, text)
    if any(ch in BIDI_CONTROLS for ch in text):
        text = "".join(f"[U+{ord(ch):04X}]" if ch in BIDI_CONTROLS else ch for ch in text)
    return text


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "\u2421"
    return f"[U+{code:04X}]"
