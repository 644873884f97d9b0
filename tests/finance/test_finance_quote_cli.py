"""`quote` and `apr` commands (click's CliRunner) and the quote schemas."""

import json
from datetime import date
from decimal import Decimal

import pytest
from click.testing import CliRunner
from marshmallow import ValidationError

from lending.finance.dates import add_months
from lending.finance.enums import Method
from lending.finance.schedule import build_schedule
from lending.finance.terms import LoanTerms
from lending.jobs.quote_cli import apr_command, quote
from lending.schemas.quote import OfferSchema, QuoteArgsSchema

D = Decimal
BASE = ["--amount", "100000", "--rate", "30", "--tenor", "6", "--start", "2025-01-15"]


def run(command, args, stdin=None):
    return CliRunner().invoke(command, args, input=stdin)


def test_quote_prints_a_table_in_pkr():
    result = run(quote, BASE + ["--fee", "2000", "--fee-upfront"])
    assert result.exit_code == 0, result.output
    assert "PKR 18,155.00" in result.output
    assert "APR:             37.29%" in result.output
    assert result.output.count("2025-0") == 7  # the heading and six due dates


def test_quote_json_is_the_offer_document():
    result = run(quote, BASE + ["--method", "flat", "--rounding", "0.01", "--json"])
    assert result.exit_code == 0, result.output
    offer = json.loads(result.output)
    assert offer["financed_amount"] == "100000.00"
    assert offer["instalments"] == 6 and offer["frequency"] == "monthly"
    assert offer["apr"] == "49.75"  # numpy-financial irr x 12: 49.746
    assert offer["schedule"][0] == {
        "n": 1,
        "due_date": "2025-02-15",
        "principal": "16666.67",
        "profit": "2500.00",
        "fee": "0.00",
        "total": "19166.67",
        "balance_after": "83333.33",
    }
    assert offer["total_payable"] == "115000.00"


@pytest.mark.parametrize(
    ("args", "fields"),
    [
        (["--amount", "-5", "--rate", "30", "--tenor", "6"], ["amount"]),
        (["--amount", "1000", "--rate", "300", "--tenor", "0"], ["rate", "tenor"]),
        (BASE + ["--method", "balloon"], ["method"]),
        (BASE + ["--first-due", "2025-01-01"], ["first_due"]),
        (BASE + ["--rounding", "5"], ["rounding"]),
        (["--amount", "abc", "--rate", "30", "--tenor", "6"], ["amount"]),
    ],
)
def test_quote_bad_input_is_a_usage_error_naming_fields(args, fields):
    result = run(quote, args)
    assert result.exit_code == 2
    for field in fields:
        assert f"{field}:" in result.output


def test_quote_takes_a_rate_with_four_decimals_and_prints_it_as_given():
    args = ["--amount", "100000", "--rate", "9.4822", "--tenor", "12", "--start", "2024-01-01"]
    result = run(quote, args + ["--rounding", "0.01"])
    assert result.exit_code == 0, result.output
    assert "9.4822% a year" in result.output
    assert "PKR 790.18" in result.output  # the first month's profit at 9.4822%, not 9.48%
    assert "Instalment:      PKR 8,767.52" in result.output
    offer = json.loads(run(quote, args + ["--json"]).output)
    assert offer["instalment_amount"] == "8768.00"
    assert offer["schedule"][0]["profit"] == "790.18"


@pytest.mark.parametrize("rate", ["9.48221", "0.00001"])
def test_quote_refuses_a_rate_with_five_decimals(rate):
    result = run(quote, ["--amount", "100000", "--rate", rate, "--tenor", "12"])
    assert result.exit_code == 2
    assert "rate: must have at most 4 decimal places" in result.output
    assert "Traceback" not in result.output


def test_quote_args_load_four_place_rates_and_name_the_rate_on_five():
    args = {"amount": "100000", "tenor": "12", "start": "2024-01-01"}
    assert QuoteArgsSchema().load({**args, "rate": "9.4822"}).annual_rate == D("9.4822")
    with pytest.raises(ValidationError) as raised:
        QuoteArgsSchema().load({**args, "rate": "9.48221"})
    assert raised.value.messages == {"rate": ["must have at most 4 decimal places"]}


def appendix_j_c1i() -> dict:
    # Reg Z Appendix J (c)(1)(i): $5,000 advanced, 24 monthly payments of $230 -> 9.69%.
    payments = [
        {"amount": "230.00", "date": add_months(date(1978, 2, 10), k).isoformat()}
        for k in range(24)
    ]
    return {
        "advances": [{"amount": 5000, "date": "1978-01-10"}],
        "payments": payments,
        "unit_period": "month",
    }


def test_apr_reads_stdin(tmp_path):
    result = run(apr_command, ["-"], json.dumps(appendix_j_c1i()))
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"apr": "9.69"}
    path = tmp_path / "credit.json"
    path.write_text(json.dumps(appendix_j_c1i()))
    assert json.loads(run(apr_command, [str(path)]).output) == {"apr": "9.69"}


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"advances": [], "payments": [{"amount": "1", "date": "2024-01-01"}]}, "advances"),
        ({**appendix_j_c1i(), "unit_period": "fortnight"}, "unit_period"),
        ({**appendix_j_c1i(), "advances": [{"amount": "5000", "date": "10/01/1978"}]}, "advances"),
        ({**appendix_j_c1i(), "advances": [{"amount": "5000", "date": "1979-01-10"}]}, "payments"),
        ({**appendix_j_c1i(), "unit_period": "single"}, "unit_period"),
    ],
)
def test_apr_bad_input_is_a_usage_error(document, field):
    result = run(apr_command, ["-"], json.dumps(document))
    assert result.exit_code == 2
    assert f"{field}:" in result.output


def test_apr_rejects_broken_json():
    assert run(apr_command, ["-"], "{not json").exit_code == 2
    assert run(apr_command, ["-"], "[1, 2]").exit_code == 2


def test_quote_args_take_product_defaults():
    defaults = {"annual_rate": D("24"), "method": Method.FLAT, "start": date(2025, 1, 15)}
    terms = QuoteArgsSchema(defaults=defaults).load(
        {"amount": "60000", "tenor": "12", "product_code": "QIST-FLAT"}
    )
    assert terms == LoanTerms(
        principal=D("60000"),
        annual_rate=D("24"),
        tenor=12,
        start=date(2025, 1, 15),
        method=Method.FLAT,
    )
    overridden = QuoteArgsSchema(defaults=defaults).load(
        {"amount": "60000", "tenor": "12", "rate": "30"}
    )
    assert overridden.annual_rate == D("30")


def test_quote_args_errors_use_the_public_names():
    with pytest.raises(ValidationError) as raised:
        QuoteArgsSchema().load({"amount": "0", "tenor": "3", "rate": "150", "start": "2025-01-01"})
    assert set(raised.value.messages) == {"amount", "rate"}
    with pytest.raises(ValidationError) as raised:
        QuoteArgsSchema().load({"tenor": "3"})
    assert set(raised.value.messages) == {"amount"}
    with pytest.raises(ValidationError) as raised:
        QuoteArgsSchema().load({"amount": "100", "tenor": "3"})
    assert set(raised.value.messages) == {"rate", "start"}


def test_offer_schema_amounts_are_strings_with_two_places():
    schedule = build_schedule(
        LoanTerms(
            principal=D("10000"),
            annual_rate=D("12"),
            tenor=12,
            start=date(2024, 1, 15),
            rounding=D("0.01"),
        )
    )
    offer = OfferSchema().dump(schedule)
    assert offer["instalment_amount"] == "888.49" and offer["apr"] == "12.00"
    assert offer["schedule"][-1]["total"] == "888.47"
    assert offer["schedule"][-1]["balance_after"] == "0.00"
    assert offer["schedule"][0]["due_date"] == "2024-02-15"
