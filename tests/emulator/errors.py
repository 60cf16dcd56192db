"""The error a Bot API method handler raises to produce a Telegram-style error response.

Handlers raise :class:`ApiError`; the server turns it into the JSON body Telegram sends
(``{"ok": false, "error_code": ..., "description": ..., "parameters": ...}``) with the same HTTP status,
because PTB maps the *HTTP status* (not ``error_code``) to its exception classes.
"""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Bot API error: HTTP status, Telegram's description text and optional ``parameters``."""

    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        """The JSON body Telegram returns for this error."""
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = dict(self.parameters)
        return body


def bad_request(text: str, parameters: dict[str, Any] | None = None) -> ApiError:
    """HTTP 400 with Telegram's ``Bad Request: `` prefix."""
    return ApiError(400, f"Bad Request: {text}", parameters)


def forbidden(text: str) -> ApiError:
    """HTTP 403 with Telegram's ``Forbidden: `` prefix."""
    return ApiError(403, f"Forbidden: {text}")


STATUS_DESCRIPTIONS: dict[int, str] = {
    400: "Bad Request: emulated fault",
    401: "Unauthorized",
    403: "Forbidden: emulated fault",
    404: "Not Found",
    409: "Conflict: emulated fault",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
"""Default descriptions for injected faults (``fail_next``) when the test gives none."""
