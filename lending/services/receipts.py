"""Settlement files from wallets and banks: payments received, posted by the nightly run."""

import csv
import io
from dataclasses import dataclass, field

from marshmallow import Schema, ValidationError, fields, validate
from sqlmodel import Session, select

from lending.models import Loan, PaymentReceipt
from lending.models.enums import GATEWAY_CHANNELS
from lending.schemas import flatten_errors
from lending.schemas.fields import Money


class ReceiptRowSchema(Schema):
    loan_id = fields.Integer(required=True)
    amount = Money(required=True, min_value="0.01")
    paid_at = fields.AwareDateTime(required=True)
    # Settlement files come from the rails; a shop's cash never arrives in one.
    channel = fields.String(
        required=True, validate=validate.OneOf(sorted(c.value for c in GATEWAY_CHANNELS))
    )
    reference = fields.String(required=True, validate=validate.Length(min=1, max=80))


@dataclass
class ReceiptReport:
    """Rows read, receipts added, duplicates skipped, rejected rows with their reasons."""

    rows: int = 0
    added: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"{self.rows} rows: {self.added} received, {self.duplicates} already known, "
            f"{len(self.errors)} rejected",
            *(f"line {line}: {message}" for line, message in self.errors),
        ]


def import_receipts(session: Session, text: str) -> ReceiptReport:
    """Add the file's payments as receipts; the same (channel, reference) is added once."""
    report = ReceiptReport()
    for line, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        report.rows += 1
        try:
            data = ReceiptRowSchema().load({k: v for k, v in row.items() if v})
        except ValidationError as exc:
            report.errors.append(
                (
                    line,
                    "; ".join(
                        f"{k}: {' '.join(v)}" for k, v in flatten_errors(exc.messages).items()
                    ),
                )
            )
            continue
        if session.get(Loan, data["loan_id"]) is None:
            report.errors.append((line, f"loan_id: no loan {data['loan_id']}."))
        elif session.exec(
            select(PaymentReceipt).where(
                PaymentReceipt.channel == data["channel"],
                PaymentReceipt.reference == data["reference"],
            )
        ).first():
            report.duplicates += 1
        else:
            session.add(PaymentReceipt(**data))
            session.flush()
            report.added += 1
    return report
