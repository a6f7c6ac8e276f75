"""The graphs `langgraph dev` (LangGraph Studio) serves, named in `langgraph.json`.

They are compiled without a checkpointer: Studio brings its own persistence. On first import, the
embedded servers start if `REDIS_URL` / AWS are not configured (and stop when the process exits),
the demo data is seeded, and the offline model answers unless AWS credentials are configured.
Tune per run in Studio's assistant config: `model_provider`, `model_id`, `temperature`,
`router_threshold`, `max_history_tokens` (the graph's context schema).
"""

from __future__ import annotations

from app.runtime import process_deps
from graph import compile_supervisor

_deps = process_deps()

supervisor = compile_supervisor(_deps)
sales = _deps.agent_graph("sales")
device_support = _deps.agent_graph("device_support")
billing = _deps.agent_graph("billing")
general = _deps.agent_graph("general")
