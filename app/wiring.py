"""Builds the supervisor's dependencies from settings: agents, models, tools, stores, router."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog
from redis import Redis

from agents import (
    LoadedAgent,
    ModelRegistry,
    ModelSettings,
    Toolkit,
    build_agent_graph,
    default_agents_dir,
    load_agents,
)
from agents.model_check import control_plane_reachable, verify_models
from agents.schema import ProviderName
from app.settings import Settings
from demo import create_billing_app
from graph import CascadeRouter, LLMRouter, LocalRouter, SupervisorDeps
from stores import CustomerStore, Stores, aws_client
from stubs import BackgroundServer
from tools import LocalKnowledgeBase, ingest_path, load_integrations
from tools.ingest import document_paths

log = structlog.get_logger(__name__)


def agents_dir(settings: Settings) -> Path:
    return settings.agents_dir or default_agents_dir()


def model_override(settings: Settings, real_aws_credentials: bool) -> ProviderName | None:
    """`MODEL_PROVIDER` if set; `offline` without real AWS credentials; else each agent's own.

    Real credentials are what botocore's chain finds, never the embedded stack's dummies (see
    `aws_credentials_configured`), so a shell with the local stack's exports stays offline.
    """
    if settings.model_provider:
        return settings.model_provider
    if not real_aws_credentials:
        return "offline"
    return None


def kb_namespace(folder: Path) -> str:
    """Where an agents folder's local knowledge bases live in Redis: the bundled demo's under
    their plain ids, any other folder's (another business account's) under a hash of its path,
    so two accounts' knowledge bases never mix, even with the same id."""
    resolved = folder.resolve()
    if resolved == default_agents_dir().resolve():
        return ""
    return "ns" + hashlib.sha256(str(resolved).encode()).hexdigest()[:12]


def build_deps(
    settings: Settings,
    *,
    stores: Stores | None,
    redis: Redis | None,
    override: ProviderName | None,
    agents: dict[str, LoadedAgent] | None = None,
) -> SupervisorDeps:
    folder = agents_dir(settings)
    loaded = agents if agents is not None else load_agents(folder)
    registry = ModelRegistry(override=override, region=settings.aws_region)
    toolkit = Toolkit(
        services={"customers": stores.customers} if stores else {},
        redis=redis,
        integrations=load_integrations(folder / "integrations"),
        region=settings.aws_region,
        kb_namespace=kb_namespace(folder),
    )
    llm_router = None
    if settings.router_model and override != "offline":
        provider, _, model_id = settings.router_model.partition(":")
        router_model = registry.chat_model(
            ModelSettings(provider=provider, model_id=model_id, temperature=0.0, max_tokens=200),  # type: ignore[arg-type]
            provider,
        )
        llm_router = LLMRouter(router_model, loaded)
    router = CascadeRouter(LocalRouter(loaded), llm_router, threshold=settings.router_threshold)
    log.info(
        "agents loaded",
        agents=list(loaded),
        provider=override or "per agent config",
        folder=str(folder),
    )
    deps = SupervisorDeps(
        agents=loaded,
        registry=registry,
        toolkit=toolkit,
        router=router,
        conversations=stores.conversations if stores else None,
        customers=stores.customers if stores else None,
    )
    for agent_id in loaded:
        deps.agent_graph(agent_id)  # fail at start-up, not mid-conversation, on a bad reference
    if override != "offline" and control_plane_reachable():
        verify_models(loaded, settings.aws_region, override)  # models that exist and are served
    return deps


def structural_deps(
    settings: Settings, agents: dict[str, LoadedAgent], folder: Path
) -> SupervisorDeps:
    """Deps that build every graph but reach no server: for drawing and validating configs.

    The Redis and DynamoDB clients here connect lazily and are never called.
    """
    registry, toolkit = _structural_parts(settings, folder)
    return SupervisorDeps(
        agents=agents, registry=registry, toolkit=toolkit, router=CascadeRouter(LocalRouter(agents))
    )


def _structural_parts(settings: Settings, folder: Path) -> tuple[ModelRegistry, Toolkit]:
    registry = ModelRegistry(override="offline", region=settings.aws_region)
    toolkit = Toolkit(
        services={"customers": CustomerStore(None, "", "")},
        redis=Redis.from_url("redis://127.0.0.1:1/0"),
        integrations=load_integrations(folder / "integrations"),
        region=settings.aws_region,
        kb_namespace=kb_namespace(folder),
    )
    return registry, toolkit


def validate_agent_graphs(settings: Settings, agents: dict[str, LoadedAgent], folder: Path) -> None:
    """Build each agent's subgraph (tools, integrations, KBs it names) without reaching a server.

    Unlike `structural_deps`, no router is built, so one agent that is not the fallback validates
    on its own.
    """
    registry, toolkit = _structural_parts(settings, folder)
    for agent in agents.values():
        build_agent_graph(agent, registry, toolkit.tools_for(agent))


def index_bundled_knowledge(
    settings: Settings, redis: Redis, agents: dict[str, LoadedAgent]
) -> None:
    """Index each document of `<agents dir>/knowledge/<kb id>/` that its local KB lacks.

    Per document, not per KB: documents added with `wam kb ingest` (before or after the first
    start) sit beside the bundled ones, and a bundled document is never indexed twice.
    """
    folder = agents_dir(settings) / "knowledge"
    s3 = aws_client("s3", settings.aws_region)
    seen: set[str] = set()
    for agent in agents.values():
        for ref in agent.config.knowledge_bases:
            if ref.backend != "local" or ref.id in seen:
                continue
            seen.add(ref.id)
            documents = folder / ref.id
            if not documents.is_dir():
                continue
            base = LocalKnowledgeBase(redis, ref.id, namespace=kb_namespace(folder.parent))
            base.ensure_index()  # an index from an earlier version is upgraded at start
            present = indexed_sources(redis, base)
            missing = [p for p in document_paths(documents) if p.stem not in present]
            for path in missing:
                ingest_path(path, base, s3=s3, bucket=settings.s3_bucket)
            if missing:
                log.info("knowledge base indexed", kb=ref.id, documents=len(missing))


def indexed_sources(redis: Redis, base: LocalKnowledgeBase) -> set[str]:
    """The documents (file stems) that have chunks in a local knowledge base."""
    keys = list(redis.scan_iter(match=f"{base.prefix}*", count=1000))
    pipe = redis.pipeline(transaction=False)
    for key in keys:
        pipe.hget(key, "source")
    return {s.decode() if isinstance(s, bytes) else str(s) for s in pipe.execute() if s}


@contextmanager
def demo_billing_api() -> Iterator[str | None]:
    """Serve the demo billing API when `BILLING_API_URL` is unset; yields its URL (or None)."""
    if os.environ.get("BILLING_API_URL"):
        yield None
        return
    token = os.environ.get("BILLING_API_TOKEN") or secrets.token_urlsafe(16)
    server = BackgroundServer(create_billing_app(token))
    url = server.start()
    os.environ["BILLING_API_URL"], os.environ["BILLING_API_TOKEN"] = url, token
    log.info("demo billing api started", url=url)
    try:
        yield url
    finally:
        server.stop()
        os.environ.pop("BILLING_API_URL", None)
        os.environ.pop("BILLING_API_TOKEN", None)


def agent_summary(agent: LoadedAgent) -> dict[str, Any]:
    config = agent.config
    return {
        "id": config.id,
        "name": config.name,
        "provider": config.model.provider,
        "model_id": config.model.model_id,
        "tools": config.tools,
        "knowledge_bases": [ref.id for ref in config.knowledge_bases],
        "api_integrations": config.api_integrations,
        "fallback": config.fallback,
        "file": str(agent.path),
    }
