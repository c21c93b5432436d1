"""units blueprint."""

from .routes import bp, poll_bp

__all__ = ["bp", "poll_bp"]
