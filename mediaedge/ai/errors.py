"""What AI providers and their registry raise, each with the HTTP status and stable ``code`` an endpoint
answers with (``raise HTTPError(exc.status, str(exc), exc.code)``).

:class:`AIUnavailable` is worth retrying (the provider's server is down, overloaded or timed out);
the others are permanent for the same request and settings.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["AIError", "AIRejected", "AIUnavailable", "NotConfigured", "UnsupportedLanguage"]


class AIError(Exception):
    """Base of AI provider errors."""

    status = 500
    code = "ai.error"
    retryable = False


class AIRejected(AIError):
    """The provider refused this input (unknown voice, bad size, a 4xx from the model server)."""

    status = 422
    code = "ai.rejected"


class AIUnavailable(AIError):
    """The provider failed transiently (model server unreachable, 5xx, 429, timeout): try again later."""

    status = 503
    code = "ai.provider.unavailable"
    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        #: Seconds the server asked to wait, when it said.
        self.retry_after = retry_after


class NotConfigured(AIError):
    """No provider of a kind is configured, or the chosen one lacks a setting; the message names it."""

    status = 503
    code = "ai.provider.not_configured"

    def __init__(self, message: str, setting: str) -> None:
        super().__init__(message)
        self.setting = setting


class UnsupportedLanguage(AIError):
    """No configured provider serves the language; ``candidates`` are the providers that could."""

    status = 422
    code = "ai.language.unsupported"

    def __init__(
        self, kind: str, language: str, tried: Iterable[str], candidates: Iterable[str] | None, setting: str
    ) -> None:
        """``candidates`` ``None``: the raiser does not know the other providers (a provider itself)."""
        self.language = language
        self.candidates = sorted(candidates or ())
        message = f"no {kind} provider for language {language!r} (configured: {', '.join(tried) or 'none'})"
        if self.candidates:
            message += f"; providers that serve it: {', '.join(self.candidates)} (list one in {setting})"
        elif candidates is not None:
            message += "; no installed provider serves it"
        super().__init__(message)
