"""The scorecard as one self-contained HTML page laid out like the seed: header, summary counts, the
indicator table with every column of the seed, a small trend line per indicator, and filters (service
group, lead officer, tier, unit) that work in the browser without a server.

No network fetches: styles and script are inline. Numbers and words come from assess.py; this module
only lays them out.
"""

from __future__ import annotations

import json
from datetime import datetime
from html import escape

from kpi.assess import STATUS_TEXT, SUPPRESSED_TEXT, TREND_SYMBOL, IndicatorResult, Scorecard, display
from kpi.periods import format_period

UNIT_LABEL = {"percent": "%", "count": "Num", "rate_per_10000": "Per 10,000 pop"}
POLARITY_LABEL = {"bigger": "Bigger", "smaller": "Smaller", "none": "None"}
COLLECTED_LABEL = {"month_end": "Month End", "monthly": "Monthly", "year_to_date": "Year to date",
                   "quarterly": "Quarterly", "rolling_12_months": "Rolling 12 months"}
TREND_TEXT = {"better": "Better than previously reported", "same": "The same as previously reported",
              "worse": "Not as good as previously reported", "not_comparable": "Not comparable"}
FILTERS = (("service_group", "Service group"), ("lead_officer", "Lead officer"), ("tier", "Key / Manager / Team"), ("unit", "Measure of unit"))
TIER_LABEL = {"key": "Key", "key_board": "Key / Board", "operational": "Operational", "team": "Team"}

STYLE = """
body{font:13px/1.35 system-ui,-apple-system,"Segoe UI",Arial,sans-serif;margin:16px;color:#1b1b1b}
h1{font-size:20px;margin:0 0 2px} .sub{color:#555;margin:0 0 12px}
.summary{display:flex;gap:24px;margin:8px 0 12px;flex-wrap:wrap}
.summary table{border-collapse:collapse} .summary td{padding:2px 8px;border:1px solid #ccc}
.filters{display:flex;gap:12px;flex-wrap:wrap;margin:0 0 10px} .filters label{display:flex;flex-direction:column;font-weight:600}
table.kpi{border-collapse:collapse;width:100%} table.kpi th{background:#1d3557;color:#fff;font-weight:600;position:sticky;top:0}
table.kpi th,table.kpi td{border:1px solid #c8c8c8;padding:3px 5px;vertical-align:middle}
table.kpi td.n{text-align:right;white-space:nowrap} td.title{min-width:260px}
tr.hidden{display:none} .trend{font-size:16px;text-align:center}
.status{font-weight:600;white-space:nowrap} .status.better{background:#d8f0d8;border-left:6px solid #1a7f37}
.status.achieving{background:#dbe9f8;border-left:6px double #1f5fa8} .status.missing{background:#f9dada;border-left:6px dotted #b42318}
.status.no_target{color:#555} .supp{font-style:italic;color:#555;text-align:center}
.error{color:#b42318} svg.spark{display:block} tr.group td{background:#f6f6f6;font-size:12px}
@media print{.filters{display:none}}
"""

SCRIPT = """
(function(){
  var errors=[];window.addEventListener('error',function(e){errors.push(String(e.message));document.body.setAttribute('data-errors',errors.join('|'));});
  var selects=document.querySelectorAll('.filters select');
  function apply(){
    var rows=document.querySelectorAll('table.kpi tbody tr');var counts={};var total=0;
    rows.forEach(function(row){
      var show=true;selects.forEach(function(s){if(s.value!==''&&row.getAttribute('data-'+s.name.replace(/_/g,'-'))!==s.value){show=false;}});
      row.classList.toggle('hidden',!show);
      if(show&&!row.dataset.group){total++;counts['trend-'+row.dataset.trend]=(counts['trend-'+row.dataset.trend]||0)+1;
               counts['target-'+row.dataset.status]=(counts['target-'+row.dataset.status]||0)+1;}
    });
    document.querySelectorAll('[data-count]').forEach(function(cell){
      var key=cell.dataset.count;cell.textContent=key==='total'?total:(counts[key]||0);});
  }
  selects.forEach(function(s){s.addEventListener('change',apply);});
  // Filters can be given in the address too: scorecard.html#service_group=Child%20Protection
  var hash=decodeURIComponent(location.hash.replace(/^#/,''));
  hash.split('&').forEach(function(pair){var kv=pair.split('=');selects.forEach(function(s){if(s.name===kv[0]){s.value=kv[1];}});});
  apply();document.body.setAttribute('data-ready','yes');
})();
"""


def render_html(scorecard: Scorecard, generated: datetime | None = None) -> str:
    """The whole page."""
    generated = generated or datetime.now()
    results = scorecard.results
    first = results[0] if results else None
    month_labels = [m.month.strftime("%b") for m in first.months] if first else []
    outturn_labels = [label for label, _ in first.outturns] if first else []
    region = scorecard.region or "Region"
    head = (
        ["Indicator", "Indicator description", "Lead officer", "Collected", "What is best", "Measure of unit",
         "Latest England av", f"Latest {region} av", "Latest stat neighbour"]
        + [outturn_labels[0] if outturn_labels else "", "Same period last year", outturn_labels[1] if len(outturn_labels) > 1 else ""]
        + month_labels + [f"{month_labels[-1] if month_labels else ''} num", f"{month_labels[-1] if month_labels else ''} den",
                          "Trend", "Year-end target", "Performance against target", "Trend line"]
    )
    title = f"{scorecard.authority + ': ' if scorecard.authority else ''}Children's Key Performance Indicators"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}, {format_period(scorecard.period)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="sub">Children\'s Social Care performance data to the end of {scorecard.period:%B %Y}. '
        f"Generated {generated:%d/%m/%Y %H:%M:%S}.</p>",
        _summary(scorecard), _filters(results),
        '<table class="kpi"><thead><tr>' + "".join(f"<th>{escape(h)}</th>" for h in head) + "</tr></thead><tbody>",
    ]
    for r in results:
        parts.append(_row(r))
        # a breakdown (--by): one row per group under its indicator, filtered with it, not counted
        parts.extend(_row(group, f"{scorecard.by} {name}") for name, group in r.breakdown or ())
    parts += ["</tbody></table>", f"<script>{SCRIPT}</script>", "</body></html>"]
    return "\n".join(parts) + "\n"


def _summary(scorecard: Scorecard) -> str:
    s = scorecard.summary
    trend_rows = "".join(
        f'<tr><td>{TREND_SYMBOL[k] or "(blank)"}</td><td>{TREND_TEXT[k]}</td><td data-count="trend-{k}">{s.trend[k]}</td></tr>'
        for k in ("better", "same", "worse", "not_comparable")
    )
    target_rows = "".join(
        f'<tr><td>{STATUS_TEXT[k]}</td><td data-count="target-{k}">{s.target[k]}</td></tr>'
        for k in ("better", "achieving", "missing", "no_target")
    )
    return (
        '<div class="summary">'
        f'<table aria-label="trend"><tr><td colspan="2"><b>Total</b></td><td data-count="total">{s.total}</td></tr>{trend_rows}</table>'
        f'<table aria-label="performance against target">{target_rows}</table></div>'
    )


def _filters(results: tuple[IndicatorResult, ...]) -> str:
    html = ['<div class="filters">']
    for key, label in FILTERS:
        values = sorted({_attribute(r, key) for r in results} - {""})
        options = "".join(f'<option value="{escape(v)}">{escape(_filter_label(key, v))}</option>' for v in values)
        html.append(f'<label>{escape(label)}<select name="{key}"><option value="">All</option>{options}</select></label>')
    html.append("</div>")
    return "".join(html)


def _filter_label(key: str, value: str) -> str:
    if key == "unit":
        return UNIT_LABEL.get(value, value)
    if key == "tier":
        return TIER_LABEL.get(value, value)
    return value


def _attribute(result: IndicatorResult, key: str) -> str:
    return getattr(result.indicator, key) or ""


def _row(r: IndicatorResult, group: str | None = None) -> str:
    i = r.indicator
    data = " ".join(f'data-{k.replace("_", "-")}="{escape(_attribute(r, k))}"' for k, _ in FILTERS)
    data += f' data-trend="{r.trend}" data-status="{r.target_status}" data-id="{escape(i.id)}"'
    title = escape(i.title) if group is None else f"&nbsp;&nbsp;└ {escape(group)}"
    if group is not None:
        data += f' data-group="{escape(group)}" class="group"'
    cells = [
        f"<td>{escape(i.id)}</td>", f'<td class="title">{title}</td>', f"<td>{escape(i.lead_officer or '')}</td>",
        f"<td>{COLLECTED_LABEL[i.collected]}</td>", f"<td>{POLARITY_LABEL[i.polarity]}</td>", f"<td>{UNIT_LABEL[i.unit]}</td>",
    ]
    cells += [f'<td class="n">{display(r.benchmarks.get(a))}</td>' for a in ("england", "region", "statistical_neighbours")]
    history = [r.outturns[0][1], r.same_period_last_year, r.outturns[1][1]] + list(r.months)
    # The seed merges the withheld cells, from the first month of the run that ends now to the denominator.
    suppressed_from = None
    if r.current.suppressed:
        suppressed_from = len(r.months) - 1
        while suppressed_from > 0 and r.months[suppressed_from - 1].suppressed:
            suppressed_from -= 1
    cells += [_value_cell(m) for m in history[:3]]
    if suppressed_from is None:
        cells += [_value_cell(m) for m in r.months]
        num = display(r.current.numerator) if r.current.reported else "-"
        den = display(r.current.denominator) if r.current.reported and r.current.denominator is not None else "-"
        cells += [f'<td class="n">{num}</td>', f'<td class="n">{den}</td>']
    else:
        # as the seed does: one merged cell from the first withheld month to the denominator
        cells += [_value_cell(m) for m in r.months[:suppressed_from]]
        span = len(r.months) - suppressed_from + 2
        cells.append(f'<td class="supp" colspan="{span}">{SUPPRESSED_TEXT}</td>')
    trend_symbol = TREND_SYMBOL[r.trend]
    cells.append(f'<td class="trend" title="{TREND_TEXT[r.trend]}">{trend_symbol}<span hidden>{r.trend}</span></td>')
    cells.append(f'<td class="n">{"-" if i.target is None else display(i.target)}</td>')
    status = f'<td class="status {r.target_status}">{STATUS_TEXT[r.target_status]}</td>'
    if r.error:
        status = f'<td class="status error" title="{escape(r.error)}">Error: {escape(r.error[:80])}</td>'
    cells.append(status)
    cells.append(f"<td>{_sparkline([None if m.suppressed else m.shown for m in r.months])}</td>")
    return f"<tr {data}>" + "".join(cells) + "</tr>"


def _value_cell(month) -> str:
    if month.suppressed and month.reported:
        return '<td class="n">c</td>'
    return f'<td class="n">{display(month.shown)}</td>'


def _sparkline(values: list[float | None], width: int = 80, height: int = 20) -> str:
    """An inline SVG line through the months that have a value (gaps where none)."""
    points = [(n, v) for n, v in enumerate(values) if v is not None]
    if len(points) < 2:
        return ""
    low, high = min(v for _, v in points), max(v for _, v in points)
    spread = (high - low) or 1.0
    step = (width - 4) / max(1, len(values) - 1)
    coords = " ".join(f"{2 + n * step:.1f},{height - 2 - (v - low) / spread * (height - 4):.1f}" for n, v in points)
    last_x, last_y = coords.split(" ")[-1].split(",")
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="trend {json.dumps([round(v, 1) for _, v in points])}">'
        f'<polyline fill="none" stroke="#1d3557" stroke-width="1.5" points="{coords}"/>'
        f'<circle cx="{last_x}" cy="{last_y}" r="2" fill="#1d3557"/></svg>'
    )
