"""organisers blueprints: contests/units/accounts, and judging administration."""

from . import account_routes, import_routes, mail_routes, notification_routes  # noqa: F401 - views on bp
from . import outreach_routes as outreach_routes  # registers the outreach views on bp
from .judging_routes import bp as judging_bp
from .routes import bp

__all__ = ["bp", "judging_bp"]
