"""Paperwork: certificates with QR verification, the minutes of the judging, and the public verification page."""

from .routes import bp, public_bp

__all__ = ["bp", "public_bp"]
