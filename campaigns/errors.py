"""The one application error type: views and the API turn it into a clean 4xx."""

from __future__ import annotations


class ApplicationError(Exception):
    """A request the domain refuses, with a message a marketer can act on.

    ``field`` names the input at fault when there is one, so forms and API responses can
    attach the message to it.
    """

    def __init__(self, message: str, *, field: str | None = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
