"""Service layer: verb_noun functions taking a session and the acting user explicitly; they flush, never commit."""


class PortalError(Exception):
    """A rule was broken; the message is translatable (lazy) and safe to show to the user."""

    def __init__(self, message, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)


class PermissionDenied(PortalError):
    """The acting user may not do this (raised by the `require_*` policy functions in app/permissions.py)."""
