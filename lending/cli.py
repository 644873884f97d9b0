"""The `lending` console script: Flask's CLI group around the application factory."""

from flask.cli import FlaskGroup

from lending import create_app
from lending.jobs.commands import register_commands


def _make_app():
    return create_app()


main = FlaskGroup(create_app=_make_app, help="Device-loan platform commands.")
# Commands that need no application (quote, apr) also work without settings.
register_commands(main, app_free_only=True)
