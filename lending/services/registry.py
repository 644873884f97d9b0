"""The device registry: CSV import with a row-by-row report, and the demo registry."""

import csv
import io
from dataclasses import dataclass, field

from marshmallow import ValidationError
from sqlmodel import Session, select

from lending.models import DeviceModel, DeviceTac, Manufacturer
from lending.schemas import flatten_errors
from lending.schemas.registry import DeviceRowSchema
from lending.services import audit

COLUMNS = (
    "manufacturer",
    "brands",
    "assembled_in_pk",
    "assembler",
    "authorisation_ref",
    "model",
    "list_price",
    "tacs",
)


class RowRejected(Exception):
    """A row that cannot be imported; its message says why."""


@dataclass
class ImportReport:
    """What an import did: rows kept, TACs added, and each rejected row with its reason."""

    rows: int = 0
    imported: int = 0
    tacs_added: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = (
            f"{self.rows} rows: {self.imported} imported ({self.tacs_added} new TACs), "
            f"{len(self.errors)} rejected"
        )
        return [head, *(f"line {line}: {message}" for line, message in self.errors)]


def import_devices(session: Session, text: str, *, actor_id: int | None = None) -> ImportReport:
    """Import a registry CSV; each row is all or nothing, good rows are kept."""
    reader = csv.DictReader(io.StringIO(text))
    report = ImportReport()
    missing = [
        c
        for c in ("manufacturer", "model", "assembled_in_pk", "tacs")
        if c not in (reader.fieldnames or [])
    ]
    if missing:
        report.errors.append((1, f"missing columns: {', '.join(missing)}"))
        return report
    for line, row in enumerate(reader, start=2):
        report.rows += 1
        try:
            with session.begin_nested():  # a savepoint: a bad row leaves nothing behind
                report.tacs_added += _import_row(session, row)
            report.imported += 1
        except RowRejected as exc:
            report.errors.append((line, str(exc)))
    audit.record(
        session,
        action="registry.imported",
        actor_id=actor_id,
        detail={"rows": report.rows, "imported": report.imported, "rejected": len(report.errors)},
    )
    return report


def _import_row(session: Session, row: dict) -> int:
    try:
        data = DeviceRowSchema().load({k: v for k, v in row.items() if k in COLUMNS and v != ""})
    except ValidationError as exc:
        raise RowRejected(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in flatten_errors(exc.messages).items())
        ) from None
    maker = _manufacturer(session, data)
    model = session.exec(
        select(DeviceModel).where(
            DeviceModel.manufacturer_id == maker.id, DeviceModel.name == data["model"]
        )
    ).first()
    if model is None:
        model = DeviceModel(manufacturer_id=maker.id, name=data["model"])
        session.add(model)
        session.flush()
    if data.get("list_price") is not None:
        model.list_price = data["list_price"]
    return sum(_add_tac(session, tac, model) for tac in data["tacs"])


def _manufacturer(session: Session, data: dict) -> Manufacturer:
    maker = session.exec(
        select(Manufacturer).where(Manufacturer.name == data["manufacturer"])
    ).first()
    if maker is None:
        maker = Manufacturer(name=data["manufacturer"])
        session.add(maker)
    maker.brands = data["brands"].replace(";", ", ") or maker.brands
    maker.assembled_in_pk = data["assembled_in_pk"]
    maker.assembler = data["assembler"] or maker.assembler
    maker.authorisation_ref = data["authorisation_ref"] or maker.authorisation_ref
    session.flush()
    return maker


def _add_tac(session: Session, tac: str, model: DeviceModel) -> int:
    existing = session.get(DeviceTac, tac)
    if existing is None:
        session.add(DeviceTac(tac=tac, device_model_id=model.id))
        session.flush()
        return 1
    if existing.device_model_id != model.id:
        owner = session.get(DeviceModel, existing.device_model_id)
        raise RowRejected(f"TAC {tac} already belongs to {owner.name}.")
    return 0
