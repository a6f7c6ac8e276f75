"""The agent's tool step: runs what the model asked for, asking the customer before any change.

- Arguments the conversation owns (`customer_id`, `wa_id`, ...) are injected from the state and
  never taken from the model.
- A call repeated with the same arguments in one turn is not run again: the earlier result comes
  back with a nudge to answer.
- A write tool (see `tools.actions`) is validated by its `prepare` step; a valid change is proposed
  to the customer through `interrupt()` and runs only when the resume value confirms exactly that
  proposal. The confirmed tool's result (a sentence for the customer) is the reply; a "no" or a
  cancellation ends the turn with "nothing was changed".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import structlog
from langchain_core.messages import AIMessage, AnyMessage, ToolCall, ToolMessage
from langchain_core.tools import BaseTool
from langgraph.graph import END
from langgraph.types import Command, interrupt

from agents.canned import canned, instruction
from agents.requests import text_of
from agents.state import AgentState, messages_this_turn
from tools.actions import CallContext, Proposal, is_write_tool, prepare_of

log = structlog.get_logger(__name__)

CONFIRMATION = "confirmation"


def confirmation_buttons(proposal_id: str, language: str) -> list[tuple[str, str]]:
    """WhatsApp reply buttons (id, title) answering one proposal."""
    return [
        (f"confirm:{proposal_id}:yes", canned("yes", language)),
        (f"confirm:{proposal_id}:no", canned("no", language)),
    ]


def _fields(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        return set(schema.get("properties", {}))
    return set(getattr(schema, "model_fields", {}) or {})


def injected_fields(tool: BaseTool) -> set[str]:
    """Arguments the tool takes that the model does not see (filled from the state)."""
    return _fields(tool.get_input_schema()) - _fields(tool.tool_call_schema)


ONCE_PER_TURN = "once_per_turn"


def _call_key(call: ToolCall, once: bool = False) -> str:
    """Calls that are the same: same tool and arguments (any arguments for a once-per-turn tool)."""
    return json.dumps([call["name"], {} if once else call["args"]], sort_keys=True, default=str)


def _earlier_results(messages: list[AnyMessage], once: set[str]) -> dict[str, str]:
    """Results of this turn's earlier calls, by (name, arguments)."""
    turn = messages_this_turn(messages)
    results = {m.tool_call_id: text_of(m) for m in turn if isinstance(m, ToolMessage)}
    earlier: dict[str, str] = {}
    for message in turn[:-1]:
        if isinstance(message, AIMessage):
            for call in message.tool_calls:
                if call.get("id") in results:
                    earlier[_call_key(call, call["name"] in once)] = results[str(call["id"])]
    return earlier


class ToolExecutor:
    """The `tools` node of one agent subgraph."""

    def __init__(self, agent_id: str, tools: list[BaseTool]) -> None:
        self.agent_id = agent_id
        self.tools = {tool.name: tool for tool in tools}
        self._injected = {tool.name: injected_fields(tool) for tool in tools}
        self._once = {t.name for t in tools if (t.metadata or {}).get(ONCE_PER_TURN)}

    async def __call__(self, state: AgentState) -> Command[Any]:
        last = state.messages[-1]
        assert isinstance(last, AIMessage)
        earlier = _earlier_results(state.messages, self._once)
        results: list[AnyMessage] = []
        writes: list[ToolCall] = []
        for call in last.tool_calls:
            tool = self.tools.get(call["name"])
            if tool is None:
                results.append(self._error(call, f"Error: there is no tool {call['name']!r}."))
            elif (key := _call_key(call, call["name"] in self._once)) in earlier:
                content = f"{earlier[key]}\n\nNOTE: {instruction('repeated_call')}"
                results.append(self._message(call, content))
            elif is_write_tool(tool):
                writes.append(call)
            else:
                results.append(await self._run(tool, call, state))
        if not writes:
            return Command(update={"messages": results}, goto="model")
        for extra in writes[1:]:
            results.append(self._error(extra, instruction("one_change_at_a_time")))
        outcome, reply, answer = await self._propose(writes[0], state)
        results.insert(0, outcome)
        if reply is None:
            return Command(update={"messages": results}, goto="model")
        variables = {**state.context_variables, "confirmation": answer}
        return Command(
            update={"messages": [*results, reply], "context_variables": variables}, goto=END
        )

    @staticmethod
    def _message(call: ToolCall, content: str, status: str = "success") -> ToolMessage:
        return ToolMessage(
            content=content or "(no output)",
            tool_call_id=str(call["id"]),
            name=call["name"],
            status=status,  # type: ignore[arg-type]
        )

    def _error(self, call: ToolCall, content: str) -> ToolMessage:
        return self._message(call, content, "error")

    def _arguments(self, tool: BaseTool, call: ToolCall, state: AgentState) -> dict[str, Any]:
        """The model's arguments without any it must not set, plus the state's injected ones."""
        injected = self._injected[tool.name]
        arguments = {k: v for k, v in call["args"].items() if k not in injected}
        for name in injected:
            if hasattr(state, name):
                arguments[name] = getattr(state, name)
        return arguments

    async def _run(
        self,
        tool: BaseTool,
        call: ToolCall,
        state: AgentState,
        args: Mapping[str, Any] | None = None,
    ) -> ToolMessage:
        chosen = dict(args) if args is not None else dict(call["args"])
        arguments = self._arguments(tool, {**call, "args": chosen}, state)
        try:
            output = await tool.ainvoke(arguments)
        except Exception as error:  # a bad argument type, a failing dependency
            log.warning("tool failed", tool=tool.name, error=repr(error)[:300])
            return self._error(call, f"Error: {tool.name} could not run: {type(error).__name__}.")
        return self._message(call, output if isinstance(output, str) else json.dumps(output))

    async def _propose(
        self, call: ToolCall, state: AgentState
    ) -> tuple[ToolMessage, AIMessage | None, dict[str, Any]]:
        """Validate, ask the customer, run only on a yes to exactly this proposal.

        Also returns what was proposed and how the customer answered (for the conversation log).
        """
        tool = self.tools[call["name"]]
        prepare = prepare_of(tool)
        context = CallContext(state.customer_id, state.wa_id, state.user_id, state.language)
        model_args = {k: v for k, v in call["args"].items() if k not in self._injected[tool.name]}
        try:
            prepared = await prepare(model_args, context) if prepare else "Error: not available."
        except Exception as error:
            log.warning("tool validation failed", tool=tool.name, error=repr(error)[:300])
            prepared = f"Error: {tool.name} could not check these arguments."
        if not isinstance(prepared, Proposal):
            return self._error(call, prepared), None, {}
        proposal_id = prepared.proposal_id(str(call["id"]))
        decision = interrupt(self._request(prepared, proposal_id, state.language))
        confirmed = (
            isinstance(decision, dict)
            and decision.get("proposal_id") == proposal_id
            and decision.get("decision") == "yes"
        )
        log.info("proposal answered", tool=tool.name, proposal=proposal_id, confirmed=confirmed)
        answer = {
            "proposal_id": proposal_id,
            "summary": prepared.summary,
            **(decision if isinstance(decision, dict) else {}),
        }
        if not confirmed:
            declined = self._message(call, instruction("declined"))
            return declined, self._reply(canned("cancelled", state.language), state), answer
        result = await self._run(tool, call, state, prepared.arguments)
        return result, self._reply(text_of(result), state), answer

    @staticmethod
    def _request(proposal: Proposal, proposal_id: str, language: str) -> dict[str, Any]:
        """The interrupt's value: what Studio shows and what `run_turn` answers with."""
        return {
            "kind": CONFIRMATION,
            "proposal_id": proposal_id,
            "tool": proposal.tool,
            "arguments": proposal.arguments,
            "summary": proposal.summary,
            "language": language,
            "buttons": [list(b) for b in confirmation_buttons(proposal_id, language)],
        }

    def _reply(self, text: str, state: AgentState) -> AIMessage:
        reply = AIMessage(content=text, name=self.agent_id)
        reply.response_metadata = {"model_id": state.model_id, "confirmation": True}
        return reply


__all__ = [
    "CONFIRMATION",
    "ONCE_PER_TURN",
    "ToolExecutor",
    "confirmation_buttons",
    "injected_fields",
]
