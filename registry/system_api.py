"""Service endpoints: a bare liveness answer and a readiness check that touches the database."""

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from registry.core.db import db

blp = Blueprint("system", __name__, url_prefix="/api/v1", description="Service health")


class StatusOut(Schema):
    status = fields.String()


@blp.route("/ping")
class Ping(MethodView):
    @blp.response(200, StatusOut)
    def get(self):
        """Liveness: answers without touching the database."""
        return {"status": "ok"}


@blp.route("/health")
class Health(MethodView):
    @blp.response(200, StatusOut)
    def get(self):
        """Readiness: the database answers."""
        db.session.execute(sa.text("SELECT 1"))
        return {"status": "ok"}
