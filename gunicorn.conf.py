"""gunicorn's settings for this app, read from the working directory: `gunicorn 'marketplace:create_app()'`.

Only what the app needs of the server: its banner (`Server: gunicorn`) names the software to an attacker, so it
is replaced with the app's name (the app sets the same on every response it makes).
"""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "arms-length"
