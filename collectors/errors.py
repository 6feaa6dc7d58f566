"""Errors of the collectors, under the project's tree (``sada.errors``).

Retry policy follows the class: a ``SourceUnavailable`` or ``RateLimited`` run is retried by
Airflow with backoff; a ``SourceRejected`` one (bad token, unknown page, 404 feed) is not, since
trying again changes nothing until a person fixes the configuration.
"""

from __future__ import annotations

from sada.errors import ConfigError, SadaError, TransientError


class SourceError(TransientError):
    """A source could not be read this time; nothing past the last delivered item was committed."""

    code = "SADA600"


class SourceUnavailable(SourceError):
    """Connection refused, timeout, truncated body or 5xx, still failing after the retries."""

    code = "SADA601"


class RateLimited(SourceError):
    """HTTP 429 whose Retry-After is longer than we are willing to block a worker for."""

    code = "SADA602"

    def __init__(self, message: str, *, retry_after: float | None = None, hint: str | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message, hint=hint)


class BadResponse(SourceError):
    """The body is not what the API documents (malformed JSON, not a feed, unexpected shape)."""

    code = "SADA603"


class SourceRejected(SadaError):
    """The source refused the request (401, 403, 404...): retrying cannot help."""

    code = "SADA610"


class QuotaExhausted(SadaError):
    """The daily quota budget of a source is spent; the rest waits for tomorrow's budget."""

    code = "SADA620"


class MissingCredentials(ConfigError):
    """A source lacks its token or its configuration: it is skipped, the run does not fail."""

    code = "SADA630"


class CollectFailed(SadaError):
    """A collection ended with errors after committing everything that was delivered."""

    code = "SADA640"

    def __init__(self, message: str, *, permanent: bool = False, hint: str | None = None) -> None:
        self.permanent = permanent
        super().__init__(message, hint=hint)
