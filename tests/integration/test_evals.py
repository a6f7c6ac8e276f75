"""Evals through the real graph on the embedded servers: a smoke run, the report, and the CLI's
compare gate catching a deliberately broken agent config."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from agents import AgentContext, default_agents_dir
from evals import RunOptions, render_html, run_evals, write_results
from tests.integration.conftest import WAM, wam_env

pytestmark = pytest.mark.integration


async def test_smoke_run_scores_every_turn_and_writes_the_report(supervisor, stores, tmp_path):
    options = RunOptions(tags=["smoke"], concurrency=3, context=AgentContext())
    results = await run_evals(supervisor, stores, options, default_agents_dir())
    assert results["cases"] >= 10
    for key in (
        "routing_accuracy",
        "tool_precision",
        "tool_recall",
        "kb_hit_rate",
        "answer_correctness",
        "groundedness",
        "refusal_correctness",
    ):
        assert key in results["metrics"], key
    assert results["metrics"]["routing_accuracy"] >= 0.9
    assert set(results["by_agent"]) == {"sales", "device_support", "billing", "general"}
    assert set(results["by_language"]) == {"en", "es"}
    assert len(results["config_hash"]) == 16 and len(results["dataset_hash"]) == 16
    json_path, html_path = write_results(results, tmp_path)
    assert json.loads(json_path.read_text())["run_id"] == results["run_id"]
    page = html_path.read_text()
    assert "<svg" in page and "confusion" in page and "Failed turns" in page
    assert "http" not in page.replace("http-equiv", ""), "the report must be self-contained"
    assert render_html(results) == page


def _broken_agents(tmp_path: Path) -> Path:
    """The demo agents with sales' routing examples replaced by billing's: a bad config edit."""
    folder = tmp_path / "broken-agents"
    shutil.copytree(default_agents_dir(), folder)
    sales = (folder / "sales.yaml").read_text()
    start, end = sales.index("examples:"), sales.index("system_prompt_file:")
    sales = (
        sales[:start] + "examples:\n  en: [Show me my invoice, refund my charge]\n" + sales[end:]
    )
    (folder / "sales.yaml").write_text(sales)
    return folder


def test_compare_gates_a_broken_config(servers, settings, tmp_path) -> None:
    env = wam_env(settings, servers, tmp_path)
    env.pop("BILLING_API_URL", None)
    folders = {"good": default_agents_dir(), "broken": _broken_agents(tmp_path)}
    runs = {label: tmp_path / label for label in folders}
    # The two runs, then the two comparisons, side by side: each is a process of its own.
    evals = {
        label: subprocess.Popen(
            [
                *WAM,
                "evals",
                "run",
                "--tag",
                "smoke",
                "--agents-dir",
                str(folder),
                "--out",
                str(runs[label]),
                "--set",
                "router_threshold=0.35",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for label, folder in folders.items()
    }
    for process in evals.values():
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-2000:]
        assert "routing_accuracy" in stdout
    gate, same = (
        subprocess.Popen(
            [*WAM, "evals", "compare", *map(str, pair), *extra],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for pair, extra in (
            ((runs["good"], runs["broken"]), ["--metric", "routing_accuracy"]),
            ((runs["good"], runs["good"]), []),
        )
    )
    gate_out, _ = gate.communicate(timeout=60)
    same.communicate(timeout=60)
    assert gate.returncode == 1, gate_out
    assert "REGRESSION" in gate_out and "now failing" in gate_out
    assert same.returncode == 0


def test_bad_set_option_is_refused_naming_it(tmp_path) -> None:
    done = subprocess.run(
        [*WAM, "evals", "run", "--set", "speed=fast"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "--set 'speed=fast'" in done.stderr


async def test_each_conversation_of_a_demo_customer_starts_from_the_seeded_record(
    supervisor, stores, tmp_path
):
    """A change one case confirms (the kitchen speaker to 90) must not decide what a later case
    of the same customer reads (its seeded 60), whatever order the run takes."""
    from stores import demo_customers

    cases = [
        {
            "id": "reseed-change",
            "language": "es",
            "customer": "+15550005",
            "turns": [
                {"input": "sube el altavoz de la cocina a 90", "agent": "device_support"},
                {"input": "sí, dale", "agent": "device_support"},
            ],
        },
        {
            "id": "reseed-read",
            "language": "es",
            "customer": "+15550005",
            "turns": [
                {
                    "input": "qué volumen tiene el altavoz de la cocina?",
                    "agent": "device_support",
                    "required_facts": ["volumen 60"],
                }
            ],
        },
    ]
    dataset = tmp_path / "reseed.jsonl"
    dataset.write_text("".join(json.dumps(case, ensure_ascii=False) + "\n" for case in cases))
    seeded = next(c for c in demo_customers() if c.phone == "+15550005")
    try:
        options = RunOptions(datasets=[str(dataset)], concurrency=1, context=AgentContext())
        results = await run_evals(supervisor, stores, options, default_agents_dir())
        changed = next(r for r in results["records"] if r["id"] == "reseed-change" and r["turn"])
        assert "90" in changed["reply"] and changed["scores"]["routing_accuracy"] == 1.0, changed
    finally:
        stores.customers.put_customer(seeded)  # other tests read Carlos's seeded record
    read = next(r for r in results["records"] if r["id"] == "reseed-read")
    assert read["scores"]["answered"] == 1.0, read["reply"]
