"""Small talk read as small talk: whom it is said to, a goodbye by meaning, a presence check,
and the offline model's small-talk reply when a greeting's rest finds nothing."""

from __future__ import annotations

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from agents.offline import OfflineChatModel
from tools.phatic import asks_about_assistant, leftover_small_talk, read_message
from tools.small_talk import agrees


def test_whom_a_greeting_or_thanks_is_said_to_is_no_content() -> None:
    assert read_message("buenas tardes a todo el equipo").small_talk == "greeting"
    assert read_message("gracias a todos, de verdad").small_talk == "thanks"
    assert read_message("muchas gracias, qué amables").small_talk == "thanks"
    # Only after a greeting, thanks or goodbye: "all" that starts a request stays in it.
    assert read_message("all my devices are offline").request == "all my devices are offline"
    assert read_message("hi, all my devices are offline").small_talk is None
    # What the thanks is for, and the polite closings of formal Spanish, say nothing more.
    closing = "Muchísimas gracias por la paciencia, señorita. Que tenga un buen día."
    assert read_message(closing).small_talk == "thanks"
    assert read_message("thanks for your help, have a good one").small_talk == "thanks"
    assert read_message("👍 cheers for that").small_talk == "thanks"
    assert read_message("gracias por la ayuda, cuanto sale el premium?").small_talk is None


def test_a_clause_that_is_itself_a_goodbye_lowers_the_floor_for_the_others() -> None:
    assert read_message("perfecto, eso es todo. que pasen buena noche").small_talk == "goodbye"


def test_a_presence_check_is_a_greeting_read_as_a_question() -> None:
    assert read_message("hey, anybody around?").small_talk == "greeting"
    assert read_message("hola, ¿alguien por ahí?").small_talk == "greeting"
    assert read_message("hello, are you still there?").small_talk == "greeting"


def test_a_request_after_a_greeting_stays_a_request() -> None:
    for text in (
        "hi! do you sell gift cards?",
        "hello, what plans do you have?",
        "thanks, and the premium price?",
        "good evening, quick question about my bill",
    ):
        assert read_message(text).small_talk is None, text


def test_the_phatic_kinds_dropped_are_kept() -> None:
    assert read_message("hola, what plans do you have?").phatic == ("greeting",)


def test_a_greetings_rest_that_names_nothing_known_is_small_talk() -> None:
    def nothing(rest: str) -> bool:
        return False

    assert leftover_small_talk("hey, you around?", nothing) == "greeting"
    # A real question after a greeting is far from every small-talk sentence.
    assert leftover_small_talk("hi! do you sell gift cards?", nothing) is None
    assert leftover_small_talk("hey, you around?", lambda rest: True) is None  # a known topic
    assert leftover_small_talk("hey, you around 24/7?", nothing) is None  # a number
    assert leftover_small_talk("you around?", nothing) is None  # no greeting, thanks or goodbye


def test_the_offline_model_answers_small_talk_when_the_knowledge_base_finds_nothing() -> None:
    model = OfflineChatModel()

    def after_no_results(text: str) -> str:
        messages = [
            SystemMessage("You help customers.\nReply in English."),
            HumanMessage(text),
            AIMessage("", tool_calls=[{"name": "search_knowledge_base", "args": {}, "id": "c1"}]),
            ToolMessage("NO_RESULTS: nothing matched", tool_call_id="c1"),
        ]
        return str(model.invoke(messages).content)

    assert "How can I help" in after_no_results("hey, you around?")
    assert "don't have that information" in after_no_results("hi! do you sell gift cards?")


def test_a_closing_that_defers_the_decision_is_a_goodbye() -> None:
    # "I'll think about it" after an answer ends the conversation; a plan named after it does not.
    assert read_message("ok, I'll think it over, bye").small_talk == "goodbye"
    assert read_message("vale, lo voy a pensar, gracias").small_talk == "goodbye"
    assert read_message("thanks, I will think about the premium plan").small_talk is None


def test_a_held_last_letter_still_reads_as_the_phatic_word() -> None:
    assert read_message("graciassss!!").small_talk == "thanks"
    assert read_message("buen diaa, como andan").small_talk == "greeting"
    # Only a phatic word is unstretched: "all" is not read as "al", a request stays one.
    assert read_message("holaaa, premium price?").request == "premium price"


def test_a_problem_report_is_never_thanks_however_close_its_meaning() -> None:
    # The encoder puts "ya no funciona" next to "ya funciona": a negation or a word of a problem
    # keeps a message out of small talk by meaning, and out of the thanks for what is left.
    for complaint in ("ya no funciona", "thanks, still not working", "thanks, nothing works"):
        assert read_message(complaint).small_talk is None, complaint
        assert leftover_small_talk(complaint, lambda rest: False) is None, complaint
    # A polite "no" still closes: "thanks, no problem" is thanks.
    assert read_message("thanks, no problem").small_talk == "thanks"


def test_praise_in_words_no_list_holds_is_thanked_for_when_nothing_answered_it() -> None:
    for praise in ("que crack, me solucionaste la vida", "brilliant, ta very much"):
        assert leftover_small_talk(praise, lambda rest: False) == "thanks", praise
    # Not a question, not a yes, not a goodbye-like interjection, not what the tools know.
    for other in ("la camara graba en 4k?", "ok do it", "meh", "wow"):
        assert leftover_small_talk(other, lambda rest: False) is None, other
    assert leftover_small_talk("my speaker rocks", lambda rest: "speaker" in rest) is None


def test_a_yes_with_nothing_waiting_for_it_is_acknowledged() -> None:
    model = OfflineChatModel()
    for yes, language in (("sure, confirm", "English"), ("sí, hacelo", "Spanish")):
        system = SystemMessage(f"Support.\n\nReply in {language}.")
        reply = str(model.invoke([system, HumanMessage(yes)]).content)
        assert reply.startswith("OK." if language == "English" else "De acuerdo."), reply
    assert not agrees("yeah still nothing")


def test_regional_greetings_blessings_and_season_wishes_are_small_talk() -> None:
    assert read_message("buenas, ¿cómo le va?").small_talk == "greeting"
    assert read_message("hola, disculpen las molestias, ¿cómo están ustedes?").small_talk == (
        "greeting"
    )
    assert read_message("que dios te bendiga mijo").small_talk == "thanks"
    assert read_message("gracias, dios se lo pague").small_talk == "thanks"
    assert read_message("felices fiestas a todos").small_talk == "goodbye"
    assert read_message("happy new year, team!").small_talk == "goodbye"
    # A request after the wish is still a request.
    assert read_message("feliz navidad, cuánto cuesta el premium?").small_talk is None


def test_well_wishing_after_a_greeting_is_small_talk() -> None:
    assert read_message("hello, I hope you are all keeping well").small_talk == "greeting"
    assert read_message("hola, espero que se encuentren bien").small_talk == "greeting"
    assert read_message("hello, I hope the new plan is cheaper").small_talk is None


def test_more_questions_about_the_assistant() -> None:
    from tools.phatic import asks_about_assistant

    assert asks_about_assistant("hola, esto es automático?")  # "automatic" as the whole clause
    assert asks_about_assistant("is this automated??")
    assert not asks_about_assistant("el pago es automatico?")
    assert asks_about_assistant("¿es usted un robot?")  # "es usted"
    assert asks_about_assistant("esto lo responde una máquina, no?")  # "lo responde"
    assert not asks_about_assistant("el altavoz me responde en inglés, es normal?")


def test_thanks_with_what_it_is_for_or_inside_the_message_is_small_talk() -> None:
    # Whom or what the thanks is for closes the clause after it.
    assert read_message("ya se conectó, muchas gracias por la paciencia").small_talk == "thanks"
    assert read_message("thanks for the info mate").small_talk == "thanks"
    # A letter held inside the word, praise as address, a well-wish of other words.
    assert read_message("graciaaas genio, ya anda todo").small_talk == "thanks"
    assert (
        read_message("bueno pues muchísimas gracias ya quedó todo que tengas bonito día").small_talk
        == "thanks"
    )
    # Sign-offs of a letter close the message.
    assert read_message("Muchas gracias por la respuesta. Saludos cordiales.").small_talk
    reading = read_message(
        "Estimados: ¿las facturas pueden salir a nombre de la empresa? Quedo atento."
    )
    assert reading.small_talk is None and "goodbye" in reading.phatic
    # A request, a question or a problem after the thanks is still one.
    assert read_message("gracias por la info, y cuánto cuesta?").small_talk is None
    assert read_message("gracias pero el altavoz sigue sin sonar").small_talk is None
    assert read_message("thanks, now move the speaker to the kitchen").small_talk is None


def test_thanks_for_a_fix_that_names_the_device_is_a_thanks() -> None:
    # The encoder puts "ya quedó la bocina sonando" far from "it works now": a word of
    # resolution after a thanks, with nothing asked and no problem, is read as the thanks it is.
    assert read_message("grax mil, ya quedo la bocina sonando 🙌").small_talk == "thanks"
    assert read_message("thx a lot, the camera finally connected").small_talk == "thanks"
    # Not a problem report, a new request or a question after the thanks.
    assert read_message("gracias, ya prendió pero sin sonido").small_talk is None
    assert read_message("thanks, it works again but can you make it louder").small_talk is None
    assert read_message("gracias, ya pagué, ahora quiero cambiar de plan").small_talk is None
    assert read_message("gracias, ya funciona el premium?").small_talk is None
    # Without a thanks it is a statement for whoever has the conversation.
    assert read_message("ya quedo la bocina sonando").small_talk is None


def test_a_thanks_with_a_statement_nothing_answered_is_thanked_for() -> None:
    nothing: object = lambda rest: False  # noqa: E731
    assert leftover_small_talk("thank you, that puts my mind at rest", nothing) == "thanks"
    assert leftover_small_talk("uff q alivio, mil gracias pana, son lo maximo", nothing) == (
        "thanks"
    )
    # A question, a problem or a new request after the thanks is not.
    assert leftover_small_talk("gracias, y el premium?", nothing) is None
    assert leftover_small_talk("gracias, el cargo no lo reconozco", nothing) is None
    assert leftover_small_talk("thanks, I want the premium one", nothing) is None


def test_regional_greetings_and_questions_about_the_assistant() -> None:
    assert read_message("good arvo! how ya going").small_talk == "greeting"
    assert read_message("wena wena, como estai").small_talk == "greeting"
    assert asks_about_assistant("ustedes son personas o es un robot el q me contesta?")
    assert asks_about_assistant("esto es automatico cierto?")
    assert asks_about_assistant("you are robot yes?")
    assert not asks_about_assistant("are you people open on sunday?")
    assert not asks_about_assistant("esto es automatico el cobro?")


def test_more_regional_small_talk() -> None:
    assert read_message("wena wena, como estai? todo bien por alla?").small_talk == "greeting"
    assert read_message("good arvo! how ya going today").small_talk == "greeting"
    assert read_message("ntp, ya lo resolvi solito, gracias igual").small_talk == "thanks"
    assert read_message("todo bien con la factura?").request == "con la factura"
