"""The graphs `langgraph dev` (LangGraph Studio) serves, named in `langgraph.json`.

They are compiled without a checkpointer: Studio brings its own persistence. On first import, the
process attaches to a running local stack (`make run` beside it), else the embedded servers start
if `REDIS_URL` / AWS are not configured (and stop when the process exits),
the demo data is seeded, and the offline model answers unless AWS credentials are configured.
Tune per run in Studio's assistant config: `model_provider`, `model_id`, `temperature`,
`router_threshold`, `max_history_tokens` (the graph's context schema).
"""

from __future__ import annotations

from app.runtime import process_deps
from graph import compile_single_agent, compile_supervisor

_deps = process_deps()

supervisor = compile_supervisor(_deps)
# Each agent alone, after the supervisor's load_context (the customer of `wa_id` is loaded).
sales = compile_single_agent(_deps, "sales")
device_support = compile_single_agent(_deps, "device_support")
billing = compile_single_agent(_deps, "billing")
general = compile_single_agent(_deps, "general")
