"""The application document of CONTRACT.md."""

from marshmallow import Schema, fields

from lending.models.enums import ApplicationStatus


class ReasonSchema(Schema):
    code = fields.String()
    message = fields.String()


class ApplicationDocumentSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    score = fields.Integer(allow_none=True)
    reasons = fields.Function(lambda app: ReasonSchema(many=True).dump(app.reasons or []))
    incentive_tags = fields.Raw()
    offer = fields.Method("dump_offer")
    offer_expires_at = fields.DateTime(allow_none=True)
    retailer_id = fields.Integer()
    created_at = fields.DateTime()

    def dump_offer(self, app):
        if app.status == ApplicationStatus.DECLINED:
            return None
        return app.offer
