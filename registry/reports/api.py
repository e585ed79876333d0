"""HTTP API for figures: JSON by default, CSV with ?format=csv or Accept: text/csv (boards and the secretariat)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from registry.core.auth import Role, require_role
from registry.core.schemas import ISCO_CODE, STATE_CODE, Day, StrictSchema, code_field
from registry.reports import mobility

blp = Blueprint("reports", __name__, url_prefix="/api/v1/reports", description="Disaggregated figures")

_FORMAT = fields.String(load_default=None, validate=validate.OneOf(["json", "csv"]),
                        metadata={"description": "csv, or send Accept: text/csv"})


class FormatArgs(StrictSchema):
    format = _FORMAT


class MobilityArgs(FormatArgs):
    start = Day(data_key="from", load_default=None, metadata={"description": "secondments starting on or after"})
    end = Day(data_key="to", load_default=None, metadata={"description": "secondments starting on or before"})
    profession = code_field(4, ISCO_CODE, "2221", load_default=None)
    home_state = code_field(2, STATE_CODE, "PT", load_default=None)
    host_state = code_field(2, STATE_CODE, "IE", load_default=None)

    @validates_schema
    def _period(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError("is before from", "to")


class RouteRow(Schema):
    home_state = fields.String()
    host_state = fields.String()
    profession = fields.String()
    year = fields.Integer()
    secondments = fields.Integer()


class FlowRow(Schema):
    state = fields.String()
    name = fields.String()
    inflow = fields.Integer(metadata={"description": "secondments hosted"})
    outflow = fields.Integer(metadata={"description": "secondments sent"})
    net = fields.Integer(metadata={"description": "inflow - outflow; negative: the state loses clinicians"})


class FillRow(Schema):
    programme = fields.String()
    status = fields.String()
    host_state = fields.String(allow_none=True, metadata={"description": "null: the programme in all"})
    capacity = fields.Integer(allow_none=True)
    placed = fields.Integer()
    fill_rate = fields.Float(allow_none=True)


class SexAgeRow(Schema):
    sex = fields.String()
    age_band = fields.String()
    secondments = fields.Integer()


def _cell(value: Any) -> Any:
    # A text cell a spreadsheet would run as a formula is quoted; numbers (negative net flows too) stay numbers.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def _wants_csv(fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "csv"
    return request.accept_mimetypes.best_match(["application/json", "text/csv"]) == "text/csv"


def _report(name: str, rows: list[dict[str, Any]], row_schema: type[Schema], fmt: str | None) -> Any:
    if not _wants_csv(fmt):
        return rows
    columns = list(row_schema._declared_fields)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in columns])
    return Response(buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def _figures(args: dict[str, Any], compute: Callable[[mobility.Filters], list[dict[str, Any]]]) -> list:
    require_role(Role.BOARD_OFFICER, Role.SECRETARIAT_ADMIN)
    filters = mobility.Filters(**{k: args.get(k) for k in ("start", "end", "profession", "home_state",
                                                            "host_state")})
    return compute(filters)


@blp.route("/mobility/secondments")
class Routes(MethodView):
    @blp.arguments(MobilityArgs(), location="query")
    @blp.response(200, RouteRow(many=True))
    def get(self, args):
        """Secondments by home → host state, profession and year of start."""
        return _report("secondments-by-route", _figures(args, mobility.by_route), RouteRow, args["format"])


@blp.route("/mobility/flows")
class Flows(MethodView):
    @blp.arguments(MobilityArgs(), location="query")
    @blp.response(200, FlowRow(many=True))
    def get(self, args):
        """Each member state's inflow, outflow and net flow of seconded clinicians."""
        return _report("mobility-flows", _figures(args, mobility.flows), FlowRow, args["format"])


@blp.route("/mobility/programmes")
class ProgrammeFill(MethodView):
    @blp.arguments(FormatArgs(), location="query")
    @blp.response(200, FillRow(many=True))
    def get(self, args):
        """Each programme's places taken and fill rate, in all and per host state."""
        require_role(Role.BOARD_OFFICER, Role.SECRETARIAT_ADMIN)
        return _report("programme-fill", mobility.programme_fill(), FillRow, args["format"])


@blp.route("/mobility/demographics")
class Demographics(MethodView):
    @blp.arguments(MobilityArgs(), location="query")
    @blp.response(200, SexAgeRow(many=True))
    def get(self, args):
        """Secondments by the clinician's sex and age band on the first day."""
        return _report("mobility-by-sex-and-age", _figures(args, mobility.by_sex_and_age), SexAgeRow,
                       args["format"])
