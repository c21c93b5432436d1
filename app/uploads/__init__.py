"""uploads blueprint: the resumable upload protocol (JSON) behind the clip uploader."""

from .routes import bp

__all__ = ["bp"]
