"""Closed sets of the money maths (re-exported by lending.finance.terms)."""

from enum import StrEnum


class Method(StrEnum):
    """How profit is charged and principal repaid."""

    REDUCING = "reducing"  # annuity: level instalment, profit on the reducing balance
    FLAT = "flat"  # markup on the original principal for the whole term, spread evenly
    EQUAL_PRINCIPAL = "equal_principal"  # same principal each time, profit on the balance


class Frequency(StrEnum):
    """How often an instalment falls due."""

    MONTHLY = "monthly"
    FORTNIGHTLY = "fortnightly"
    WEEKLY = "weekly"

    @property
    def per_year(self) -> int:
        """Return the number of regular periods in a year."""
        return _PER_YEAR[self]

    @property
    def step_days(self) -> int:
        """Return the length of a period in days (0 for monthly: months are calendar steps)."""
        return _STEP_DAYS[self]


_PER_YEAR = {Frequency.MONTHLY: 12, Frequency.FORTNIGHTLY: 26, Frequency.WEEKLY: 52}
_STEP_DAYS = {Frequency.MONTHLY: 0, Frequency.FORTNIGHTLY: 14, Frequency.WEEKLY: 7}


class DayCount(StrEnum):
    """How much profit a period earns."""

    D30_360 = "30/360"  # every regular period earns rate / periods per year
    ACTUAL_365 = "actual/365"  # every period earns rate x actual days / 365


class Part(StrEnum):
    """The parts of an instalment a payment can settle, in the default waterfall order."""

    LATE_FEE = "late_fee"
    FEE = "fee"
    PROFIT = "profit"
    PRINCIPAL = "principal"


class TxnKind(StrEnum):
    """What a loan transaction is; a loan's money state replays them in value-date order."""

    DISBURSEMENT = "disbursement"
    PAYMENT = "payment"
    REVERSAL = "reversal"  # of a payment: the payment drops out of every replay
    LATE_FEE = "late_fee"  # written as the replay's result, never an input to it
    LATE_FEE_REVERSAL = "late_fee_reversal"  # a replay found the instalment paid in time
    WAIVER = "waiver"  # of an instalment's late fee
    REFUND = "refund"  # of a credit balance, paid back to the borrower
    WRITE_OFF = "write_off"
    RECOVERY = "recovery"


class Prepayment(StrEnum):
    """What money paid ahead of the schedule does (reducing-balance products may choose)."""

    NEXT_INSTALMENTS = "next_instalments"  # pays the next instalments in full, oldest first
    REDUCE_TENOR = "reduce_tenor"  # goes to principal; the same instalment, fewer of them
    REDUCE_INSTALMENT = "reduce_instalment"  # goes to principal; the same count, smaller ones
