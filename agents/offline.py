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
from tools.actions import is_write_tool
from tools.embeddings import sentence_encoder
from tools.escalation import ESCALATION_TOOL
from tools.handoff import asks_for_person
from tools.knowledge import STOPWORDS
from tools.language import Language, detect_language
from tools.phatic import asks_about_assistant, read_message
from tools.spelling import Speller
from tools.text import fold

OFFLINE_MODEL_ID = "offline-dev-model"
_WORD = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(r"\b(\d{1,3})\b")
_ID_TOKEN = re.compile(r"[^\W_]+_\w+")  # "dev_003": an id, its digits are no value
_DESTINATION = re.compile(
    r"\b(?:to|into|in|al|a la|a el|hacia|en)\s+(?:the\s+|my\s+|el\s+|la\s+|mi\s+)?"
    r"([a-z ]{3,30}?)(?:[.?!,]|$| please| por favor)"
)
_REPLY_IN = re.compile(r"\bReply in (English|Spanish)\b")
_FOLLOW_UP_OPENER = re.compile(r"^\W*(and|y|e|what about|how about|also|tambien|and if|y si)\b")
_QUESTION_OPENER = re.compile(
    r"^\W*(what|whats|how|when|where|which|who|why|is|are|does|do|did|was|were|"
    r"que|como|cuando|donde|cual|cuales|cuanto|cuanta|cuantos|quien|por que|hay|tienen|es|"
    r"tell me|show me|explain|dime|cuentame|explicame|muestrame)\b"
)
_REQUEST_MARKER = re.compile(
    r"\b(can you|could you|would you|will you|please|i want|i wanna|i need|i would like|"
    r"i'd like|i d like|id like|let's|lets|quiero|necesito|me gustaria|puedes|podrias|"
    r"por favor|haz|hazme)\b"
)
_IMPERATIVE = re.compile(
    r"^\W*(?:(?:hey|hi|hello|ok|okay|hola|oye|vale)\W+)*(move|set|turn|connect|disconnect|link|"
    r"unlink|change|put|relocate|cancel|refund|update|add|remove|raise|lower|increase|decrease|"
    r"mute|open|request|make|switch|bump|mueve|mover|pon|poner|sube|subir|baja|bajar|conecta|"
    r"desconecta|cambia|lleva|vincula|desvincula|cancela|reembolsa|actualiza|abre|solicita|deja|"
    r"agrega|quita)(?:lo|la|le|los|las|me|nos|melo|mela)?\b"
)
# A target value ("to 30", "a 30", "en 40"): what a change is set to, in a message asking nothing.
_TARGET_VALUE = re.compile(r"\b(to|at|a|al|en)\s+\d{1,3}\b")
_ACTION_WORDS = re.compile(
    r"\b(give me|money back|refund me|devuelv\w*|devuelvan\w*|reembolsa\w*|regresa\w*)\b"
)
_STEMS = ("ing", "es", "s", "ar", "er", "ir", "os", "as", "a", "o", "e")

ACKNOWLEDGEMENTS = {"yes", "yeah", "yep", "ok", "okay", "si", "vale", "sure", "dale", "no", "nope"}
SEMANTIC_WEIGHT = 4.0  # a cosine of 1 counts as four shared words (tools and KB sentences)
UNRELATED = 0.3  # cosine of texts about different things (multilingual USE)
GREETINGS = {"hello", "hi", "hey", "hola", "buenos", "buenas", "good", "morning", "evening"}
THANKS = {"thanks", "thank", "gracias", "thx", "appreciate", "agradezco"}
GOODBYES = {"bye", "goodbye", "adios", "chao", "hasta", "luego", "later"}
_SPELLERS: dict[tuple[str, ...], Speller] = {}
_TERM_WEIGHTS: dict[tuple[str, ...], dict[str, float]] = {}
# Spanish pronouns written onto a verb ("bájalo", "súbele", "pónmelo"), longest first.
_CLITICS = ("melo", "mela", "selo", "sela", "los", "las", "les", "nos", "lo", "la", "le", "me")


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


def _stem(word: str) -> str:
    for suffix in _STEMS:
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_terms(text: str) -> set[str]:
    """Folded, stemmed words without function words."""
    return {_stem(w) for w in _WORD.findall(fold(text)) if w not in STOPWORDS and len(w) > 1}


def _text_of(message: BaseMessage) -> str:
    content = message.content
    if isinstance(content, str):
        return content
    return " ".join(
        part.get("text", "") if isinstance(part, dict) else str(part) for part in content
    )


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
        asked = [_text_of(m) for m in messages if isinstance(m, HumanMessage)]
        question = focus = asked[-1] if asked else ""
        language = _instructed_language(messages) or detect_language(question)
        tool_outputs = self._pending_tool_outputs(messages)
        small_talk = read_message(focus).small_talk
        if small_talk in ("thanks", "goodbye", "greeting") and not tool_outputs:
            # "gracias" after an answer closes the exchange: answered as small talk, never read
            # with the message before it.
            return self._result(messages, AIMessage(content=canned(small_talk, language)))
        if len(asked) > 1 and (
            _FOLLOW_UP_OPENER.match(fold(question)) or not content_terms(question)
        ):
            # A follow-up ("and for enterprise?") is read with the message before it; tools are
            # still asked about the follow-up itself when it has words of its own.
            question = f"{asked[-2]} {question}"
        if tool_outputs:
            message = AIMessage(
                content=self._answer_from_tools(question, focus, tool_outputs, language)
            )
        else:
            own_words = bool(content_terms(focus))
            if set(_WORD.findall(fold(focus))) <= ACKNOWLEDGEMENTS and focus.strip():
                # A bare yes / no with nothing waiting for it: acknowledge, never act on it.
                return self._result(messages, AIMessage(content=canned("acknowledged", language)))
            # A change may be proposed on a request, or on a message that asks nothing ("take the
            # speaker to the garage"): a change is only proposed, the customer's yes makes it.
            writes = own_words and (is_request(focus) or not asks_question(focus))
            message = self._first_step(focus if own_words else question, language, writes=writes)
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

    def _first_step(self, question: str, language: Language, writes: bool = True) -> AIMessage:
        small_talk = self._small_talk(question)
        if small_talk is None and asks_about_assistant(question):
            return AIMessage(content=canned("about_assistant", language))
        choice = self._choose_tool(question, writes)
        if choice is not None and not small_talk:  # small talk is answered, never acted on
            arguments = self._fill_arguments(choice, question)
            if arguments is None:
                return AIMessage(content=canned("need_number", language))
            call_id = f"call_{abs(hash((choice['name'], question))) % 10**10}"
            return AIMessage(
                content="",
                tool_calls=[{"name": choice["name"], "args": arguments, "id": call_id}],
            )
        return AIMessage(content=canned(small_talk or "unknown", language))

    @staticmethod
    def _small_talk(question: str) -> str | None:
        """thanks / goodbye / greeting when the message is nothing else ("are you open saturday
        morning?" is a question, not a greeting)."""
        kind = read_message(question).small_talk
        return None if kind is None else "greeting" if kind == "politeness" else kind

    def _speller(self) -> Speller:
        """Typo repair towards the words of the bound tools (names, descriptions, examples)."""
        key = tuple(t["name"] for t in self.bound_tools)
        cached = _SPELLERS.get(key)
        if cached is None:
            texts = [
                text
                for t in self.bound_tools
                for text in (t["name"].replace("_", " "), t["description"], *t["examples"])
            ]
            cached = _SPELLERS[key] = Speller(texts)
        return cached

    def _choose_tool(self, question: str, writes: bool = True) -> dict[str, Any] | None:
        """The best matching tool; a change only when the message asks for one (`writes`)."""
        question = self._speller().correct(question)
        asked = content_terms(question)
        if not asked or not self.bound_tools:
            return None
        handoff = next((t for t in self.bound_tools if t["name"] == ESCALATION_TOOL), None)
        if handoff is not None and asks_for_person(question):
            return handoff  # a request for a person, whatever words it is put in
        weight = self._term_weights()
        asked = content_terms(" ".join(_unclitic(w, weight) for w in _WORD.findall(fold(question))))

        def shared(terms: set[str]) -> float:
            return sum(weight.get(term, 0.0) for term in asked & terms)

        best: tuple[float, int, dict[str, Any]] | None = None
        for order, candidate in enumerate(self.bound_tools):
            if candidate.get("write") and not writes:
                continue
            name_terms = content_terms(candidate["name"].replace("_", " "))
            description = candidate["description"].split("\n")[0]
            example_scores = [shared(content_terms(e)) for e in candidate["examples"]]
            meaning = similarities(question, [description, *candidate["examples"]])
            score = (
                1.5 * shared(name_terms)
                + shared(content_terms(description))
                + 1.5 * max(example_scores, default=0)
                + closeness(max(meaning, default=0.0))
            )
            if candidate["name"] == "search_knowledge_base":
                score = max(score, self.min_tool_score)  # any real question may be in the KB
            key = (score, -order, candidate)
            if best is None or key[:2] > best[:2]:
                best = key
        if best is None or best[0] < self.min_tool_score:
            return None
        return best[2]

    def _term_weights(self) -> dict[str, float]:
        """Each word of the bound tools' texts, weighted by how few tools use it: a word every
        device tool has ("speaker") says nothing about which one is meant; "volume" does."""
        key = tuple(t["name"] for t in self.bound_tools)
        cached = _TERM_WEIGHTS.get(key)
        if cached is None:
            users: dict[str, int] = {}
            for tool in self.bound_tools:
                texts = [tool["name"].replace("_", " "), tool["description"].split("\n")[0]]
                terms = set().union(*(content_terms(t) for t in [*texts, *tool["examples"]]))
                for term in terms:
                    users[term] = users.get(term, 0) + 1
            cached = _TERM_WEIGHTS[key] = {term: 1.0 / count for term, count in users.items()}
        return cached

    def _fill_arguments(self, choice: dict[str, Any], question: str) -> dict[str, Any] | None:
        schema = choice["parameters"]
        required = set(schema.get("required", []))
        folded = fold(question)
        arguments: dict[str, Any] = {}
        for name, spec in schema.get("properties", {}).items():
            value = self._value_for(name, spec, question, folded)
            if value is None and name in required:
                if spec.get("type") in ("integer", "number"):
                    return None
                if not spec.get("enum"):
                    value = question
            if value is not None:
                arguments[name] = value
        return arguments

    @staticmethod
    def _value_for(name: str, spec: dict[str, Any], question: str, folded: str) -> Any:
        options = [o for o in spec.get("anyOf", []) if o.get("type") != "null"]
        if options:  # an optional parameter: its schema is the non-null option
            spec = {**options[0], **{k: v for k, v in spec.items() if k != "anyOf"}}
        kind = spec.get("type", "string")
        enum = spec.get("enum")
        place = "location" in name or "destination" in name or "room" in name
        if enum:
            mentioned = [v for v in enum if fold(str(v)) in folded]
            if mentioned or not place:
                return mentioned[0] if mentioned else spec.get("default")
        if kind in ("integer", "number"):
            number = _NUMBER.search(fold(_ID_TOKEN.sub(" ", question)))
            return int(number.group(1)) if number else None
        if kind != "string":
            return None
        if spec.get("pattern"):  # an id of a known shape: only when the message has one
            pattern = re.compile(str(spec["pattern"]).strip("^$"), re.IGNORECASE)
            found = pattern.search(question)
            return found.group(0).upper() if found else None
        if place:
            match = _DESTINATION.search(folded)
            return match.group(1).strip() if match else None
        if name == "device":
            match = _DESTINATION.search(folded)
            return folded[: match.start()] if match else question
        return question

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
            return canned("unknown", language)
        return "\n\n".join(parts)


def closeness(cosine: float) -> float:
    """A cosine as a number of shared words: 0 up to `UNRELATED`, SEMANTIC_WEIGHT at 1."""
    return SEMANTIC_WEIGHT * max(0.0, cosine - UNRELATED) / (1.0 - UNRELATED)


def similarities(question: str, texts: list[str]) -> list[float]:
    """Cosine of the question to each text by meaning (multilingual embeddings); zeros without
    the embedding package."""
    encoder = sentence_encoder()
    if encoder is None or not texts:
        return [0.0] * len(texts)
    vectors = encoder.encode([question, *texts])
    return [max(0.0, float(v)) for v in vectors[1:] @ vectors[0]]


def _unclitic(word: str, known: dict[str, float]) -> str:
    """A verb with a pronoun written onto it, read as the verb the tools know ("subele" ->
    "sube", "bajalo" -> "baja"); any other word as it is. `word` is folded."""
    if _stem(word) in known:
        return word
    for clitic in _CLITICS:
        verb = word[: -len(clitic)]
        if word.endswith(clitic) and len(verb) >= 3 and _stem(verb) in known:
            return verb
    return word


def asks_question(text: str) -> bool:
    """The message asks something (a question word first, or a question mark at the end)."""
    folded = fold(text).strip()
    return bool(_QUESTION_OPENER.match(folded) or folded.endswith("?"))


def is_request(text: str) -> bool:
    """A request for an action, as opposed to a question about something.

    "What is your refund policy?" asks; "I want a refund" and "Can you move my speaker?" request.
    """
    folded = fold(text).strip()
    if _REQUEST_MARKER.search(folded) or _IMPERATIVE.match(folded):
        return True
    asking = _QUESTION_OPENER.match(folded) or folded.endswith("?")
    return not asking and bool(_ACTION_WORDS.search(folded) or _TARGET_VALUE.search(folded))


def _escalation_reply(language: Language) -> str:
    return canned("escalated", language)


def readable_source(slug: str, language: str) -> str:
    """A citation a customer can read: `plans-and-pricing` -> `(Source: Plans and pricing)`."""
    name = slug.replace("-", " ").replace("_", " ").strip().capitalize()
    return f"({'Fuente' if language == 'es' else 'Source'}: {name})"


def _best_passage_answer(
    question: str, text: str, focus: str = "", language: str = "en"
) -> str | None:
    """The sentences of the retrieved passages that best match the question, with their source.

    None when no sentence shares a content word with the question: better "I don't know" than a
    passage that only looks related.
    """
    speller = Speller([text])
    question, focus = speller.correct(question), speller.correct(focus)
    asked = content_terms(question)
    focused = content_terms(focus)
    scored: list[tuple[float, int, str, str]] = []
    pieces = re.split(r"\[source: ([^\]]+)\]", text)
    blocks = [(i, pieces[i], pieces[i + 1]) for i in range(0, len(pieces) - 1, 2)]
    # The reply is in the customer's language: a passage in another language (a translation the
    # knowledge base also returned) is quoted only when no passage is in theirs.
    own = [b for b in blocks if detect_language(b[1], default="en") == language]
    for block_index, body, source in own or blocks:
        lines = body.splitlines()
        heading_bonus = 0.5 * len(
            asked & content_terms(" ".join(line for line in lines if line.startswith("#")))
        )
        prose = " ".join(line for line in lines if not line.startswith("#"))
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", re.sub(r"\s+", " ", prose).strip()) if s]
        meaning = similarities(focus or question, sentences)
        for sentence, close in zip(sentences, meaning, strict=True):
            terms = content_terms(sentence)
            overlap = len(asked & terms) + len(focused & terms) + heading_bonus
            scored.append((overlap + closeness(close), -block_index, sentence, source))
    if not scored:
        return None
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    if scored[0][0] < 1.0:
        # No sentence shares a word with the question nor is close to it in meaning, but the
        # knowledge base (its relevance floor, or the agent's own paraphrase of the question)
        # put this passage first: its closest sentences answer ("where can I find you").
        first_block = max(item[1] for item in scored)  # -index of the first block read
        first = [item for item in scored if item[1] == first_block]
        if not first:
            return None
        scored = first
    best, source = scored[0][0], scored[0][3]
    top = [item for item in scored if item[3] == source and item[0] > 0 and item[0] >= best - 1][:2]
    if best < 1.0:
        top = scored[:2]  # the first passage's two closest sentences
    top.sort(key=lambda item: re.sub(r"\s+", " ", text).find(item[2]))
    return f"{' '.join(item[2] for item in top)} {readable_source(source, language)}"


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
