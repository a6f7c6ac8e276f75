"""Eval output: console tables, `results.json`, and a self-contained `report.html` (inline SVG)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from evals.evaluators import METRICS


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def tables(results: dict[str, Any]) -> str:
    """Per evaluator, then per agent and per language."""
    metrics = [m for m in METRICS if m in results["metrics"]]
    lines = [
        f"run {results['run_id']}  cases={results['cases']} turns={results['turns']}  "
        f"config={results['config_hash']} dataset={results['dataset_hash']} "
        f"seed={results['seed']}",
        "",
    ]
    lines.append(f"{'evaluator':<24}{'score':>8}")
    lines += [f"{m:<24}{_fmt(results['metrics'][m]):>8}" for m in metrics]
    for title, group in (("agent", results["by_agent"]), ("language", results["by_language"])):
        lines.append("")
        short = [m.replace("_accuracy", "").replace("_correctness", "")[:12] for m in metrics]
        lines.append(f"{title:<16}{'turns':>6}" + "".join(f"{s:>14}" for s in short))
        for name, row in group.items():
            lines.append(
                f"{name:<16}{row['turns']:>6}" + "".join(f"{_fmt(row.get(m)):>14}" for m in metrics)
            )
    lines += split_table(results)
    latency = results["latency_ms"]
    lines += [
        "",
        f"latency ms: p50 {latency['p50']:.1f}  p90 {latency['p90']:.1f}  p99 {latency['p99']:.1f}",
    ]
    failed = [r for r in results["records"] if not r["passed"]]
    lines.append(f"failed turns: {len(failed)} of {results['turns']}")
    return "\n".join(lines)


SPLIT_METRICS = (
    "routing_accuracy",
    "answered",
    "reply_language",
    "groundedness",
    "refusal_correctness",
    "retrieval_relevance",
    "answer_correctness",
)


SPLIT_ORDER = (
    "blind2",
    "blind",
    "test",
    "holdout",
    "dev",
    "dev2",
    "dev3",
    "dev4",
    "dev5",
    "dev6",
    "dev7",
    "dev8",
    "dev9",
    "guard",
    "probe",
    "other",
)


def split_rows(results: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """(group, cells): each group (all, language, agent, single/conversation turns) with every
    metric as `test | holdout | dev` side by side (the splits present)."""
    splits = results.get("by_split") or {}
    names = [s for s in SPLIT_ORDER if s in splits]
    if not names:
        return []
    groups = ["all"]
    for key in ("by_kind", "by_language", "by_agent"):
        groups += sorted({g for s in names for g in splits[s].get(key, {})})
    rows = []
    for group in groups:
        cells = []
        for metric in SPLIT_METRICS:
            values = []
            for split in names:
                data = splits[split]
                row = data["metrics"] if group == "all" else _find(data, group)
                values.append(_fmt((row or {}).get(metric)))
            cells.append(" | ".join(values))
        rows.append((group, cells))
    return rows


def _find(split: dict[str, Any], group: str) -> dict[str, Any] | None:
    for key in ("by_kind", "by_language", "by_agent"):
        if group in split.get(key, {}):
            found: dict[str, Any] = split[key][group]
            return found
    return None


def split_table(results: dict[str, Any]) -> list[str]:
    rows = split_rows(results)
    if not rows:
        return []
    names = [s for s in SPLIT_ORDER if s in results["by_split"]]
    short = [m.replace("_accuracy", "").replace("_correctness", "")[:13] for m in SPLIT_METRICS]
    width = max(17, *(len(c) + 2 for _, cells in rows for c in cells))  # 3 splits: wider cells
    lines = [
        "",
        f"by split ({' | '.join(names)})",
        f"{'group':<22}" + "".join(f"{s:>{width}}" for s in short),
    ]
    lines += [f"{group:<22}" + "".join(f"{c:>{width}}" for c in cells) for group, cells in rows]
    return lines


def _split_html(results: dict[str, Any]) -> str:
    rows = split_rows(results)
    if not rows:
        return ""
    names = " | ".join(s for s in SPLIT_ORDER if s in results["by_split"])
    head = "".join(f"<th>{html.escape(m)}</th>" for m in SPLIT_METRICS)
    body = "".join(
        f"<tr><td>{html.escape(g)}</td>"
        + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
        + "</tr>"
        for g, cells in rows
    )
    return (
        f"<h2>Held-out splits vs dev ({html.escape(names)})</h2>"
        f"<table><tr><th>group</th>{head}</tr>{body}</table>"
    )


def write_results(results: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "results.json"
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    html_path = out / "report.html"
    html_path.write_text(render_html(results))
    return json_path, html_path


def _bars(by_agent: dict[str, Any], metric: str) -> str:
    rows = [(name, row.get(metric) or 0.0) for name, row in by_agent.items()]
    width, bar_height = 520, 26
    svg = [
        f'<svg width="{width}" height="{bar_height * len(rows) + 10}" role="img" '
        f'aria-label="{metric} by agent">'
    ]
    for i, (name, value) in enumerate(rows):
        y = 5 + i * bar_height
        length = int(value * (width - 200))
        svg.append(
            f'<text x="0" y="{y + 17}" font-size="13">{html.escape(name)}</text>'
            f'<rect x="130" y="{y + 3}" width="{length}" height="18" fill="#008069"/>'
            f'<text x="{136 + length}" y="{y + 17}" font-size="12">{value:.2f}</text>'
        )
    return "".join(svg) + "</svg>"


def _heatmap(confusion: dict[str, dict[str, int]]) -> str:
    labels = sorted(set(confusion) | {a for row in confusion.values() for a in row})
    cell, left, top = 54, 120, 90
    peak = max((n for row in confusion.values() for n in row.values()), default=1)
    svg = [
        f'<svg width="{left + cell * len(labels) + 10}" height="{top + cell * len(labels) + 10}"'
        ' role="img" aria-label="confusion matrix">'
    ]
    for j, label in enumerate(labels):
        x = left + j * cell + cell / 2
        svg.append(
            f'<text x="{x}" y="{top - 8}" font-size="11" text-anchor="start" '
            f'transform="rotate(-40 {x} {top - 8})">{html.escape(label)}</text>'
        )
    for i, expected in enumerate(labels):
        y = top + i * cell
        svg.append(
            f'<text x="{left - 6}" y="{y + cell / 2 + 4}" font-size="11" '
            f'text-anchor="end">{html.escape(expected)}</text>'
        )
        for j, actual in enumerate(labels):
            count = confusion.get(expected, {}).get(actual, 0)
            shade = 0.08 + 0.92 * count / peak if count else 0.0
            color = "0,128,105" if expected == actual else "200,60,60"
            svg.append(
                f'<rect x="{left + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}"'
                f' fill="rgba({color},{shade:.2f})" stroke="#ddd"/>'
                f'<text x="{left + j * cell + cell / 2 - 1}" y="{y + cell / 2 + 4}" '
                f'font-size="12" text-anchor="middle">{count or ""}</text>'
            )
    return "".join(svg) + "</svg>"


def _histogram(latencies: list[float]) -> str:
    if not latencies:
        return ""
    top = max(latencies) or 1.0
    bins = 20
    counts = [0] * bins
    for value in latencies:
        counts[min(bins - 1, int(value / top * bins))] += 1
    peak = max(counts) or 1
    width, height = 520, 140
    bar = width / bins
    svg = [f'<svg width="{width}" height="{height + 20}" role="img" aria-label="latency">']
    for i, count in enumerate(counts):
        h = count / peak * height
        svg.append(
            f'<rect x="{i * bar}" y="{height - h}" width="{bar - 2}" height="{h}" fill="#53bdeb"/>'
        )
    svg.append(
        f'<text x="0" y="{height + 15}" font-size="11">0 ms</text>'
        f'<text x="{width - 70}" y="{height + 15}" font-size="11">{top:.0f} ms</text>'
    )
    return "".join(svg) + "</svg>"


def render_html(results: dict[str, Any]) -> str:
    metrics = [m for m in METRICS if m in results["metrics"]]
    summary = "".join(
        f"<tr><td>{m}</td><td>{_fmt(results['metrics'][m])}</td></tr>" for m in metrics
    )
    failed = [r for r in results["records"] if not r["passed"]]
    failures = "".join(
        f"<details><summary>{html.escape(r['id'])} turn {r['turn']} "
        f"({html.escape(r['expected_agent'])} → {html.escape(str(r['agent']))})</summary>"
        f"<p><b>customer:</b> {html.escape(r['input'])}</p>"
        f"<p><b>reply:</b> {html.escape(r['reply'])}</p>"
        f"<p><b>tools:</b> {html.escape(json.dumps(r['tool_calls'], ensure_ascii=False))}</p>"
        f"<p><b>scores:</b> {html.escape(json.dumps(r['scores']))}</p>"
        f"<p><b>why:</b> {html.escape(json.dumps(r['comments'], ensure_ascii=False))}</p>"
        "</details>"
        for r in failed
    )
    latencies = [r["latency_ms"] for r in results["records"]]
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Eval run {results["run_id"]}</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;max-width:1000px}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ddd;padding:4px 10px}}
details{{margin:.4em 0;padding:.3em;border:1px solid #eee}}h2{{margin-top:1.6em}}</style></head>
<body><h1>Eval run {results["run_id"]}</h1>
<p>{results["cases"]} cases, {results["turns"]} turns · datasets {", ".join(results["datasets"])}
· config {results["config_hash"]} · dataset {results["dataset_hash"]} · seed {results["seed"]}
· {results["created_at"]}</p>
<h2>Evaluators</h2><table><tr><th>evaluator</th><th>score</th></tr>{summary}</table>
{_split_html(results)}
<h2>Routing accuracy by agent</h2>{_bars(results["by_agent"], "routing_accuracy")}
<h2>Answer correctness by agent</h2>{_bars(results["by_agent"], "answer_correctness")}
<h2>Routing confusion (rows: expected, columns: routed)</h2>{_heatmap(results["confusion"])}
<h2>Turn latency</h2>{_histogram(latencies)}
<p>p50 {results["latency_ms"]["p50"]:.1f} ms · p90 {results["latency_ms"]["p90"]:.1f} ms
· p99 {results["latency_ms"]["p99"]:.1f} ms</p>
<h2>Failed turns ({len(failed)})</h2>{failures or "<p>None.</p>"}
</body></html>"""
