"""Regulator profiles (`lending/data/regulator_profiles.toml`): classification by days past due,
provisioning rates, profit suspension and the write-off rule, as data; and the lender's
accounting basis.

The lender's profile is a setting (`REGULATOR_PROFILE`); the application activates it when it
is created, and the nightly run's worker processes activate the same one when they start. Every
classification of a loan, in Python (`class_of`) and in SQL (`classes`), reads the active
profile, so a page and the nightly UPDATE never disagree.
"""

import os
import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources

from lending.models.enums import Classification

DEFAULT = "sbp-mfb-2006"  # what the platform applied before profiles existed


@dataclass(frozen=True)
class Band:
    klass: Classification
    from_dpd: int
    provision_pct: Decimal


@dataclass(frozen=True)
class Profile:
    code: str
    name: str
    regulator: str
    applies_to: str
    source: str
    seen_in: str
    confirmed: bool
    note: str
    bands: tuple[Band, ...]  # highest first, the last from 0 days
    non_performing_from_dpd: int
    general_provision_pct: Decimal
    suspend_profit_from_dpd: int
    write_off_after_loss_days: int

    def class_of(self, dpd: int) -> Classification:
        """The class of a loan this many days past due."""
        return next(b.klass for b in self.bands if dpd >= b.from_dpd)

    def table(self) -> tuple[tuple[int, Classification], ...]:
        """(lowest DPD, class), highest first, for SQL CASE expressions."""
        return tuple((b.from_dpd, b.klass) for b in self.bands)

    def provision_pct(self, klass: Classification) -> Decimal:
        """The specific provision of a class; the general one for a performing class."""
        band = next((b for b in self.bands if b.klass == klass), None)
        if band is None or band.from_dpd < self.non_performing_from_dpd:
            return self.general_provision_pct
        return band.provision_pct


class UnknownProfile(ValueError):
    """A profile code that the data file does not define."""


@cache
def profiles() -> dict[str, Profile]:
    """Every profile of the data file, by code (read once, checked on reading)."""
    text = resources.files("lending.data").joinpath("regulator_profiles.toml").read_text("utf-8")
    found = {}
    for code, raw in tomllib.loads(text).items():
        bands = tuple(
            Band(Classification(b["class"]), int(b["from_dpd"]), Decimal(b["provision_pct"]))
            for b in raw["classes"]
        )
        lows = [b.from_dpd for b in bands]
        if lows != sorted(lows, reverse=True) or lows[-1] != 0 or len(set(lows)) != len(lows):
            raise ValueError(f"profile {code}: classes must go from the highest DPD down to 0")
        found[code] = Profile(
            code=code,
            name=raw["name"],
            regulator=raw["regulator"],
            applies_to=raw["applies_to"],
            source=raw["source"],
            seen_in=raw["seen_in"],
            confirmed=bool(raw["confirmed"]),
            note=raw["note"],
            bands=bands,
            non_performing_from_dpd=int(raw["non_performing_from_dpd"]),
            general_provision_pct=Decimal(raw["general_provision_pct"]),
            suspend_profit_from_dpd=int(raw["suspend_profit_from_dpd"]),
            write_off_after_loss_days=int(raw["write_off_after_loss_days"]),
        )
    return found


def profile(code: str) -> Profile:
    """A profile by code; `UnknownProfile` naming the known ones otherwise."""
    try:
        return profiles()[code]
    except KeyError:
        known = ", ".join(sorted(profiles()))
        raise UnknownProfile(f"unknown regulator profile {code!r}; known: {known}") from None


_active: list[str] = []


def activate(code: str) -> Profile:
    """Make a profile the process's (the app factory and each nightly worker call this)."""
    chosen = profile(code)
    _active[:] = [code]
    return chosen


def active() -> Profile:
    """The process's profile: the activated one, else REGULATOR_PROFILE, else the default."""
    code = _active[0] if _active else os.environ.get("REGULATOR_PROFILE") or DEFAULT
    return profile(code)


# The lender's accounting basis (ACCOUNTING_BASIS): "cash" recognises profit, fees and late
# charges when paid; "accrual" recognises each instalment's profit when it falls due (the
# night's accrual step), suspended on a loan the profile counts non-performing.
BASES = ("cash", "accrual")
_basis: list[str] = []


def use_basis(basis: str) -> str:
    """Make an accounting basis the process's (the app factory calls this)."""
    if basis not in BASES:
        raise ValueError(f"unknown accounting basis {basis!r}; known: {', '.join(BASES)}")
    _basis[:] = [basis]
    return basis


def basis() -> str:
    """The process's accounting basis: the one set, else ACCOUNTING_BASIS, else cash."""
    return _basis[0] if _basis else os.environ.get("ACCOUNTING_BASIS") or "cash"
