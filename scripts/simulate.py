"""Simulate a portfolio: book loans through the real services, play days of borrower behaviour
with the nightly run each night, then check the book against a from-scratch replay.

    .venv/bin/python scripts/simulate.py [--loans 1000] [--days 120] [--seed 1]
        [--database-url URL] [--start 2026-01-05]

Without --database-url it runs on a temporary SQLite file (migrated, deleted afterwards); with
one it migrates that database, which must hold no loans yet (PostgreSQL or SQLite).

Booking: N applications over the four weeks before --start (weekly loans in the last week, so
that nothing falls due before the first simulated day), across the seeded products, through
`submit_application`, an underwriter's `decide_referral` for referrals and `accept_offer`; a
declined applicant is replaced by another. One transaction per booking day.

Days: for each of M days from --start the pinned clock moves to that day (15:00 Asia/Karachi)
and the borrowers act through the services (`post_payment`, `reverse_payment`,
`waive_late_fee`, `refund_credit`, `import_receipts`), all of a day's actions in one
transaction; then `run_nightly` runs the night for the date. Borrower kinds, a seeded mix:
on time, early (pays 1-5 days before due), late (pays after the grace days, sometimes a month
late), partial, overpaying (pays two instalments ahead, settles when that would settle the
loan), reversed (a card payment reversed by staff days later, then paid again), backdated (a
wallet receipt in a settlement file imported days after its paid_at, posted by reconcile;
some send one more after the end, rejected or refunded), silent (never pays); staff waive a
share of the late fees of late, partial and silent borrowers.

Replay mismatches: the nightly verify step's (it replays the loans touched that day and a
thirtieth of the book; where the runner has no such step, the simulator replays the loans it
acted on after each night instead), and at the end every loan replayed from scratch
(`verify.check`). Invariant violations: checked in SQL at the end, per kind (paid parts within
what is due, allocations summing to what each payment applied, no late fee, reminder or lock
for an instalment paid ahead, credit balances not negative, the trial balance balancing and
every ledger control account tying out to its sub-ledger, ...). The exit code is 1 if either
count is not 0. Progress goes to stderr every 30 days; the report, with the seconds of each
phase, to stdout.
"""

import argparse
import csv
import io
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session
from stdnum import luhn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lending.config import Settings  # noqa: E402
from lending.db import make_engine  # noqa: E402
from lending.errors import Conflict, InvalidInput, LendingError  # noqa: E402
from lending.finance.enums import TxnKind  # noqa: E402
from lending.finance.replay import INPUTS, replay  # noqa: E402
from lending.migrate import upgrade  # noqa: E402
from lending.models import (  # noqa: E402
    AuditEvent,
    Instalment,
    JobRun,
    Loan,
    LoanTransaction,
    OutboxMessage,
    Payment,
    PaymentAllocation,
    PaymentReceipt,
    Retailer,
)
from lending.models.enums import (  # noqa: E402
    ApplicationStatus,
    LoanStatus,
    OutboxChannel,
    PaymentChannel,
    PaymentStatus,
    ReceiptStatus,
    Role,
)
from lending.models.products import ProductVersion  # noqa: E402
from lending.scoring.scorecard import Scorecard, Thresholds  # noqa: E402
from lending.security import password_hasher  # noqa: E402
from lending.services import ledger, reference  # noqa: E402
from lending.services.adjustments import Adjustment, refund_credit, waive_late_fee  # noqa: E402
from lending.services.applications import (  # noqa: E402
    DecisionContext,
    Origin,
    Verdict,
    decide_referral,
    submit_application,
)
from lending.services.booking import accept_offer
from lending.services.loan_view import quote_payoff  # noqa: E402
from lending.services.nightly import verify  # noqa: E402
from lending.services.nightly.reconcile import end_of_day  # noqa: E402
from lending.services.nightly.runner import STEPS, NightlyConfig, run_nightly  # noqa: E402
from lending.services.payments import (  # noqa: E402
    PaymentRequest,
    Reversal,
    post_payment,
    reverse_payment,
)
from lending.services.products import booked_version  # noqa: E402
from lending.services.receipts import import_receipts  # noqa: E402
from lending.services.replay import servicing_terms, to_txn  # noqa: E402
from lending.services.seed import seed_reference  # noqa: E402
from lending.services.users import create_user  # noqa: E402

TZ = "Asia/Karachi"
KARACHI = ZoneInfo(TZ)
KINDS = ("on_time", "early", "late", "partial", "overpaying", "reversed", "backdated", "silent")
KIND_WEIGHTS = (30, 12, 14, 10, 8, 8, 10, 8)
# (product code, share of the loans): the seeded reducing monthly, flat, Murabaha, weekly.
PRODUCTS = (("QIST-STD", 35), ("QIST-FLAT", 25), ("MURABAHA-12", 20), ("QIST-WEEKLY", 20))
TENORS = {
    "QIST-STD": (3, 6, 9, 12),
    "QIST-FLAT": (3, 6, 12),
    "MURABAHA-12": (6, 12),
    "QIST-WEEKLY": (13, 26),
}
MIN_DOWN = {"QIST-STD": 25, "QIST-FLAT": 30, "MURABAHA-12": 20, "QIST-WEEKLY": 30}
# Locally assembled phones of the seeded registry: (TAC, list price).
PHONES = (
    ("35332716", 54999),
    ("35441213", 79999),
    ("86711205", 32999),
    ("86823106", 59999),
    ("35846711", 32999),
    ("35907824", 36999),
    ("86632507", 39999),
    ("86954408", 35999),
    ("86402309", 41999),
    ("35120610", 18999),
    ("35277911", 15999),
)
NAMES = ["Ahmed", "Bilal", "Fatima", "Hina", "Imran", "Kamran", "Maryam", "Nadia", "Omar", "Sana"]
NAMES += ["Tariq", "Usman", "Zainab", "Ayesha", "Faisal", "Rabia"]
FAMILIES = ["Khan", "Ali", "Shah", "Iqbal", "Butt", "Qureshi", "Malik", "Chaudhry", "Siddiqui"]
WORK = ("salaried",) * 6 + ("self_employed", "freelancer", "daily_wage")
WALLETS = (
    PaymentChannel.JAZZCASH,
    PaymentChannel.EASYPAISA,
    PaymentChannel.RAAST,
    PaymentChannel.BANK_TRANSFER,
)
SHOPS = 5
BOOKING_DAYS = 28
WAIVER_SHARE = 0.3  # of the late fees of late, partial and silent borrowers
CHUNK = 500  # ids per IN (...) list
SETTLED = (LoanStatus.SETTLED, LoanStatus.CLOSED)


# -- options and the database ------------------------------------------------------------


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loans", type=int, default=1000)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", default="", help="default: a temporary SQLite file")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 5))
    return parser.parse_args(argv)


def karachi(day: date, hour: int, minute: int = 0) -> datetime:
    """A moment of a business date in Karachi, as UTC."""
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=KARACHI)
    return local.astimezone(UTC)


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class timed:
    """Add the wall and CPU seconds of a block to `seconds[name]` and `seconds[name + " cpu"]`
    (the machine is shared: CPU seconds are the steadier figure)."""

    def __init__(self, seconds, name: str):
        self.seconds, self.name = seconds, name

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_exc):
        self.seconds[self.name] += time.perf_counter() - self.wall
        self.seconds[f"{self.name} cpu"] += time.process_time() - self.cpu


def chunks(items, size: int = CHUNK):
    items = list(items)
    for k in range(0, len(items), size):
        yield items[k : k + size]


@dataclass
class World:
    """The database, the clock's timezone and the people who act."""

    engine: Engine
    settings: Settings
    shops: list[tuple[int, int]]  # (retailer id, agent user id)
    underwriter_id: int
    admin_id: int


def prepare(url: str, settings: Settings) -> World:
    """Migrate, check the book is empty, seed the products and registry, shops and staff."""
    upgrade(url)
    engine = make_engine(url)
    reference.attach(engine, 3600)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        if session.execute(select(func.count()).select_from(Loan)).scalar_one():
            raise SystemExit("the database already holds loans: simulate into an empty one")
        if session.execute(select(func.count()).select_from(JobRun)).scalar_one():
            raise SystemExit("the database already has nightly runs: use an empty one")
        seed_reference(session)
        hasher = password_hasher(1, 8)
        shops = []
        for k in range(SHOPS):
            shop = Retailer(name=f"Simulated shop {k + 1}", city="Lahore")
            session.add(shop)
            session.flush()
            agent = create_user(
                session,
                email=f"agent{k + 1}@sim.pk",
                role=Role.RETAILER,
                retailer=shop,
                hasher=hasher,
            )
            shops.append((shop.id, agent.id))
        underwriter = create_user(
            session, email="underwriter@sim.pk", role=Role.UNDERWRITER, hasher=hasher
        )
        admin = create_user(session, email="admin@sim.pk", role=Role.ADMIN, hasher=hasher)
        ids = (underwriter.id, admin.id)
    return World(engine, settings, shops, *ids)


# -- booking ------------------------------------------------------------------------------


@dataclass
class Booked:
    """What booking did."""

    loans: list[int] = field(default_factory=list)
    outcomes: Counter = field(default_factory=Counter)  # approved, referred, declined
    products: Counter = field(default_factory=Counter)


def application(rng: random.Random, k: int, product: str, day: date) -> dict:
    """A validated application document for applicant number k."""
    # One phone in twenty is a model the registry does not know: referred to an underwriter.
    tac, price = ("99999999", 34999) if rng.random() < 0.05 else rng.choice(PHONES)
    serial = f"{tac}{k % 1_000_000:06d}"
    down_pct = rng.randint(MIN_DOWN[product] + 5, 50)
    down = (Decimal(price) * down_pct / 100).quantize(Decimal("1"), ROUND_HALF_UP)
    born = day - timedelta(days=365 * rng.randint(22, 48) + rng.randint(0, 364))
    return {
        "applicant": {
            "cnic": f"{rng.choice('1234567')}{k:011d}{rng.choice('123456789')}",
            "full_name": f"{rng.choice(NAMES)} {rng.choice(FAMILIES)}",
            "date_of_birth": born,
            "mobile": f"+923{k % 1_000_000_000:09d}",
            "monthly_income": Decimal(rng.randrange(45_000, 250_000, 5_000)),
            "monthly_obligations": Decimal(rng.choice((0, 0, 0, 5_000, 10_000))),
            "employment_type": rng.choice(WORK),
            "language": rng.choice(("en", "en", "ur")),
        },
        "device": {"imei": serial + luhn.calc_check_digit(serial), "price": Decimal(price)},
        "down_payment": down,
        "tenor": rng.choice(TENORS[product]),
        "product_code": product,
    }


def book(world: World, n: int, start: date, rng: random.Random) -> Booked:
    """Book n loans over the booking days before `start`, one transaction per day."""
    booked, settings = Booked(), world.settings
    weights = [share for _, share in PRODUCTS]
    plan = [rng.choices([p for p, _ in PRODUCTS], weights)[0] for _ in range(n)]
    by_day: dict[date, list[str]] = defaultdict(list)
    for product in plan:  # weekly loans in the last week: nothing falls due before day one
        back = rng.randint(1, 7 if product == "QIST-WEEKLY" else BOOKING_DAYS)
        by_day[start - timedelta(days=back)].append(product)
    applicants = 0
    for day in sorted(by_day):
        with Session(world.engine, expire_on_commit=False) as session, session.begin():
            for j, product in enumerate(by_day[day]):
                now = karachi(day, 10) + timedelta(seconds=20 * j)
                context = DecisionContext(
                    scorecard=Scorecard.default(),
                    thresholds=Thresholds(settings.score_approve, settings.score_refer),
                    bureau_url="",
                    bureau_timeout=1.0,
                    timezone=TZ,
                    now=now,
                )
                shop, agent = world.shops[len(booked.loans) % SHOPS]
                while True:  # a declined applicant is replaced by the next one
                    applicants += 1
                    snapshot = submit_application(
                        session=session,
                        data=application(rng, applicants, product, day),
                        origin=Origin(retailer_id=shop, user_id=agent),
                        context=context,
                    )
                    booked.outcomes[str(snapshot.status)] += 1
                    if snapshot.status != ApplicationStatus.DECLINED:
                        break
                    if applicants > 20 * n + 100:
                        raise SystemExit("almost every application is declined: check the mix")
                if snapshot.status == ApplicationStatus.REFERRED:
                    decide_referral(
                        session=session,
                        application_id=snapshot.id,
                        verdict=Verdict(
                            ApplicationStatus.APPROVED,
                            "Simulated: known customer",
                            world.underwriter_id,
                        ),
                        now=now,
                    )
                loan = accept_offer(
                    session=session, application_id=snapshot.id, user_id=agent, now=now, timezone=TZ
                )
                booked.loans.append(loan.id)
                booked.products[product] += 1
    return booked


# -- borrowers and their plans -------------------------------------------------------------


@dataclass(frozen=True)
class Borrower:
    """A booked loan, how its borrower behaves, and its schedule."""

    loan_id: int
    kind: str
    agent_id: int
    grace: int
    disbursed_on: date
    dues: tuple[tuple[int, date, Decimal], ...]  # (n, due date, instalment total)


@dataclass(frozen=True)
class Action:
    """One thing a borrower or staff does on a day."""

    what: str  # pay, reverse, waive, receipt, refund
    loan_id: int
    label: str = ""  # what kind of payment, for the report
    n: int = 0  # pay: up to this instalment; waive: this one
    fraction: float = 1.0  # pay: the share of what is owed up to n
    key: str = ""  # pay: its idempotency key; reverse: the key of the payment to reverse
    user_id: int | None = None  # pay: the shop's agent at the counter
    channel: PaymentChannel = PaymentChannel.CASH
    amount: Decimal = Decimal("0")  # receipt
    paid_at: datetime | None = None  # receipt


def borrowers(world: World, loans: list[int], rng: random.Random) -> list[Borrower]:
    """Give each booked loan a borrower kind, and read its schedule and grace days."""
    agents = dict(world.shops)
    schedules: dict[int, list] = defaultdict(list)
    facts = {}
    with Session(world.engine) as session:
        for ids in chunks(loans):
            for row in session.execute(
                select(Instalment.loan_id, Instalment.n, Instalment.due_date, Instalment.total)
                .where(Instalment.loan_id.in_(ids))
                .order_by(Instalment.loan_id, Instalment.n)
            ):
                schedules[row.loan_id].append((row.n, row.due_date, row.total))
            for row in session.execute(
                select(Loan.id, Loan.retailer_id, Loan.disbursed_on, ProductVersion.grace_days)
                .join(ProductVersion, booked_version())
                .where(Loan.id.in_(ids))
            ):
                facts[row.id] = row
    # A seeded mix, with every kind at least once when there are loans enough.
    rest = max(len(loans) - len(KINDS), 0)
    kinds = [*KINDS[: len(loans)], *rng.choices(KINDS, KIND_WEIGHTS, k=rest)]
    rng.shuffle(kinds)
    return [
        Borrower(
            loan_id=loan_id,
            kind=kind,
            agent_id=agents[facts[loan_id].retailer_id],
            grace=facts[loan_id].grace_days,
            disbursed_on=facts[loan_id].disbursed_on,
            dues=tuple(schedules[loan_id]),
        )
        for loan_id, kind in zip(loans, kinds, strict=True)
    ]


def plan(b: Borrower, rng: random.Random, seed: int) -> list[tuple[date, Action]]:
    """What the borrower (and staff, about the loan) will do, by day."""
    loan, out = b.loan_id, []

    def pay(day: date, label: str, n: int, **extra) -> tuple[date, Action]:
        key = f"sim{seed}:{loan}:{day.isoformat()}:{label}:{n}"
        return day, Action("pay", loan, label, n, key=key, user_id=b.agent_id, **extra)

    previous = b.disbursed_on
    for n, due, total in b.dues:
        if b.kind == "on_time":
            out.append(pay(due, "on_time", n))
        elif b.kind == "early":
            day = max(due - timedelta(days=rng.randint(1, 5)), previous + timedelta(days=1))
            out.append(pay(day, "early", n))
        elif b.kind == "late":
            late = rng.randint(31, 40) if rng.random() < 0.25 else b.grace + rng.randint(2, 10)
            out.append(pay(due + timedelta(days=late), "late", n))
        elif b.kind == "partial" and n % 3:
            out.append(pay(due, "partial", n, fraction=rng.uniform(0.4, 0.9)))
        elif b.kind == "partial":
            out.append(pay(due + timedelta(days=rng.randint(0, 5)), "catch_up", n))
        elif b.kind == "overpaying" and n % 3 == 1:
            day = max(due - timedelta(days=rng.randint(0, 3)), previous + timedelta(days=1))
            out.append(pay(day, "ahead", n + 2))
        elif b.kind == "reversed":
            out.append(pay(due, "on_time", n, channel=PaymentChannel.CARD))
        elif b.kind == "backdated":  # one transfer in four short of the instalment
            short = (total * Decimal(rng.randint(50, 90)) / 100).quantize(Decimal("1"))
            amount = short if rng.random() < 0.25 else total
            out.extend(receipt(b, rng, n, due - timedelta(days=rng.randint(0, 1)), amount))
        if b.kind in ("late", "partial", "silent") and rng.random() < WAIVER_SHARE:
            out.append((due + timedelta(days=b.grace + 2), Action("waive", loan, "waiver", n)))
        previous = due
    if b.kind == "overpaying" and rng.random() < 0.4:  # some settle early, and stop there
        n, due, _total = rng.choice(b.dues[1:] or b.dues)
        day = max(due - timedelta(days=rng.randint(0, 10)), b.disbursed_on + timedelta(days=1))
        out = [(d, a) for d, a in out if d < day] + [pay(day, "settle", len(b.dues))]
    if b.kind == "reversed":
        out = reversed_plan(b, rng, out)
    if b.kind == "backdated" and rng.random() < 0.3:  # one more transfer, after the end
        n, due, total = b.dues[-1]
        out.extend(receipt(b, rng, n, due + timedelta(days=8), total, stray=True))
    return out


def reversed_plan(b: Borrower, rng: random.Random, out: list) -> list:
    """One of the card payments is reversed by staff 2-6 days later; the borrower pays again."""
    k = rng.randrange(min(len(out), 3))  # early in the loan, so that it falls inside the run
    day, paid = out[k]
    undo = day + timedelta(days=rng.randint(2, 6))
    again = undo + timedelta(days=rng.randint(0, 2))
    key = paid.key.replace("on_time", "repay")
    return [
        *out,
        (undo, Action("reverse", b.loan_id, "reversal", paid.n, key=paid.key)),
        (again, Action("pay", b.loan_id, "repay", paid.n, key=key, user_id=b.agent_id)),
    ]


def receipt(b: Borrower, rng, n: int, paid_on: date, total, stray=False) -> list:
    """A wallet transfer on `paid_on` that reaches us in a settlement file 1-6 days later."""
    paid_on = max(paid_on, b.disbursed_on)
    paid_at = karachi(paid_on, rng.randint(9, 19), rng.randint(0, 59))
    channel = rng.choice(WALLETS)
    arrives = paid_on + timedelta(days=rng.randint(1, 6))
    label = "stray" if stray else "backdated"
    reference = f"{channel}-{b.loan_id}-{n}-{label}"
    found = [
        (
            arrives,
            Action(
                "receipt",
                b.loan_id,
                label,
                n,
                amount=total,
                paid_at=paid_at,
                channel=channel,
                key=reference,
            ),
        )
    ]
    if stray:  # a transfer after the loan is paid off: rejected, or kept as a credit, refunded
        found.append((arrives + timedelta(days=1), Action("refund", b.loan_id, "refund")))
    return found


# -- the days -----------------------------------------------------------------------------


@dataclass
class Tally:
    """What the days did: actions by label, refusals, the nights' counts, times."""

    done: Counter = field(default_factory=Counter)
    refused: Counter = field(default_factory=Counter)
    nights: Counter = field(default_factory=Counter)
    payments: dict[str, int] = field(default_factory=dict)  # idempotency key -> payment id
    # Loans that differed from their replay after a night (the first time): date, differences.
    differed: dict[int, tuple[date, list[str]]] = field(default_factory=dict)
    spot_checked: int = 0
    runner_verifies: bool = False  # the night has a verify step: no spot checks of our own
    seconds: Counter = field(default_factory=Counter)


STAFF_FIRST = {"waive": 0, "reverse": 1, "refund": 2, "pay": 3, "receipt": 4}
STRONGER = {"settle": 4, "ahead": 3, "repay": 2, "partial": 0}


def merged(actions: list[Action]) -> list[Action]:
    """Staff first, then payments (one per loan: the one reaching furthest), then receipts."""
    pays: dict[int, Action] = {}
    others = []
    for a in actions:
        if a.what != "pay":
            others.append(a)
            continue
        held = pays.get(a.loan_id)
        rank = (a.n, STRONGER.get(a.label, 1))
        if held is None or rank > (held.n, STRONGER.get(held.label, 1)):
            pays[a.loan_id] = a
    return sorted([*others, *pays.values()], key=lambda a: (STAFF_FIRST[a.what], a.loan_id))


def owed(session: Session, loan_ids: list[int]) -> dict[int, tuple[str, list]]:
    """Per loan: its status and, per instalment, (n, unpaid, late fee unpaid)."""
    found: dict[int, tuple[str, list]] = {}
    for ids in chunks(sorted(set(loan_ids))):
        status = dict(session.execute(select(Loan.id, Loan.status).where(Loan.id.in_(ids))).all())
        rows = defaultdict(list)
        for r in session.execute(
            select(
                Instalment.loan_id,
                Instalment.n,
                Instalment.total
                - Instalment.paid_principal
                - Instalment.paid_profit
                - Instalment.paid_fee,
                Instalment.late_fee - Instalment.late_fee_waived - Instalment.paid_late_fee,
            )
            .where(Instalment.loan_id.in_(ids))
            .order_by(Instalment.loan_id, Instalment.n)
        ):
            rows[r[0]].append((r[1], Decimal(r[2]), Decimal(r[3])))
        for loan_id in ids:
            found[loan_id] = (str(status[loan_id]), rows[loan_id])
    return found


def amount_of(action: Action, state: tuple[str, list]) -> Decimal:
    """What the borrower hands over: what is owed up to instalment n (a share if partial)."""
    status, rows = state
    if status != LoanStatus.ACTIVE:
        return Decimal("0")
    due = sum((unpaid + fee for n, unpaid, fee in rows if n <= action.n), Decimal("0"))
    if action.fraction < 1:
        due = (due * Decimal(str(round(action.fraction, 2)))).quantize(Decimal("1"))
    return due


def play_day(world: World, day: date, actions: list[Action], tally: Tally) -> None:
    """One day of borrowers and staff, in one transaction, at the day's pinned clock."""
    now = karachi(day, 15)
    with (
        timed(tally.seconds, "day actions"),
        Session(world.engine, expire_on_commit=False) as session,
        session.begin(),
    ):
        actions = merged(actions)
        staff = [a for a in actions if a.what in ("waive", "reverse", "refund")]
        for a in staff:
            staff_action(session, world, a, now, tally)
        session.flush()
        pays = [a for a in actions if a.what == "pay"]
        state = owed(session, [a.loan_id for a in pays]) if pays else {}
        with timed(tally.seconds, "counter payments"):
            for a in pays:
                pay(session, a, amount_of(a, state[a.loan_id]), now, tally)
        files = [a for a in actions if a.what == "receipt"]
        if files:
            settlement_file(session, files, tally)


def staff_action(session: Session, world: World, a: Action, now: datetime, tally: Tally):
    """A waiver, a reversal or a refund; one that does not apply (no fee, no credit) is
    skipped."""
    try:
        if a.what == "waive":
            waive_late_fee(
                session=session,
                adjustment=Adjustment(
                    a.loan_id, world.admin_id, "Simulated: goodwill", instalment=a.n
                ),
                now=now,
                timezone=TZ,
            )
        elif a.what == "reverse":
            payment_id = tally.payments.get(a.key)
            if payment_id is None:
                tally.refused["reversal of a payment not made"] += 1
                return
            reason = "Simulated: card payment charged back (bounced)"
            reverse_payment(
                session=session,
                reversal=Reversal(payment_id, world.admin_id, reason),
                now=now,
                timezone=TZ,
            )
        else:
            credit = session.get(Loan, a.loan_id).credit_balance
            if not credit:
                return
            refund_credit(
                session=session,
                adjustment=Adjustment(
                    a.loan_id, world.admin_id, "Simulated: refund of a credit", amount=credit
                ),
                now=now,
                timezone=TZ,
            )
    except LendingError as exc:  # nothing written: the service refuses before writing
        tally.refused[f"{a.label}: {type(exc).__name__}"] += 1
        return
    tally.done[a.label] += 1


def pay(session: Session, a: Action, amount: Decimal, now, tally: Tally) -> None:
    """A counter payment; one beyond what settles the loan is refused (422), and the borrower
    then pays what the payoff quote says instead."""
    if amount <= 0:
        return
    request = PaymentRequest(
        loan_id=a.loan_id,
        amount=amount,
        paid_at=now,
        channel=a.channel,
        reference=f"R-{a.key}",
        idempotency_key=a.key,
        user_id=a.user_id,
    )
    label = a.label
    if a.label == "settle":
        request = settle_request(session, request, now)
    try:
        posted = post_payment(session=session, request=request, now=now, timezone=TZ)
    except InvalidInput:
        tally.refused["counter overpayment (422), paid the payoff instead"] += 1
        request, label = settle_request(session, request, now), "settle"
        posted = post_payment(session=session, request=request, now=now, timezone=TZ)
    except Conflict as exc:
        tally.refused[f"payment: {exc.message}"] += 1
        return
    tally.payments[a.key] = posted.payment.id
    tally.done[f"{label} payment"] += 1


def settle_request(session: Session, request: PaymentRequest, now) -> PaymentRequest:
    """The same payment for what settles the loan today (the payoff quote)."""
    loan = session.get(Loan, request.loan_id)
    total = quote_payoff(session=session, loan=loan, as_of=now.astimezone(KARACHI).date()).total
    key = f"{request.idempotency_key}:payoff"
    return replace(request, amount=total, idempotency_key=key, reference=f"R-{key}")


def settlement_file(session: Session, files: list[Action], tally: Tally) -> None:
    """Today's settlement file: the wallet transfers that reached us today, paid days ago."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["loan_id", "amount", "paid_at", "channel", "reference"])
    for a in files:
        writer.writerow([a.loan_id, a.amount, a.paid_at.isoformat(), a.channel, a.key])
    report = import_receipts(session, out.getvalue())
    tally.done["receipts imported"] += report.added
    if report.errors:
        tally.refused["settlement file rows rejected"] += len(report.errors)
    for a in files:
        tally.done[f"{a.label} receipts"] += 1


def night(world: World, day: date, tally: Tally) -> None:
    """The nightly run for the day; its counts added up."""
    # The night for a date runs at 01:00 the next morning (the scheduler's time), pinned.
    config = NightlyConfig(timezone=TZ, clock=lambda: karachi(day + timedelta(days=1), 1))
    with timed(tally.seconds, "nights"):
        results = run_nightly(world.engine, day, config)
    for result in results:
        tally.runner_verifies = "verify" in result
        for step, counts in result.items():
            if isinstance(counts, dict):
                for name, value in counts.items():
                    if isinstance(value, int):  # not the check's `through` time
                        tally.nights[f"{step}.{name}"] += value


def play(
    world: World, people: list[Borrower], start: date, days: int, seed: int, rng: random.Random
) -> Tally:
    """Every day from `start`: the day's actions, then its night."""
    calendar: dict[date, list[Action]] = defaultdict(list)
    last = start + timedelta(days=days - 1)
    for b in people:
        for day, action in plan(b, rng, seed):
            if day <= last:
                calendar[max(day, start)].append(action)
    tally = Tally()
    for k in range(days):
        day = start + timedelta(days=k)
        actions = calendar.pop(day, [])
        play_day(world, day, actions, tally)
        night(world, day, tally)
        if not tally.runner_verifies:  # else the night has replayed what was touched today
            spot_check(world, day, {a.loan_id for a in actions}, tally)
        if (k + 1) % 30 == 0:
            payments = sum(v for label, v in tally.done.items() if label.endswith(" payment"))
            seconds = tally.seconds["day actions"] + tally.seconds["nights"]
            print(
                f"  day {k + 1}/{days} ({day}): {seconds:.0f} s so far, {payments:,} counter "
                f"payments",
                file=sys.stderr,
            )
    return tally


def spot_check(world: World, day: date, loan_ids: set[int], tally: Tally) -> None:
    """After the night, replay the loans acted on today (not the whole book) as of the date."""
    with timed(tally.seconds, "spot checks"), Session(world.engine) as session:
        for ids in chunks(sorted(loan_ids)):
            loans = session.execute(select(Loan).where(Loan.id.in_(ids))).scalars().all()
            for loan, differences in verify.check(session, loans, day):
                tally.spot_checked += 1
                if differences and loan.id not in tally.differed:
                    tally.differed[loan.id] = (day, differences)


# -- the checks ---------------------------------------------------------------------------


def replay_mismatches(engine: Engine, as_of: date) -> tuple[int, list[tuple[int, list[str]]]]:
    """Replay every loan from scratch and compare with what is stored (`verify.check`)."""
    checked, found = 0, []
    with Session(engine) as session:
        ids = session.execute(select(Loan.id).order_by(Loan.id)).scalars().all()
    for batch in chunks(ids, 1000):
        with Session(engine) as session:
            loans = session.execute(select(Loan).where(Loan.id.in_(batch))).scalars().all()
            for loan, differences in verify.check(session, loans, as_of):
                checked += 1
                if differences:
                    found.append((loan.id, differences))
    return checked, found


Ins = Instalment
PART_CHECKS = {
    "instalment principal paid outside 0..due": or_(
        Ins.paid_principal < 0, Ins.paid_principal > Ins.principal
    ),
    "instalment profit paid outside 0..due": or_(Ins.paid_profit < 0, Ins.paid_profit > Ins.profit),
    "instalment fee paid outside 0..due": or_(Ins.paid_fee < 0, Ins.paid_fee > Ins.fee),
    "instalment late fee paid + waived outside 0..charged": or_(
        Ins.paid_late_fee < 0,
        Ins.late_fee_waived < 0,
        Ins.paid_late_fee + Ins.late_fee_waived > Ins.late_fee,
    ),
}


def night_of(moment: datetime) -> date:
    """The night that first knew of a row written at `moment`: reconcile writes at midnight
    after its date, staff and counters during the day."""
    return (as_utc(moment) - timedelta(microseconds=1)).astimezone(KARACHI).date()


def invariant_violations(engine: Engine) -> dict[str, list[str]]:
    """Every violation found, by kind, each with what identifies it."""
    with Session(engine) as session:
        found = {
            kind: [
                f"loan {r.loan_id} instalment {r.n}"
                for r in session.execute(select(Ins.loan_id, Ins.n).where(broken))
            ]
            for kind, broken in PART_CHECKS.items()
        }
        ahead = paid_ahead(session)
        without, early = unfounded_locks(session)
        active, paid_off = Loan.status == LoanStatus.ACTIVE, Loan.status.in_(SETTLED)
        found |= {
            "payment allocations do not sum to amount - unapplied (reversed: 0)": (
                allocation_gaps(session)
            ),
            "late fee on an instalment paid in full ahead of its due date": (
                fees_when_paid_ahead(session, ahead)
            ),
            "reminder for an instalment after it was paid in full ahead of its due date": (
                reminders_when_paid_ahead(session, ahead)
            ),
            "lock while no instalment was in arrears": without,
            "lock before the product's days-past-due threshold": early,
            "device still locked on a loan with nothing overdue": loans_where(
                session, active, Loan.device_locked, Loan.days_past_due == 0
            ),
            "device not released on a loan paid off": loans_where(
                session, paid_off, ~Loan.device_released
            ),
            "credit balance below 0": loans_where(session, Loan.credit_balance < 0),
            "trial balance does not balance": unbalanced_books(session),
        }
    found["ledger control account differs from its sub-ledger"] = ledger_differences(engine)
    return found


def unbalanced_books(session: Session) -> list[str]:
    """The trial balance of every entry posted: debits must equal credits."""
    books = ledger.trial_balance(session, date.max)
    return [] if books.balanced else [f"debits {books.debit}, credits {books.credit}"]


def ledger_differences(engine: Engine) -> list[str]:
    """The nightly tie-out of each control account against its sub-ledger, at the end."""
    try:
        ledger.tie_out(engine)
    except ledger.OutOfBalance as exc:
        return [str(exc)]
    return []


def loans_where(session: Session, *where) -> list[str]:
    return [f"loan {i}" for i in session.execute(select(Loan.id).where(*where)).scalars()]


def allocation_gaps(session: Session) -> list[str]:
    """Payments whose allocation rows do not add up to what they applied."""
    A = PaymentAllocation
    sums = (
        select(A.payment_id, func.sum(A.late_fee + A.fee + A.profit + A.principal).label("s"))
        .group_by(A.payment_id)
        .subquery()
    )
    allocated = func.coalesce(sums.c.s, 0)
    applied = case(
        (Payment.status == PaymentStatus.REVERSED, 0), else_=Payment.amount - Payment.unapplied
    )
    rows = session.execute(
        select(
            Payment.id,
            Payment.loan_id,
            Payment.status,
            Payment.amount,
            Payment.unapplied,
            allocated.label("allocated"),
        )
        .outerjoin(sums, sums.c.payment_id == Payment.id)
        .where(applied != allocated)
    )
    return [
        f"payment {r.id} (loan {r.loan_id}, {r.status}): amount {r.amount}, unapplied "
        f"{r.unapplied}, allocated {r.allocated}"
        for r in rows
    ]


@dataclass(frozen=True)
class Ahead:
    """An instalment paid in full before its due date, and the night its payments were known."""

    id: int
    loan_id: int
    n: int
    due_date: date
    paid_on: date
    known: date
    late_fee: Decimal


def paid_ahead(session: Session) -> dict[int, Ahead]:
    """The instalments paid in full ahead of their due dates, with the night by which every
    payment that paid them had been posted (a backdated receipt is known when it is posted)."""
    rows = session.execute(
        select(Ins.id, Ins.loan_id, Ins.n, Ins.due_date, Ins.paid_on, Ins.late_fee).where(
            Ins.paid_on.is_not(None), Ins.paid_on < Ins.due_date
        )
    ).all()
    A = PaymentAllocation
    known: dict[int, date] = {}
    for ids in chunks([r.id for r in rows]):
        net = func.sum(A.late_fee + A.fee + A.profit + A.principal)
        for r in session.execute(
            select(A.instalment_id, Payment.created_at)
            .join(Payment, Payment.id == A.payment_id)
            .where(A.instalment_id.in_(ids), Payment.status == PaymentStatus.POSTED)
            .group_by(A.instalment_id, A.payment_id, Payment.created_at)
            .having(net > 0)
        ):
            night = night_of(r.created_at)
            known[r.instalment_id] = max(known.get(r.instalment_id, night), night)
    return {
        r.id: Ahead(
            r.id, r.loan_id, r.n, r.due_date, r.paid_on, known.get(r.id, r.paid_on), r.late_fee
        )
        for r in rows
    }


def fees_when_paid_ahead(session: Session, ahead: dict[int, Ahead]) -> list[str]:
    """A late fee on an instalment paid ahead: stored now, or charged for a date by which the
    payments that paid it were known."""
    found = [
        f"loan {a.loan_id} instalment {a.n}: late fee {a.late_fee} stored"
        for a in ahead.values()
        if a.late_fee > 0
    ]
    by_loan = {(a.loan_id, a.n): a for a in ahead.values()}
    for ids in chunks({a.loan_id for a in ahead.values()}):
        for t in session.execute(
            select(
                LoanTransaction.loan_id,
                LoanTransaction.instalment_n,
                LoanTransaction.value_date,
                LoanTransaction.amount,
            ).where(LoanTransaction.loan_id.in_(ids), LoanTransaction.kind == TxnKind.LATE_FEE)
        ):
            a = by_loan.get((t.loan_id, t.instalment_n))
            if a is not None and t.value_date >= a.known:
                found.append(
                    f"loan {a.loan_id} instalment {a.n} (due {a.due_date}, paid {a.paid_on}, "
                    f"known {a.known}): late fee {t.amount} charged for {t.value_date}"
                )
    return found


def reminders_when_paid_ahead(session: Session, ahead: dict[int, Ahead]) -> list[str]:
    """A reminder queued for an instalment on a night that knew it was paid ahead."""
    offsets = {
        o
        for row in session.execute(select(ProductVersion.reminder_offsets)).scalars()
        for o in row or []
    }
    keys = {
        f"reminder:{a.id}:{o}:{channel}": (a, o)
        for a in ahead.values()
        for o in offsets
        if a.due_date + timedelta(days=o) >= a.known
        for channel in ("sms", "email")
    }
    found = []
    for batch in chunks(keys):
        for key in session.execute(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(batch))
        ).scalars():
            a, o = keys[key]
            found.append(
                f"loan {a.loan_id} instalment {a.n} (due {a.due_date}, paid {a.paid_on}, known "
                f"{a.known}): reminder on {a.due_date + timedelta(days=o)} ({key})"
            )
    return found


def unfounded_locks(session: Session) -> tuple[list[str], list[str]]:
    """Lock signals that the loan's history, as known on the night they were sent, does not
    justify: nothing in arrears, or fewer days past due than the product's threshold."""
    locks = defaultdict(list)
    for loan_id, key in session.execute(
        select(OutboxMessage.loan_id, OutboxMessage.dedupe_key).where(
            OutboxMessage.channel == OutboxChannel.WEBHOOK,
            OutboxMessage.dedupe_key.like("device:%:lock:%"),
        )
    ):
        locks[loan_id].append(date.fromisoformat(key.rsplit(":", 1)[1]))
    without, early = [], []
    for ids in chunks(locks):
        loans = session.execute(select(Loan).where(Loan.id.in_(ids))).scalars().all()
        thresholds = dict(
            session.execute(
                select(Loan.id, ProductVersion.lock_after_dpd)
                .join(ProductVersion, booked_version())
                .where(Loan.id.in_(ids))
            ).all()
        )
        for loan in loans:
            rows = tuple(
                session.execute(
                    select(Instalment).where(Instalment.loan_id == loan.id).order_by(Instalment.n)
                ).scalars()
            )
            history = (
                session.execute(
                    select(LoanTransaction).where(
                        LoanTransaction.loan_id == loan.id, LoanTransaction.kind.in_(list(INPUTS))
                    )
                )
                .scalars()
                .all()
            )
            terms = servicing_terms(session, loan, rows)
            for night in locks[loan.id]:
                cutoff = end_of_day(night, TZ)
                txns = [to_txn(t) for t in history if as_utc(t.created_at) <= cutoff]
                dpd = replay(terms, txns, night).days_past_due
                if dpd == 0:
                    without.append(f"loan {loan.id}: locked on {night} with nothing overdue")
                elif dpd < thresholds[loan.id]:
                    early.append(f"loan {loan.id}: locked on {night} at {dpd} days past due")
    return without, early


# -- the report ---------------------------------------------------------------------------


@dataclass
class Report:
    """What happened, and the two numbers that must be 0."""

    options: argparse.Namespace
    backend: str
    booked: Booked
    kinds: Counter
    tally: Tally
    book: dict
    checked: int
    mismatches: list
    nightly_mismatches: int | None  # as the nightly verify step counted them, if it ran
    nightly_found: list  # (loan id, night, differences) of its replay.mismatch audit events
    violations: dict[str, list[str]]
    seconds: Counter  # wall seconds by phase, and CPU seconds under "<phase> cpu"

    @property
    def violation_count(self) -> int:
        return sum(len(v) for v in self.violations.values())

    @property
    def mismatch_count(self) -> int:
        """Loans that differed from their replay, at the end or after a night, and what the
        nightly verify step counted (if the runner has one)."""
        loans = {loan_id for loan_id, _ in self.mismatches} | set(self.tally.differed)
        loans |= {loan_id for loan_id, _, _ in self.nightly_found}
        return len(loans) or (self.nightly_mismatches or 0)

    @property
    def happened(self) -> dict[str, int]:
        """How often each borrower kind's behaviour (and the staff waivers) happened."""
        done = self.tally.done
        return {
            "on_time": done["on_time payment"],
            "early": done["early payment"],
            "late": done["late payment"],
            "partial": done["partial payment"],
            "overpaying": done["ahead payment"],
            "reversed": done["reversal"],
            "backdated": self.book["backdated receipts posted"],
            "silent": self.book["silent loans never paid"],
            "waivers": done["waiver"],
        }

    @property
    def exit_code(self) -> int:
        return 1 if self.mismatch_count or self.violation_count else 0


def book_counts(engine: Engine) -> dict:
    """Counts read from the book at the end."""
    with Session(engine) as session:

        def count(model, *where):
            return session.execute(
                select(func.count()).select_from(model).where(*where)
            ).scalar_one()

        T, Out, R = LoanTransaction, OutboxMessage, PaymentReceipt
        kinds = dict(session.execute(select(T.kind, func.count()).group_by(T.kind)).all())
        by_status = select(Loan.status, func.count()).group_by(Loan.status)
        statuses = dict(session.execute(by_status).all())
        # Backdated: posted on a night after the business day it was paid.
        posted = session.execute(
            select(R.paid_at, Payment.created_at).join(Payment, Payment.id == R.payment_id)
        ).all()
        backdated = sum(
            night_of(at) > as_utc(paid).astimezone(KARACHI).date() for paid, at in posted
        )
        steps = session.execute(
            select(JobRun.job, func.sum(JobRun.duration_ms))
            .where(JobRun.job.like("nightly.%"))
            .group_by(JobRun.job)
        ).all()
        order = {step: k for k, step in enumerate(STEPS)}
        steps = sorted(
            ((job.removeprefix("nightly."), ms or 0) for job, ms in steps),
            key=lambda row: (order.get(row[0], len(order)), row[0]),
        )
        return {
            "step ms": dict(steps),
            "payments": count(Payment),
            "reversed payments": count(Payment, Payment.status == PaymentStatus.REVERSED),
            "fees charged": kinds.get(TxnKind.LATE_FEE, 0),
            "fees reversed": kinds.get(TxnKind.LATE_FEE_REVERSAL, 0),
            "charity fees": count(
                T, T.kind == TxnKind.LATE_FEE, Loan.id == T.loan_id, Loan.islamic
            ),
            "waivers": kinds.get(TxnKind.WAIVER, 0),
            "refunds": kinds.get(TxnKind.REFUND, 0),
            "receipts posted": count(R, R.status == ReceiptStatus.POSTED),
            "receipts rejected": count(R, R.status == ReceiptStatus.REJECTED),
            "receipts waiting": count(R, R.status == ReceiptStatus.RECEIVED),
            "backdated receipts posted": backdated,
            "reminders sms": count(
                Out, Out.dedupe_key.like("reminder:%"), Out.channel == OutboxChannel.SMS
            ),
            "reminders email": count(
                Out, Out.dedupe_key.like("reminder:%"), Out.channel == OutboxChannel.EMAIL
            ),
            **{
                f"signals {s}": count(Out, Out.channel == OutboxChannel.WEBHOOK, Out.subject == s)
                for s in ("lock", "unlock", "release")
            },
            **{f"loans {s}": statuses.get(s, 0) for s in LoanStatus},
            "silent loans never paid": 0,
        }


def print_report(r: Report) -> None:
    o, t, b, book_ = r.options, r.tally, r.booked, r.book
    last = o.start + timedelta(days=o.days - 1)
    print(
        f"portfolio simulation: {len(b.loans):,} loans, {o.days} days ({o.start} to {last}), "
        f"seed {o.seed}, {r.backend}"
    )
    s, ts = r.seconds, t.seconds
    print(
        f"  booking   {s['booking']:8.1f} s (CPU {s['booking cpu']:.1f} s)  applications "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(b.outcomes.items()))
        + "; products "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(b.products.items()))
    )
    print(
        f"  days      {s['days']:8.1f} s (CPU {s['days cpu']:.1f} s)  (borrowers and staff "
        f"{ts['day actions']:.1f} s (CPU {ts['day actions cpu']:.1f} s, of which counter "
        f"payments {ts['counter payments']:.1f} s), nights {ts['nights']:.1f} s (CPU "
        f"{ts['nights cpu']:.1f} s), spot checks {ts['spot checks']:.1f} s, "
        f"{s['days'] / max(o.days, 1):.2f} s a day)"
    )
    print(
        "  nights by step: "
        + ", ".join(f"{step} {ms / 1000:.1f} s" for step, ms in r.book["step ms"].items())
    )
    print(f"  checks    {s['checks']:8.1f} s (CPU {s['checks cpu']:.1f} s)")
    total = s["booking"] + s["days"] + s["checks"]
    cpu = s["booking cpu"] + s["days cpu"] + s["checks cpu"]
    print(f"  total     {total:8.1f} s (CPU {cpu:.1f} s in this process)")
    print("borrowers: " + ", ".join(f"{k} {r.kinds[k]:,}" for k in KINDS))
    print(
        "happened: "
        + ", ".join(f"{k} {v:,}" for k, v in r.happened.items())
        + " (payments, reversals, backdated receipts posted, silent loans never paid, waivers)"
    )
    print("done: " + ", ".join(f"{k} {v:,}" for k, v in sorted(t.done.items())))
    if t.refused:
        print("refused: " + ", ".join(f"{k} {v:,}" for k, v in sorted(t.refused.items())))
    n = t.nights
    print(
        f"payments posted {book_['payments']:,} (reversed {book_['reversed payments']:,}); "
        f"reversals {t.done['reversal']:,}; waivers {book_['waivers']:,}; "
        f"refunds {book_['refunds']:,}"
    )
    print(
        f"receipts: posted {book_['receipts posted']:,} (backdated "
        f"{book_['backdated receipts posted']:,}), rejected {book_['receipts rejected']:,}, "
        f"waiting {book_['receipts waiting']:,}; settlement file rows rejected "
        f"{t.refused['settlement file rows rejected']:,}"
    )
    print(
        f"late fees: charged {book_['fees charged']:,} (charity {book_['charity fees']:,}), "
        f"reversed {book_['fees reversed']:,}; the nights' late-fee step: "
        + ", ".join(f"{k[10:]} {v:,}" for k, v in sorted(n.items()) if k.startswith("late_fees."))
    )
    print(
        f"reminders queued: {book_['reminders sms'] + book_['reminders email']:,} "
        f"(sms {book_['reminders sms']:,}, email {book_['reminders email']:,})"
    )
    print(
        f"device signals queued: lock {book_['signals lock']:,}, unlock "
        f"{book_['signals unlock']:,}, release {book_['signals release']:,}"
    )
    print(
        "loans: "
        + ", ".join(f"{s} {book_[f'loans {s}']:,}" for s in LoanStatus)
        + f"; silent borrowers who never paid {book_['silent loans never paid']:,}"
    )
    nightly = (
        "not reported by the runner"
        if r.nightly_mismatches is None
        else f"{r.nightly_mismatches:,} in {n['verify.loans']:,} loan checks"
    )
    spots = (
        "none (the nightly verify step replays the loans touched)"
        if t.runner_verifies
        else f"{t.spot_checked:,} checks, {len(t.differed)} loans differed"
    )
    print(
        f"replay mismatches: {r.mismatch_count} loans (every loan replayed at the end: "
        f"{r.checked:,} checked, {len(r.mismatches)} differ; nightly verify step: {nightly}; "
        f"the simulator's own checks after each night of the loans acted on: {spots})"
    )
    for loan_id, night_, differences in r.nightly_found[:10]:
        print(f"  loan {loan_id} on the night of {night_}: " + "; ".join(differences[:6]))
    for loan_id, differences in r.mismatches[:10]:
        print(f"  loan {loan_id} at the end: " + "; ".join(differences[:6]))
    for loan_id, (day, differences) in list(t.differed.items())[:10]:
        print(f"  loan {loan_id} after the night of {day}: " + "; ".join(differences[:6]))
    print(f"invariant violations: {r.violation_count}")
    for kind, found in r.violations.items():
        print(f"  {kind}: {len(found)}")
        for line in found[:5]:
            print(f"    {line}")


def nightly_found(engine: Engine) -> list:
    """The loans the nightly verify step found different, from its audit events."""
    with Session(engine) as session:
        events = session.execute(
            select(AuditEvent.object_id, AuditEvent.detail)
            .where(AuditEvent.action == "replay.mismatch")
            .order_by(AuditEvent.id)
        ).all()
    return [
        (int(loan_id), (detail or {}).get("as_of"), (detail or {}).get("differences", []))
        for loan_id, detail in events
    ]


def silent_never_paid(engine: Engine, people: list[Borrower]) -> int:
    silent = [b.loan_id for b in people if b.kind == "silent"]
    paid = set()
    with Session(engine) as session:
        for ids in chunks(silent):
            paid |= set(
                session.execute(select(Payment.loan_id).where(Payment.loan_id.in_(ids))).scalars()
            )
    return len(set(silent) - paid)


def simulate(options: argparse.Namespace, url: str) -> Report:
    settings, rng = Settings(), random.Random(options.seed)
    seconds = Counter()
    with timed(seconds, "booking"):
        world = prepare(url, settings)
        booked = book(world, options.loans, options.start, rng)
        people = borrowers(world, booked.loans, rng)
    with timed(seconds, "days"):
        tally = play(world, people, options.start, options.days, options.seed, rng)
    with timed(seconds, "checks"):
        last = options.start + timedelta(days=options.days - 1)
        checked, mismatches = replay_mismatches(world.engine, last)
        violations = invariant_violations(world.engine)
        book_ = book_counts(world.engine)
        book_["silent loans never paid"] = silent_never_paid(world.engine, people)
    nightly = tally.nights["verify.mismatches"] if tally.runner_verifies else None
    found = nightly_found(world.engine)
    world.engine.dispose()
    return Report(
        options,
        world.engine.dialect.name,
        booked,
        Counter(b.kind for b in people),
        tally,
        book_,
        checked,
        mismatches,
        nightly,
        found,
        violations,
        seconds,
    )


def run(argv=None) -> Report:
    """Parse the options, simulate, print the report; return it."""
    options = parse_args(argv)
    if options.database_url:
        report = simulate(options, options.database_url)
    else:
        with tempfile.TemporaryDirectory(prefix="simulate-") as workdir:
            report = simulate(options, f"sqlite:///{workdir}/simulate.db")
    print_report(report)
    return report


def main(argv=None) -> int:
    return run(argv).exit_code


if __name__ == "__main__":
    sys.exit(main())
