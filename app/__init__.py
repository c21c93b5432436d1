"""Clip Contest Portal: the Flask application factory."""

from __future__ import annotations

import contextlib

import sqlalchemy.exc
from flask import Flask, g, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError

from app import db, passwords
from app.extensions import babel, csrf, login_manager
from config import Config
from config import check as check_config


def create_app(config: dict | None = None) -> Flask:
    """Build the app from the environment, with `config` overriding it (tests); no I/O happens here."""
    app = Flask(__name__)
    app.config.update(Config().as_dict())
    if config:
        app.config.update(config)
    check_config(app.config)
    passwords.configure(int(app.config["PASSWORD_SCRYPT_N"]))
    passwords.configure_concurrency(
        int(app.config["LOGIN_HASH_CONCURRENCY"]),
        float(app.config["LOGIN_HASH_WAIT_SECONDS"]),
        int(app.config["LOGIN_HASH_NICE"]),
    )
    if int(app.config["PROXY_HOPS"]):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=int(app.config["PROXY_HOPS"]))  # type: ignore[method-assign]

    db.init_app(app)
    from app.i18n import select_locale

    babel.init_app(app, locale_selector=select_locale, default_timezone=app.config["BABEL_DEFAULT_TIMEZONE"])
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to open this page.")
    login_manager.login_message_category = "info"

    from app.auth import busy, login_session, throttle

    login_manager.user_loader(login_session.load_user)
    busy.init_app(app)  # before the limiter: see busy.init_app
    throttle.init_app(app)

    from app.security import init_security

    init_security(app)  # before the blueprints: it bounds the `int` URL converter
    from app import auth, judges, media, organisers, paperwork, public, units, uploads

    for blueprint in (
        public.bp,
        auth.bp,
        units.bp,
        units.poll_bp,
        judges.bp,
        organisers.bp,
        organisers.judging_bp,
        media.bp,
        paperwork.bp,
        paperwork.public_bp,
        uploads.bp,
    ):
        app.register_blueprint(blueprint)

    from app.cli import register_cli
    from app.templating import register_templating

    register_templating(app)
    register_cli(app)
    _register_errors(app)
    return app


def _register_errors(app: Flask) -> None:
    def page(code: int, title, message):
        if request.accept_mimetypes.best == "application/json":
            return {"error": str(message)}, code
        return render_template("error.html", code=code, title=title, message=message), code

    @app.errorhandler(CSRFError)
    def _csrf(_exc):
        return page(
            400,
            _l("The form expired"),
            _l("The form was missing its security token or it expired. Go back, reload the page and try again."),
        )

    @app.errorhandler(403)
    def _forbidden(_exc):
        return page(403, _l("Not allowed"), _l("You do not have permission to open this page."))

    @app.errorhandler(404)
    def _not_found(_exc):
        return page(404, _l("Not found"), _l("This page does not exist or is not available to you."))

    @app.errorhandler(413)
    def _too_large(_exc):
        return page(413, _l("File too large"), _l("The file is larger than the portal accepts."))

    @app.errorhandler(DataError)
    def _out_of_range(_exc):
        # A value the database cannot hold (a huge number, say) that no form or service bound caught: the request's
        # fault, and nothing was written.
        db.session.rollback()
        return page(
            400,
            _l("A value is not valid"),
            _l("A number or text in the form is too large or not valid. Go back, correct it and try again."),
        )

    @app.errorhandler(sqlalchemy.exc.OperationalError)
    @app.errorhandler(sqlalchemy.exc.InterfaceError)
    @app.errorhandler(sqlalchemy.exc.DisconnectionError)
    @app.errorhandler(sqlalchemy.exc.TimeoutError)
    def _database_unavailable(exc):
        # The database is restarting or unreachable (or, on SQLite, locked for too long): ours, and short. The next
        # request gets a fresh connection (pool_pre_ping), so the page only has to say "try again in a moment".
        app.logger.warning("database unavailable: %s", exc)
        with contextlib.suppress(Exception):
            db.session.rollback()
        db.session.remove()
        g._login_user = login_manager.anonymous_user()  # rendering must not ask the database who is logged in
        resp = make_response(
            page(
                503,
                _l("Temporarily unavailable"),
                _l(
                    "The portal cannot reach its database at the moment. Nothing you saved is lost: "
                    "wait a minute, then reload the page."
                ),
            )
        )
        resp.headers["Retry-After"] = "30"
        return resp

    @app.errorhandler(500)
    def _error(_exc):
        db.session.rollback()
        return page(500, _l("Something went wrong"), _l("The error was recorded. Please try again in a moment."))
