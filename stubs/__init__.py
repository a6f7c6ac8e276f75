"""Local stand-ins for external services (Bedrock Converse, Graph API, End User Messaging),
served over real HTTP.

Importable outside the tests so that benchmarks use the same stubs.
"""

from stubs.bedrock_models import create_bedrock_models_stub
from stubs.converse import VALIDATION_ERROR, converse_violations, create_converse_stub
from stubs.graph_api import create_graph_api_stub, sent_to, text_of
from stubs.openai_chat import chat_violations, create_openai_stub
from stubs.server import BackgroundServer
from stubs.social_messaging import create_social_messaging_stub, eum_sent_to

__all__ = [
    "VALIDATION_ERROR",
    "BackgroundServer",
    "chat_violations",
    "converse_violations",
    "create_bedrock_models_stub",
    "create_converse_stub",
    "create_graph_api_stub",
    "create_openai_stub",
    "create_social_messaging_stub",
    "eum_sent_to",
    "sent_to",
    "text_of",
]
