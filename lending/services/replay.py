"""Replay a loan from its stored transactions, and store the result by appending what changed.

The record of a loan is its `loan_transactions` (append-only). Everything else the servicing
tables say about money is the replay's result, written only here:
- instalments' paid parts, late fee, waiver and paid date, and for a loan whose product
  reduces principal on a prepayment also its re-amortised amounts (principal, profit, total,
  balance after, arrears tolerance): a projection (`projection`), held equal to the replay
  every night by `verify`;
- late-fee charges: a charge the replay no longer makes is answered by an appended
  LATE_FEE_REVERSAL, a new one by a LATE_FEE;
- payment allocations: signed rows appended under the transaction that moved the money, so
  a payment's allocation is the sum of its rows;
- the loan's credit balance, days past due, bucket and status (settled, or reopened).
"""

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import bindparam, func, insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from lending.errors import Conflict
from lending.finance.allocation import InstalmentState, LoanState, booked_state
from lending.finance.enums import Method, Prepayment, TxnKind
from lending.finance.late_fees import LateFeeRule
from lending.finance.money import ZERO
from lending.finance.replay import (
    INPUTS,
    Replay,
    ReplayError,
    ServicingTerms,
    Txn,
    replay,
)
from lending.finance.terms import LoanTerms
from lending.models import Instalment, Loan, LoanTransaction, Payment, PaymentAllocation
from lending.models.enums import LoanStatus
from lending.models.products import ProductVersion
from lending.services import audit, ledger
from lending.services.lifecycle import move
from lending.services.loan_book import business_day
from lending.services.nightly.sqlx import bucket_of, class_of
from lending.services.reference import cached

PENDING = 2**62  # the id of a transaction replayed before it is written
PARTS = ("late_fee", "fee", "profit", "principal")
PAID = ("paid_principal", "paid_profit", "paid_fee", "paid_late_fee", "late_fee_waived")
AMOUNTS = ("principal", "profit", "fee", "total", "balance_after", "tolerance")


@dataclass(frozen=True)
class Loaded:
    """A locked loan's rows as the replay needs them."""

    loan: Loan
    instalments: tuple[Instalment, ...]
    transactions: tuple[LoanTransaction, ...]
    terms: ServicingTerms

    def txns(self, *extra: Txn) -> list[Txn]:
        """The replay's inputs: the stored transactions and any about to be written."""
        return [*map(to_txn, self.transactions), *extra]


def to_txn(row: LoanTransaction) -> Txn:
    """A stored transaction as the replay reads it."""
    return Txn(row.id, row.kind, row.value_date, row.amount, row.instalment_n, row.reverses_id)


# Built once (bind parameters): building a SELECT costs more than running it. A transaction
# never changes once written (the database refuses it), so one the session holds is the row;
# an instalment it holds may be older than the loan's lock, so instalments are read afresh.
_TRANSACTIONS_OF = (
    select(LoanTransaction)
    .where(LoanTransaction.loan_id == bindparam("loan_id"))
    .order_by(LoanTransaction.id)
)
_INSTALMENTS_OF = (
    select(Instalment)
    .where(Instalment.loan_id == bindparam("loan_id"))
    .order_by(Instalment.n)
    .execution_options(populate_existing=True)
)


def load(session: Session, loan: Loan) -> Loaded:
    """Read the loan's instalments and transactions and its booked servicing terms."""
    instalments = instalments_of(session, loan)
    transactions = tuple(session.exec(_TRANSACTIONS_OF, params={"loan_id": loan.id}).all())
    return Loaded(loan, instalments, transactions, servicing_terms(session, loan, instalments))


def instalments_of(session: Session, loan: Loan) -> tuple[Instalment, ...]:
    """The loan's instalment rows in order, fresh from the database."""
    return tuple(session.exec(_INSTALMENTS_OF, params={"loan_id": loan.id}).all())


def row_state(row: Instalment, *, stored: bool) -> InstalmentState:
    """An instalment row as the engine reads it: as booked (nothing paid), or as stored."""
    values = dict(
        n=row.n,
        due_date=row.due_date,
        principal=row.principal,
        profit=row.profit,
        fee=row.fee,
        tolerance=row.tolerance,
    )
    if stored:
        values.update(
            late_fee=row.late_fee - row.late_fee_waived,
            paid_principal=row.paid_principal,
            paid_profit=row.paid_profit,
            paid_fee=row.paid_fee,
            paid_late_fee=row.paid_late_fee,
            late_fee_waived=row.late_fee_waived,
            paid_on=row.paid_on,
        )
    return InstalmentState(**values)


def servicing_terms(
    session: Session, loan: Loan, instalments, rules: "Rules | None" = None
) -> ServicingTerms:
    """The terms a loan was booked under: its schedule unpaid, its product version's rules
    (read, unless the caller already holds them)."""
    rules = rules or rules_of(session, loan)
    if loan.prepayment != Prepayment.NEXT_INSTALMENTS:
        return ServicingTerms(rebuilt_state(loan, instalments, rules), rules.late_fee)
    # The rows' amounts are the booked ones: only a reduce-principal replay changes them.
    rows = tuple(row_state(i, stored=False) for i in instalments)
    state = LoanState(
        start=loan.disbursed_on,
        annual_rate=loan.annual_rate,
        instalments=rows,
        islamic=loan.islamic,
        fixed_profit=loan.islamic or loan.method == Method.FLAT,
        rebate_pct=loan.settlement_rebate_pct,
    )
    return ServicingTerms(state, rules.late_fee)


def rebuilt_state(loan: Loan, instalments, rules: "Rules") -> LoanState:
    """A reduce-principal loan's booked schedule, unpaid, priced again from its booked terms.

    Its rows hold the replay's re-amortised amounts, so they cannot be where the replay starts
    (a reversal of the prepayment must give back the booked schedule). Rather than a second
    copy of the booked amounts in new columns, the schedule is priced again from what the loan
    copied at booking (financed amount, rate, tenor, disbursement date, method, frequency, day
    count; the rounding unit from its product version): the schedule engine is pure and its
    golden tables hold it to the paisa. The due dates are the rows' (a holiday roll never
    changes an amount, and a later edition of the holiday calendar must not move a booked
    date), and the rebuilt level instalment must be the one the loan was booked with.
    """
    terms = LoanTerms(
        principal=loan.principal,  # the financed amount: a financed fee is already in it
        annual_rate=loan.annual_rate,
        tenor=loan.instalments_count,
        start=loan.disbursed_on,
        method=loan.method,
        frequency=loan.frequency,
        day_count=loan.day_count,
        rounding=rules.rounding,
        islamic=loan.islamic,
    )
    tolerance = (loan.arrears_tolerance_amount, loan.arrears_tolerance_pct)
    state = booked_state(terms, loan.prepayment, tolerance)
    if len(state.instalments) != len(instalments) or state.reduce.level != loan.instalment_amount:
        raise ReplayError(f"loan {loan.id}: its terms do not price the schedule it was booked with")
    rows = tuple(
        replace(item, due_date=row.due_date)
        for item, row in zip(state.instalments, instalments, strict=True)
    )
    return replace(state, instalments=rows, rebate_pct=loan.settlement_rebate_pct)


@dataclass(frozen=True)
class Rules:
    """What servicing reads of a loan's product version."""

    late_fee: LateFeeRule
    overpayment_tolerance: Decimal
    rounding: Decimal  # the instalment's rounding unit (a reduce-principal loan re-prices)


def rules_of(session: Session, loan: Loan) -> Rules:
    """The servicing rules of the product version a loan was booked under (versions never
    change, so they are kept in the reference cache)."""
    product_id, version = loan.product_id, loan.product_version

    def read() -> Rules:
        v = session.exec(
            select(ProductVersion).where(
                ProductVersion.product_id == product_id, ProductVersion.version == version
            )
        ).one()
        return rules_from(v)

    return cached(session, ("servicing_rules", product_id, version), read)


def all_rules(session: Session) -> dict[tuple[int, int], Rules]:
    """Every product version's servicing rules, by (product id, version): one read for a
    job that replays many loans (versions never change)."""
    return {
        (v.product_id, v.version): rules_from(v) for v in session.exec(select(ProductVersion)).all()
    }


def rules_from(version: ProductVersion) -> Rules:
    """What servicing reads of a product version."""
    return Rules(rule_of(version), version.overpayment_tolerance, version.rounding.normalize())


def rule_of(product: ProductVersion) -> LateFeeRule:
    """The product's late-fee rule."""
    return LateFeeRule(
        fixed=product.late_fee_fixed,
        percent=product.late_fee_pct,
        cap=product.late_fee_cap,
        grace_days=product.grace_days,
    )


def replay_loaded(loaded: Loaded, through: date, *extra: Txn) -> Replay:
    """The replay of a loaded loan (and of transactions about to be written) through a date."""
    return replay(loaded.terms, loaded.txns(*extra), through)


def replayed(loaded: Loaded, through: date, *extra: Txn) -> Replay:
    """As `replay_loaded`, a history that cannot be replayed (a refund of more than the
    credit) answered as a 409 before anything is written."""
    try:
        return replay_loaded(loaded, through, *extra)
    except ReplayError as exc:
        raise Conflict(f"This would leave the loan's history inconsistent: {exc}.") from exc


@dataclass(frozen=True)
class Cause:
    """What makes this replay: the transactions written (replayed as PENDING, PENDING + 1...
    before they had ids; at least one: a payment, reversal or adjustment), who did it and
    when."""

    written: tuple[LoanTransaction, ...]
    actor_id: int | None
    now: datetime
    on: date
    # The money that came in (+) or went out (-), by the role of its account: a payment's
    # channel clearing account, a reversal's, a refund's bank.
    money: tuple[tuple[str, Decimal], ...] = ()
    timezone: str = "Asia/Karachi"

    @property
    def txn(self) -> LoanTransaction:
        """The transaction that caused the replay (the first written)."""
        return self.written[0]


def store(session: Session, loaded: Loaded, result: Replay, cause: Cause) -> None:
    """Write what the replay changed: instalments, fee charges, allocations, the loan; and
    post its journal entry."""
    ids = {PENDING + k: row.id for k, row in enumerate(cause.written)}
    before = ledger.position(loaded.loan, loaded.instalments, loaded.loan.credit_balance)
    _instalments(session, loaded, result)
    _fees(session, loaded, result, cause)
    # Money a replay moves between payments is booked under what caused it.
    _allocations(session, loaded, result, cause, ids, cause.txn.id)
    _loan(session, loaded.loan, result, cause)
    # The night charges fee days after this date straight from the instalments.
    loaded.loan.inputs_through = max(
        (t.value_date for t in (*loaded.transactions, *cause.written) if t.kind in INPUTS),
        default=loaded.loan.disbursed_on,
    )
    _post(session, loaded.loan, before, result, cause)
    session.flush()


def _post(session: Session, loan: Loan, before: dict, result: Replay, cause: Cause) -> None:
    """The entry of what this replay moved: the loan's position, and the money in or out."""
    txn, kind = cause.txn, str(cause.txn.kind)
    if loan.status is LoanStatus.WRITTEN_OFF:  # its principal was charged off: a recovery
        kind, received = "recovery", sum((amount for _, amount in cause.money), ZERO)
        lines = [*cause.money, (ledger.RECOVERIES, -received)]
    else:
        after = ledger.position(loan, result.state.instalments, result.credit_balance)
        lines = [*ledger.moved(before, after), *cause.money]
    ledger.post(
        session,
        ledger.Posting(
            kind=kind,
            posted_on=business_day(cause.now, cause.timezone),
            value_date=min(t.value_date for t in cause.written),
            now=cause.now,
            loan_id=loan.id,
            product_id=loan.product_id,
            transaction_id=txn.id,
            actor_id=cause.actor_id,
        ),
        lines,
    )


_PROJECTION = (*PAID, "late_fee", "paid_on")
_TABLE = Instalment.__table__


def _update(names: tuple[str, ...]):
    return (  # Core, so that many rows go in one executemany
        _TABLE.update()
        .where(_TABLE.c.id == bindparam("row_id"))
        .values({name: bindparam(name) for name in names})
    )


_UPDATE = {False: _update(_PROJECTION), True: _update((*_PROJECTION, *AMOUNTS))}


def projection(loan: Loan, state: LoanState) -> list[dict]:
    """Per instalment, what its stored columns must say for this replayed state: paid parts,
    late fee charged (before the waiver), waiver, paid date; and, when the loan reduces
    principal, the re-amortised amounts (total and balance after as booking writes them)."""
    amounts, balance, rows = state.reduce is not None, loan.principal, []
    for item in state.instalments:
        values = {name: getattr(item, name) for name in PAID}
        values["late_fee"] = item.late_fee + item.late_fee_waived
        values["paid_on"] = item.paid_on
        if amounts:
            balance -= item.principal
            values.update(
                principal=item.principal,
                profit=item.profit,
                fee=item.fee,
                total=item.principal + item.profit + item.fee,
                balance_after=balance,
                tolerance=item.tolerance,
            )
        rows.append(values)
    return rows


def _instalments(session: Session, loaded: Loaded, result: Replay) -> None:
    """Rewrite the changed instalment rows, all in one executemany."""
    rows = []
    wanted = projection(loaded.loan, result.state)
    for row, values in zip(loaded.instalments, wanted, strict=True):
        if {name: getattr(row, name) for name in values} != values:  # a row that changed
            rows.append({"row_id": row.id, **values})
            for name, value in values.items():  # keep the loaded objects true to the row
                set_committed_value(row, name, value)
    if rows:
        session.connection().execute(_UPDATE[result.state.reduce is not None], rows)


def live_fees(transactions) -> dict[int, LoanTransaction]:
    """The late-fee charges not reversed, by instalment number."""
    reversed_ids = {t.reverses_id for t in transactions if t.kind is TxnKind.LATE_FEE_REVERSAL}
    return {
        t.instalment_n: t
        for t in transactions
        if t.kind is TxnKind.LATE_FEE and t.id not in reversed_ids
    }


def _fees(session: Session, loaded: Loaded, result: Replay, cause: Cause) -> None:
    stored = live_fees(loaded.transactions)
    wanted = {fee.n: fee for fee in result.late_fees}
    events, written, loan_id = [], [], loaded.loan.id
    for n, row in stored.items():
        fee = wanted.get(n)
        if fee is None or (fee.amount, fee.on) != (row.amount, row.value_date):
            written.append(_txn(loan_id, TxnKind.LATE_FEE_REVERSAL, cause, row.amount, n, row.id))
            events.append(("fee.reversed", n, row.amount, fee is not None and fee.charity))
    for n, fee in wanted.items():
        row = stored.get(n)
        if row is None or (fee.amount, fee.on) != (row.amount, row.value_date):
            charge = _txn(loan_id, TxnKind.LATE_FEE, cause, fee.amount, n)
            charge.value_date = fee.on
            written.append(charge)
            events.append(("fee.charged", n, fee.amount, fee.charity))
    session.add_all(written)
    audit.record_many(
        session,
        [
            audit.event_row(
                action=action,
                object_type="loans",
                object_id=loan_id,
                after={"instalment": n, "amount": str(amount), "charity": charity},
                actor_id=cause.actor_id,
                at=cause.now,
            )
            for action, n, amount, charity in events
        ],
    )


def _txn(loan_id, kind, cause: Cause, amount, n=None, reverses=None) -> LoanTransaction:
    return LoanTransaction(
        loan_id=loan_id,
        kind=kind,
        value_date=cause.on,
        amount=amount,
        instalment_n=n,
        reverses_id=reverses,
        created_by_id=cause.actor_id,
        created_at=cause.now,
    )


def _allocations(session, loaded: Loaded, result: Replay, cause: Cause, ids: dict, source):
    payments = {
        t.id: t.payment_id
        for t in (*loaded.transactions, *cause.written)
        if t.kind is TxnKind.PAYMENT
    }
    by_n = {i.n: i.id for i in loaded.instalments}
    wanted: dict[tuple[int, int], list[Decimal]] = {}
    for txn_id, lines in result.allocations.items():
        payment_id = payments[ids.get(txn_id, txn_id)]
        for line in lines:
            wanted[(payment_id, by_n[line.instalment])] = [getattr(line, p) for p in PARTS]
    only_new = _only_new(loaded, cause)
    if only_new:  # earlier payments are as stored: write the new ones only
        new = {t.payment_id for t in cause.written}
        wanted = {key: value for key, value in wanted.items() if key[0] in new}
        stored = {}
    else:
        stored = _stored_allocations(session, loaded.loan.id)
    rows = []
    for key in wanted.keys() | stored.keys():
        want, have = wanted.get(key, [ZERO] * 4), stored.get(key, [ZERO] * 4)
        delta = [w - h for w, h in zip(want, have, strict=True)]
        if any(delta):
            rows.append(
                {"payment_id": key[0], "instalment_id": key[1], "transaction_id": source}
                | dict(zip(PARTS, delta, strict=True))
            )
    if rows:
        session.execute(insert(PaymentAllocation), rows)
    if not only_new:  # (new payments were written with theirs)
        _unapplied(session, loaded, result, ids, payments)


def _only_new(loaded: Loaded, cause: Cause) -> bool:
    """Payments dated on or after every stored transaction move no earlier payment's money."""
    first = min(t.value_date for t in cause.written)
    return all(t.kind is TxnKind.PAYMENT for t in cause.written) and all(
        t.value_date <= first for t in loaded.transactions
    )


def _stored_allocations(session: Session, loan_id: int) -> dict[tuple[int, int], list]:
    sums = [func.sum(getattr(PaymentAllocation, p)) for p in PARTS]
    rows = session.execute(
        select(PaymentAllocation.payment_id, PaymentAllocation.instalment_id, *sums)
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(Payment.loan_id == loan_id)
        .group_by(PaymentAllocation.payment_id, PaymentAllocation.instalment_id)
    ).all()
    return {(r[0], r[1]): [Decimal(v or 0) for v in r[2:]] for r in rows}


def _unapplied(session, loaded: Loaded, result: Replay, ids: dict, payments: dict) -> None:
    """Each payment's unapplied part as the replay says (reversed: nothing), in one read."""
    amounts = {payments[ids.get(t, t)]: v for t, v in result.unapplied.items()}
    rows = session.execute(select(Payment).where(Payment.loan_id == loaded.loan.id)).scalars()
    for payment in rows:
        value = amounts.get(payment.id, ZERO)
        if payment.unapplied != value:
            payment.unapplied = value


def _loan(session: Session, loan: Loan, result: Replay, cause: Cause) -> None:
    loan.credit_balance = result.credit_balance
    accrual = result.state.accrual  # where the current period's accrual stands, to resume
    index, mark, days = (
        (accrual.index, accrual.mark, accrual.balance_days) if accrual else (None, None, 0)
    )
    if (loan.accrual_index, loan.accrual_mark, loan.accrual_balance_days) != (index, mark, days):
        loan.accrual_index, loan.accrual_mark, loan.accrual_balance_days = index, mark, days
    loan.days_past_due = result.days_past_due
    loan.bucket, loan.classification = (
        bucket_of(result.days_past_due),
        class_of(result.days_past_due),
    )
    settled = result.settled_on
    if settled is not None and loan.status == LoanStatus.ACTIVE:
        done = LoanStatus.SETTLED if settled < loan.maturity_on else LoanStatus.CLOSED
        move(session, loan=loan, to=done, actor_id=cause.actor_id, on=settled)
    elif settled is None and loan.status in (LoanStatus.SETTLED, LoanStatus.CLOSED):
        move(session, loan=loan, to=LoanStatus.ACTIVE, actor_id=cause.actor_id, on=cause.on)
