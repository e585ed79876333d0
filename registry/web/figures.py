"""The secretariat's figures (read-only counts over the register) and their server-rendered SVG bar charts."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape

from curricula.models import Completion, Course, Outcome
from registry.core.db import db
from registry.licensing.models import Alert
from registry.people.models import Organisation
from registry.recognition.models import Recognition, RecognitionAction, RecognitionEvent, RecognitionStatus


@dataclass
class Figure:
    name: str
    title: str
    columns: list[tuple[str, str]]  # (key, heading)
    rows: list[dict[str, Any]]
    label: str  # the key naming each bar group
    series: list[tuple[str, str, str]]  # (key, legend, colour)
    note: str = ""


def completions_by_course_and_hub() -> Figure:
    """Completions not withdrawn, by course and recording hub, with how many passed."""
    passed = sa.func.sum(sa.case((Completion.outcome == Outcome.PASSED, 1), else_=0))
    rows = db.session.execute(
        sa.select(Course.code, Organisation.code, sa.func.count(Completion.id), passed)
        .join(Course, Course.id == Completion.course_id)
        .join(Organisation, Organisation.id == Completion.hub_id)
        .where(Completion.withdrawn_at.is_(None))
        .group_by(Course.code, Organisation.code)
        .order_by(Course.code, Organisation.code)
    ).all()
    return Figure(
        name="completions", title="Completions per course and hub",
        columns=[("course", "Course"), ("hub", "Hub"), ("completions", "Completions"), ("passed", "Passed")],
        rows=[{"course": c, "hub": h, "completions": int(n), "passed": int(p or 0), "bar": f"{c} · {h}"}
              for c, h, n, p in rows],
        label="bar", series=[("completions", "Completions", "#2f6690"), ("passed", "Passed", "#3a7d44")],
        note="Withdrawn completions are left out.",
    )


def recognition_decision_times(today: date) -> Figure:
    """Per host state: decisions (grant or refusal) made by the deadline or after it, and pending overdue ones."""
    decided = db.session.execute(
        sa.select(Recognition.host_state_code, Recognition.applied_on, Recognition.decision_due_on,
                  RecognitionEvent.decided_on)
        .join(RecognitionEvent, RecognitionEvent.recognition_id == Recognition.id)
        .where(RecognitionEvent.action.in_([RecognitionAction.GRANT, RecognitionAction.REFUSE]))
    ).all()
    overdue = dict(db.session.execute(
        sa.select(Recognition.host_state_code, sa.func.count(Recognition.id))
        .where(Recognition.status == RecognitionStatus.PENDING, Recognition.decision_due_on < today)
        .group_by(Recognition.host_state_code)
    ).all())
    stats: dict[str, dict[str, Any]] = defaultdict(lambda: {"decided": 0, "on_time": 0, "late": 0, "days": [],
                                                           "deadline": []})
    for state, applied_on, due_on, decided_on in decided:
        entry = stats[state]
        entry["decided"] += 1
        entry["on_time" if decided_on <= due_on else "late"] += 1
        entry["days"].append((decided_on - applied_on).days)
        entry["deadline"].append((due_on - applied_on).days)
    rows = []
    for state in sorted(set(stats) | set(overdue)):
        entry = stats[state]
        mean = round(sum(entry["days"]) / len(entry["days"]), 1) if entry["days"] else None
        deadline = round(sum(entry["deadline"]) / len(entry["deadline"]), 1) if entry["deadline"] else None
        rows.append({"host_state": state, "decided": entry["decided"], "on_time": entry["on_time"],
                     "late": entry["late"], "mean_days": mean, "deadline_days": deadline,
                     "pending_overdue": int(overdue.get(state, 0))})
    return Figure(
        name="recognition-decisions", title="Recognition decision times against deadlines",
        columns=[("host_state", "Host state"), ("decided", "Decided"), ("on_time", "By the deadline"),
                 ("late", "After the deadline"), ("mean_days", "Mean days to decide"),
                 ("deadline_days", "Mean deadline (days)"), ("pending_overdue", "Pending, overdue")],
        rows=rows, label="host_state",
        series=[("mean_days", "Mean days to decide", "#2f6690"), ("deadline_days", "Deadline (days)", "#9aa5b1")],
        note="Tacit grants (silence past the deadline) count as decided after the deadline.",
    )


def alerts_sent_late() -> Figure:
    """Alerts by the deciding member state: sent within three days of the decision, or late."""
    late = sa.func.sum(sa.case((Alert.late.is_(True), 1), else_=0))
    rows = db.session.execute(
        sa.select(Alert.origin_state_code, sa.func.count(Alert.id), late)
        .group_by(Alert.origin_state_code).order_by(Alert.origin_state_code)
    ).all()
    return Figure(
        name="alerts-late", title="Alerts sent late",
        columns=[("state", "Deciding state"), ("alerts", "Alerts"), ("on_time", "Sent in time"), ("late", "Late")],
        rows=[{"state": s, "alerts": int(n), "late": int(k or 0), "on_time": int(n) - int(k or 0)} for s, n, k in rows],
        label="state", series=[("on_time", "Sent in time", "#3a7d44"), ("late", "Late", "#b23a48")],
        note="An alert is late when sent more than three days after the decision.",
    )


def all_figures(today: date) -> list[Figure]:
    return [completions_by_course_and_hub(), recognition_decision_times(today), alerts_sent_late()]


# --- output ------------------------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    # Text a spreadsheet would run as a formula is quoted; numbers stay numbers.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def as_csv(figure: Figure) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([key for key, _ in figure.columns])
    for row in figure.rows:
        writer.writerow([_cell(row[key]) for key, _ in figure.columns])
    return buffer.getvalue()


def bar_chart(figure: Figure) -> Markup:
    """Horizontal grouped bars as inline SVG: scales to any width, readable without script or remote assets."""
    width, label_width, bar, gap, top = 640, 170, 16, 12, 34
    plot = width - label_width - 60
    values = [row[key] or 0 for row in figure.rows for key, _, _ in figure.series]
    peak = max(values, default=0) or 1
    group = bar * len(figure.series) + gap
    height = top + max(len(figure.rows), 1) * group + 10
    title_id = f"chart-{figure.name}"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{title_id}" class="chart">',
        f'<title id="{title_id}">{escape(figure.title)} (bar chart; the table below holds the same figures)</title>',
    ]
    x = label_width
    for _, legend, colour in figure.series:  # the legend
        parts.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="16" font-size="12">{escape(legend)}</text>')
        x += 20 + 8 * len(legend)
    if not figure.rows:
        parts.append(f'<text x="{label_width}" y="{top + 12}" font-size="13">No data yet.</text>')
    for i, row in enumerate(figure.rows):
        y0 = top + i * group
        label = str(row[figure.label])
        shown = label if len(label) <= 26 else label[:25] + "…"
        parts.append(f'<text x="{label_width - 6}" y="{y0 + bar * len(figure.series) / 2 + 4}" font-size="12" '
                     f'text-anchor="end">{escape(shown)}</text>')
        for j, (key, legend, colour) in enumerate(figure.series):
            value = row[key] or 0
            length = plot * value / peak
            y = y0 + j * bar
            parts.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar - 2}" fill="{colour}">'
                         f'<title>{escape(label)}: {escape(legend)} {value:g}</title></rect>')
            parts.append(f'<text x="{label_width + length + 4:.1f}" y="{y + bar - 5}" font-size="11">{value:g}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped
