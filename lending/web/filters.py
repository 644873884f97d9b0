"""Jinja filters: PKR amounts with babel, masked identity numbers."""

from decimal import Decimal

from babel.numbers import format_currency
from flask import Flask
from flask_babel import get_locale

from lending.schemas.common import rate_text


def pkr(amount: Decimal | None) -> str:
    """Format an amount as Pakistani rupees for the page's locale."""
    if amount is None or amount == "":
        return "—"
    locale = f"{get_locale() or 'en'}_PK"
    return format_currency(
        Decimal(amount), "PKR", format="¤\u00a0#,##0.00", locale=locale, currency_digits=False
    )


def mask_cnic(cnic: str | None) -> str:
    """Show only the last four digits of a CNIC."""
    if not cnic:
        return ""
    return "•••••-•••" + cnic[8:12] + "-" + cnic[12:]


def pct(rate: Decimal | str | None) -> str:
    """A rate in percent: two decimals, up to four where it has them (36.00%, 9.4822%)."""
    if rate is None:
        return "—"
    return f"{rate_text(rate)}%"


def basis_points(bp: int | None) -> str:
    """Basis points as percentage points: 600 -> "6.00%"."""
    return "—" if bp is None else pct(Decimal(bp) / 100)


def local_time(moment) -> str:
    """A timestamp in the business time zone (Pakistan Standard Time by default)."""
    if moment is None:
        return "—"
    from zoneinfo import ZoneInfo

    from flask import current_app

    zone = current_app.extensions["lending.settings"].timezone
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M") + (
        " PKT" if zone == "Asia/Karachi" else f" ({zone})"
    )


def register_filters(app: Flask) -> None:
    """Install the filters on the app's Jinja environment."""
    app.jinja_env.filters["pkr"] = pkr
    app.jinja_env.filters["pct"] = pct
    app.jinja_env.filters["local_time"] = local_time
    app.jinja_env.filters["bp"] = basis_points
    app.jinja_env.filters["mask_cnic"] = mask_cnic
