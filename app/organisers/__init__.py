"""organisers blueprints: contests/units/accounts, and judging administration."""

from . import outreach_routes as outreach_routes  # registers the outreach views on bp
from .judging_routes import bp as judging_bp
from .routes import bp

__all__ = ["bp", "judging_bp"]
