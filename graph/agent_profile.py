"""Everything an agent's config says about what it handles, as short texts to compare messages to.

Beyond its example utterances: the phrases of its description, the descriptions and examples of its
tools and of its API integrations' operations, and the documents of its local knowledge bases.
A knowledge base shared by several agents is split between them: each document goes to the agent
whose own texts (description, examples, tools) it resembles most, so "opening hours" lands with
the agent that greets and "wifi troubleshooting" with the one that fixes devices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import structlog
from langchain_core.tools import BaseTool

from agents import KB_TOOL, AgentConfigError, LoadedAgent, Toolkit
from tools import ESCALATION_TOOL, ToolEnv, escalation_tool, load_integrations
from tools.embeddings import SentenceEncoder
from tools.ingest import IngestError, document_paths, read_document

log = structlog.get_logger(__name__)
Kind = Literal["example", "description", "tool", "document"]
_PHRASE = re.compile(r"[.;:]\s+|,\s+|\s+\(|\)\s*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class ProfileText:
    agent_id: str
    text: str
    kind: Kind


def _description_phrases(description: str) -> list[str]:
    phrases = [p.strip(" .") for p in _PHRASE.split(description) if len(p.strip(" .")) > 3]
    return [description.strip(), *phrases]


def _named_tools(agent: LoadedAgent) -> dict[str, BaseTool]:
    """The agent's tools, built from the tool registry (its plug-ins loaded) without a
    deployment's services: descriptions and examples are all the router reads. A tool that cannot
    be built that way (a local KB needs Redis) is skipped."""
    found: dict[str, BaseTool] = {ESCALATION_TOOL: escalation_tool()}
    config = agent.config
    toolkit = Toolkit()
    try:
        toolkit.load_plugins(agent)
    except AgentConfigError as error:
        log.debug("router: tool plug-ins unavailable", agent=config.id, error=str(error))
    templates = {
        key: {str(k): v for k, v in texts.items()} for key, texts in config.templates.items()
    }
    env = ToolEnv(agent_id=config.id, settings=dict(config.tool_settings), templates=templates)
    for name in config.tools:
        if name == KB_TOOL:
            continue  # the KB's documents themselves are read below
        try:
            found[name] = toolkit.registry.build(name, env)
        except Exception as error:  # needs its services or settings to be built
            log.debug("router: tool text unavailable", tool=name, error=repr(error)[:200])
    return found


def _tool_texts(agent: LoadedAgent) -> list[str]:
    """Descriptions and examples of the agent's tools and integration operations."""
    built = _named_tools(agent)
    texts: list[str] = []
    for name in agent.config.tools:
        tool = built.get(name)
        if tool is not None:
            texts.append(tool.description.split("\n")[0])
            texts.extend((tool.metadata or {}).get("examples", []))
    integrations = load_integrations(agent.path.parent / "integrations")
    for integration in agent.config.api_integrations:
        config = integrations.get(integration)
        if config is None:
            continue
        for operation in config.operations:
            texts.append(operation.description)
            texts.extend(operation.examples)
    return texts


def _schema_patterns(schema: Any) -> list[str]:
    """Every `pattern` of a JSON schema, nested properties included."""
    if isinstance(schema, dict):
        found = [schema["pattern"]] if isinstance(schema.get("pattern"), str) else []
        return found + [p for value in schema.values() for p in _schema_patterns(value)]
    if isinstance(schema, list):
        return [p for value in schema for p in _schema_patterns(value)]
    return []


def argument_patterns(agent: LoadedAgent) -> list[str]:
    """The `pattern`s of the agent's tool and integration-operation arguments ("^INV-[0-9]{4,8}$"):
    a message holding a value of one of them names something only this agent's tools take."""
    patterns = [p for tool in _named_tools(agent).values() for p in _schema_patterns(tool.args)]
    integrations = load_integrations(agent.path.parent / "integrations")
    for name in agent.config.api_integrations:
        config = integrations.get(name)
        if config is not None:
            patterns += [p for op in config.operations for p in _schema_patterns(op.parameters)]
    return list(dict.fromkeys(patterns))


def _documents(agent: LoadedAgent) -> dict[str, list[str]]:
    """Local KB documents of the agent: source -> title and sentences."""
    found: dict[str, list[str]] = {}
    for ref in agent.config.knowledge_bases:
        folder = agent.path.parent / "knowledge" / ref.id
        if ref.backend != "local" or not folder.is_dir():
            continue
        for path in document_paths(folder):
            try:
                title, text = read_document(path)
            except IngestError:
                continue
            body = re.sub(r"^#.*$", "", text, flags=re.MULTILINE)
            sentences = [s.strip() for s in _SENTENCE.split(re.sub(r"\s+", " ", body)) if s]
            found[f"{ref.id}/{Path(path).stem}"] = [title, *sentences]
    return found


def agent_profiles(
    agents: dict[str, LoadedAgent], encoder: SentenceEncoder | None
) -> list[ProfileText]:
    """Every agent's texts; KB documents attributed as the module docstring says."""
    texts: list[ProfileText] = []
    for agent_id, agent in agents.items():
        texts += [ProfileText(agent_id, t, "example") for t in agent.config.all_examples()]
        phrases = _description_phrases(agent.config.description)
        texts += [ProfileText(agent_id, t, "description") for t in phrases]
        texts += [ProfileText(agent_id, t, "tool") for t in _tool_texts(agent)]
    holders: dict[str, list[str]] = {}
    documents: dict[str, list[str]] = {}
    for agent_id, agent in agents.items():
        for source, sentences in _documents(agent).items():
            holders.setdefault(source, []).append(agent_id)
            documents[source] = sentences
    for source, sentences in documents.items():
        owner = _owner(holders[source], sentences, texts, encoder)
        texts += [ProfileText(owner, s, "document") for s in sentences]
    return texts


def _owner(
    candidates: list[str],
    sentences: list[str],
    texts: list[ProfileText],
    encoder: SentenceEncoder | None,
) -> str:
    """The candidate agent whose own texts the document's sentences resemble most."""
    if len(candidates) == 1 or encoder is None:
        return candidates[0]
    document = encoder.encode(sentences)
    best, best_score = candidates[0], -1.0
    for agent_id in candidates:
        own = [t.text for t in texts if t.agent_id == agent_id]
        similarity = document @ encoder.encode(own).T
        # Each sentence's closest own text, averaged: how much of the document is this agent's.
        score = float(np.mean(np.max(similarity, axis=1)))
        if score > best_score:
            best, best_score = agent_id, score
    return best
