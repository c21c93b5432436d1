"""auth blueprint."""

from . import account_routes, link_routes, password_routes  # noqa: F401 - they register their views on bp
from .routes import bp

__all__ = ["bp"]
