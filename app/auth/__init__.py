"""auth blueprint."""

from . import password_routes  # noqa: F401 - registers its views on bp
from .routes import bp

__all__ = ["bp"]
