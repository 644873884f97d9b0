"""Payments in the API: cash at the counter, the gateway's signed callback, reversals."""

import hashlib
import hmac

from flask import current_app, jsonify, request
from marshmallow import ValidationError

from lending.db import get_session
from lending.errors import InvalidInput, Unauthorized
from lending.models import Loan
from lending.models.enums import STAFF_ROLES, PaymentChannel, Role
from lending.schemas.payments import (
    IdempotencyKeySchema,
    PaymentInputSchema,
    ReversalInputSchema,
    WaiverInputSchema,
    WebhookPaymentSchema,
)
from lending.services.adjustments import Adjustment, waive_late_fee
from lending.services.payments import PaymentRequest, Reversal, post_payment, reverse_payment
from lending.web.access import audit_refusal, current_actor, owned, role_required
from lending.web.api import bp, public
from lending.web.context import json_body, utcnow
from lending.web.errors import flatten_errors


def _timezone() -> str:
    return current_app.extensions["lending.settings"].timezone


def _post(request_: PaymentRequest):
    session = get_session()
    posted = post_payment(session=session, request=request_, now=utcnow(), timezone=_timezone())
    session.commit()
    return posted


# Stateless: built once.
_KEY = IdempotencyKeySchema()
_PAYMENT = PaymentInputSchema()


@bp.post("/loans/<int:loan_id>/payments")
@role_required(Role.ADMIN, Role.UNDERWRITER, Role.RETAILER)
@owned(Loan, "loan_id")
def post_loan_payment(loan: Loan):
    """Record a payment on a loan (cash at the counter); the Idempotency-Key makes it once only.
    ---
    post:
      summary: Post a payment (staff, or the shop that sold the loan)
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: loan_id, required: true, schema: {type: integer}}
        - {in: header, name: Idempotency-Key, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: PaymentInput
      responses:
        201:
          content:
            application/json:
              schema: PaymentResult
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    key, data = _counter_input()
    actor = current_actor()
    if data["allow_overpayment"] and actor.role not in STAFF_ROLES:
        raise InvalidInput(
            {"allow_overpayment": ["Only staff can accept more than settles the loan."]}
        )
    posted = _post(
        PaymentRequest(
            loan_id=loan.id,
            amount=data["amount"],
            paid_at=data["paid_at"],
            channel=PaymentChannel(data["channel"]),
            reference=data["reference"],
            idempotency_key=f"u{actor.id}:{key}",  # one client's keys never meet another's
            user_id=actor.id,
            allow_overpayment=data["allow_overpayment"],
        )
    )
    headers = {"Idempotent-Replayed": "true"} if posted.replayed else {}
    return jsonify(posted.document), 201, headers


def _counter_input() -> tuple[str, dict]:
    """The Idempotency-Key header and the body, with the errors of both in one 422."""
    header = request.headers.get("Idempotency-Key")
    errors, key, data = {}, "", {}
    try:
        key = _KEY.load({} if header is None else {"Idempotency-Key": header})
    except ValidationError as exc:
        errors.update(flatten_errors(exc.messages))
    try:
        data = _PAYMENT.load(json_body())
    except ValidationError as exc:
        errors.update(flatten_errors(exc.messages))
    except InvalidInput as exc:  # not JSON at all
        errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    return key["key"], data


@bp.post("/webhooks/payments")
@public
def payment_webhook():
    """The payment gateway's callback, signed with HMAC-SHA256; its reference makes it once only.
    ---
    post:
      summary: Payment-gateway callback (X-Signature, no bearer token)
      security: []
      parameters:
        - {in: header, name: X-Signature, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json:
            schema: WebhookPayment
      responses:
        200:
          description: Already recorded; the first answer again
          content:
            application/json:
              schema: PaymentResult
        201:
          content:
            application/json:
              schema: PaymentResult
        401: {$ref: '#/components/responses/Unauthorized'}
        409: {$ref: '#/components/responses/Conflict'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    _verify_signature()
    data = WebhookPaymentSchema().load(json_body())
    if get_session().get(Loan, data["loan_id"]) is None:
        raise InvalidInput({"loan_id": ["No loan with this id."]})
    posted = _post(
        PaymentRequest(
            loan_id=data["loan_id"],
            amount=data["amount"],
            paid_at=data["paid_at"],
            channel=PaymentChannel(data["channel"]),
            reference=data["reference"],
            allow_overpayment=True,  # the rail has moved the money: kept as a credit
        )
    )
    return jsonify(posted.document), 200 if posted.replayed else 201


def _verify_signature() -> None:
    """401 unless X-Signature is the hex HMAC-SHA256 of the raw body under the shared secret."""
    secret = current_app.extensions["lending.settings"].payment_webhook_secret
    given = request.headers.get("X-Signature", "").strip().lower()
    expected = hmac.new(secret.encode(), request.get_data(), hashlib.sha256).hexdigest()
    if not secret or not given or not hmac.compare_digest(given, expected):
        reason = "not_configured" if not secret else ("missing" if not given else "mismatch")
        audit_refusal("payment.webhook_refused", reason=reason)
        raise Unauthorized("The signature of this callback is missing or wrong.")


@bp.post("/payments/<int:payment_id>/reverse")
@role_required(Role.ADMIN, Role.UNDERWRITER)
def reverse(payment_id: int):
    """Reverse a posted payment: its allocation is undone to the paisa; staff only.
    ---
    post:
      summary: Reverse a payment
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: payment_id, required: true, schema: {type: integer}}
      requestBody:
        required: true
        content:
          application/json:
            schema: ReversalInput
      responses:
        200:
          content:
            application/json:
              schema: ReversalResult
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    data = ReversalInputSchema().load(json_body())
    session = get_session()
    document = reverse_payment(
        session=session,
        reversal=Reversal(payment_id=payment_id, user_id=current_actor().id, reason=data["reason"]),
        now=utcnow(),
        timezone=_timezone(),
    )
    session.commit()
    return jsonify(document)


_WAIVER = WaiverInputSchema()


@bp.post("/loans/<int:loan_id>/waivers")
@role_required(Role.ADMIN, Role.UNDERWRITER)
def waive(loan_id: int):
    """Waive what is unpaid of an instalment's late fee; staff only, with a reason.
    ---
    post:
      summary: Waive a late fee
      security: [{bearerAuth: []}]
      parameters:
        - {in: path, name: loan_id, required: true, schema: {type: integer}}
      requestBody:
        required: true
        content:
          application/json:
            schema: WaiverInput
      responses:
        201:
          content:
            application/json:
              schema: AdjustmentResult
        401: {$ref: '#/components/responses/Unauthorized'}
        403: {$ref: '#/components/responses/Forbidden'}
        404: {$ref: '#/components/responses/NotFound'}
        409: {$ref: '#/components/responses/Conflict'}
        422: {$ref: '#/components/responses/Invalid'}
    """
    data = _WAIVER.load(json_body())
    return _adjust(
        waive_late_fee,
        Adjustment(
            loan_id=loan_id,
            user_id=current_actor().id,
            reason=data["reason"],
            instalment=data["instalment"],
        ),
    )


def _adjust(service, adjustment: Adjustment):
    session = get_session()
    document = service(session=session, adjustment=adjustment, now=utcnow(), timezone=_timezone())
    session.commit()
    return jsonify(document), 201
