"""Incentive budgets in rupees, and the budget a declined application gives back.

DPL-2026 (seeded) grants 6 points off the rate, a 15% minimum down payment and a Rs 2,000
subsidy per loan; a programme's `budget_amount` caps the subsidies committed, `budget_count`
the loans. Amounts are counted here by hand: n tagged loans commit n x 2,000.
"""

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import select

from lending.models import IncentiveProgramme
from lending.services import reference
from tests.web.helpers import body, post
from tests.web.test_incentives import LOCAL_TAC, cnic, phone, programme_tags


def programme(session, code: str) -> IncentiveProgramme:
    session.expire_all()
    return session.exec(
        select(IncentiveProgramme).where(
            IncentiveProgramme.code == code, IncentiveProgramme.current
        )
    ).one()


def apply(client, n: int, **changes) -> dict:
    response = post(client, body(**phone(n, LOCAL_TAC), **cnic(n), **changes))
    assert response.status_code == 201, response.json
    return response.json


@pytest.mark.parametrize(
    ("budget", "tagged"),
    [
        # 3 x 2,000 = 6,000 fits exactly; a fourth would make 8,000.
        ("6000.00", [True, True, True, False]),
        # 2 x 2,000 = 4,000 fits; a third (6,000) would pass 5,999.99.
        ("5999.99", [True, True, False, False]),
        # Less than one subsidy: nobody is tagged.
        ("1999.99", [False, False, False, False]),
    ],
)
def test_an_amount_budget_tags_loans_until_the_next_subsidy_would_pass_it(
    setup, session, client, budget, tagged
):
    dpl = programme(session, "DPL-2026")
    dpl.budget_count, dpl.budget_amount = None, Decimal(budget)
    session.commit()
    docs = [apply(client, 40 + i) for i in range(4)]
    assert [d["status"] for d in docs] == ["approved"] * 4
    assert [bool(programme_tags(d)) for d in docs] == tagged
    spent = programme(session, "DPL-2026")
    assert spent.used_count == sum(tagged)
    assert spent.used_amount == Decimal("2000.00") * sum(tagged)


def test_a_declined_application_gives_back_the_budget_it_reserved(setup, session, client):
    """LOW-DOWN (min down payment 10%, Rs 1,000 subsidy) has budget for one loan. The first
    application is tagged by both programmes and spends it; the cached copy of LOW-DOWN still
    shows budget, so the second application (a 12% down payment, acceptable only with
    LOW-DOWN's 10%) is priced with both, reserves DPL-2026's Rs 2,000, finds LOW-DOWN spent,
    is decided again under DPL-2026 alone (15% minimum) and declined: DPL-2026's
    reservation must be given back, leaving exactly the first loan's 1 loan / Rs 2,000."""
    session.add(
        IncentiveProgramme(
            code="LOW-DOWN",
            name="Low down payment (test)",
            sponsor="Test sponsor",
            valid_from=date(2026, 1, 1),
            valid_to=date(2027, 12, 31),
            min_down_payment_pct=Decimal("10"),
            subsidy_per_loan=Decimal("1000"),
            budget_count=1,
        )
    )
    session.commit()
    reference.cache_for(session).ttl = 3600  # the cached copy stays stale for this test
    first = apply(client, 50)
    assert sorted(t["code"] for t in programme_tags(first)) == ["DPL-2026", "LOW-DOWN"]
    assert (
        programme(session, "LOW-DOWN").used_count,
        programme(session, "DPL-2026").used_count,
    ) == (
        1,
        1,
    )
    # 6,600 down on 54,999 is 12.0%: above LOW-DOWN's 10%, below DPL-2026's 15%.
    second = apply(client, 51, down_payment="6600.00")
    assert second["status"] == "declined"
    assert "down_payment_below_minimum" in [r["code"] for r in second["reasons"]]
    assert programme_tags(second) == []
    dpl, low = programme(session, "DPL-2026"), programme(session, "LOW-DOWN")
    assert (dpl.used_count, dpl.used_amount) == (1, Decimal("2000.00"))
    assert (low.used_count, low.used_amount) == (1, Decimal("1000.00"))
