"""How messages are read before routing and answering: typos, small talk, language, requests."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from agents.offline import OfflineChatModel, is_request
from tools.embeddings import Vectors
from tools.knowledge import Paraphrases
from tools.language import detect_language
from tools.phatic import read_message
from tools.spelling import Speller

TEXTS = ["How much is the premium plan?", "Show me my invoice", "precio del plan", "set volume"]


def test_typos_are_repaired_towards_known_words_and_real_words_are_left_alone() -> None:
    speller = Speller(TEXTS, lexicon=frozenset({"charging", "covers"}))
    assert speller.correct("hw much is premuim??") == "how much is premium??"
    assert speller.correct("shw me my invoce") == "shw me my invoice"  # short words stay
    assert speller.correct("presio del plan") == "precio del plan"
    assert speller.correct("set volum to 20") == "set volume to 20"
    assert speller.correct("which card are you charging") == "which card are you charging"
    assert speller.correct("wher r u") == "where are you"  # chat shorthand
    assert speller.correct("INV-1102 for 59.98") == "INV-1102 for 59.98"
    # Slang that only colours a message stands for no word to match.
    assert speller.correct("ngl premium is lowkey nice").split() == ["premium", "is", "nice"]
    # Abbreviations written in chat ("dcto", "ppl") are read as the words they shorten.
    assert speller.correct("hay dcto pa estudiantes") == "hay descuento pa estudiantes"
    assert speller.correct("can i talk to real ppl") == "can i talk to real people"


def test_the_longest_phatic_phrase_wins_at_either_end() -> None:
    assert read_message("muy amable, que tengas buen dia").small_talk == "thanks"
    assert read_message("gracias, muy amable").small_talk == "thanks"
    reading = read_message("hi there sorry to bother you, what is the cheapest plan")
    assert reading.request == "what is the cheapest plan"


def test_a_phatic_word_the_question_needs_stays_and_a_number_is_one_clause() -> None:
    # "vale" closes "ok, vale" but is the verb of "¿cuánto vale?"; "está bien?" asks.
    assert read_message("altavoz para el baño cuanto vale").request.endswith("cuanto vale")
    assert read_message("el precio esta bien?").request == "el precio esta bien"
    assert read_message("ok vale").small_talk == "politeness"
    assert read_message("el premium, vale").request == "el premium"
    # A number's point or comma is not a clause break: "9.99" is one amount.
    reading = read_message("me devuelven los 9.99? fue un error")
    assert reading.segments[0] == "me devuelven los 9 99"
    assert read_message("cuesta 9,99 al mes, no?").segments[0] == "cuesta 9 99 al mes"
    assert read_message("hola. quiero el plan.gracias").request == "quiero el plan"
    # "mil" says how much after a thanks, and "¿cómo me les va?" is a greeting.
    assert read_message("grax mil, ya quedo").small_talk == "thanks"
    assert read_message("buenas noches, como me les va?").small_talk == "greeting"
    assert read_message("mil dolares").request == "mil dolares"


def test_small_talk_in_words_no_list_holds_is_read_by_meaning() -> None:
    # The word lists drop "thanks" and "hola"; what is left is small talk by meaning.
    assert read_message("thanks, that sorted it 👍").small_talk == "thanks"
    assert read_message("appreciate the help, have a good one").small_talk == "thanks"
    assert read_message("gracias, ya quedó").small_talk == "thanks"
    assert read_message("hey hows it going").small_talk == "greeting"
    assert read_message("holaa q tal 👋").small_talk == "greeting"  # shorthand spelled out
    assert read_message("thx a lot!! 🙌").small_talk == "thanks"
    # Whole clauses count, not only what the word lists leave ("ha sido usted", "Que tenga").
    farewell = "Muchísimas gracias por todo, ha sido usted muy amable. Que tenga buen día."
    assert read_message(farewell).small_talk is not None
    assert read_message("you guys are awesome").small_talk == "thanks"  # a compliment
    assert read_message("what's your name?").small_talk == "assistant"
    # A request after a thanks, a question, or a follow-up is not small talk.
    for text in (
        "thanks, any deals this weekend?",
        "yeah still nothing",
        "can a person help me instead",
        "todo bien con mi cuenta?",
        "thanks, what's my balance",
        "where are you",
        "I want to talk to a real person",
        "what's my name on the account?",
    ):
        assert read_message(text).small_talk is None, text


def test_short_and_mixed_messages_get_the_customers_language() -> None:
    assert detect_language("nos vemos") == "es"
    assert detect_language("donde quedan??") == "es"
    assert detect_language("Hola, premium plan price per month?") == "es"
    assert detect_language("where can I find you", default="es") == "en"
    assert detect_language("ok", default="es") == "es"  # no signal: the conversation's language


def test_a_message_without_marker_words_is_read_by_the_language_model() -> None:
    # No word of either marker list: character n-grams decide when they are sure.
    assert detect_language("comercializan aspiradoras robot?") == "es"
    assert detect_language("aceptan tarjetas mastercard?") == "es"
    assert detect_language("whats included w premium", default="es") == "en"
    assert detect_language("Netflix Spotify", default="es") == "es"  # names: not sure, no change
    assert detect_language("47", default="es") == "es"


def test_short_messages_are_read_with_dictionaries_shorthand_and_stretched_letters() -> None:
    # Three words only English's dictionary holds: the character model (which reads "echo"
    # as Spanish) is not asked; a capitalised name counts for neither language.
    assert detect_language("echo mini info", default="es") == "en"
    assert detect_language("Premium", default="es") == "es"
    # One word is too little to override the conversation's language.
    assert detect_language("hub", default="es") == "es"
    # Shorthand spelled out, a stretched last letter cut: marker words again.
    assert detect_language("holaa q tal") == "es"
    assert detect_language("see you all") == "en"


def test_a_target_value_or_a_verb_with_a_pronoun_is_a_request() -> None:
    assert is_request("volumen del altavoz a 30")
    assert is_request("bájalo a 10")
    assert is_request("make my speaker volume 30")
    assert not is_request("what is the volume at 30?")


def test_thanks_after_an_answer_is_small_talk_in_the_conversations_language() -> None:
    model = OfflineChatModel()
    messages = [
        SystemMessage("You help customers.\nReply in Spanish."),
        HumanMessage("¿a qué hora abren?"),
        AIMessage("De lunes a viernes de 9 a 18 horas."),
        HumanMessage("ok thanks"),
    ]
    reply = model.invoke(messages)
    assert not reply.tool_calls
    assert "nada" in str(reply.content).casefold()  # "De nada", in Spanish as instructed


class _Encoder:
    """A fake encoder: each text is a fixed unit vector (no model)."""

    name = "fake"

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors

    def encode(self, texts: list[str]) -> Vectors:
        rows = np.array([self.vectors[t] for t in texts], dtype=np.float32)
        normalized: Vectors = rows / np.linalg.norm(rows, axis=1, keepdims=True)
        return normalized


def test_the_knowledge_base_is_asked_again_in_the_agents_own_words() -> None:
    encoder = _Encoder(
        {
            "Where are you located?": [1, 0, 0],
            "¿Dónde están ubicados?": [1, 0.05, 0],
            "How much is premium?": [0, 1, 0],
            "where can I find you": [1, 0.2, 0.3],
            "do you sell robot vacuums": [0.3, 0.3, 1],
        }
    )
    examples = {"en": ["Where are you located?", "How much is premium?"]}
    paraphrases = Paraphrases(examples | {"es": ["¿Dónde están ubicados?"]}, encoder)
    assert paraphrases.closest("where can I find you") == "Where are you located?"
    assert paraphrases.closest("do you sell robot vacuums") is None  # not the same question


def test_a_passage_the_knowledge_base_put_first_is_answered_from() -> None:
    model = OfflineChatModel()
    passage = (
        "# Office location\n\nOur office and showroom is at 120 Market Street, Suite 400. "
        "The showroom is open Monday to Saturday.\n[source: location]"
    )
    messages = [
        HumanMessage("where can I find you"),
        AIMessage("", tool_calls=[{"name": "search_knowledge_base", "args": {}, "id": "c1"}]),
        ToolMessage(passage, tool_call_id="c1"),
    ]
    assert "Market Street" in str(model.invoke(messages).content)


def test_a_real_word_of_either_language_is_never_repaired() -> None:
    """Spanish "monto" and English "charging" are one edit from words the texts know, but
    they are words of a dictionary: only a word no dictionary knows is read as a typo."""
    from tools.spelling import dictionary_words

    words = dictionary_words()
    assert {"monto", "charging", "factura"} <= words
    assert "premuim" not in words
    speller = Speller(["the monthly price", "changing the volume"], lexicon=words)
    assert speller.correct("el monto del mes") == "el monto del mes"
    assert speller.correct("not charging") == "not charging"
    assert speller.correct("the montly price") == "the monthly price"


def test_a_word_language_detection_reads_is_never_repaired() -> None:
    """ "estoy" is in no word list the speller had, and one edit from "estos": the marker words
    language detection reads are real words too."""
    speller = Speller(["estos planes", "the monthly price"], lexicon=frozenset())
    assert speller.correct("estoy buscando estos planes") == "estoy buscando estos planes"
    assert speller.correct("estso planes") == "estos planes"


def test_the_conversations_language_chooses_the_paraphrase_and_the_passage() -> None:
    encoder = _Encoder(
        {
            "Where are you located?": [1, 0, 0],
            "¿Dónde están ubicados?": [1, 0.05, 0],
            "office address?": [1, 0.1, 0.1],
        }
    )
    paraphrases = Paraphrases(
        {"en": ["Where are you located?"], "es": ["¿Dónde están ubicados?"]}, encoder
    )
    assert paraphrases.closest("office address?") == "Where are you located?"
    assert paraphrases.closest("office address?", "es") == "¿Dónde están ubicados?"
    # A Spanish conversation: the Spanish passage is quoted though the English one came first.
    passages = (
        "# Plans\n\nThe Premium plan costs $29.99 per month.\n[source: plans]\n\n"
        "# Planes\n\nEl plan Premium cuesta $29.99 al mes.\n[source: planes]"
    )
    messages = [
        SystemMessage("You help customers.\nReply in Spanish."),
        HumanMessage("premium plan price?"),
        AIMessage("", tool_calls=[{"name": "search_knowledge_base", "args": {}, "id": "c1"}]),
        ToolMessage(passages, tool_call_id="c1"),
    ]
    reply = str(OfflineChatModel().invoke(messages).content)
    assert "cuesta" in reply and "costs" not in reply and "Fuente" in reply


def test_the_knowledge_base_tool_takes_the_language_from_the_conversation() -> None:
    from agents.executor import injected_fields
    from agents.toolkit import Toolkit
    from tools import ToolEnv

    class _Base:
        kb_id = "kb"
        seen: list[str | None] = []

        def retrieve(self, query: str, k: int = 3, language: str | None = None) -> list[Any]:
            self.seen.append(language)
            return []

        async def aretrieve(self, query: str, k: int = 3, language: str | None = None) -> Any:
            return self.retrieve(query, k, language)

    toolkit = Toolkit()
    base = _Base()
    toolkit.knowledge_base = lambda ref: base  # type: ignore[method-assign]
    from agents.schema import KnowledgeBaseRef

    ref = KnowledgeBaseRef(id="kb", backend="local", top_k=2)
    env = ToolEnv(agent_id="sales", settings={"knowledge_bases": [ref]})
    tool = toolkit._kb_tool(env)
    assert injected_fields(tool) == {"language"}  # the model never sets it
    asyncio.run(tool.ainvoke({"query": "premium price?", "language": "es"}))
    assert base.seen == ["es"]


def test_a_shouted_message_is_read_in_lower_case_and_a_code_is_not_shouting() -> None:
    from tools.text import unshout

    assert unshout("ALTAVOZ PARA EL BAÑO CUANTO VALE") == "altavoz para el baño cuanto vale"
    assert unshout("is HOGAR30 still valid?") == "is HOGAR30 still valid?"
    assert unshout("OK") == "OK"  # too short to tell


def test_a_spanish_verb_form_the_dictionary_lacks_is_no_typo() -> None:
    speller = Speller(["cual es mi saldo"])
    assert speller.correct("salgo de la pega a las 6") == "salgo de la pega a las 6"
    assert speller.correct("mi saaldo") == "mi saldo"
