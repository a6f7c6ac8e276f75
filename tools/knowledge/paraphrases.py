"""The agent's own example questions, as a second way into its knowledge base."""

from __future__ import annotations

from typing import Any

import numpy as np

from tools.embeddings import SentenceEncoder
from tools.language import detect_language

# Cosine of a question to one of the agent's example questions above which they ask the same thing
# (fitted on the dev split: paraphrases 0.56-0.58, unanswerable questions at most 0.53).
PARAPHRASE = 0.55


class Paraphrases:
    """The agent's own example questions, as a second way into its knowledge base.

    A short question such as "where can I find you" sits far, in meaning, from every statement of
    the documents ("Our office and showroom is at..."), but close to an example the business wrote
    for the agent ("Where are you located?"), which is itself close to the right passage. When the
    question finds nothing, the knowledge base is asked again with the closest example, only when
    that example says nearly the same thing (`PARAPHRASE` cosine, fitted on the dev split).
    """

    def __init__(self, examples: dict[str, list[str]], encoder: SentenceEncoder | None) -> None:
        """`examples`: language -> example questions (an agent config's `examples`)."""
        pairs = [(text, lang) for lang, texts in examples.items() for text in texts if text.strip()]
        self.examples = [text for text, _ in pairs]
        self.languages = [lang for _, lang in pairs]
        self.encoder = encoder
        self._vectors: Any = None

    def closest(self, question: str, language: str | None = None) -> str | None:
        """The closest example in the conversation's language (`language`, else the
        question's): the passages found with it are then in the customer's language too, when
        it says nearly the same thing."""
        language = language if language in ("en", "es") else detect_language(question)
        own = [i for i, lang in enumerate(self.languages) if lang == language]
        if self.encoder is None or not own or not question.strip():
            return None
        if self._vectors is None:
            self._vectors = self.encoder.encode(self.examples)
        similarity = self._vectors[own] @ self.encoder.encode([question])[0]
        best = int(np.argmax(similarity))
        return self.examples[own[best]] if float(similarity[best]) >= PARAPHRASE else None
