"""People who use the platform, the shops they work in, and their API tokens."""

from datetime import date, datetime

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from lending.models.base import created_at, enum_field, timestamp
from lending.models.enums import Language, Role


class Retailer(SQLModel, table=True):
    """A phone shop that sells on instalments."""

    __tablename__ = "retailers"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True)
    city: str = Field(default="", max_length=80)
    address: str = Field(default="", max_length=240)
    phone: str = Field(default="", max_length=20)
    active: bool = Field(default=True)
    created_at: datetime = created_at()


class User(SQLModel, table=True):
    """A log-in: admin, underwriter, retailer agent (of a shop) or borrower (an applicant)."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    full_name: str = Field(default="", max_length=120)
    password_hash: str | None = Field(default=None, max_length=200)
    role: Role = enum_field(Role)
    retailer_id: int | None = Field(default=None, foreign_key="retailers.id", index=True)
    applicant_id: int | None = Field(default=None, foreign_key="applicants.id", index=True)
    language: Language = enum_field(Language, default=Language.ENGLISH)
    active: bool = Field(default=True)
    failed_logins: int = Field(default=0)
    locked_until: datetime | None = timestamp()  # set after too many failed log-ins in a row
    last_login_at: datetime | None = timestamp()
    created_at: datetime = created_at()

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return str(self.id)


class ApiToken(SQLModel, table=True):
    """A bearer token; only its SHA-256 digest is stored, the token is shown once."""

    __tablename__ = "api_tokens"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    name: str = Field(default="", max_length=80)
    token_hash: str = Field(max_length=64, unique=True)
    prefix: str = Field(max_length=12)
    expires_at: datetime | None = timestamp()
    revoked_at: datetime | None = timestamp()
    last_used_on: date | None = Field(default=None)
    scopes: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime = created_at()
