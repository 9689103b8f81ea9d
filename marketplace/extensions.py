"""Extensions, created unbound and attached to the app in create_app."""

from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlmodel import SQLModel

from marketplace import db_types  # noqa: F401  (sets the naming convention before any table)

db = SQLAlchemy(metadata=SQLModel.metadata)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
