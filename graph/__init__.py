"""The supervisor graph: state, routers, the nodes that are not agents, and the builder."""

from graph.builder import (
    SupervisorGraph,
    build_supervisor,
    compile_single_agent,
    compile_supervisor,
)
from graph.deps import SupervisorDeps
from graph.follow_ups import is_follow_up
from graph.nodes import SupervisorNodes, inbound_of_turn, reply_message_id
from graph.router import (
    Calibration,
    CascadeRouter,
    LexicalRouter,
    LLMRouter,
    LocalRouter,
    RouteDecision,
    Router,
)
from graph.state import SupervisorState
from graph.turn import TurnResult, run_turn, thread_id_for, turn_result

__all__ = [
    "Calibration",
    "CascadeRouter",
    "LLMRouter",
    "LexicalRouter",
    "LocalRouter",
    "RouteDecision",
    "Router",
    "SupervisorDeps",
    "SupervisorGraph",
    "SupervisorNodes",
    "SupervisorState",
    "TurnResult",
    "build_supervisor",
    "compile_single_agent",
    "compile_supervisor",
    "inbound_of_turn",
    "is_follow_up",
    "reply_message_id",
    "run_turn",
    "thread_id_for",
    "turn_result",
]
