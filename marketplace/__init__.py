"""The arm's-length labeling marketplace: a Flask application factory."""

from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from flask import Flask, g, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from marketplace import logs, outages
from marketplace.config import PROJECT_ROOT, load_config
from marketplace.db_types import MAX_ID
from marketplace.errors import NotVisible
from marketplace.extensions import csrf, db, limiter, login_manager, migrate
from marketplace.retry import retry_lost_races


def create_app(test_config: dict | None = None) -> Flask:
    """Create and configure the app; tables come from migrations, never from here."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.from_mapping(load_config())
    if test_config:
        app.config.update(test_config)
    logs.configure(app)
    postgresql = _postgresql_connections(app)
    _behind_proxies(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.setdefault("UPLOAD_FOLDER", str(Path(app.instance_path) / "uploads"))

    from marketplace import models  # noqa: F401  (every table known before mappers configure)

    db.init_app(app)
    _end_every_session(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        _tune_sqlite(db.engine, int(app.config.get("SQLITE_BUSY_TIMEOUT_MS", 10000)))
        _tune_postgresql(db.engine)
        outages.watch(db.engine)
        if postgresql:
            outages.live_without_a_round_trip(db.engine)

    # Every <int:...> in an address is a row id: a number beyond any row is a 404, never a database overflow.
    app.url_map.converters["int"] = BoundedIntegerConverter
    _register_listeners()
    _register_blueprints(app)
    retry_lost_races(app)
    _register_errors(app)
    _register_security_headers(app)
    _hide_development_server_banner()
    _register_template_helpers(app)
    _register_commands(app)
    return app


def _end_every_session(app: Flask) -> None:
    """Each app context's database session is closed and forgotten at its end, even when closing it fails (the
    database lost mid-transaction, an error in a rollback). Flask-SQLAlchemy's own teardown (registered first, so run
    after this one) would let that error out, which the server answers with its bare 500, and would keep the broken
    session in its registry, under the context's id: a later context given the same id would be handed the session
    and its connection, skipping the pool's checks on checkout."""

    @app.teardown_appcontext
    def close_the_session(_error):
        try:
            db.session.remove()
        except Exception:  # noqa: BLE001 (logged; the answer is already made)
            app.logger.warning("Closing the database session failed; it is dropped", exc_info=True)
            db.session.registry.clear()


def _postgresql_connections(app: Flask) -> bool:
    """PostgreSQL: a connection that cannot open within DATABASE_CONNECT_TIMEOUT seconds fails (the 503 page), and a
    pooled one is checked on checkout without a round trip (outages.live_without_a_round_trip) instead of the pool's
    pre-ping. Whether the app is on PostgreSQL."""
    if not str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        return False
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    connect_args = dict(options.get("connect_args") or {})
    connect_args.setdefault("connect_timeout", app.config.get("DATABASE_CONNECT_TIMEOUT", 5))
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": connect_args, "pool_pre_ping": False}
    return True


def _behind_proxies(app: Flask) -> None:
    """Behind PROXY_COUNT proxies (the TLS proxy in front of gunicorn), the visitor's address and scheme are the
    ones they forward: otherwise every visitor has the proxy's address, and each throttle per network address is
    one count for the whole marketplace. Without proxies the forwarded headers, which anyone can send, are ignored."""
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]


class BoundedIntegerConverter(IntegerConverter):
    """Werkzeug's int converter, bounded to the ids a row can have."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (werkzeug's own parameter name)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def _tune_sqlite(engine, busy_timeout_ms: int) -> None:
    """Real transactions on SQLite: explicit BEGIN IMMEDIATE, WAL, foreign keys (see docs/pitfalls.md)."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms:d}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _tune_postgresql(engine) -> None:
    """No JIT: PostgreSQL compiles any query it costs highly (a recursive walk of the ownership graph) to machine
    code first, which takes longer (about 0.3 s) than running the query does (about 30 ms)."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        dbapi_connection.commit()


def _register_listeners() -> None:
    """Screening answers every change of ties (marketplace.changes): in the changing request's transaction, or on
    the task queue for a change that reaches every pair (screening.services.queued)."""
    from marketplace import changes, tasks
    from marketplace.contracts.commands import run_deadlines
    from marketplace.disclosures import reminders
    from marketplace.disputes import deadlines as dispute_deadlines
    from marketplace.screening import tasks as screening_tasks
    from marketplace.screening.services import queued

    changes.listen(queued.ties_changed)
    changes.listen_labs(queued.lab_joined)
    # A signed neutrality statement a change makes untrue is revoked in the same transaction.
    from marketplace.neutrality import service as neutrality

    changes.listen(neutrality.recheck)
    # A change that puts two of a lab's contracted vendors under one owner is reported to the lab.
    from marketplace.concentration import service as concentration

    changes.listen(concentration.report_new_groups)
    tasks.on_worker_start(screening_tasks.requeue_on_worker_start)
    # Answers given while their lab's verdicts were updating are told by a worker (jobs.tasks).
    from marketplace.jobs import tasks as job_tasks

    tasks.on_worker_start(job_tasks.requeue_on_worker_start)
    tasks.on_worker_start(reminders.run_on_worker_start)
    reminders.also_run(run_deadlines)
    reminders.also_run(dispute_deadlines.run_deadlines)
    # A contract whose vendor turns excluded runs its change-of-control playbook; its deadlines join the reminders.
    from marketplace.playbook import commands as playbook_commands
    from marketplace.playbook import service as playbook

    changes.listen_verdicts(playbook.on_verdict_changed)
    reminders.also_run(playbook_commands.run_deadlines)
    # The labs' webhooks: a starting worker sweeps what is due and books a sweep every minute.
    from marketplace.webhooks import tasks as webhook_tasks

    tasks.on_worker_start(webhook_tasks.sweep_on_worker_start)


def _register_blueprints(app: Flask) -> None:
    from marketplace.accounts.security_views import bp as security_bp
    from marketplace.accounts.suspension_views import bp as suspension_bp
    from marketplace.accounts.team_views import bp as teams_bp
    from marketplace.accounts.views import bp as accounts_bp
    from marketplace.accounts.web_sessions import bp as account_sessions_bp
    from marketplace.admin.api_token_views import bp as admin_api_tokens_bp
    from marketplace.admin.certificate_views import bp as admin_certificates_bp
    from marketplace.admin.dispute_views import bp as admin_disputes_bp
    from marketplace.admin.organization_views import bp as admin_orgs_bp
    from marketplace.admin.views import bp as admin_bp
    from marketplace.api.token_views import bp as api_tokens_bp
    from marketplace.api.views import bp as api_bp
    from marketplace.audit.views import bp as audit_bp
    from marketplace.bids.views import bp as bids_bp
    from marketplace.certificates.views import bp as certificates_bp
    from marketplace.concentration.views import bp as concentration_bp
    from marketplace.contracts.views import bp as contracts_bp
    from marketplace.deals.views import bp as deals_bp
    from marketplace.disclosures.views import bp as disclosures_bp
    from marketplace.disputes.views import bp as disputes_bp
    from marketplace.jobs.views import bp as jobs_bp
    from marketplace.leaks.views import bp as leaks_bp
    from marketplace.main import bp as main_bp
    from marketplace.messages.views import bp as messages_bp
    from marketplace.ndas.views import bp as ndas_bp
    from marketplace.neutrality.views import bp as neutrality_bp
    from marketplace.notifications.views import bp as notifications_bp
    from marketplace.parties.views import bp as parties_bp
    from marketplace.payments.document_views import bp as payment_documents_bp
    from marketplace.payments.views import bp as payments_bp
    from marketplace.payments.views import webhook as stripe_webhook
    from marketplace.playbook.views import bp as playbook_bp
    from marketplace.scoring.views import bp as scoring_bp
    from marketplace.screening.views import bp as screening_bp
    from marketplace.sso.admin_views import bp as admin_sso_bp
    from marketplace.sso.scim import bp as scim_bp
    from marketplace.sso.views import bp as sso_bp
    from marketplace.webhooks.views import bp as webhooks_bp

    for blueprint in (
        main_bp,
        account_sessions_bp,
        accounts_bp,
        security_bp,
        jobs_bp,
        bids_bp,
        messages_bp,
        ndas_bp,
        neutrality_bp,
        deals_bp,
        concentration_bp,
        leaks_bp,
        certificates_bp,
        scoring_bp,
        disclosures_bp,
        admin_bp,
        notifications_bp,
        screening_bp,
        contracts_bp,
        playbook_bp,
        payments_bp,
        payment_documents_bp,
        parties_bp,
        suspension_bp,
        admin_orgs_bp,
        admin_certificates_bp,
        audit_bp,
        teams_bp,
        disputes_bp,
        admin_disputes_bp,
        webhooks_bp,
        sso_bp,
        admin_sso_bp,
        scim_bp,
        api_bp,
        api_tokens_bp,
        admin_api_tokens_bp,
    ):
        app.register_blueprint(blueprint)
    # Stripe signs its webhook instead: the one view without a CSRF token.
    csrf.exempt(stripe_webhook)


def _form_targets(app: Flask) -> str:
    """Where a form may lead: this site, and Stripe's pages its payment and payout buttons redirect to."""
    targets = ["'self'", "https://checkout.stripe.com", "https://connect.stripe.com"]
    simulator = app.config.get("STRIPE_API_BASE") or ""
    if simulator:
        parts = urlsplit(simulator)
        targets.append(f"{parts.scheme}://{parts.netloc}")
    return " ".join(targets)


SERVER_NAME_SHOWN = "arms-length"


def _hide_development_server_banner() -> None:
    """Werkzeug's development server (`flask run`, the demo) adds `Server: Werkzeug/x Python/y` itself, after the
    app's headers; gunicorn's banner is replaced in gunicorn.conf.py."""
    from werkzeug.serving import WSGIRequestHandler

    cast(Any, WSGIRequestHandler).version_string = lambda _handler: SERVER_NAME_SHOWN


def _register_security_headers(app: Flask) -> None:
    """Every response says what the browser may do with it: scripts and styles from this site only (no inline
    script), no framing, no type sniffing, no referrer beyond the origin; HTTPS only in production."""
    fixed = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'self'; frame-ancestors 'none'; form-action "
    )
    production = app.config.get("ENV_NAME") == "production"

    @app.after_request
    def security_headers(response):
        headers = response.headers
        # Read per response: the Stripe address may be configured after the app is made (tests, the demo).
        headers.setdefault("Content-Security-Policy", fixed + _form_targets(app))  # downloads set a stricter one
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        # Replaces the server's own banner (Werkzeug/x.y, Python/x.y), which names versions to an attacker.
        headers["Server"] = SERVER_NAME_SHOWN
        if production:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def _register_errors(app: Flask) -> None:
    @app.errorhandler(NotVisible)
    @app.errorhandler(404)
    def not_found(_error):
        return render_template("errors/404.html"), 404

    @app.errorhandler(403)
    def forbidden(_error):
        return render_template("errors/403.html"), 403

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return render_template("errors/400.html", reason=error.description), 400

    @app.before_request
    def refuse_unstorable_characters():
        """A NUL byte cannot be stored (PostgreSQL refuses it in text) and no person types one: the request is
        refused whole, before any form reads it."""
        if request.method in ("GET", "HEAD", "OPTIONS") and not request.args:
            return None
        sources = [request.args, request.form] if request.method == "POST" else [request.args]
        if any("\x00" in value for source in sources for _, values in source.lists() for value in values):
            return render_template(
                "errors/400.html",
                reason="The form held a character that cannot be stored (a NUL byte). Please type the text again.",
            ), 400
        return None

    @app.errorhandler(413)
    def too_large(_error):
        return render_template("errors/400.html", reason="That upload is too large."), 413

    @app.errorhandler(429)
    def throttled(error):
        # Each throttle gives its own message (Flask-Limiter's error_message), e.g. per account or per network.
        return render_template("errors/429.html", reason=error.description), 429

    @app.errorhandler(500)
    def server_error(error):
        """Any error no view handled. The page is drawn without the database, which may be what failed: a
        database that cannot be reached is a 503 (try again shortly), anything else a 500. Either says nothing
        was saved, unless the request was a write that had already sent a COMMIT."""
        failure = outages.failure_of(error, db.session, app.logger)
        # The signed-in user is not loaded again (that reads the database): the page shows no account, no counts.
        g._login_user = login_manager.anonymous_user()
        page = "errors/503.html" if failure.unreachable else "errors/500.html"
        response = make_response(render_template(page, maybe_saved=failure.maybe_saved), failure.status)
        response.headers.update(failure.headers)
        return response


def _register_template_helpers(app: Flask) -> None:
    from marketplace import presentation

    presentation.register(app)


def _register_commands(app: Flask) -> None:
    from marketplace.accounts.commands import create_admin_command, totp_code_command
    from marketplace.parties.commands import bods_group
    from marketplace.payments.commands import payments_cli
    from marketplace.screening.commands import rescreen_command, screen_command

    app.cli.add_command(create_admin_command)
    app.cli.add_command(totp_code_command)
    app.cli.add_command(screen_command)
    app.cli.add_command(rescreen_command)
    app.cli.add_command(payments_cli)
    app.cli.add_command(bods_group)

    from marketplace.audit.commands import audit_cli
    from marketplace.disclosures.reminders import reminders_command

    app.cli.add_command(audit_cli)
    app.cli.add_command(reminders_command)

    from marketplace.neutrality.commands import verify_statement_command
    from marketplace.tasks import worker_command

    app.cli.add_command(verify_statement_command)

    app.cli.add_command(worker_command)

    from marketplace.webhooks.commands import webhooks_cli

    app.cli.add_command(webhooks_cli)
