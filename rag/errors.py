"""One exception type for problems the user can fix; the CLI turns it into a message and exit code 2."""

from __future__ import annotations


class RagError(Exception):
    """A user-facing error: `message` says what went wrong, `hint` how to fix it."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  → {self.hint}" if self.hint else self.message


class StoreUnavailable(RagError):
    """The Chroma server did not answer (stopped, stalled, unreachable): retry later, nothing to fix in the request.

    `reason` says what happened without naming the server, for health checks and logs.
    """

    def __init__(self, message: str, hint: str, reason: str) -> None:
        super().__init__(message, hint)
        self.reason = reason
