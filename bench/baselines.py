"""The two bare baselines the page benchmark serves beside the marketplace, under the same gunicorn:

    gunicorn --workers 4 'baselines:bare_app()'       a Flask app returning a string
    gunicorn --workers 4 'baselines:one_row_app()'    a Flask app reading one row from DATABASE_URL (SQLAlchemy
                                                      Core, a pooled connection) and rendering it with a Jinja template

(run from bench/). They are what a page of the marketplace is compared with: the cost of the server, Flask and a
round trip to the database, with no work of the app's own.
"""

import os

from flask import Flask, render_template
from jinja2 import DictLoader
from sqlalchemy import create_engine, text

ONE_ROW_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ row.name }}</title></head>
<body><main><h1>{{ row.name }}</h1><p>Organisation {{ row.id }}, a {{ row.kind }}.</p></main></body></html>
"""


def bare_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def hello() -> str:
        return "Hello, World!"

    return app


def one_row_app() -> Flask:
    app = Flask(__name__)
    app.jinja_loader = DictLoader({"one_row.html": ONE_ROW_TEMPLATE})
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=2)

    @app.get("/")
    def one_row() -> str:
        with engine.connect() as conn:
            row = conn.execute(text("SELECT id, name, kind FROM organization ORDER BY id LIMIT 1")).one()
        return render_template("one_row.html", row=row)

    return app
