"""The portfolio dashboard: figures, SVG charts, and the same figures as CSV."""

from flask import Response, current_app, render_template, request
from marshmallow import ValidationError

from lending.db import get_session
from lending.models.enums import Role
from lending.schemas import flatten_errors
from lending.schemas.staff import PortfolioQuerySchema, form_args
from lending.services.portfolio import Portfolio, portfolio
from lending.services.portfolio_export import to_csv
from lending.web.access import role_required
from lending.web.charts import bars, height, short_amount
from lending.web.context import business_date
from lending.web.filters import pkr
from lending.web.staff import bp

TONES = {"1-30": "warn", "31-60": "bad", "61-90": "bad", "90+": "worst"}


def report_for_request() -> Portfolio:
    """The portfolio for the request's `as_of` (today by default); 422 on a bad date."""
    args = PortfolioQuerySchema(today=business_date()).load(form_args(request.args, ("as_of",)))
    timezone = current_app.extensions["lending.settings"].timezone
    return portfolio(get_session(), args["as_of"], timezone)


@bp.get("/dashboard")
@role_required(Role.ADMIN, Role.UNDERWRITER)
def dashboard():
    try:
        report = report_for_request()
    except ValidationError as exc:
        errors = flatten_errors(exc.messages)
        as_of = request.args.get("as_of", "")
        return render_template("staff/dashboard.html", report=None, as_of=as_of, errors=errors), 422
    return render_template(
        "staff/dashboard.html",
        report=report,
        as_of=report.as_of.isoformat(),
        errors={},
        charts=charts(report),
        height=height,
    )


@bp.get("/dashboard.csv")
@role_required(Role.ADMIN, Role.UNDERWRITER)
def dashboard_csv():
    report = report_for_request()  # a bad date is a 422 page
    return Response(
        to_csv(report),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="portfolio-{report.as_of}.csv"'},
    )


def charts(report: Portfolio) -> dict:
    """The bars of the dashboard's three charts."""
    return {
        "buckets": _bars(
            [(str(x.bucket), x.outstanding, x.loans) for x in report.buckets],
            ("loans", "outstanding"),
            TONES,
        ),
        "disbursements": _bars(
            [(x.month, x.amount, x.count) for x in report.disbursements],
            ("loans booked", "financed"),
        ),
        "collections": _bars(
            [(x.month, x.amount, x.count) for x in report.collections], ("payments", "collected")
        ),
    }


def _bars(rows: list, words: tuple[str, str], tones: dict | None = None) -> list:
    """Bars for (label, amount, count) rows; each bar's title gives the count and exact amount."""
    counted, amounted = words
    return bars(
        [
            (
                label,
                amount,
                short_amount(amount),
                f"{label}: {n} {counted}, {pkr(amount)} {amounted}",
            )
            for label, amount, n in rows
        ],
        tones,
    )
