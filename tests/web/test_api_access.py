"""Bearer tokens and ownership in the API: refusals are 401/403/404 and audited."""

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from lending.models import AuditEvent
from lending.models.enums import Role
from tests import factories as f


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def token_for(**user_fields) -> tuple[str, object]:
    user = f.UserFactory(**user_fields)
    token = f"lnd_test_{user.id:06d}_" + "x" * 20
    f.ApiTokenFactory(user_id=user.id, token=token)
    return token, user


def events(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return session.exec(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_missing_token_is_401_json_and_audited(session, client):
    response = client.get("/api/v1/products")
    assert response.status_code == 401
    assert response.json["error"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    [event] = events(session, "auth.token_refused")
    assert event.detail["reason"] == "missing"
    assert event.detail["path"] == "/api/v1/products"


def test_unknown_token_is_401_and_audited(session, client):
    response = client.get("/api/v1/products", headers=bearer("lnd_forged"))
    assert response.status_code == 401
    [event] = events(session, "auth.token_refused")
    assert event.detail["reason"] == "invalid"


def test_expired_and_revoked_tokens_are_refused(session, client):
    user = f.UserFactory()
    f.ApiTokenFactory(
        user_id=user.id, token="lnd_expired_1", expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    f.ApiTokenFactory(user_id=user.id, token="lnd_revoked_1", revoked_at=datetime.now(UTC))
    assert client.get("/api/v1/products", headers=bearer("lnd_expired_1")).status_code == 401
    assert client.get("/api/v1/products", headers=bearer("lnd_revoked_1")).status_code == 401
    assert len(events(session, "auth.token_refused")) == 2


def test_token_of_an_inactive_user_is_refused(session, client):
    token, _ = token_for(active=False)
    assert client.get("/api/v1/products", headers=bearer(token)).status_code == 401


def test_retailer_reads_its_own_application(session, client):
    token, agent = token_for(retailer=True)
    application = f.ApplicationFactory(retailer_id=agent.retailer_id)
    response = client.get(f"/api/v1/applications/{application.id}", headers=bearer(token))
    assert response.status_code == 200
    assert response.json["id"] == application.id
    assert response.json["status"] == "approved"


def test_retailer_reaching_for_another_shops_application_gets_404_and_is_audited(session, client):
    token, agent = token_for(retailer=True)
    foreign = f.ApplicationFactory()  # a different shop
    assert foreign.retailer_id != agent.retailer_id
    response = client.get(f"/api/v1/applications/{foreign.id}", headers=bearer(token))
    assert response.status_code == 404
    assert response.json == {"error": "not_found", "message": "Not found."}
    [event] = events(session, "access.foreign_object")
    assert (event.actor_id, event.object_type, event.object_id) == (
        agent.id,
        "applications",
        str(foreign.id),
    )


def test_missing_application_is_404_without_a_foreign_access_event(session, client):
    token, _ = token_for(retailer=True)
    assert client.get("/api/v1/applications/999999", headers=bearer(token)).status_code == 404
    assert events(session, "access.foreign_object") == []


def test_underwriter_reads_any_application(session, client):
    token, _ = token_for(role=Role.UNDERWRITER)
    application = f.ApplicationFactory()
    response = client.get(f"/api/v1/applications/{application.id}", headers=bearer(token))
    assert response.status_code == 200


def test_borrower_token_on_a_retailer_route_is_403_and_audited(session, client):
    token, borrower = token_for(role=Role.BORROWER)
    application = f.ApplicationFactory()
    response = client.get(f"/api/v1/applications/{application.id}", headers=bearer(token))
    assert response.status_code == 403
    [event] = events(session, "access.denied_role")
    assert event.actor_id == borrower.id


def test_products_show_amounts_as_strings_with_two_decimals(session, client):
    token, _ = token_for(role=Role.ADMIN)
    f.ProductFactory(code="QIST-T", processing_fee_fixed="750.5")
    f.ProductFactory(code="OLD", active=False)
    response = client.get("/api/v1/products", headers=bearer(token))
    assert response.status_code == 200
    [product] = response.json
    assert product["code"] == "QIST-T"
    assert product["processing_fee_fixed"] == "750.50"
    assert product["annual_rate"] == "36.00"
    assert product["max_dbr_pct"] == "40.00"


def test_device_models_filter_by_local_assembly(session, client):
    token, _ = token_for(retailer=True)
    local = f.DeviceModelFactory(manufacturer_id=f.ManufacturerFactory(assembled_in_pk=True).id)
    imported = f.DeviceModelFactory(manufacturer_id=f.ManufacturerFactory(assembled_in_pk=False).id)
    f.DeviceTacFactory(tac="35332716", device_model_id=local.id)
    body = client.get("/api/v1/device-models?assembled_in_pk=true", headers=bearer(token)).json
    assert [d["id"] for d in body] == [local.id]
    assert body[0]["tacs"] == ["35332716"]
    assert body[0]["list_price"] == "45999.00"
    body = client.get("/api/v1/device-models?assembled_in_pk=false", headers=bearer(token)).json
    assert [d["id"] for d in body] == [imported.id]


def test_bad_query_argument_is_422_with_field_errors(session, client):
    token, _ = token_for(retailer=True)
    response = client.get("/api/v1/device-models?assembled_in_pk=perhaps", headers=bearer(token))
    assert response.status_code == 422
    assert list(response.json["errors"]) == ["assembled_in_pk"]


def test_unknown_api_route_is_json_404(session, client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code in (401, 404)
    assert response.is_json
