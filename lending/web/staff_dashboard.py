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
        "buckets": bars(
            [
                (str(x.bucket), x.outstanding, short_amount(x.outstanding),
                 f"{x.bucket}: {x.loans} loans, {pkr(x.outstanding)} outstanding")
                for x in report.buckets
            ],
            TONES,
        ),
        "disbursements": bars(
            [
                (x.month, x.amount, short_amount(x.amount),
                 f"{x.month}: {x.count} loans booked, {pkr(x.amount)} financed")
                for x in report.disbursements
            ]
        ),
        "collections": bars(
            [
                (x.month, x.amount, short_amount(x.amount),
                 f"{x.month}: {x.count} payments, {pkr(x.amount)} collected")
                for x in report.collections
            ]
        ),
    }
