"""The demo marketplace: the JSON files beside this module, and the loader behind `flask --app marketplace seed`.

Not part of the app: nothing in `marketplace/` imports it. Flask finds the command through the `flask.commands`
entry point in pyproject.toml.
"""
