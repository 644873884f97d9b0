"""The device registry: manufacturers, models and the TACs that identify them."""

from datetime import datetime
from decimal import Decimal

from sqlmodel import Field, SQLModel

from lending.models.base import created_at, money


class Manufacturer(SQLModel, table=True):
    """A brand owner; `assembled_in_pk` marks phones made under the local manufacturing policy."""

    __tablename__ = "manufacturers"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    brands: str = Field(default="", max_length=240)
    assembled_in_pk: bool = Field(default=False)
    assembler: str = Field(default="", max_length=120)
    authorisation_ref: str = Field(default="", max_length=80)
    created_at: datetime = created_at()


class DeviceModel(SQLModel, table=True):
    """A phone model with its list price."""

    __tablename__ = "device_models"

    id: int | None = Field(default=None, primary_key=True)
    manufacturer_id: int = Field(foreign_key="manufacturers.id", index=True)
    name: str = Field(max_length=120)
    list_price: Decimal | None = money(optional=True)
    created_at: datetime = created_at()


class DeviceTac(SQLModel, table=True):
    """A Type Allocation Code: the first 8 digits of an IMEI name exactly one model."""

    __tablename__ = "device_tacs"

    tac: str = Field(primary_key=True, max_length=8)
    device_model_id: int = Field(foreign_key="device_models.id", index=True)
