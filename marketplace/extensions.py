"""Extensions, created unbound and attached to the app in create_app."""

from typing import TYPE_CHECKING, Protocol, cast

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlmodel import SQLModel

from marketplace import db_types  # noqa: F401  (sets the naming convention before any table)

if TYPE_CHECKING:
    from flask import Flask
    from flask_sqlalchemy.session import Session
    from sqlalchemy import Engine


class _Database(Protocol):
    """What the app uses of `db`, for the type checker only: `db.session` is a scoped_session, which hands every
    call to the current request's own Session, so the services take it as that Session."""

    session: "Session"

    @property
    def engine(self) -> "Engine": ...

    def init_app(self, app: "Flask") -> None: ...


db = cast(_Database, SQLAlchemy(metadata=SQLModel.metadata))
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
