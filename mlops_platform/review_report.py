"""``report.html``: one self-contained page a security reviewer can be handed.

Per stack the planned resources by type and the protected ones; every policy with its pass / fail /
not-evaluated counts and its Security Hub / CIS / checkov references; the findings with their
remediation; the access checks' results when given; the accounts with their trust, access and event
flows as a diagram generated from the plan (``account_flows``, rendered to SVG here, at build time);
and the config files the page was made from. Nothing is loaded at view time: the CSS, the SVG and
the few lines of script are inline, so the page opens offline and from an e-mail attachment.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_guard.engine import GateResult
from mlops_guard.registry import ALL_POLICIES
from mlops_guard.report import pass_summaries, policy_entry, still_not_evaluated
from mlops_platform.account_flows import ACCESS, EVENTS, KINDS, TRUST, Account, Flow, account_flows, flow_rows
from mlops_platform.harness import StackPlan
from mlops_platform.plan_view import count, count_plans, kind_of

KIND_COLOURS = {TRUST: "#c2410c", ACCESS: "#1d4ed8", EVENTS: "#047857"}
KIND_TEXT = {TRUST: "may assume roles in", ACCESS: "uses resources of", EVENTS: "sends events to"}


@dataclass
class ReportInputs:
    """Everything the page shows, gathered by the ``report`` command."""

    root: Path
    plans: Mapping[str, StackPlan]
    """The planned stacks (known outputs), in deploy order."""
    result: GateResult
    passes: Sequence[tuple[str, GateResult]]
    levels: Mapping[str, Mapping[str, str]]
    """Role -> policy -> enforcement level, as the check applied them."""
    config_files: Mapping[str, str]
    """Repo-relative path -> content of every config file the plan read."""
    access: Mapping[str, Any] | None = None
    access_note: str = ""
    generated_at: str = ""
    version: str = ""
    commit: str = ""


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


# --- the diagram ---------------------------------------------------------------------------------

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 190, 64, 120, 120, 40
DASH = ' stroke-dasharray="6 4"'
PER_ROW = 3


def _layout(accounts: Sequence[Account]) -> dict[str, tuple[float, float]]:
    """Top-left corners: principals outside the platform in the first row, then the accounts."""
    rows = [[a for a in accounts if not a.planned]]
    planned = [a for a in accounts if a.planned]
    rows += [planned[i : i + PER_ROW] for i in range(0, len(planned), PER_ROW)]
    rows = [row for row in rows if row]
    width = max(len(row) for row in rows) * (BOX_W + GAP_X) - GAP_X
    positions = {}
    for r, row in enumerate(rows):
        row_width = len(row) * (BOX_W + GAP_X) - GAP_X
        x0 = MARGIN + (width - row_width) / 2
        for c, account in enumerate(row):
            positions[account.key] = (x0 + c * (BOX_W + GAP_X), MARGIN + r * (BOX_H + GAP_Y))
    return positions


def _border_point(box: tuple[float, float], toward: tuple[float, float]) -> tuple[float, float]:
    """Where the line from the box's centre toward a point leaves the box."""
    cx, cy = box[0] + BOX_W / 2, box[1] + BOX_H / 2
    dx, dy = toward[0] - cx, toward[1] - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min((BOX_W / 2) / abs(dx) if dx else math.inf, (BOX_H / 2) / abs(dy) if dy else math.inf)
    return cx + dx * scale, cy + dy * scale


def diagram_svg(accounts: Sequence[Account], flows: Sequence[Flow]) -> str:
    """The accounts as boxes and each flow as a labelled arrow, coloured by kind."""
    positions = _layout(accounts)
    width = max(x for x, _ in positions.values()) + BOX_W + MARGIN
    height = max(y for _, y in positions.values()) + BOX_H + MARGIN + 30
    parts = [
        f'<svg id="accounts" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-labelledby="accounts-title">',
        '<title id="accounts-title">Accounts of the plan and the trust, access and event flows between them</title>',
        "<defs>",
        *(f'<marker id="arrow-{kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
          f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
          for kind, colour in KIND_COLOURS.items()),
        "</defs>",
    ]
    centres = {k: (x + BOX_W / 2, y + BOX_H / 2) for k, (x, y) in positions.items()}
    for index, flow in enumerate(flows):
        start = _border_point(positions[flow.source], centres[flow.target])
        end = _border_point(positions[flow.target], centres[flow.source])
        mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
        length = math.hypot(end[0] - start[0], end[1] - start[1]) or 1
        bend = 26 * (1 + KINDS.index(flow.kind))
        cx, cy = mx - (end[1] - start[1]) / length * bend, my + (end[0] - start[0]) / length * bend
        lx, ly = 0.25 * start[0] + 0.5 * cx + 0.25 * end[0], 0.25 * start[1] + 0.5 * cy + 0.25 * end[1]
        colour = KIND_COLOURS[flow.kind]
        services = flow.label
        dash = DASH if flow.kind == TRUST else ""
        parts.append(
            f'<g class="flow flow-{flow.kind}" data-from="{esc(flow.source)}" data-to="{esc(flow.target)}">'
            f"<title>{esc(flow.source)} {KIND_TEXT[flow.kind]} {esc(flow.target)}: {esc(services)}</title>"
            f'<path d="M{start[0]:.1f},{start[1]:.1f} Q{cx:.1f},{cy:.1f} {end[0]:.1f},{end[1]:.1f}" fill="none" '
            f'stroke="{colour}" stroke-width="1.6"{dash} '
            f'marker-end="url(#arrow-{flow.kind})"/>'
            f'<text x="{lx:.1f}" y="{ly:.1f}" class="flow-label" fill="{colour}">{esc(services)}</text></g>'
        )
    for account in accounts:
        x, y = positions[account.key]
        parts.append(
            f'<g class="account{"" if account.planned else " outside"}" data-key="{esc(account.key)}" tabindex="0">'
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{BOX_H}" rx="8"/>'
            f'<text x="{x + BOX_W / 2:.1f}" y="{y + 27:.1f}" class="account-label">{esc(account.label)}</text>'
            f'<text x="{x + BOX_W / 2:.1f}" y="{y + 47:.1f}" class="account-detail">{esc(account.detail)}</text></g>'
        )
    legend_y = height - 18
    for position, kind in enumerate(KINDS):
        x = MARGIN + position * 230
        dash = DASH if kind == TRUST else ""
        parts.append(
            f'<g class="legend"><line x1="{x}" y1="{legend_y}" x2="{x + 36}" y2="{legend_y}" stroke="{KIND_COLOURS[kind]}" '
            f'stroke-width="2"{dash}/>'
            f'<text x="{x + 44}" y="{legend_y + 4}">{esc(KIND_TEXT[kind])}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)


# --- the sections --------------------------------------------------------------------------------


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _stack_section(name: str, plan: StackPlan) -> str:
    counts = count(plan.resources)
    by_type = Counter(r.type for r in plan.resources)
    protected = sorted((r for r in plan.resources if r.protect), key=lambda r: (r.type, r.name))
    rows = [(esc(t), f'<span class="num">{n}</span>', esc(kind_of(next(r for r in plan.resources if r.type == t))))
            for t, n in sorted(by_type.items())]
    protected_rows = [(esc(r.name), esc(r.type)) for r in protected]
    return (
        f'<details class="stack" id="stack-{esc(name)}"><summary><strong>{esc(name)}</strong> '
        f"(role {esc(plan.role)}, account {esc(plan.account_id)}, {esc(plan.region)}): "
        f"+ {counts.to_create} to create, {counts.protected} protected</summary>"
        f"<p>{esc(counts.breakdown())}</p>"
        f"<h4>Resources by type</h4>{_table(('type', 'count', 'kind'), rows)}"
        f"<h4>Protected resources ({len(protected)}): <code>pulumi destroy</code> keeps them</h4>"
        f"{_table(('name', 'type'), protected_rows) if protected_rows else '<p>none</p>'}</details>"
    )


def policy_counts(plans: Mapping[str, StackPlan], result: GateResult, passes: Sequence[tuple[str, GateResult]],
                  levels: Mapping[str, Mapping[str, str]]) -> dict[str, dict[str, int]]:
    """Per policy: resources (stacks, for stack policies) that passed, failed or were not evaluated."""
    failed: dict[str, set[str]] = {}
    for v in result.violations:
        failed.setdefault(v.policy, set()).add(v.urn if _is_resource_policy(v.policy) else v.stack)
    still: dict[str, set[str]] = {}
    for n in still_not_evaluated(result, passes):
        still.setdefault(n.policy, set()).add(n.urn if _is_resource_policy(n.policy) else _stack_of(n.urn))
    counts = {}
    for gp in ALL_POLICIES:
        subjects: set[str] = set()
        for name, plan in plans.items():
            if levels.get(plan.role, {}).get(gp.name) == "disabled":
                continue
            types = {r.type for r in plan.resources}
            if gp.kind == "resource":
                subjects |= {r.urn for r in plan.resources if r.type in gp.types}
            elif types & set(gp.types):
                subjects.add(name)
        fail, unknown = failed.get(gp.name, set()), still.get(gp.name, set()) - failed.get(gp.name, set())
        counts[gp.name] = {
            "applies": len(subjects),
            "pass": len(subjects - fail - unknown),
            "fail": len(fail),
            "notEvaluated": len(unknown),
        }
    return counts


_RESOURCE_POLICIES = {gp.name for gp in ALL_POLICIES if gp.kind == "resource"}


def _is_resource_policy(name: str) -> bool:
    return name in _RESOURCE_POLICIES


def _stack_of(urn: str) -> str:
    return urn.removeprefix("urn:pulumi:").partition("::")[0]


def _enforcement(levels: Mapping[str, Mapping[str, str]], roles: Sequence[str], policy: str) -> str:
    found = {role: levels.get(role, {}).get(policy, "mandatory") for role in roles}
    distinct = set(found.values())
    if len(distinct) == 1:
        return esc(distinct.pop())
    return esc(", ".join(f"{role} {level}" for role, level in found.items()))


def _policies_section(inputs: ReportInputs) -> str:
    counts = policy_counts(inputs.plans, inputs.result, inputs.passes, inputs.levels)
    roles = list(dict.fromkeys(plan.role for plan in inputs.plans.values()))
    rows = []
    for gp in ALL_POLICIES:
        c = counts[gp.name]
        refs = ", ".join(f"<code>{esc(r.tag)}</code>" for r in gp.references) or "-"
        status = "fail" if c["fail"] else ("open" if c["notEvaluated"] else ("pass" if c["applies"] else "na"))
        rows.append((
            f'<span class="status status-{status}"></span><code>{esc(gp.name)}</code>', esc(gp.severity), esc(gp.area),
            _enforcement(inputs.levels, roles, gp.name), refs,
            f'<span class="num">{c["pass"]}</span>', f'<span class="num">{c["fail"]}</span>',
            f'<span class="num">{c["notEvaluated"]}</span>', esc(gp.description),
        ))
    headers = ("policy", "severity", "area", "enforcement", "references", "pass", "fail", "not evaluated", "checks")
    return _table(headers, rows, "policies")


def _findings_section(inputs: ReportInputs) -> str:
    result = inputs.result
    if not result.violations:
        findings = '<p class="ok">No policy finding in any stack.</p>'
    else:
        blocks = []
        by_policy: dict[str, list] = {}
        for v in sorted(result.violations, key=lambda v: (v.enforcement_level != "mandatory", v.policy, v.urn)):
            by_policy.setdefault(v.policy, []).append(v)
        for policy, found in by_policy.items():
            entry = policy_entry(policy)
            items = "".join(f"<li>{esc(v.message)}<br><code>{esc(v.urn)}</code></li>" for v in found)
            blocks.append(
                f'<div class="finding finding-{esc(found[0].enforcement_level)}"><h4>{esc(found[0].enforcement_level.upper())} '
                f"<code>{esc(policy)}</code> ({esc(entry['severity'])}; {esc(', '.join(entry['references']) or 'no external reference')})</h4>"
                f"<ul>{items}</ul><p><strong>Remediation:</strong> {esc(entry['remediation'] or '-')}</p></div>"
            )
        findings = "".join(blocks)
    summaries = pass_summaries(result, inputs.passes)
    pass_rows = [(esc(s["pass"]), f'<span class="num">{s["notEvaluated"]}</span>',
                  esc("; ".join(f"{n} {k}" for k, n in s["byReason"].items()) or "-"),
                  f'<span class="num">{s["evaluatedInAnotherPass"]}</span>') for s in summaries]
    still = still_not_evaluated(result, inputs.passes)
    still_rows = [(f"<code>{esc(n.policy)}</code>", esc(n.reason), f"<code>{esc(n.urn)}</code>") for n in still]
    return (
        findings
        + "<h3>What could not be evaluated</h3>"
        + _table(("pass", "not evaluated", "why", "evaluated in another pass"), pass_rows)
        + (f"<h4>Not evaluated in any pass ({len(still)})</h4>" + _table(("policy", "reason", "resource"), still_rows)
           if still_rows else '<p class="ok">Every applicable check was evaluated in at least one pass.</p>')
    )


ALLOWED = ("allowed", "allow")


def access_check_failed(check: Mapping[str, Any]) -> bool:
    """A check fails when it says so (``passed``/``ok`` false), its result is an error, or its result
    and expectation differ in allowed versus denied."""
    for flag in ("passed", "ok"):
        if isinstance(check.get(flag), bool):
            return not check[flag]
    result, expected = str(check.get("result", "")).lower(), str(check.get("expected", "")).lower()
    if result == "error":
        return True
    return bool(result and expected) and ((result in ALLOWED) != (expected in ALLOWED))


def _access_section(inputs: ReportInputs) -> str:
    if inputs.access is None:
        return f"<p>{esc(inputs.access_note or 'No access check results were given.')}</p>"
    checks = [c for c in inputs.access.get("checks", []) if isinstance(c, Mapping)]
    summary = inputs.access.get("summary", {})
    columns = list(dict.fromkeys(k for c in checks for k, v in c.items() if not isinstance(v, Mapping)))
    rows = []
    for check in checks:
        failed = access_check_failed(check)
        cells = [esc(", ".join(map(str, v)) if isinstance(v, list) else v) for v in (check.get(k, "") for k in columns)]
        cells[0] = f'<span class="status status-{"fail" if failed else "pass"}"></span>{cells[0]}' if cells else ""
        rows.append(cells)
    summary_text = ", ".join(f"{esc(k)}: {esc(v)}" for k, v in summary.items()) if isinstance(summary, Mapping) else ""
    return f"<p>{summary_text or f'{len(checks)} checks'}</p>" + (_table(columns, rows, "access") if rows else "")


def _config_section(inputs: ReportInputs) -> str:
    return "".join(
        f'<details><summary><code>{esc(path)}</code></summary><pre>{esc(text)}</pre></details>'
        for path, text in inputs.config_files.items()
    )


STYLE = """
:root { --fg:#111827; --muted:#4b5563; --line:#d1d5db; --bg:#ffffff; --soft:#f3f4f6; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg);
       margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { margin-top: 36px; border-bottom: 1px solid var(--line); }
.meta { color: var(--muted); margin: 0 0 16px; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 160px; background: var(--soft); }
.card strong { display: block; font-size: 20px; }
nav a { margin-right: 14px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--soft); } .num { font-variant-numeric: tabular-nums; }
code { font-size: 12px; word-break: break-all; } pre { background: var(--soft); padding: 12px; white-space: pre-wrap; }
td { overflow-wrap: anywhere; }
.status { display: inline-block; width: 10px; height: 10px; border-radius: 50%; margin-right: 6px; background: #9ca3af; }
.status-pass { background: #16a34a; } .status-fail { background: #dc2626; } .status-open { background: #f59e0b; }
.finding { border-left: 4px solid #f59e0b; padding: 2px 12px; margin: 10px 0; background: var(--soft); }
.finding-mandatory { border-left-color: #dc2626; } .ok { color: #15803d; font-weight: 600; }
#diagram { overflow-x: auto; border: 1px solid var(--line); border-radius: 8px; padding: 8px; }
#accounts .account rect { fill: #eef2ff; stroke: #4338ca; stroke-width: 1.5; }
#accounts .account.outside rect { fill: #fff7ed; stroke: #9a3412; stroke-dasharray: 4 3; }
#accounts .account { cursor: pointer; }
#accounts .account-label { font-weight: 700; font-size: 15px; text-anchor: middle; }
#accounts .account-detail { font-size: 11px; fill: var(--muted); text-anchor: middle; }
#accounts .flow-label { font-size: 11px; text-anchor: middle; paint-order: stroke; stroke: #ffffff; stroke-width: 4px; }
#accounts .legend text { font-size: 12px; }
#accounts.focused .flow { opacity: 0.12; } #accounts.focused .flow.lit { opacity: 1; }
#accounts .account.selected rect { stroke-width: 3; }
input[type=search] { padding: 4px 8px; width: 320px; }
"""

SCRIPT = """
(function () {
  var svg = document.getElementById('accounts');
  if (svg) {
    svg.querySelectorAll('.account').forEach(function (node) {
      node.addEventListener('click', function () {
        var key = node.getAttribute('data-key');
        var again = node.classList.contains('selected');
        svg.querySelectorAll('.account').forEach(function (n) { n.classList.remove('selected'); });
        svg.querySelectorAll('.flow').forEach(function (f) {
          var lit = f.getAttribute('data-from') === key || f.getAttribute('data-to') === key;
          f.classList.toggle('lit', lit && !again);
        });
        svg.classList.toggle('focused', !again);
        if (!again) { node.classList.add('selected'); }
      });
    });
  }
  var filter = document.getElementById('policy-filter');
  if (filter) {
    filter.addEventListener('input', function () {
      var text = filter.value.toLowerCase();
      document.querySelectorAll('table.policies tbody tr').forEach(function (row) {
        row.style.display = row.textContent.toLowerCase().indexOf(text) === -1 ? 'none' : '';
      });
    });
  }
  document.body.setAttribute('data-ready', 'true');
})();
"""


def render_report(inputs: ReportInputs) -> str:
    """The whole page."""
    accounts, flows = account_flows(inputs.plans)
    totals = count_plans(inputs.plans)
    result = inputs.result
    still = len(still_not_evaluated(result, inputs.passes))
    access_summary = "-"
    if inputs.access is not None:
        summary = inputs.access.get("summary", {})
        access_summary = esc(", ".join(f"{k} {v}" for k, v in summary.items())) if isinstance(summary, Mapping) else "given"
    cards = [
        ("resources to create", totals.to_create), ("stacks", len(inputs.plans)), ("protected", totals.protected),
        ("policies applied", len(result.policies_applied)), ("mandatory findings", result.mandatory),
        ("advisory findings", result.advisory), ("not evaluated in any pass", still), ("access checks", access_summary),
    ]
    flow_table = _table(("from", "to", "kind", "services", "read from (examples)"),
                        [tuple(esc(v) for v in row.values()) for row in flow_rows(accounts, flows)], "flows")
    meta = f"Project {esc(inputs.root)} &middot; generated {esc(inputs.generated_at)} &middot; mlops-platform {esc(inputs.version)}"
    if inputs.commit:
        meta += f" &middot; commit <code>{esc(inputs.commit)}</code>"
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<title>mlops-platform security review</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>mlops-platform: security review</h1>",
        f'<p class="meta">{meta}</p>',
        '<div class="cards">' + "".join(f'<div class="card"><strong>{v}</strong>{esc(k)}</div>' for k, v in cards) + "</div>",
        "<nav><p><a href=\"#accounts-section\">Accounts</a><a href=\"#stacks\">Stacks</a><a href=\"#policies\">Policies</a>"
        "<a href=\"#findings\">Findings</a><a href=\"#access\">Access checks</a><a href=\"#config\">Config</a></p></nav>",
        '<h2 id="accounts-section">Accounts, trust and data flows</h2>',
        "<p>Generated from the plan's policy documents: dashed arrows are role trust, solid ones resource access "
        "and event delivery. Click an account to highlight its flows.</p>",
        f'<div id="diagram">{diagram_svg(accounts, flows)}</div>',
        flow_table,
        '<h2 id="stacks">Stacks</h2>',
        f"<p>{esc(totals.totals_line())}</p>",
        "".join(_stack_section(name, plan) for name, plan in inputs.plans.items()),
        '<h2 id="policies">Policies</h2>',
        '<p><input type="search" id="policy-filter" placeholder="filter policies" aria-label="filter policies"></p>',
        _policies_section(inputs),
        '<h2 id="findings">Findings</h2>',
        _findings_section(inputs),
        '<h2 id="access">Access checks</h2>',
        _access_section(inputs),
        '<h2 id="config">The config it was made from</h2>',
        _config_section(inputs),
        f"<script>{SCRIPT}</script></body></html>\n",
    ])
