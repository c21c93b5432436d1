"""auth blueprint."""

from . import account_routes, password_routes  # noqa: F401 - register their views on bp
from .routes import bp

__all__ = ["bp"]
