"""One exception type for problems the user can fix; the CLI turns it into a message and exit code 2."""

from __future__ import annotations

from rag.texts import INDEX_DAMAGED


class RagError(Exception):
    """A user-facing error: `message` says what went wrong, `hint` how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message

    def say(self, lang: str) -> str:
        """The message for a reader of `lang` ("de", "en"); subclasses that users meet in the chat translate it."""
        return f"{self.message} {self.hint}".strip()


class StoreUnavailable(RagError):
    """The Chroma server did not answer (stopped, stalled, unreachable): retry later, nothing to fix in the request.

    `reason` says what happened without naming the server, for health checks and logs.
    """

    def __init__(self, message: str, hint: str, reason: str) -> None:
        super().__init__(message, hint)
        self.reason = reason


class SettingsError(RagError, ValueError):
    """A setting outside what it may be (an unknown name, a size of 0): raised when `Settings` is made.

    A `ValueError` too, since that is what it is to code that builds settings by hand.
    """


class IndexDamaged(RagError):
    """The vector index disagrees with the stored passages or cannot be searched (damaged files).

    Retrying does not help, rebuilding does; `reason` says what was found, for health checks and logs.
    """

    SAY = INDEX_DAMAGED

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(
            f"The vector index in {where} is damaged: {reason}.",
            "Rebuild it: `python -m rag index --rebuild` (a plain `python -m rag index` repairs it too).",
        )
        self.reason = reason

    def say(self, lang: str) -> str:
        return self.SAY.get(lang, self.SAY["en"])
