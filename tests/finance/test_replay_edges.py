"""Edges of the replay the other tests do not reach, worked by hand.

The loan: 100,000 at 30% a year, reducing, six monthly instalments from 15 January 2024;
instalment 1 is 18,155.00 (15,655.00 principal + 2,500.00 profit), due 15 February. A late fee
rule charges on 19 February (3 grace days) what the instalment is then short by more than its
tolerance.
"""

from datetime import date
from decimal import Decimal

import pytest

from lending.finance.enums import TxnKind
from lending.finance.late_fees import LateFeeRule
from lending.finance.replay import ReplayError, ServicingTerms, Txn, replay, resume
from tests.finance.test_replay import START, pay, terms

D = Decimal
FEE_DAY = date(2024, 2, 19)


def with_rule(rule: LateFeeRule) -> ServicingTerms:
    return ServicingTerms(terms().state, rule)


def test_a_fee_the_rule_makes_zero_is_not_charged():
    # Capped at 0: the rule charges Rs 0.00, and a zero charge is no charge.
    result = replay(with_rule(LateFeeRule(fixed=D("500"), cap=D("0"), grace_days=3)), [], FEE_DAY)
    assert result.late_fees == ()
    assert result.state.instalments[0].late_fee == D("0.00")


def test_a_fee_of_one_rupee_is_charged():
    result = replay(with_rule(LateFeeRule(fixed=D("1"), grace_days=3)), [], FEE_DAY)
    assert [(f.n, f.on, f.amount) for f in result.late_fees] == [(1, FEE_DAY, D("1.00"))]
    assert result.state.instalments[0].late_fee == D("1.00")


def test_resume_refuses_a_backdated_payment_and_a_reversal():
    base = terms()
    stored = replay(base, [pay(1, date(2024, 2, 15), "18155")], date(2024, 2, 15))
    since = date(2024, 2, 15)
    with pytest.raises(ReplayError, match="only payments dated on or after"):
        resume(base, stored.state, D("0"), [pay(2, date(2024, 2, 14), "10")], since, since)
    reversal = Txn(2, TxnKind.REVERSAL, date(2024, 2, 20), D("18155"), reverses=1)
    with pytest.raises(ReplayError, match="only payments dated on or after"):
        resume(base, stored.state, D("0"), [reversal], since, date(2024, 2, 20))


def test_resume_keeps_the_credit_balance_it_starts_from():
    # A settled loan with Rs 100.00 of credit: a further Rs 50.00 is all credit (150.00),
    # and a refund of 120.00 leaves 30.00.
    base = terms()
    settled = replay(base, [pay(1, START, "200000")], START)
    credit = settled.credit_balance
    assert settled.settled_on == START and credit > 0
    on = date(2024, 1, 20)
    more = resume(base, settled.state, D("100.00"), [pay(2, on, "50")], START, on)
    assert more.credit_balance == D("150.00")
    refund = Txn(3, TxnKind.REFUND, on, D("120"))
    left = resume(base, settled.state, D("150.00"), [refund], on, on)
    assert left.credit_balance == D("30.00")


def test_a_payment_after_a_waiver_resumes_with_the_waiver_kept():
    # Instalment 1 (18,155.00, due 15 Feb) unpaid: Rs 500 charged on 19 Feb, waived in full on
    # 20 Feb; on 21 Feb the borrower pays 18,155.00. Resumed from the stored state or replayed
    # from scratch, instalment 1 is paid on 21 Feb with its fee of 500.00 charged and waived.
    base = terms()
    waiver = Txn(1, TxnKind.WAIVER, date(2024, 2, 20), D("500"), instalment_n=1)
    stored = replay(base, [waiver], date(2024, 2, 20))
    assert stored.state.instalments[0].late_fee_waived == D("500.00")
    payment = pay(2, date(2024, 2, 21), "18155")
    resumed = resume(base, stored.state, D("0"), [payment], date(2024, 2, 20), date(2024, 2, 21))
    full = replay(base, [waiver, payment], date(2024, 2, 21))
    first = resumed.state.instalments[0]
    assert (first.late_fee_waived, first.late_fee, first.paid_on) == (
        D("500.00"),
        D("0.00"),  # the charge net of its waiver
        date(2024, 2, 21),
    )
    assert (first.paid_principal, first.paid_profit) == (D("15655.00"), D("2500.00"))
    assert resumed.state.instalments == full.state.instalments
