"""public blueprint."""

from . import outreach as outreach  # registers the outreach routes on bp
from .routes import bp

__all__ = ["bp"]
