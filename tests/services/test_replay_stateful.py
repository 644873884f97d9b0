"""Random lives of loans: after every step the stored state is the from-scratch replay.

A hypothesis state machine books a loan on a random product and tenor through the API, then
runs random steps: payments on time, early, late, partial, over, exact payoff, backdated; staff
reversals and waivers; nights on increasing dates (late fees and ageing). After each step:
- what the instalments and the loan say equals a replay from scratch (`verify.differences`);
- every payment's allocation rows sum to what it applied (nothing for a reversed one);
- an instalment paid in full by the end of its grace days carries no late fee, and a loan
  with no instalment in arrears is not past due;
- the trial balance balances, every control account ties out to its sub-ledger, and the
  loan's own accounts hold what its booking, its state and the money that moved say.
STATEFUL_EXAMPLES sets the number of sequences per database (CI: 300).
"""

import itertools
import os
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import delete, func, select
from sqlmodel import Session

from lending import regulation
from lending.db import get_engine
from lending.models import (
    Disbursement,
    Instalment,
    JobRun,
    JournalEntry,
    JournalLine,
    Loan,
    LoanTransaction,
    Payment,
    PaymentAllocation,
)
from lending.models.enums import LoanStatus, PaymentStatus, TxnKind
from lending.services import ledger
from lending.services.nightly import runner
from lending.services.nightly.verify import check
from tests import factories as f
from tests.web.helpers import AGENT, NOW, body, post
from tests.web.servicing import STAFF, pay, refund

EXAMPLES = int(os.environ.get("STATEFUL_EXAMPLES", "25"))
PRODUCTS = [
    ("QIST-STD", 6),
    ("QIST-STD", 3),
    ("QIST-FLAT", 6),
    ("MURABAHA-12", 6),
    ("QIST-WEEKLY", 13),
]
SERIAL = itertools.count(1)
KARACHI = timedelta(hours=5)


def business_day(moment):
    return (moment + KARACHI).date()


class LoanLife(RuleBasedStateMachine):
    """One loan's random life; `app`, `client` and `engine` are set by the test."""

    app = client = engine = None

    @initialize(product=st.sampled_from(PRODUCTS))
    def book(self, product):
        code, tenor = product
        serial = next(SERIAL)
        self.now = NOW
        # Each life starts its clock again at NOW: the nights of earlier lives (later dates,
        # read by the ageing as "the last night") belong to a clock that has gone back.
        with Session(self.engine) as session, session.begin():
            session.execute(delete(JobRun))
        self.app.extensions["lending.clock"] = lambda: self.now
        doc = body(
            product_code=code,
            tenor=tenor,
            applicant__cnic=f.cnic(3_000_000 + 10 * serial + 1),
            device__imei=f.imei(500_000 + serial),
        )
        if code == "QIST-WEEKLY":
            doc["device"]["price"], doc["down_payment"] = "30000.00", "9000.00"
        made = post(self.client, doc).json
        assert made.get("status") == "approved", made
        accepted = self.client.post(f"/api/v1/applications/{made['id']}/accept", headers=AGENT)
        assert accepted.status_code == 201, accepted.json
        self.loan_id = accepted.json["loan_id"]
        self.payments: list[int] = []
        self.keys = itertools.count()

    def _loan(self, session) -> Loan:
        return session.get(Loan, self.loan_id)

    def _instalments(self, session):
        return (
            session.execute(
                select(Instalment).where(Instalment.loan_id == self.loan_id).order_by(Instalment.n)
            )
            .scalars()
            .all()
        )

    def _pay(self, amount: Decimal, paid_at, staff=False):
        extra = {"headers": STAFF, "allow_overpayment": True} if staff else {}
        response = pay(
            self.client,
            self.loan_id,
            str(amount),
            f"k-{self.loan_id}-{next(self.keys)}",
            paid_at=paid_at.isoformat(),
            **extra,
        )
        assert response.status_code in (201, 409, 422), response.get_data(as_text=True)
        if response.status_code == 201:
            self.payments.append(response.json["payment_id"])
        return response

    @rule(share=st.sampled_from(["1.00", "0.3", "1", "1.7", "3"]), back=st.integers(0, 20))
    def pay_some(self, share, back):
        """Pay a share of an instalment (a partial, one, several ahead), maybe backdated."""
        with Session(self.engine) as session:
            loan = self._loan(session)
            if loan.status != LoanStatus.ACTIVE:
                return
            amount = (loan.instalment_amount * Decimal(share)).quantize(Decimal("0.01"))
            if share == "1.00":
                amount = Decimal("1.00")
            earliest = loan.disbursed_on
        paid_at = self.now - timedelta(days=back)
        if business_day(paid_at) < earliest:
            paid_at = self.now
        response = self._pay(amount, paid_at)
        assert response.status_code in (201, 422)  # 422: more than settles the loan

    @rule(extra=st.sampled_from(["0", "0.01", "250"]))
    def pay_off(self, extra):
        """Pay the payoff quote (and a little more, as staff accept)."""
        quote = self.client.get(f"/api/v1/loans/{self.loan_id}/payoff", headers=AGENT)
        if quote.status_code != 200:
            return
        amount = Decimal(quote.json["total"]) + Decimal(extra)
        if amount > 0:
            response = self._pay(amount, self.now, staff=extra == "250")
            assert response.status_code == 201, response.json
            assert response.json["loan_status"] in ("settled", "closed")

    @rule(days=st.integers(1, 45))
    def nights(self, days):
        """Move the clock on and run the night's late fees and ageing for the new date."""
        self.now += timedelta(days=days)
        day = business_day(self.now)
        # As the runner does: job runs, the night's clock, the ageing reading only the loans
        # that can have changed since the last night's (the first night reads the book).
        config = runner.NightlyConfig(clock=lambda: self.now)
        steps = runner.step_functions(config)
        night = {name: steps[name] for name in ("late_fees", "ageing", "accrual", "ledger")}
        runner.run_night(self.engine, runner.NIGHTLY, day, night)

    @rule(pick=st.integers(0, 50))
    def reverse(self, pick):
        """Staff reverse one of the posted payments (a bounced cheque)."""
        if not self.payments:
            return
        payment_id = self.payments[pick % len(self.payments)]
        response = self.client.post(
            f"/api/v1/payments/{payment_id}/reverse", json={"reason": "Bounced."}, headers=STAFF
        )
        assert response.status_code in (200, 409), response.json

    @rule(pick=st.integers(0, 50))
    def waive(self, pick):
        """Staff waive a late fee (409 when there is none to waive)."""
        with Session(self.engine) as session:
            rows = self._instalments(session)
        n = rows[pick % len(rows)].n
        response = self.client.post(
            f"/api/v1/loans/{self.loan_id}/waivers",
            json={"instalment": n, "reason": "Goodwill."},
            headers=STAFF,
        )
        assert response.status_code in (201, 409), response.json

    @rule(share=st.sampled_from(["1", "0.5"]))
    def refund(self, share):
        """Staff pay back (part of) a credit balance."""
        with Session(self.engine) as session:
            credit = self._loan(session).credit_balance
        amount = (credit * Decimal(share)).quantize(Decimal("0.01"))
        if amount <= 0:
            return
        response = refund(self.client, self.loan_id, str(amount), "Paid too much.")
        assert response.status_code == 200, response.json

    @invariant()
    def the_books_balance_and_tie_out(self):
        if not hasattr(self, "loan_id"):
            return
        assert ledger.tie_out(self.engine)["differences"] == 0
        with Session(self.engine) as session:
            assert ledger.trial_balance(session, date(9999, 12, 31)).balanced
            # The trial balance from the nights' balances is the one from every line.
            for day in (business_day(self.now), business_day(self.now) - timedelta(days=20)):
                assert ledger.trial_balance(session, day) == ledger.trial_balance(
                    session, day, from_scratch=True
                )
            loan = self._loan(session)
            assert _loan_accounts(session, loan) == _expected_accounts(session, loan)

    @invariant()
    def stored_state_is_the_replay(self):
        if not hasattr(self, "loan_id"):
            return
        with Session(self.engine) as session:
            loan = self._loan(session)
            ((_, differences),) = list(check(session, [loan], business_day(self.now)))
            assert differences == []

    @invariant()
    def allocations_sum_to_payments(self):
        if not hasattr(self, "loan_id"):
            return
        with Session(self.engine) as session:
            sums = dict(
                session.execute(
                    select(
                        PaymentAllocation.payment_id,
                        func.sum(
                            PaymentAllocation.principal
                            + PaymentAllocation.profit
                            + PaymentAllocation.fee
                            + PaymentAllocation.late_fee
                        ),
                    ).group_by(PaymentAllocation.payment_id)
                ).all()
            )
            for payment in session.execute(
                select(Payment).where(Payment.loan_id == self.loan_id)
            ).scalars():
                applied = Decimal(sums.get(payment.id) or 0)
                if payment.status == PaymentStatus.REVERSED:
                    assert applied == 0
                else:
                    assert applied == payment.amount - payment.unapplied

    @invariant()
    def paid_in_time_is_never_late(self):
        if not hasattr(self, "loan_id"):
            return
        with Session(self.engine) as session:
            loan = self._loan(session)
            rows = self._instalments(session)
            grace = {"QIST-WEEKLY": 1}.get(_code(session, loan), 3)
            today = business_day(self.now)
            for row in rows:
                if row.paid_on is not None and row.paid_on <= row.due_date + timedelta(grace):
                    assert row.late_fee == 0, (row.n, row.paid_on, row.late_fee)
            late = [
                r
                for r in rows
                if r.due_date < today
                and r.total - r.paid_principal - r.paid_profit - r.paid_fee > r.tolerance
            ]
            if loan.status == LoanStatus.ACTIVE and not late:
                assert loan.days_past_due == 0


def _loan_accounts(session, loan) -> dict[str, Decimal]:
    """The balance of each of the loan's accounts in the ledger, by role."""
    roles = {v: k for k, v in ledger.accounts(session, loan.product_id).items()}
    rows = session.execute(
        select(JournalLine.account_id, func.sum(JournalLine.amount))
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(JournalEntry.loan_id == loan.id)
        .group_by(JournalLine.account_id)
    ).all()
    return {roles[a]: Decimal(v) for a, v in rows if v}


def _expected_accounts(session, loan) -> dict[str, Decimal]:
    """The booking, the state's position (beyond the principal lent) and the money in and out."""
    disbursed = session.execute(
        select(Disbursement.amount).where(Disbursement.loan_id == loan.id)
    ).scalar_one()
    want: dict[str, Decimal] = defaultdict(Decimal)
    upfront, subsidy = ledger.upfront_fee(session, loan.id), ledger.subsidy_of(session, loan.id)
    for role, amount in ledger.booking_lines(loan, disbursed, upfront, subsidy):
        want[role] += amount
    rows = session.execute(select(Instalment).where(Instalment.loan_id == loan.id)).scalars()
    for role, amount in ledger.position(loan, rows, loan.credit_balance).items():
        want[role] += amount
    want["loan_principal"] -= loan.principal
    for payment in session.execute(select(Payment).where(Payment.loan_id == loan.id)).scalars():
        if payment.status == PaymentStatus.POSTED:
            want[ledger.clearing(payment.channel)] += payment.amount
    refunds = session.execute(
        select(func.sum(LoanTransaction.amount)).where(
            LoanTransaction.loan_id == loan.id, LoanTransaction.kind == TxnKind.REFUND
        )
    ).scalar()
    want["bank"] -= Decimal(refunds or 0)
    return {role: amount for role, amount in want.items() if amount}


def _code(session, loan) -> str:
    from lending.models import Product

    return session.get(Product, loan.product_id).code


def run_lives(machine, app, client, examples: int = EXAMPLES) -> None:
    """Run a loan-life state machine against the test app, STATEFUL_EXAMPLES sequences."""
    machine.app, machine.client, machine.engine = app, client, get_engine(app)
    runner = machine.TestCase
    runner.settings = settings(
        max_examples=examples,
        stateful_step_count=12,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    runner().runTest()


@pytest.mark.slow
def test_random_loan_lives_keep_the_stored_state_equal_to_the_replay(app, setup, client):
    run_lives(LoanLife, app, client)


@pytest.mark.slow
def test_random_loan_lives_on_the_accrual_basis_keep_the_books_tied_out(app, setup, client):
    """The same lives with profit accrued as it falls due (and suspended when the loan is
    non-performing) by each night: the receivable ties out after every step."""
    previous = regulation.basis()
    regulation.use_basis("accrual")
    try:
        run_lives(LoanLife, app, client, max(EXAMPLES // 3, 10))
    finally:
        regulation.use_basis(previous)
