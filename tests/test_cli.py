"""The `lending` commands: users, tokens and idempotent demo data."""

from sqlmodel import func, select

from lending.models import ApiToken, Product, User
from lending.services.seed import DEMO_LOGINS


def run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_users_add_and_token_issue_give_a_working_api_token(app, session, client):
    run(
        app,
        "users",
        "add",
        "--email",
        "Agent@Shop.pk",
        "--role",
        "retailer",
        "--retailer",
        "Madina Mobiles",
        "--password",
        "pw-123456",
    )
    token = run(app, "tokens", "issue", "--email", "agent@shop.pk").strip()
    assert token.startswith("lnd_")
    row = session.exec(select(ApiToken)).one()
    assert token not in row.token_hash and row.prefix == token[:12]
    assert (
        client.get("/api/v1/products", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    run(app, "tokens", "revoke", "--email", "agent@shop.pk")
    assert (
        client.get("/api/v1/products", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


def test_users_add_refuses_a_retailer_without_a_shop(app, session):
    result = app.test_cli_runner().invoke(
        args=["users", "add", "--email", "a@b.pk", "--role", "retailer", "--password", "x"]
    )
    assert result.exit_code != 0
    assert "shop" in result.output
    assert session.exec(select(func.count()).select_from(User)).one() == 0


def test_demo_seed_is_idempotent_and_its_logins_work(app, session, client, auth):
    first = run(app, "seed", "--demo")
    second = run(app, "seed", "--demo")
    for login in DEMO_LOGINS:
        assert login.email in first and login.email in second
    assert "products 0" in second
    session.expire_all()
    assert session.exec(select(func.count()).select_from(User)).one() == len(DEMO_LOGINS)
    assert session.exec(select(func.count()).select_from(Product)).one() == 4
    agent = next(x for x in DEMO_LOGINS if x.role == "retailer")
    assert auth.login(agent.email, agent.password).status_code == 302
    products = client.get("/api/v1/products", headers=auth.bearer(agent.token))
    assert {p["code"] for p in products.json} >= {"QIST-STD", "MURABAHA-12"}


def test_demo_seed_is_refused_in_production(tmp_path):
    from lending import create_app

    app = create_app(
        {"env": "production", "secret_key": "x", "database_url": f"sqlite:///{tmp_path}/p.db"}
    )
    result = app.test_cli_runner().invoke(args=["seed", "--demo"])
    assert result.exit_code != 0
    assert "refused in production" in result.output


def test_lending_quote_takes_a_rate_with_four_decimals(app):
    # Fineract's published 9.4822% progressive schedule: 100 over six months, 17.13 a month.
    args = ["quote", "--amount", "100", "--tenor", "6", "--start", "2024-01-01"]
    output = run(app, *args, "--rate", "9.4822", "--rounding", "0.01")
    assert "9.4822% a year" in output
    assert "PKR 17.13" in output and "PKR 0.79" in output
    refused = app.test_cli_runner().invoke(args=[*args, "--rate", "9.48221"])
    assert refused.exit_code == 2
    assert "rate: must have at most 4 decimal places" in refused.output
