"""Request helpers shared by the blueprints: the clock, the JSON body, the decision context."""

import json
from datetime import UTC, datetime
from decimal import Decimal

from flask import current_app, request

from lending.errors import InvalidInput
from lending.services.applications import DecisionContext


def utcnow() -> datetime:
    """Now, aware UTC (tests may pin it with the `lending.clock` extension)."""
    clock = current_app.extensions.get("lending.clock")
    return clock() if clock else datetime.now(UTC)


def business_date():
    """Today in the business time zone (Asia/Karachi by default)."""
    from zoneinfo import ZoneInfo

    settings = current_app.extensions["lending.settings"]
    return utcnow().astimezone(ZoneInfo(settings.timezone)).date()


def json_body() -> dict:
    """The request's JSON object, numbers parsed as Decimal so no float touches an amount."""
    if not request.is_json:
        raise InvalidInput({"_schema": ["Send a JSON object with Content-Type: application/json."]})
    try:
        body = json.loads(request.get_data(as_text=True), parse_float=Decimal)
    except ValueError:
        raise InvalidInput({"_schema": ["The body is not valid JSON."]}) from None
    if not isinstance(body, dict):
        raise InvalidInput({"_schema": ["The body must be a JSON object."]})
    return body


def decision_context() -> DecisionContext:
    """The scorecard, cut-offs and bureau settings of this app, with the current time."""
    settings = current_app.extensions["lending.settings"]
    if "lending.scorecard" not in current_app.extensions:
        from lending.scoring.scorecard import Scorecard

        path = settings.scorecard_path
        current_app.extensions["lending.scorecard"] = (
            Scorecard.load(path) if path else Scorecard.default()
        )
    from lending.scoring.scorecard import Thresholds

    return DecisionContext(
        scorecard=current_app.extensions["lending.scorecard"],
        thresholds=Thresholds(approve=settings.score_approve, refer=settings.score_refer),
        bureau_url=settings.credit_bureau_url,
        bureau_timeout=settings.bureau_timeout_seconds,
        timezone=settings.timezone,
        now=utcnow(),
    )
