"""Datasets, evaluators, the eval runner and its reports."""

from evals.compare import Comparison, compare, is_results, load_results
from evals.dataset import Conversation, DatasetError, Turn, load_dataset
from evals.evaluators import METRICS, evaluate_turn
from evals.report import render_html, tables, write_results
from evals.runner import RunOptions, config_hash, run_evals

__all__ = [
    "METRICS",
    "Comparison",
    "Conversation",
    "DatasetError",
    "RunOptions",
    "Turn",
    "compare",
    "config_hash",
    "evaluate_turn",
    "is_results",
    "load_dataset",
    "load_results",
    "render_html",
    "run_evals",
    "tables",
    "write_results",
]
