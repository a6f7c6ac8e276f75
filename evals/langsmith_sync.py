"""With `LANGSMITH_API_KEY` set: sync the dataset to LangSmith and record the run as an experiment.

The experiment replays the turns this run already scored (its target looks them up), so LangSmith
shows exactly what the local report shows, with each evaluator's `{key, score, comment}`. Without
the key nothing leaves the machine.
"""

from __future__ import annotations

import os
from typing import Any

import structlog

log = structlog.get_logger(__name__)


def dataset_name(results: dict[str, Any]) -> str:
    return "whatsapp-multiagent-" + "-".join(results["datasets"])


def examples(results: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "inputs": {
                "case": r["id"],
                "turn": r["turn"],
                "input": r["input"],
                "customer": r["customer"],
                "language": r["language"],
            },
            "outputs": {"agent": r["expected_agent"]},
            "metadata": {"tags": r["tags"], "difficulty": r["difficulty"]},
        }
        for r in results["records"]
    ]


def sync_to_langsmith(results: dict[str, Any]) -> str | None:
    """The experiment's name, or None when LangSmith is not configured (or unreachable)."""
    if not os.environ.get("LANGSMITH_API_KEY"):
        return None
    try:
        from langsmith import Client, evaluate

        client = Client()
        name = dataset_name(results)
        if client.has_dataset(dataset_name=name):
            dataset = client.read_dataset(dataset_name=name)
            known = {
                (e.inputs["case"], e.inputs["turn"])
                for e in client.list_examples(dataset_id=dataset.id)
                if e.inputs
            }
        else:
            dataset = client.create_dataset(name, description="whatsapp-multiagent eval cases")
            known = set()
        new = [
            e for e in examples(results) if (e["inputs"]["case"], e["inputs"]["turn"]) not in known
        ]
        if new:
            client.create_examples(dataset_id=dataset.id, examples=new)
        recorded = {(r["id"], r["turn"]): r for r in results["records"]}

        def target(inputs: dict[str, Any]) -> dict[str, Any]:
            record = recorded.get((inputs["case"], inputs["turn"]), {})
            return {
                "reply": record.get("reply", ""),
                "agent": record.get("agent"),
                "scores": record.get("scores", {}),
                "comments": record.get("comments", {}),
            }

        def scorer(key: str) -> Any:
            def score(outputs: dict[str, Any]) -> dict[str, Any] | None:
                if key not in outputs["scores"]:
                    return None
                return {
                    "key": key,
                    "score": outputs["scores"][key],
                    "comment": outputs["comments"].get(key, ""),
                }

            score.__name__ = key
            return score

        keys = sorted(results["metrics"])
        experiment = evaluate(
            target,
            data=name,
            evaluators=[scorer(k) for k in keys],
            experiment_prefix=f"run-{results['run_id']}",
            metadata={
                "config_hash": results["config_hash"],
                "seed": results["seed"],
                "dataset_hash": results["dataset_hash"],
            },
        )
        return str(getattr(experiment, "experiment_name", name))
    except Exception as error:
        log.warning("LangSmith sync failed; results stay local", error=repr(error)[:300])
        return None
