"""The public pages: home and a health check."""

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text

from lending.db import get_session

bp = Blueprint("main", __name__)


@bp.route("/")
def index():
    return render_template("index.html")


@bp.route("/healthz")
def healthz():
    get_session().exec(text("SELECT 1"))
    return jsonify(status="ok")
