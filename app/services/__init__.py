"""Service layer: verb_noun functions taking a session and the acting user explicitly; they flush, never commit."""


class PortalError(Exception):
    """A rule was broken; the message is translatable (lazy) and safe to show to the user.

    `field` names the form field at fault; `errors` maps several fields to their own messages when more than one
    rule was broken at once (a form shows each at its field)."""

    def __init__(self, message, *, field: str | None = None, errors: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = dict(errors or ({field: message} if field else {}))

    def __str__(self) -> str:
        return str(self.message)


class PermissionDenied(PortalError):
    """The acting user may not do this (raised by the `require_*` policy functions in app/permissions.py)."""
