"""Secrets never reach a log, the console, a notification or a pull request body."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

#: Environment variables whose values are secrets (plus the NCBI key named in config).
SECRET_ENV: tuple[str, ...] = (
    "NCBI_API_KEY",
    "LIVINGMETA_WEBHOOK_URL",
    "LIVINGMETA_SMTP_PASSWORD",
)


class Redactor:
    """Replace secret values in any text before it is logged, printed or sent.

    Why both values and patterns: the values catch a secret wherever it appears (an error
    message quoting a URL, a traceback), the pattern catches NCBI keys passed in a query
    string that this process never saw (e.g. typed into a config by mistake).

    Parameters
    ----------
    secrets
        Secret values; values shorter than 4 characters are ignored (replacing every
        ``a`` in a log would hide everything and protect nothing).
    """

    _PATTERNS = (
        re.compile(r"(?i)(api[_-]?key=)[^&\s\"']+"),
        re.compile(r"(?i)(password=)[^&\s\"']+"),
        re.compile(r"(?i)(token=)[^&\s\"']+"),
    )

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        values: set[str] = set()
        for secret in secrets:
            if not secret or len(secret) < 4:
                continue
            values.add(secret)
            parts = urlsplit(secret)
            if parts.scheme in ("http", "https"):
                # A webhook's secret is its path or query: hide them also on their own.
                values.update(p for p in (parts.path.strip("/"), parts.query) if len(p) >= 8)
        self._values = sorted(values, key=len, reverse=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], extra_names: Sequence[str] = ()) -> Redactor:
        """Secrets from the environment variables in :data:`SECRET_ENV` and ``extra_names``."""
        names = dict.fromkeys((*SECRET_ENV, *extra_names))
        return cls([environ[name] for name in names if environ.get(name)])

    def __call__(self, text: str) -> str:
        for value in self._values:
            text = text.replace(value, "***")
        for pattern in self._PATTERNS:
            text = pattern.sub(r"\1***", text)
        return text


def safe_url(url: str) -> str:
    """``scheme://host/...``: enough to say where a notification went, without its token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/..."
