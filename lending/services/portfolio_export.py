"""The portfolio report as a JSON document (API) and as CSV (download): the same figures."""

import csv
import io
from decimal import Decimal

from lending.services.portfolio import Portfolio


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def document(report: Portfolio) -> dict:
    """The report as JSON values: amounts and percentages as strings with two decimals."""
    share = report.incentives
    return {
        "as_of": report.as_of.isoformat(),
        "aged_on": report.aged_on.isoformat() if report.aged_on else None,
        "loans_not_aged": report.not_aged,
        "buckets": [
            {"bucket": str(x.bucket), "loans": x.loans, "outstanding": _amount(x.outstanding)}
            for x in report.buckets
        ],
        "classification": {
            "profile": report.profile,
            "classes": [
                {
                    "class": str(x.classification),
                    "loans": x.loans,
                    "outstanding": _amount(x.outstanding),
                    "provision_pct": _amount(x.provision_pct),
                    "provision": _amount(x.provision),
                }
                for x in report.classes
            ],
        },
        "total": {"loans": report.loans, "outstanding": _amount(report.outstanding)},
        "par30": _amount(report.par(30)),
        "par90": _amount(report.par(90)),
        "incentive_share": {
            "loans": share.loans,
            "tagged_loans": share.tagged_loans,
            "count_pct": _amount(share.count_pct),
            "amount": _amount(share.amount),
            "tagged_amount": _amount(share.tagged_amount),
            "amount_pct": _amount(share.amount_pct),
        },
        "disbursements": [_month(x, "loans") for x in report.disbursements],
        "collections": [_month(x, "payments") for x in report.collections],
        "roll_rates": _roll(report),
    }


def _month(line, counted: str) -> dict:
    return {"month": line.month, counted: line.count, "amount": _amount(line.amount)}


def _roll(report: Portfolio) -> list[dict]:
    rows = []
    for period in report.roll.periods:
        for origin, t in period.rows.items():
            for to, loans in t.to.items():
                rows.append(
                    {
                        "from_date": period.start.isoformat(),
                        "to_date": period.end.isoformat(),
                        "from": origin,
                        "to": to,
                        "loans": loans,
                        "pct": _amount(t.pct(to)),
                    }
                )
    return rows


def to_csv(report: Portfolio) -> str:
    """One row per figure: date, section, item, count, amount, percent."""
    doc, out = document(report), io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["as_of", "section", "item", "count", "amount", "percent"])

    def row(*cells) -> None:
        writer.writerow([doc["as_of"], *cells])

    for line in doc["buckets"]:
        row("bucket", line["bucket"], line["loans"], line["outstanding"], "")
    for line in doc["classification"]["classes"]:
        item = f"{line['class']} ({doc['classification']['profile']})"
        row("classification", item, line["loans"], line["outstanding"], line["provision_pct"])
        row("provision", item, line["loans"], line["provision"], line["provision_pct"])
    row("total", "active", report.loans, doc["total"]["outstanding"], "")
    for days in (30, 90):
        row("par", f"PAR{days}", "", f"{report.par_amount(days):.2f}", doc[f"par{days}"] or "")
    share = doc["incentive_share"]
    row("incentives", "all", share["loans"], share["amount"], "")
    tagged, pct = share["tagged_loans"], share["amount_pct"] or ""
    row("incentives", "tagged", tagged, share["tagged_amount"], pct)
    row("incentives", "tagged_by_count", tagged, "", share["count_pct"] or "")
    for line in doc["disbursements"]:
        row("disbursements", line["month"], line["loans"], line["amount"], "")
    for line in doc["collections"]:
        row("collections", line["month"], line["payments"], line["amount"], "")
    for r in doc["roll_rates"]:
        item = f"{r['from_date']}..{r['to_date']} {r['from']} -> {r['to']}"
        row("roll_rate", item, r["loans"], "", r["pct"] or "")
    return out.getvalue()
