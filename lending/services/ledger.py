"""The general ledger: every money event posts a balanced journal entry in its own transaction;
reports (trial balance, statements, income), the close, and the nightly tie-out.

Accounts are named by role (`loan_principal`, `clearing_jazzcash`, ...): the chart's account
for the role, unless the loan's product maps the role to an account of its own
(`GLProductAccount`, Apache Fineract's product-to-GL mapping).

Fees and late charges are recognised when they are paid; profit too on the cash basis, and on
the accrual basis when each instalment falls due (`nightly/accrual.py`: payments then settle
the receivable). What a loan's accounts hold is a function of its stored state (`position`):
the principal outstanding, the profit, fees and late charges paid (late charges of an Islamic
product are the charity's, not income) and the credit balance. A replay that changes the
state (a payment, a reversal, a backdated payment that moves later payments' money between
parts, a refund) posts the change of the position and the money that moved (into a channel's
clearing account, or out of it), so a backdated payment corrects the income of the periods it
re-allocates in the open period, never by editing an entry; the database refuses an entry
whose lines do not sum to zero.

Reads of an entry's accounts come from the reference cache; writing one is one statement on
PostgreSQL (the entry and its lines in a single INSERT ... WITH) and two on SQLite (the lines,
then the entry, which the balance trigger checks).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import bindparam, case, delete, func, insert, literal, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from lending import regulation
from lending.errors import Conflict, NotFound
from lending.finance.money import ZERO
from lending.models import Disbursement, Fee, Instalment, Loan, LoanIncentive
from lending.models.enums import DisbursementStatus, FeeKind, LoanStatus, PaymentChannel
from lending.models.ledger import (
    GLAccount,
    GLBalance,
    GLProductAccount,
    JournalEntry,
    JournalLine,
    LedgerClose,
    SubsidyReceipt,
)
from lending.services import audit
from lending.services.loan_book import business_day
from lending.services.reference import cached

KARACHI = "Asia/Karachi"

PRINCIPAL = "loan_principal"
CREDIT = "borrower_credit"
CHARITY = "charity_payable"
SHOP = "shop_payable"
PROFIT_INCOME = "profit_income"
FEE_INCOME = "fee_income"
LATE_INCOME = "late_charge_income"
BANK = "bank"
PROFIT_RECEIVABLE = "profit_receivable"
SUBSIDY_RECEIVABLE = "subsidy_receivable"
SUBSIDY_INCOME = "subsidy_income"
ALLOWANCE = "loan_loss_allowance"
PROVISION_EXPENSE = "provision_expense"
RECOVERIES = "recoveries"


def clearing(channel: PaymentChannel | str) -> str:
    """The clearing account's role of a payment channel (counter cash: the shops' cash)."""
    return f"clearing_{PaymentChannel(channel).value}"


class Unbalanced(RuntimeError):
    """An entry whose lines do not sum to zero: a bug; the database would refuse it too."""


@dataclass(frozen=True)
class Posting:
    """What an entry records, besides its lines."""

    kind: str
    posted_on: date  # the business date it is written on (an open period)
    value_date: date  # when the event took effect
    now: datetime
    loan_id: int | None = None
    product_id: int | None = None  # whose account mapping applies
    transaction_id: int | None = None
    reverses_id: int | None = None
    memo: str = ""
    actor_id: int | None = None


def accounts(session: Session, product_id: int | None) -> dict[str, int]:
    """Account ids by role for a product (the chart's, overridden by the product's own)."""

    def read() -> dict[str, int]:
        chart = dict(
            session.execute(
                select(GLAccount.role, GLAccount.id).where(GLAccount.role.is_not(None))
            ).all()
        )
        if product_id is not None:
            chart.update(
                session.execute(
                    select(GLProductAccount.role, GLProductAccount.account_id).where(
                        GLProductAccount.product_id == product_id
                    )
                ).all()
            )
        return chart

    return cached(session, ("gl_accounts", product_id), read)


def post(session: Session, posting: Posting, lines: Iterable[tuple[str, Decimal]]) -> bool:
    """Write one balanced entry of lines by role (merged per account, zeros dropped); False
    when nothing moved (no entry)."""
    ids = accounts(session, posting.product_id)
    merged: dict[int, Decimal] = defaultdict(Decimal)
    for role, amount in lines:
        merged[ids[role]] += amount
    legs = [(account, amount) for account, amount in merged.items() if amount != 0]
    if not legs:
        return False
    total = sum((amount for _, amount in legs), ZERO)
    if total != 0 or len(legs) < 2:
        raise Unbalanced(f"{posting.kind} entry of loan {posting.loan_id} does not balance: {legs}")
    header = {
        "posted_on": posting.posted_on,
        "value_date": posting.value_date,
        "kind": posting.kind,
        "loan_id": posting.loan_id,
        "transaction_id": posting.transaction_id,
        "reverses_id": posting.reverses_id,
        "memo": posting.memo[:200],
        "created_by_id": posting.actor_id,
        "created_at": posting.now,
    }
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_PG_POST, {**header, "accounts": [a for a, _ in legs],
                                      "amounts": [m for _, m in legs]})  # fmt: skip
    else:  # the lines first: the entry's row is checked against them by a trigger
        connection.execute(_SQLITE_LINES, [{"account_id": a, "amount": m} for a, m in legs])
        connection.execute(_SQLITE_ENTRY, header)
    return True


# SQLite: the entry's id is the next one, read inside each INSERT; the lines are written
# before the entry, in one transaction that holds SQLite's only write lock, so both read
# the same id. (Entries are never deleted: max(id) + 1 is the next rowid too.)
_NEXT_ID = select(func.coalesce(func.max(JournalEntry.id), 0) + 1).scalar_subquery()
_SQLITE_LINES = JournalLine.__table__.insert().values(
    entry_id=_NEXT_ID, account_id=bindparam("account_id"), amount=bindparam("amount")
)
_SQLITE_ENTRY = JournalEntry.__table__.insert().values(id=_NEXT_ID)
# One round trip on PostgreSQL: the entry, then its lines from two arrays.
_PG_POST = text(
    "WITH entry AS (INSERT INTO journal_entries (posted_on, value_date, kind, loan_id, "
    "transaction_id, reverses_id, memo, created_by_id, created_at) VALUES (:posted_on, "
    ":value_date, :kind, :loan_id, :transaction_id, :reverses_id, :memo, :created_by_id, "
    ":created_at) RETURNING id) "
    "INSERT INTO journal_lines (entry_id, account_id, amount) "
    "SELECT entry.id, leg.account, leg.amount FROM entry, "
    "unnest(CAST(:accounts AS integer[]), CAST(:amounts AS numeric[])) AS leg(account, amount)"
).bindparams(
    bindparam("created_at", type_=JournalEntry.__table__.c.created_at.type),
)


# -- what a loan's accounts hold ------------------------------------------------------------


def position(loan: Loan, instalments, credit: Decimal) -> dict[str, Decimal]:
    """A loan's balances by role as its state says (debit positive), beyond its booking: the
    principal outstanding, the profit, fees and late charges paid, the credit balance. Paid
    profit is income on the cash basis; on the accrual basis it settles the receivable that
    the night's accrual recognised (`nightly/accrual.py`)."""
    repaid = profit = fees = late = ZERO
    for row in instalments:
        repaid += row.paid_principal
        profit += row.paid_profit
        fees += row.paid_fee
        late += row.paid_late_fee
    return {
        PRINCIPAL: loan.principal - repaid,
        PROFIT_RECEIVABLE if regulation.basis() == "accrual" else PROFIT_INCOME: -profit,
        FEE_INCOME: -fees,
        CHARITY if loan.islamic else LATE_INCOME: -late,
        CREDIT: -credit,
    }


def moved(before: dict[str, Decimal], after: dict[str, Decimal]) -> list[tuple[str, Decimal]]:
    """The lines that take a loan's accounts from one position to another."""
    return [(role, after[role] - before[role]) for role in after]


def booking_lines(
    loan: Loan, disbursed: Decimal, upfront: Decimal, subsidy: Decimal = ZERO
) -> list[tuple[str, Decimal]]:
    """Booking: the loan's principal (the phone less the down payment, plus a financed fee)
    against the shop's payable and the fee; a fee paid up front is cash the shop collected;
    an incentive programme's subsidy is receivable from its sponsor."""
    return [
        (PRINCIPAL, loan.principal),
        (SHOP, -disbursed),
        (FEE_INCOME, -(loan.principal - disbursed) - upfront),
        (clearing(PaymentChannel.CASH), upfront),
        (SUBSIDY_RECEIVABLE, subsidy),
        (SUBSIDY_INCOME, -subsidy),
    ]


def post_booking(session: Session, loan: Loan, disbursed: Decimal, upfront: Decimal, on: date,
                 now: datetime, actor_id: int | None, subsidy: Decimal = ZERO) -> None:  # fmt: skip
    """The booking's entry, in the booking's transaction."""
    post(
        session,
        Posting("disbursement", on, loan.disbursed_on, now, loan.id, loan.product_id,
                memo="Loan booked: the phone financed, payable to the shop", actor_id=actor_id),
        booking_lines(loan, disbursed, upfront, subsidy),
    )  # fmt: skip


def post_cancellation(session: Session, loan: Loan, on: date, now: datetime,
                      actor_id: int | None) -> None:  # fmt: skip
    """Cancelling in cooling-off: the contra entry of the booking (the shop's payable
    reclaimed, the fee and a fee paid up front given back)."""
    entry = session.execute(
        select(JournalEntry.id).where(
            JournalEntry.loan_id == loan.id, JournalEntry.kind == "disbursement"
        )
    ).scalar_one_or_none()
    if entry is None:  # booked before the ledger: its opening entry stated it
        entry = session.execute(
            select(JournalEntry.id).where(
                JournalEntry.loan_id == loan.id, JournalEntry.kind == "opening"
            )
        ).scalar_one()
    roles = {v: k for k, v in accounts(session, loan.product_id).items()}
    lines = session.execute(
        select(JournalLine.account_id, JournalLine.amount).where(JournalLine.entry_id == entry)
    ).all()
    post(
        session,
        Posting("cancellation", on, on, now, loan.id, loan.product_id, reverses_id=entry,
                memo="Cancelled in cooling-off: the booking reversed", actor_id=actor_id),
        [(roles[account], -amount) for account, amount in lines],
    )  # fmt: skip


# -- reports --------------------------------------------------------------------------------


@dataclass(frozen=True)
class BalanceRow:
    code: str
    name: str
    name_ur: str
    kind: str
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        """Debit less credit: positive is a debit balance."""
        return self.debit - self.credit


@dataclass(frozen=True)
class TrialBalance:
    as_of: date
    rows: list[BalanceRow]

    @property
    def debit(self) -> Decimal:
        return sum((r.debit for r in self.rows), ZERO)

    @property
    def credit(self) -> Decimal:
        return sum((r.credit for r in self.rows), ZERO)

    @property
    def balanced(self) -> bool:
        return self.debit == self.credit

    def document(self) -> dict:
        """The JSON of `lending ledger trial-balance --json` and the staff page's figures."""
        return {
            "as_of": self.as_of.isoformat(),
            "accounts": [
                {
                    "code": r.code,
                    "name": r.name,
                    "kind": r.kind,
                    "debit": str(r.debit),
                    "credit": str(r.credit),
                    "balance": str(r.balance),
                }
                for r in self.rows
            ],
            "totals": {"debit": str(self.debit), "credit": str(self.credit)},
            "balanced": self.balanced,
        }


def trial_balance(session: Session, as_of: date, from_scratch: bool = False) -> TrialBalance:
    """Every account's debits, credits and balance from the entries posted on or before a date:
    the last nightly balances on or before it (`gl_balances`) plus the lines they do not hold,
    or every line (`from_scratch`, or before the first night)."""
    snapshot = None if from_scratch else _snapshot(session, GLBalance.as_of <= as_of)
    sums = _account_sums(session, as_of, snapshot)
    rows = session.execute(
        select(
            GLAccount.id, GLAccount.code, GLAccount.name, GLAccount.name_ur, GLAccount.kind
        ).order_by(GLAccount.code)
    ).all()
    return TrialBalance(
        as_of,
        [
            BalanceRow(code, name, name_ur, str(kind), *sums.get(account_id, [ZERO, ZERO]))
            for account_id, code, name, name_ur, kind in rows
        ],
    )


def _account_sums(
    session: Session, as_of: date, snapshot: tuple[date, int] | None, upto: int | None = None
) -> dict[int, list[Decimal]]:
    """Debits and credits per account of the entries posted on or before `as_of` (with ids up
    to `upto`): a snapshot's balances plus the lines it does not hold."""
    sums: dict[int, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
    where = JournalEntry.posted_on <= as_of
    if snapshot is not None:
        day, through = snapshot
        for account_id, debit, credit in session.execute(
            select(GLBalance.account_id, GLBalance.debit, GLBalance.credit).where(
                GLBalance.as_of == day
            )
        ).all():
            sums[account_id][0] += debit
            sums[account_id][1] += credit
        # What the snapshot does not hold: posted after its day, or recorded after it was taken.
        where = where & ((JournalEntry.posted_on > day) | (JournalEntry.id > through))
    if upto is not None:
        where = where & (JournalEntry.id <= upto)
    for account_id, debit, credit in session.execute(_sums(where)).all():
        sums[account_id][0] += _money(debit)
        sums[account_id][1] += _money(credit)
    return sums


def _sums(where):
    """Debits and credits per account of the lines of the entries `where` selects."""
    line, entry = JournalLine, JournalEntry
    return (
        select(
            line.account_id,
            func.sum(case((line.amount > 0, line.amount), else_=literal(0))),
            func.sum(case((line.amount < 0, -line.amount), else_=literal(0))),
        )
        .join(entry, entry.id == line.entry_id)
        .where(where)
        .group_by(line.account_id)
    )


def _snapshot(session: Session, which) -> tuple[date, int] | None:
    """The latest nightly balances `which` selects: their date and last entry id."""
    row = session.execute(
        select(GLBalance.as_of, GLBalance.through_entry_id)
        .where(which)
        .order_by(GLBalance.as_of.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


# An entry is counted in the balances of a night only once it is this old: PostgreSQL hands
# out ids before commit, so a transaction still open at the night's snapshot may hold a
# smaller id than one already committed. No posting transaction lasts anywhere near this.
SETTLED_AFTER = timedelta(minutes=5)


def record_balances(session: Session, as_of: date, now: datetime) -> int:
    """Write each account's balances through `as_of` (the night's last step), from the
    previous night's and what was posted since; the number of accounts written."""
    upto = session.execute(
        select(func.coalesce(func.max(JournalEntry.id), 0)).where(
            JournalEntry.created_at <= now - SETTLED_AFTER
        )
    ).scalar()
    before = _snapshot(session, GLBalance.as_of < as_of)
    if before is not None and before[1] > upto:
        upto = before[1]  # (a clock moved back: never hold less than the night before)
    sums = _account_sums(session, as_of, before, upto)
    session.execute(delete(GLBalance).where(GLBalance.as_of == as_of))  # a night run again
    accounts = session.execute(select(GLAccount.id)).scalars().all()
    rows = [
        {
            "as_of": as_of,
            "through_entry_id": upto,
            "account_id": account_id,
            "debit": sums.get(account_id, [ZERO, ZERO])[0],
            "credit": sums.get(account_id, [ZERO, ZERO])[1],
        }
        for account_id in accounts
    ]
    session.execute(insert(GLBalance), rows)
    return len(rows)


@dataclass(frozen=True)
class IncomeStatement:
    """A month's income and expenses by account (income positive), and the charity's
    account: what Islamic late charges added to it and what was paid out of it."""

    month: str  # YYYY-MM
    income: list[tuple[str, str, Decimal]]  # code, name, amount
    expenses: list[tuple[str, str, Decimal]]
    charity_received: Decimal
    charity_paid: Decimal
    charity_owed: Decimal  # at the month's end

    @property
    def total_income(self) -> Decimal:
        return sum((a for _, _, a in self.income), ZERO)

    @property
    def total_expenses(self) -> Decimal:
        return sum((a for _, _, a in self.expenses), ZERO)

    @property
    def net(self) -> Decimal:
        return self.total_income - self.total_expenses

    def document(self) -> dict:
        def rows(items):
            return [{"code": c, "name": n, "amount": str(a)} for c, n, a in items]

        return {
            "month": self.month,
            "income": rows(self.income),
            "expenses": rows(self.expenses),
            "total_income": str(self.total_income),
            "total_expenses": str(self.total_expenses),
            "net": str(self.net),
            "charity": {
                "received": str(self.charity_received),
                "paid": str(self.charity_paid),
                "owed_at_month_end": str(self.charity_owed),
            },
        }


def income_statement(session: Session, first: date) -> IncomeStatement:
    """The income statement of the month that starts on `first`, from the entries posted in
    it (a backdated payment's effect falls in the month it was recorded, with its value date
    kept on the entry)."""
    end = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    line, entry, account = JournalLine, JournalEntry, GLAccount
    in_month = (entry.posted_on >= first) & (entry.posted_on < end)
    rows = session.execute(
        select(account.code, account.name, account.kind, func.sum(line.amount))
        .join(line, line.account_id == account.id)
        .join(entry, entry.id == line.entry_id)
        .where(in_month, account.kind.in_(["income", "expense"]))
        .group_by(account.code, account.name, account.kind)
        .order_by(account.code)
    ).all()
    income = [(c, n, -_money(v)) for c, n, k, v in rows if str(k) == "income" and v]
    expenses = [(c, n, _money(v)) for c, n, k, v in rows if str(k) == "expense" and v]
    charity = (
        select(
            func.sum(case((line.amount < 0, -line.amount), else_=literal(0))),
            func.sum(case((line.amount > 0, line.amount), else_=literal(0))),
        )
        .join(entry, entry.id == line.entry_id)
        .join(account, account.id == line.account_id)
        .where(account.role == CHARITY)
    )
    received, paid = session.execute(charity.where(in_month)).one()
    owed = session.execute(
        select(func.sum(line.amount))
        .join(entry, entry.id == line.entry_id)
        .join(account, account.id == line.account_id)
        .where(account.role == CHARITY, entry.posted_on < end)
    ).scalar()
    return IncomeStatement(
        first.strftime("%Y-%m"), income, expenses, _money(received), _money(paid), -_money(owed)
    )


# -- periods ---------------------------------------------------------------------------------


def closed_through(session: Session) -> date | None:
    """The last closed date, or None while every period is open."""
    return session.execute(select(func.max(LedgerClose.closed_through))).scalar()


def close_period(
    session: Session, through: date, *, user_id: int | None, now: datetime, timezone: str = KARACHI
) -> LedgerClose:
    """Close the books through a past date (usually a month end): from then on the database
    refuses any entry posted on or before it; backdated activity posts on the day it is
    recorded, with its value date. A close never reopens an earlier one."""
    today = business_day(now, timezone)
    if through >= today:
        raise Conflict(
            f"Only a day before today ({today}) can be closed: entries are still being posted "
            f"on {through}."
        )
    last = closed_through(session)
    if last is not None and through <= last:
        raise Conflict(f"The books are already closed through {last}.")
    row = LedgerClose(closed_through=through, closed_by_id=user_id, created_at=now)
    session.add(row)
    session.flush()
    audit.record(
        session,
        action="ledger.closed",
        actor_id=user_id,
        obj=row,
        at=now,
        after={"closed_through": through.isoformat()},
    )
    return row


@dataclass(frozen=True)
class StatementLine:
    entry_id: int
    posted_on: date
    value_date: date
    kind: str
    loan_id: int | None
    memo: str
    amount: Decimal  # debit positive
    balance: Decimal  # the account's balance after this line


def statement(
    session: Session, code: str, start: date, end: date, limit: int | None = None
) -> tuple[GLAccount, Decimal, list[StatementLine]]:
    """An account's opening balance on `start` and its lines posted from `start` to `end`
    (the first `limit` of them), each with the running balance; 404 for an unknown account."""
    account = session.execute(select(GLAccount).where(GLAccount.code == code)).scalar()
    if account is None:
        raise NotFound(f"No account {code}.")
    line, entry = JournalLine, JournalEntry
    opening = _money(
        session.execute(
            select(func.sum(line.amount))
            .join(entry, entry.id == line.entry_id)
            .where(line.account_id == account.id, entry.posted_on < start)
        ).scalar()
    )
    rows = session.execute(
        select(
            entry.id,
            entry.posted_on,
            entry.value_date,
            entry.kind,
            entry.loan_id,
            entry.memo,
            line.amount,
        )  # fmt: skip
        .join(entry, entry.id == line.entry_id)
        .where(line.account_id == account.id, entry.posted_on >= start, entry.posted_on <= end)
        .order_by(entry.posted_on, entry.id)
        .limit(limit)
    ).all()
    balance, lines = opening, []
    for entry_id, posted_on, value_date, kind, loan_id, memo, amount in rows:
        balance += amount
        lines.append(
            StatementLine(entry_id, posted_on, value_date, kind, loan_id, memo, amount, balance)
        )
    return account, opening, lines


# -- tie-out --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    role: str
    ledger: Decimal
    book: Decimal
    loans: list[int]


class OutOfBalance(RuntimeError):
    """The ledger and a sub-ledger disagree: the nightly step fails and says where."""


def tie_out(engine: Engine) -> dict:
    """Each control account's balance against its sub-ledger, now: loans' principal
    outstanding, credit balances, the charity's late charges, the shops' payable, the profit
    recognised and unpaid, the subsidies not yet paid by their sponsors. Raises
    `OutOfBalance` naming the accounts and (up to 20 per account) the loans that differ."""
    with Session(engine) as session:
        ledger = _ledger_by_role(session)
        book = _book_totals(session)
        differences = [
            Difference(role, ledger.get(role, ZERO), value, [])
            for role, value in book.items()
            if ledger.get(role, ZERO) != value
        ]
        if differences:
            per_loan_ledger = _ledger_by_loan(session)
            per_loan_book = _book_by_loan(session)
            differences = [
                Difference(d.role, d.ledger, d.book, sorted(
                    loan for loan in per_loan_ledger.keys() | per_loan_book.keys()
                    if per_loan_ledger.get(loan, {}).get(d.role, ZERO)
                    != per_loan_book.get(loan, {}).get(d.role, ZERO)
                )[:20])
                for d in differences
            ]  # fmt: skip
    if differences:
        raise OutOfBalance(
            "; ".join(
                f"{d.role}: ledger {d.ledger}, loans {d.book}"
                + (f" (loans {', '.join(map(str, d.loans))})" if d.loans else "")
                for d in differences
            )
        )
    return {"accounts": len(book), "differences": 0}


def close_night(engine: Engine, as_of: date, now: datetime) -> dict:
    """The night's ledger step: tie every control account out to its sub-ledger (a
    difference fails the step), then record the balances the next trial balance starts from;
    on a month end, check them against every journal line (a difference fails the step)."""
    counts = tie_out(engine)
    with Session(engine) as session, session.begin():
        counts["balances"] = record_balances(session, as_of, now)
        if (as_of + timedelta(days=1)).day == 1:  # a month end: the balances against every line
            if trial_balance(session, as_of) != trial_balance(session, as_of, from_scratch=True):
                raise OutOfBalance(
                    f"the balances recorded through {as_of} differ from the sum of the journal "
                    "lines: an entry was written outside the ledger's posting (an id below one "
                    "already counted); run the night again after finding it"
                )
            counts["balances_checked"] = "every line"
    return counts


TIED = (PRINCIPAL, CREDIT, CHARITY, SHOP, PROFIT_RECEIVABLE, SUBSIDY_RECEIVABLE)


def _ledger_by_role(session: Session) -> dict[str, Decimal]:
    """The balance of each control account of the chart (product mappings included)."""
    roles = _roles_of_accounts(session)
    balances: dict[str, Decimal] = defaultdict(Decimal)
    for account_id, total in session.execute(
        select(JournalLine.account_id, func.sum(JournalLine.amount)).group_by(
            JournalLine.account_id
        )
    ).all():
        role = roles.get(account_id)
        if role in TIED:
            balances[role] += _money(total)
    return balances


def _roles_of_accounts(session: Session) -> dict[int, str]:
    roles = dict(
        session.execute(
            select(GLAccount.id, GLAccount.role).where(GLAccount.role.is_not(None))
        ).all()
    )
    for account_id, role in session.execute(
        select(GLProductAccount.account_id, GLProductAccount.role)
    ).all():
        roles.setdefault(account_id, role)
    return roles


def _money(value) -> Decimal:
    """A sum of a money column (typed as money: rupees on both databases), or nothing."""
    return ZERO if value is None else value


# Loans whose balances the control accounts carry: not cancelled (the booking reversed), not
# written off (the principal charged to the allowance; what is paid since is a recovery).
OFF_THE_BOOKS = (LoanStatus.CANCELLED, LoanStatus.WRITTEN_OFF)


def _live(query):
    return query.where(Loan.status.not_in(OFF_THE_BOOKS))


def _book_totals(session: Session) -> dict[str, Decimal]:
    """The sub-ledgers' totals, as the control accounts carry them (credits negative)."""
    principal = session.execute(_live(select(func.sum(Loan.principal)))).scalar()
    repaid = session.execute(
        _live(select(func.sum(Instalment.paid_principal)).join(Loan, Loan.id == Instalment.loan_id))
    ).scalar()
    credit = session.execute(_live(select(func.sum(Loan.credit_balance)))).scalar()
    charity = session.execute(
        _live(
            select(func.sum(Instalment.paid_late_fee))
            .join(Loan, Loan.id == Instalment.loan_id)
            .where(Loan.islamic.is_(True))
        )
    ).scalar()
    shops = session.execute(
        select(func.sum(Disbursement.amount)).where(
            Disbursement.status == DisbursementStatus.RECORDED
        )
    ).scalar()
    recognised = session.execute(_live(select(func.sum(Loan.profit_recognised)))).scalar()
    profit_paid = session.execute(
        _live(select(func.sum(Instalment.paid_profit)).join(Loan, Loan.id == Instalment.loan_id))
    ).scalar()
    subsidies = session.execute(
        select(func.sum(LoanIncentive.subsidy))
        .join(Loan, Loan.id == LoanIncentive.loan_id)
        .where(Loan.status != LoanStatus.CANCELLED)
    ).scalar()
    sponsors_paid = session.execute(select(func.sum(SubsidyReceipt.amount))).scalar()
    m = _money
    accrual = regulation.basis() == "accrual"
    return {
        PRINCIPAL: m(principal) - m(repaid),
        CREDIT: -m(credit),
        CHARITY: -m(charity),
        SHOP: -m(shops),
        PROFIT_RECEIVABLE: m(recognised) - m(profit_paid) if accrual else ZERO,
        SUBSIDY_RECEIVABLE: m(subsidies) - m(sponsors_paid),
    }


def _ledger_by_loan(session: Session) -> dict[int, dict[str, Decimal]]:
    roles = _roles_of_accounts(session)
    out: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for loan_id, account_id, total in session.execute(
        select(JournalEntry.loan_id, JournalLine.account_id, func.sum(JournalLine.amount))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.loan_id.is_not(None))
        .group_by(JournalEntry.loan_id, JournalLine.account_id)
    ).all():
        role = roles.get(account_id)
        if role in TIED and role != PROFIT_RECEIVABLE:  # accrued per product, not per loan
            out[loan_id][role] += _money(total)
    return out


def _book_by_loan(session: Session) -> dict[int, dict[str, Decimal]]:
    out: dict[int, dict[str, Decimal]] = defaultdict(dict)
    m = _money
    rows = session.execute(
        select(
            Loan.id,
            Loan.principal,
            Loan.islamic,
            Loan.credit_balance,
            Loan.status,
            Loan.profit_recognised,
            func.sum(Instalment.paid_principal),
            func.sum(Instalment.paid_late_fee),
            func.sum(Instalment.paid_profit),
        )
        .join(Instalment, Instalment.loan_id == Loan.id)
        .group_by(Loan.id)
    ).all()
    # (The profit receivable is accrued per product, not per loan: it is compared in total.)
    for loan_id, principal, islamic, credit, status, _recognised, repaid, late, _profit in rows:
        live = status not in OFF_THE_BOOKS
        out[loan_id] = {
            PRINCIPAL: m(principal) - m(repaid) if live else ZERO,
            CREDIT: -m(credit) if live else ZERO,
            CHARITY: -m(late) if islamic and live else ZERO,
        }
    for loan_id, subsidy in session.execute(
        select(LoanIncentive.loan_id, func.sum(LoanIncentive.subsidy))
        .join(Loan, Loan.id == LoanIncentive.loan_id)
        .where(Loan.status != LoanStatus.CANCELLED)
        .group_by(LoanIncentive.loan_id)
    ).all():
        out[loan_id][SUBSIDY_RECEIVABLE] = m(subsidy)
    for loan_id, amount in session.execute(
        select(Disbursement.loan_id, Disbursement.amount).where(
            Disbursement.status == DisbursementStatus.RECORDED
        )
    ).all():
        out[loan_id][SHOP] = -m(amount)
    return out


def subsidy_accrued(session: Session, start: date, end: date) -> Decimal:
    """What the ledger holds as subsidy receivable for the loans disbursed from `start` to
    before `end`: their bookings' subsidies less the cancellations' (a month's claim)."""
    total = session.execute(
        select(func.sum(JournalLine.amount))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .join(GLAccount, GLAccount.id == JournalLine.account_id)
        .join(Loan, Loan.id == JournalEntry.loan_id)
        .where(
            GLAccount.role == SUBSIDY_RECEIVABLE,
            Loan.disbursed_on >= start,
            Loan.disbursed_on < end,
        )
    ).scalar()
    return _money(total)


def subsidy_of(session: Session, loan_id: int) -> Decimal:
    """What incentive programmes' sponsors owe for a loan."""
    value = session.execute(
        select(func.sum(LoanIncentive.subsidy)).where(LoanIncentive.loan_id == loan_id)
    ).scalar()
    return _money(value)


def upfront_fee(session: Session, loan_id: int) -> Decimal:
    """What of a loan's processing fee was paid up front (at the counter)."""
    value = session.execute(
        select(Fee.paid_amount).where(Fee.loan_id == loan_id, Fee.kind == FeeKind.PROCESSING)
    ).scalar()
    return value if value is not None else ZERO
