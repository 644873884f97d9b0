"""Credit bureau client: the State Bank requires a credit report before any consumer facility.

The bureau answers `GET {CREDIT_BUREAU_URL}/reports/{cnic}` with JSON
`{"overdue_accounts": int, "outstanding": "123.45", "worst_dpd": int}` (404: no file, a
clean report). Down, slow or malformed: the report says `unavailable` and the application is
referred, never approved blind. With no URL configured the report says `not_configured`.
"""

import json
import urllib.error
import urllib.request
from decimal import Decimal, InvalidOperation

from lending.scoring.facts import BureauReport, BureauStatus

DEFAULT_TIMEOUT = 2.0


def fetch_report(base_url: str, cnic: str, timeout: float = DEFAULT_TIMEOUT) -> BureauReport:
    """Ask the bureau about a CNIC; never raise, answer `unavailable` instead."""
    if not base_url:
        return BureauReport(status=BureauStatus.NOT_CONFIGURED)
    request = urllib.request.Request(
        f"{base_url.rstrip('/')}/reports/{cnic}", headers={"Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = json.loads(response.read(65536), parse_float=Decimal)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return BureauReport(status=BureauStatus.OK, raw={"found": False})
        return _unavailable(f"HTTP {exc.code}")
    except (OSError, ValueError) as exc:  # refused, timed out, or not JSON
        return _unavailable(type(exc).__name__)
    return _parse(body)


def _parse(body: object) -> BureauReport:
    try:
        return BureauReport(
            status=BureauStatus.OK,
            overdue_accounts=int(body["overdue_accounts"]),
            outstanding=Decimal(str(body["outstanding"])).quantize(Decimal("0.01")),
            worst_dpd=int(body["worst_dpd"]),
            raw={"found": True, **{k: str(v) for k, v in body.items()}},
        )
    except (KeyError, TypeError, ValueError, InvalidOperation):
        return _unavailable("malformed answer")


def _unavailable(why: str) -> BureauReport:
    return BureauReport(status=BureauStatus.UNAVAILABLE, raw={"error": why})
