"""The `offline` provider: a deterministic development model, not an LLM.

It lets the whole system run with no network and no credentials (local runs, Studio, tests,
evals). It supports `bind_tools`: it picks the bound tool whose name, description and examples best
match the customer's message and fills the arguments from the tool's schema. After a tool answers,
it replies from that output, quoting knowledge-base passages with their source. When nothing
matches it says it does not know rather than inventing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.messages.utils import count_tokens_approximately
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field

from agents.canned import canned
from agents.kb_query import FOLLOW_UP_WORDS, follow_up_query, opens_follow_up
from agents.offline_reading import (
    about_own,
    asks_for_knowledge,
    asks_question,
    is_request,
    repeats,
)
from agents.offline_text import (
    SEMANTIC_WEIGHT,
    UNRELATED,
    WORD,
    as_written,
    closeness,
    content_terms,
    similarities,
)
from agents.offline_tools import KB_TOOL, Asked, ToolBox, unclitic
from agents.passage_reading import opens_with_auxiliary
from agents.passages import Scorer, best_passage_answer
from tools.actions import is_write_tool
from tools.language import Language, detect_language
from tools.phatic import asks_about_assistant, leftover_small_talk, read_message
from tools.small_talk import agrees
from tools.text import fold, unshout

OFFLINE_MODEL_ID = "offline-dev-model"
_WORD = WORD
_REPLY_IN = re.compile(r"\bReply in (English|Spanish)\b")
_UNLINKED = re.compile(r"^Customer: not linked\b", re.MULTILINE)

ACKNOWLEDGEMENTS = {"yes", "yeah", "yep", "ok", "okay", "si", "vale", "sure", "dale", "no", "nope"}
GREETINGS = {"hello", "hi", "hey", "hola", "buenos", "buenas", "good", "morning", "evening"}
THANKS = {"thanks", "thank", "gracias", "thx", "appreciate", "agradezco"}
GOODBYES = {"bye", "goodbye", "adios", "chao", "hasta", "luego", "later"}
OWN_SEARCH_MARGIN = 1.0  # a shared word's worth above the knowledge base's floor
_TOOLBOXES: dict[tuple[str, ...], ToolBox] = {}
__all__ = [
    "OFFLINE_MODEL_ID",
    "SEMANTIC_WEIGHT",
    "UNRELATED",
    "OfflineChatModel",
    "asks_for_knowledge",
    "asks_question",
    "closeness",
    "content_terms",
    "is_request",
    "similarities",
]


def _instructed_language(messages: list[BaseMessage]) -> Language | None:
    """The language the system prompt asks for ("Reply in Spanish."): the conversation's
    language, which knows the customer and the turns before (a bare "ok" or "nos vemos" has too
    few words to tell)."""
    for message in messages:
        if isinstance(message, SystemMessage):
            found = _REPLY_IN.search(_text_of(message))
            if found:
                return "es" if found.group(1) == "Spanish" else "en"
    return None


def _unlinked_customer(messages: list[BaseMessage]) -> bool:
    """The system prompt says the WhatsApp number is linked to no account."""
    return any(
        isinstance(m, SystemMessage) and _UNLINKED.search(_text_of(m)) is not None for m in messages
    )


def _text_of(message: BaseMessage) -> str:
    """The message's text; a shouted one in lower case (`tools.text.unshout`)."""
    content = message.content
    if isinstance(content, str):
        return unshout(content)
    return unshout(
        " ".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    )


# The canned reply of each kind of small talk whose kind is not its own reply's name.
_SMALL_TALK_REPLIES = {"politeness": "greeting", "assistant": "about_assistant"}


class OfflineChatModel(BaseChatModel):
    """Deterministic stand-in for a chat model; see the module docstring."""

    model_id: str = OFFLINE_MODEL_ID
    bound_tools: list[dict[str, Any]] = Field(default_factory=list)
    min_tool_score: float = 1.0

    @property
    def _llm_type(self) -> str:
        return "offline"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "tools": [t["name"] for t in self.bound_tools]}

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        described = []
        for item in tools:
            schema = convert_to_openai_tool(item)["function"]
            examples = []
            write = isinstance(item, BaseTool) and is_write_tool(item)
            if isinstance(item, BaseTool) and item.metadata:
                examples = list(item.metadata.get("examples", []))
            described.append(
                {
                    "name": schema["name"],
                    "description": schema.get("description", ""),
                    "parameters": schema.get("parameters", {}),
                    "examples": examples,
                    "write": write,
                }
            )
        return self.model_copy(update={"bound_tools": described})

    # Generation -------------------------------------------------------------------------------

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        asked = [as_written(_text_of(m)) for m in messages if isinstance(m, HumanMessage)]
        question = focus = asked[-1] if asked else ""
        language = _instructed_language(messages) or detect_language(question)
        tool_outputs = self._pending_tool_outputs(messages)
        small_talk = read_message(focus).small_talk
        if small_talk in ("thanks", "goodbye", "greeting", "assistant") and not tool_outputs:
            # "gracias" after an answer closes the exchange: answered as small talk, never read
            # with the message before it.
            reply = canned(_SMALL_TALK_REPLIES.get(small_talk, small_talk), language)
            return self._result(messages, AIMessage(content=reply))
        if len(asked) > 1 and (opens_follow_up(question) or not content_terms(question)):
            # A follow-up ("and for enterprise?") is read with the message before it; tools are
            # still asked about the follow-up itself when it has words of its own.
            question = f"{asked[-2]} {question}"
        if tool_outputs:
            search = self._search_for_unlinked(messages, focus, tool_outputs)
            if search is not None:
                return self._result(messages, search)
            outputs = self._turn_tool_outputs(messages)
            message = AIMessage(content=self._answer_from_tools(question, focus, outputs, language))
        else:
            if set(_WORD.findall(fold(focus))) <= ACKNOWLEDGEMENTS and focus.strip():
                # A bare yes / no with nothing waiting for it: acknowledge, never act on it.
                return self._result(messages, AIMessage(content=canned("acknowledged", language)))
            message = self._first_step(focus, language, asked[-2] if len(asked) > 1 else "")
        return self._result(messages, message)

    def _result(self, messages: list[BaseMessage], message: AIMessage) -> ChatResult:
        input_tokens = count_tokens_approximately(messages)
        output_tokens = count_tokens_approximately([message])
        message.usage_metadata = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        }
        message.response_metadata = {"model_name": self.model_id, "model_provider": "offline"}
        return ChatResult(generations=[ChatGeneration(message=message)])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        """Pure computation in microseconds: no thread hop (the default runs `_generate` in an
        executor)."""
        return self._generate(messages, stop, **kwargs)

    @staticmethod
    def _pending_tool_outputs(messages: list[BaseMessage]) -> list[ToolMessage]:
        outputs: list[ToolMessage] = []
        for message in reversed(messages):
            if isinstance(message, ToolMessage):
                outputs.append(message)
            else:
                break
        return outputs[::-1]

    @staticmethod
    def _turn_tool_outputs(messages: list[BaseMessage]) -> list[ToolMessage]:
        """Every tool output since the customer's last message (a second step's too)."""
        last = max((i for i, m in enumerate(messages) if isinstance(m, HumanMessage)), default=-1)
        return [m for m in messages[last + 1 :] if isinstance(m, ToolMessage)]

    def _search_for_unlinked(
        self, messages: list[BaseMessage], focus: str, outputs: list[ToolMessage]
    ) -> AIMessage | None:
        """A second step for a number linked to no account: the account tools could not answer,
        so the knowledge base is searched too ("si aparece un cargo repetido, que pasa?" is a
        policy question as well), unless it already was this turn. None: answer now."""
        names = {m.name for m in self._turn_tool_outputs(messages)}
        bound = {t["name"] for t in self.bound_tools}
        if KB_TOOL in names or KB_TOOL not in bound or not _unlinked_customer(messages):
            return None
        if all(_text_of(m).startswith("ESCALATED:") for m in outputs):
            return None
        query = read_message(focus).request or focus
        return AIMessage(
            content="",
            tool_calls=[
                {
                    "name": KB_TOOL,
                    "args": {"query": query},
                    "id": f"call_{abs(hash(query)) % 10**10}",
                }
            ],
        )

    def _first_step(self, focus: str, language: Language, before: str = "") -> AIMessage:
        """The tool call for the customer's message `focus` (`before`: their message before
        it), or a sentence when no tool fits."""
        text = read_message(focus).request or focus
        small_talk = self._small_talk(focus)
        if small_talk is None and asks_about_assistant(focus):
            return AIMessage(content=canned("about_assistant", language))
        if small_talk:  # small talk is answered, never acted on
            return AIMessage(content=canned(small_talk, language))
        toolbox = self._toolbox()
        # A request for a person is read as written, clause by clause ("persona ya, no un bot").
        choice = toolbox.handoff(focus) or toolbox.choose(text, _asked(focus))
        arguments = toolbox.arguments(choice, focus) if choice else None
        asked_now = _asked(focus)
        if choice and choice.get("write") and arguments is not None and not asked_now.writes:
            # A question about one's options of a change gets the list and "which one?".
            arguments = toolbox.without_options(choice, arguments)
        if (
            before
            and not asked_now.knowledge  # "¿cuánto se demora eso?" asks the policy itself
            and _continues(focus, choice)
            and not _searches_itself(toolbox, text, choice, asked_now)
        ):
            choice, arguments = _follow_up_call(toolbox, focus, before, choice, asked_now)
        if choice is None:
            return AIMessage(content=canned(self._unknown_or_small_talk(focus), language))
        if choice["name"] == KB_TOOL and arguments and before:
            # The query says what an elliptical follow-up leaves out ("y los sábados?").
            arguments["query"] = follow_up_query(str(arguments.get("query") or focus), before)
        if arguments is None and choice.get("write"):
            # "turn it down a little": the change is called without the level, and says (after
            # checking the plan allows it) which levels there are and asks which one.
            arguments = toolbox.arguments(choice, focus, unnamed=True)
        if arguments is None:
            return AIMessage(content=canned("need_number", language))
        calls = [(choice, arguments), *_also_asked(toolbox, focus, choice)]
        return AIMessage(
            content="",
            tool_calls=[
                {
                    "name": tool["name"],
                    "args": args,
                    "id": f"call_{abs(hash((tool['name'], text))) % 10**10}",
                }
                for tool, args in calls
            ],
        )

    @staticmethod
    def _small_talk(question: str) -> str | None:
        """thanks / goodbye / greeting when the message is nothing else ("are you open saturday
        morning?" is a question, not a greeting)."""
        kind = read_message(question).small_talk
        return None if kind is None else _SMALL_TALK_REPLIES.get(kind, kind)

    def _unknown_or_small_talk(self, focus: str) -> str:
        """The canned reply when nothing answers `focus`: "unknown", or the small talk it opened
        or closed with when what is left says nothing the tools know ("hey, you around?")."""
        known = self._term_weights()
        kind = leftover_small_talk(focus, lambda rest: any(t in known for t in content_terms(rest)))
        if kind is None and agrees(focus) and not opens_with_auxiliary(focus):
            # "sure, confirm" with nothing waiting for a yes; "do you accept X" asks something.
            return "acknowledged"
        return "unknown" if kind is None else _SMALL_TALK_REPLIES.get(kind, kind)

    def _toolbox(self) -> ToolBox:
        """The bound tools, read once per set of tools."""
        key = tuple(t["name"] for t in self.bound_tools)
        cached = _TOOLBOXES.get(key)
        if cached is None or cached.tools != self.bound_tools:
            cached = _TOOLBOXES[key] = ToolBox(self.bound_tools, self.min_tool_score)
        return cached

    def _choose_tool(self, question: str, writes: bool = True) -> dict[str, Any] | None:
        """The best matching tool; a change only when the message asks for one (`writes`)."""
        return self._toolbox().choose(question, Asked(writes=writes))

    def _term_weights(self) -> dict[str, float]:
        return self._toolbox().weights

    def _fill_arguments(self, choice: dict[str, Any], question: str) -> dict[str, Any] | None:
        return self._toolbox().arguments(choice, question)

    def _answer_from_tools(
        self, question: str, focus: str, outputs: list[ToolMessage], language: Language
    ) -> str:
        parts = []
        for output in outputs:
            text = _text_of(output).split("\n\nNOTE:")[0].strip()  # notes are for the model
            if text.startswith("NO_RESULTS"):
                continue
            if text.startswith("ESCALATED:"):
                parts.append(_escalation_reply(language))
            elif text.startswith(("ERROR:", "Error:")):
                # Errors are for the model; the customer reads a sentence of their own.
                unlinked = "no account is linked" in text or "not linked to an account" in text
                key = "no_account" if unlinked else "tool_error"
                parts.append(canned(key, language))
            elif "[source:" in text:
                answer = _best_passage_answer(question, text, focus, language)
                if answer:
                    parts.append(answer)
            else:
                parts.append(_render_result(text, language))
        if not parts:
            return canned(self._unknown_or_small_talk(focus), language)
        return "\n\n".join(parts)


def _unclitic(word: str, known: dict[str, float]) -> str:
    return unclitic(word, known)


def _asked(text: str) -> Asked:
    """What the message asks for. A change may be proposed on a request, or on a message that
    asks nothing ("take the speaker to the garage") when it names what the change needs: a
    change is only proposed, the customer's yes makes it."""
    request = is_request(text)
    question = asks_question(text)
    return Asked(
        writes=request or not question,
        statement=not request and not question,
        knowledge=not request and asks_for_knowledge(text),
        own=question and about_own(text),
    )


_JOINED = re.compile(r"\s*(?:\+|&)\s*|\s+plus\s+")  # "A + B": two things asked at once


def _also_asked(
    toolbox: ToolBox, focus: str, choice: dict[str, Any]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The other reads of the account a message joins to the first ("latest invoice + payment
    method"): each part of it, read alone, finds a read of its own. Changes are made one at a
    time, and a search is one."""
    if choice.get("write") or choice["name"] == KB_TOOL:
        return []
    found: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for part in _JOINED.split(fold(focus)):
        tool = toolbox.choose(part, _asked(part)) if part.strip() else None
        if tool is None or tool.get("write") or tool["name"] == KB_TOOL:
            continue
        if tool["name"] != choice["name"] and all(tool["name"] != t["name"] for t, _ in found):
            arguments = toolbox.arguments(tool, focus)
            if arguments is not None:
                found.append((tool, arguments))
    return found


def _searches_itself(
    toolbox: ToolBox, text: str, choice: dict[str, Any] | None, asked: Asked | None = None
) -> bool:
    """A follow-up whose own words find the knowledge base above its floor asks about what it
    names ("y como es lo de los reembolsos?" after a question about the balance), and so does a
    question about a change it names (`asked`: what the follow-up itself asks for)."""
    if choice is None or choice["name"] != KB_TOOL or toolbox.names_only_things(text):
        return False  # "and the one in the office?" names a thing, no change nor topic
    if not (asked or _asked(text)).writes:
        best = next((tool for score, _, tool in toolbox.ranked(text)), None)
        if (
            best is not None
            and best.get("write")
            and toolbox.score(text, best) >= toolbox.min_score
        ):
            return True  # a question about a change it names ("¿y me lo devuelven todo?")
    return toolbox.score(text, choice) > toolbox.min_score + OWN_SEARCH_MARGIN


def _follow_up_call(
    toolbox: ToolBox, focus: str, before: str, choice: dict[str, Any] | None, asked_now: Asked
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The tool and arguments of a follow-up ("and the thermostat?", "a bit more"): what the
    message `before` asked for, with the values this one names itself (or else the ones before);
    a question after a request asks about it, it requests nothing ("¿y me lo devuelven todo?")."""
    text = read_message(focus).request or focus
    earlier = read_message(before).request or before
    asked = _asked(f"{before} {focus}")
    if not asked_now.writes:
        asked = replace(asked, writes=False, statement=False)
    choice = toolbox.choose(f"{earlier} {text}", asked) or choice
    previous = toolbox.choose(earlier, _asked(before))
    if previous and not previous.get("write") and toolbox.names_only_things(focus):
        choice = previous  # "and the one in the office?": the same read, of it
    if choice is None:
        return None, None
    if repeats(focus):
        # "haz lo mismo con la bocina": this message's thing, the values before.
        return choice, toolbox.carried(choice, focus, earlier)
    # A change's reason is the customer's words before too; a search is this one.
    reason = before if choice.get("write") else ""
    arguments = toolbox.arguments(choice, focus, reason)
    return choice, arguments or toolbox.arguments(choice, f"{before} {focus}")


def _continues(focus: str, choice: dict[str, Any] | None) -> bool:
    """`focus` continues the message before it: it opens as a follow-up ("and the thermostat?",
    "y para premium?"), or is a few words that find no tool of their own ("a bit more")."""
    if repeats(focus):
        return True  # "the same for the kitchen one": the change before, for another thing
    if choice is not None and choice["name"] != "search_knowledge_base":
        return False  # words of its own that find a tool: a message of its own
    return opens_follow_up(focus) or len(_WORD.findall(fold(focus))) <= FOLLOW_UP_WORDS


def _escalation_reply(language: Language) -> str:
    return canned("escalated", language)


def readable_source(slug: str, language: str) -> str:
    """A citation a customer can read: `plans-and-pricing` -> `(Source: Plans and pricing)`."""
    name = slug.replace("-", " ").replace("_", " ").strip().capitalize()
    return f"({'Fuente' if language == 'es' else 'Source'}: {name})"


def _best_passage_answer(
    question: str, text: str, focus: str = "", language: str = "en"
) -> str | None:
    """The sentences of the retrieved passages that best answer the question, with their source
    (`agents.passages`); None when none relates to it: better "I don't know" than a passage that
    only looks related."""
    scorer = Scorer(content_terms, similarities, closeness, asks_question)
    return best_passage_answer(question, text, focus, language, scorer, readable_source)


def _render_result(text: str, language: Language) -> str:
    """A tool's JSON result as readable lines; plain text as it is."""
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        fields = ", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in data.items())
        return fields
    return json.dumps(data, ensure_ascii=False)
