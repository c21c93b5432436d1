"""organisers blueprints: contests/units/accounts, and judging administration."""

from . import mail_routes  # noqa: F401 - registers the Outbox views on bp
from .judging_routes import bp as judging_bp
from .routes import bp

__all__ = ["bp", "judging_bp"]
