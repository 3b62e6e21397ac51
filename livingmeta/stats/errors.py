"""Errors of the statistics engine."""


class NotEstimableError(ValueError):
    """Raised when an outcome cannot be pooled (e.g. every study is double-zero)."""
