"""Knowledge-base retrieval behind one interface, with two backends.

- `LocalKnowledgeBase`: an index in the same Redis, through RediSearch: full text, stemmed in each
  document's language (English or Spanish), weighted to the title, with one vector per sentence
  beside it (redisvl). No network.
- `BedrockKnowledgeBase`: langchain-aws `AmazonKnowledgeBasesRetriever` by `bedrockKbId`, through
  `AWS_ENDPOINT_URL_BEDROCK_AGENT_RUNTIME` when set (botocore reads it).

Every passage carries its `source` (the document's name), which answers cite.

Modules, one concern each: `passage` (what a knowledge base returns, its interface), `vocabulary`
(function words, query terms, sentences, the customer's phrases the documents' words stand for),
`index` (the local index's storage and ingestion), `ranking` (the relevance floor and the order of
passages), `local` (local retrieval), `paraphrases` (the agent's example questions as a second way
in) and `bedrock` (the Bedrock backend).
"""

from __future__ import annotations

from tools.knowledge.bedrock import BedrockKnowledgeBase
from tools.knowledge.index import KnowledgeIndex
from tools.knowledge.local import LocalKnowledgeBase
from tools.knowledge.paraphrases import PARAPHRASE, Paraphrases
from tools.knowledge.passage import KnowledgeBase, Passage, format_passages
from tools.knowledge.ranking import RELEVANCE_FLOOR, passage_kinds
from tools.knowledge.vocabulary import (
    STOPWORDS,
    asking_sentences,
    fold_word,
    query_terms,
    split_sentences,
    translated,
)

__all__ = [
    "PARAPHRASE",
    "RELEVANCE_FLOOR",
    "STOPWORDS",
    "BedrockKnowledgeBase",
    "KnowledgeBase",
    "KnowledgeIndex",
    "LocalKnowledgeBase",
    "Paraphrases",
    "Passage",
    "asking_sentences",
    "fold_word",
    "format_passages",
    "passage_kinds",
    "query_terms",
    "split_sentences",
    "translated",
]
