"""One place that turns exceptions into HTTP answers: JSON for the API, pages elsewhere."""

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from lending.errors import InvalidInput, LendingError
from lending.finance.errors import TermsError
from lending.schemas import flatten_errors


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/openapi.json"


def _answer(status: int, code: str, message: str, errors: dict | None = None):
    if _wants_json():
        body = {"errors": errors} if errors is not None else {"error": code, "message": message}
        response = jsonify(body)
    else:
        response = render_template("errors/error.html", status=status, message=message)
    if status == 401 and _wants_json():
        return response, status, {"WWW-Authenticate": 'Bearer realm="lending"'}
    return response, status


def register_error_handlers(app: Flask) -> None:
    """Map domain errors, validation errors and HTTP errors to answers."""

    @app.errorhandler(ValidationError)
    def validation_error(exc: ValidationError):
        return _answer(422, "invalid", "The input is not valid.", flatten_errors(exc.messages))

    @app.errorhandler(InvalidInput)
    def invalid_input(exc: InvalidInput):
        return _answer(422, exc.code, exc.message, exc.errors)

    @app.errorhandler(TermsError)
    def terms_error(exc: TermsError):
        return _answer(422, "invalid", "The terms cannot be priced.", exc.errors)

    @app.errorhandler(LendingError)
    def lending_error(exc: LendingError):
        return _answer(exc.status, exc.code, exc.message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return _answer(400, "csrf", "The form has expired or was not sent from this site.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return _answer(exc.code or 500, code, exc.description or exc.name)
