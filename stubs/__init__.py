"""Local stand-ins for external services (Bedrock Converse, Graph API), served over real HTTP.

Importable outside the tests so that benchmarks use the same stubs.
"""

from stubs.bedrock_models import create_bedrock_models_stub
from stubs.converse import VALIDATION_ERROR, converse_violations, create_converse_stub
from stubs.graph_api import create_graph_api_stub, sent_to, text_of
from stubs.server import BackgroundServer

__all__ = [
    "VALIDATION_ERROR",
    "BackgroundServer",
    "converse_violations",
    "create_bedrock_models_stub",
    "create_converse_stub",
    "create_graph_api_stub",
    "sent_to",
    "text_of",
]
