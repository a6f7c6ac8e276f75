"""`wam`: the command line of whatsapp-multiagent."""

from __future__ import annotations

import signal
import sys
import threading
import time
from pathlib import Path
from typing import Annotated

import typer

from agents import AgentConfigError
from app import lifecycle_cli
from app.localstack import LocalStack
from app.logging import configure_logging
from app.runtime import Runtime, prepare_data, running_stack
from app.settings import ConfigurationError, Settings, load_settings
from app.stackfile import record_path
from checkpointers import EmbeddedServerError, RedisModulesMissingError, redact_url
from evals.dataset import DatasetError
from server.accounts import AccountConfigError
from stores import apply_bucket_policies, aws_client, enable_point_in_time_recovery
from tools import IngestError, IntegrationConfigError

cli = typer.Typer(
    help="Answer a business's WhatsApp customers with a team of LangGraph agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
infra = typer.Typer(help="The embedded local stack (Redis with modules, moto DynamoDB/S3).")
db = typer.Typer(help="DynamoDB tables and demo data.")
agents_cli = typer.Typer(help="Agent config files.")
kb = typer.Typer(help="Knowledge bases.")
evals_cli = typer.Typer(help="Score agent answers against datasets; compare runs.")
cli.add_typer(infra, name="infra")
cli.add_typer(db, name="db")
cli.add_typer(agents_cli, name="agents")
cli.add_typer(kb, name="kb")
cli.add_typer(evals_cli, name="evals")
cli.add_typer(lifecycle_cli.gdpr, name="gdpr")
cli.add_typer(lifecycle_cli.export, name="export")
cli.add_typer(lifecycle_cli.analytics, name="analytics")


def _settings() -> Settings:
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


@infra.command("up")
def infra_up() -> None:
    """Start the embedded servers in the foreground and print their URLs; Ctrl-C stops them.

    Export the printed variables in another shell to share these servers with it.
    """
    settings = _settings()
    with running_stack(settings) as runtime:
        stack = runtime.stack
        env = stack.environment()
        if stack.attached is not None and not (stack.redis or stack.aws):
            typer.echo(
                f"# The embedded stack is already running (process {stack.attached.owner_pid}); "
                f"commands run with DATA_DIR={settings.data_dir} use it. Its variables:"
            )
            for name, value in env.items():
                typer.echo(f"export {name}={value}")
            return
        if not (stack.redis or stack.aws):
            typer.echo("Nothing to start: REDIS_URL and AWS are both configured.")
            return
        typer.echo(
            f"# Embedded stack is up. Commands run with DATA_DIR={settings.data_dir} attach to it;"
        )
        typer.echo("# elsewhere, export these first:")
        for name, value in env.items():
            typer.echo(f"export {name}={value}")
        typer.echo("# Ctrl-C stops it.")
        sys.stdout.flush()
        try:
            _watch_stack(stack)
        except KeyboardInterrupt:
            typer.echo("stopping", err=True)


def _interruptible() -> None:
    """Ctrl-C (SIGINT) stops a long-running command even when a shell without job control
    started it in the background, with SIGINT ignored."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _watch_stack(stack: LocalStack) -> None:
    """Keep the embedded servers up: a Redis that died is restarted on its port and AOF (the
    sessions survive); a moto server that died held its data in memory, so the stack stops."""
    _interruptible()
    while True:
        time.sleep(1)
        if stack.redis is not None and not stack.redis.is_running():
            typer.echo(
                f"embedded redis stopped unexpectedly; restarting it on {stack.redis.url} "
                "(its append-only file keeps the sessions)",
                err=True,
            )
            stack.redis.stop()
            stack.redis.start()
        if stack.aws is not None and not stack.aws.is_running():
            typer.echo(
                "embedded moto server stopped unexpectedly (its tables were in memory); stopping "
                "the stack",
                err=True,
            )
            raise typer.Exit(1)


def _echo_stack_note(runtime: Runtime) -> None:
    """Say whose local stack this process uses, so a newcomer knows what Ctrl-C will stop."""
    stack = runtime.stack
    where = record_path(runtime.settings.data_dir)
    if stack.redis or stack.aws:
        typer.echo(
            f"local stack: started here and recorded in {where}; commands run with this DATA_DIR "
            "use it (stopping this process stops it for them too)"
        )
    elif stack.attached is not None:
        typer.echo(f"local stack: using the one process {stack.attached.owner_pid} started")


@db.command("init")
def db_init(
    pitr: Annotated[
        bool, typer.Option(help="point-in-time recovery on the tables (real AWS only)")
    ] = False,
) -> None:
    """Create the tables and the bucket (encryption, lifecycle rules), idempotently."""
    settings = _settings()
    with running_stack(settings, prepare=False) as runtime:
        created = runtime.stores.init_tables()
        prepare_data(runtime.settings, runtime.stores, seed=False)
        s3 = aws_client("s3", runtime.settings.aws_region)
        apply_bucket_policies(s3, runtime.settings.s3_bucket)
        typer.echo(f"tables ready (created: {', '.join(created) or 'none'})")
        typer.echo(f"bucket {runtime.settings.s3_bucket}: encryption and lifecycle rules set")
        if pitr:
            changed = enable_point_in_time_recovery(runtime.stores.dynamodb, settings.table_prefix)
            typer.echo(f"point-in-time recovery enabled on: {', '.join(changed) or 'all already'}")


@db.command("seed")
def db_seed() -> None:
    """Load the demo service levels and customers."""
    settings = _settings()
    with running_stack(settings, prepare=False) as runtime:
        prepare_data(runtime.settings, runtime.stores, seed=True)
        for customer in runtime.stores.customers.list_customers():
            typer.echo(
                f"{customer.id}  {customer.phone}  {customer.service_level:<10}  "
                f"{len(customer.devices)} device(s)  {customer.name}"
            )


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default: HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: PORT)")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Workers in this process (default: WORKERS)")
    ] = None,
) -> None:
    """The webhook API and its workers, on the configured (or embedded) infrastructure."""
    import uvicorn

    from app.channel import build_channel, drop_api_docs
    from server import create_app
    from server.http import server_limits

    settings = _settings()
    with running_stack(settings) as runtime:
        channel = build_channel(runtime, workers)
        app = create_app(channel)
        if settings.whatsapp_api_base_url is not None:
            drop_api_docs(app)  # /docs, /redoc and /openapi.json only in local mode
        bind_host, bind_port = host or settings.host, port if port is not None else settings.port
        where = f"http://{bind_host}:{bind_port}"
        typer.echo(
            f"serving on {where} (redis {redact_url(runtime.redis_url)}, "
            f"{channel.config.workers} worker(s))"
        )
        if channel.config.simulator:
            typer.echo(f"simulator: open {where}/ and chat as a demo customer")
        _echo_stack_note(runtime)
        uvicorn.run(app, host=bind_host, port=bind_port, log_config=None, **server_limits())


@cli.command()
def worker(
    count: Annotated[int, typer.Option("--count", help="Turn schedulers in this process")] = 1,
) -> None:
    """Workers only (no HTTP), for scale-out against a shared Redis (`REDIS_URL`).

    SIGTERM (or Ctrl-C) stops gracefully: no new work is taken, turns in progress finish within
    `SHUTDOWN_GRACE_SECONDS`, and what is left is taken over by the other processes.
    """
    import asyncio

    from app.channel import build_channel
    from server import run_workers

    _interruptible()
    settings = _settings()
    with running_stack(settings) as runtime:
        typer.echo(f"{count} worker(s) on redis {redact_url(runtime.redis_url)}; Ctrl-C stops")
        _echo_stack_note(runtime)
        try:
            asyncio.run(run_workers(build_channel(runtime, count), count))
        except KeyboardInterrupt:
            typer.echo("stopping", err=True)
        typer.echo("stopped", err=True)


@agents_cli.command("list")
def agents_list(
    path: Annotated[Path | None, typer.Argument(help="Agents folder (default: AGENTS_DIR)")] = None,
) -> None:
    """List the agents of a folder: id, the model that will answer, tools, knowledge bases.

    The model is the one that runs here (`MODEL_PROVIDER`, or offline without real AWS
    credentials), with the config's own choice beside it when that differs.
    """
    from agents import ModelRegistry, load_agents
    from app.localstack import aws_credentials_configured
    from app.wiring import agent_summary, agents_dir, model_override

    settings = _settings()
    folder = path or agents_dir(settings)
    registry = ModelRegistry(override=model_override(settings, aws_credentials_configured()))
    for agent in load_agents(folder).values():
        row = agent_summary(agent)
        model = agent.config.model
        answers = f"{registry.provider_for(model)}:{registry.model_id_for(model)}"
        configured = f"{model.provider}:{model.model_id}"
        if configured != answers:
            answers += f" (config: {configured})"
        extras = ", ".join(row["tools"] + row["api_integrations"]) or "no tools"
        marker = " (fallback)" if row["fallback"] else ""
        typer.echo(
            f"{row['id']:<16} {answers}  [{extras}]"
            f"  kb={','.join(row['knowledge_bases']) or '-'}{marker}"
        )


@agents_cli.command("validate")
def agents_validate(
    path: Annotated[Path | None, typer.Argument(help="A config file or an agents folder")] = None,
    online: Annotated[
        bool, typer.Option("--online", help="Also ask Bedrock that each model exists and is active")
    ] = False,
) -> None:
    """Validate agent configs (schema, prompt files, tools and integrations they name)."""
    from agents import load_agent_config, load_agents
    from agents.loader import LoadedAgent
    from app.wiring import agents_dir, validate_agent_graphs

    settings = _settings()
    target = path or agents_dir(settings)
    if target.is_dir():
        loaded = load_agents(target)
    else:
        config, prompt = load_agent_config(target)
        loaded = {config.id: LoadedAgent(config, prompt, target)}
    folder = target if target.is_dir() else target.parent
    validate_agent_graphs(settings, loaded, folder)
    problems = []
    if online:
        from agents.model_check import check_models

        problems = check_models(loaded, settings.aws_region, override=settings.model_provider)
        for problem in problems:
            typer.echo(f"{problem.severity}: {problem.message}", err=True)
    for agent in loaded.values():
        typer.echo(f"ok  {agent.path}")
    if any(problem.severity == "error" for problem in problems):
        raise typer.Exit(1)


@cli.command()
def graph(
    xray: Annotated[bool, typer.Option(help="Draw the agents' inner nodes too")] = False,
) -> None:
    """Print the supervisor graph as Mermaid text."""
    from agents import load_agents
    from app.wiring import agents_dir, structural_deps
    from graph import compile_supervisor

    settings = _settings()
    folder = agents_dir(settings)
    deps = structural_deps(settings, load_agents(folder), folder)
    typer.echo(compile_supervisor(deps).get_graph(xray=xray).draw_mermaid())


@kb.command("ingest")
def kb_ingest(
    path: Annotated[Path, typer.Argument(help="A document or a folder (txt, md, html, pdf)")],
    kb_id: Annotated[str, typer.Option("--kb", help="Knowledge-base id, as in agent configs")],
) -> None:
    """Upload documents to S3 (kb-documents/<kb>/), chunk them, and index them for retrieval."""
    from redis import Redis

    from app.wiring import agents_dir, kb_namespace
    from stores import aws_client
    from tools import LocalKnowledgeBase, ingest_path
    from tools.ingest import check_kb_id, document_paths

    check_kb_id(kb_id)
    document_paths(path)  # a missing path fails before any server starts
    settings = _settings()
    with running_stack(settings) as runtime:
        namespace = kb_namespace(agents_dir(runtime.settings))
        base = LocalKnowledgeBase(Redis.from_url(runtime.redis_url), kb_id, namespace=namespace)
        for document in ingest_path(
            path, base, s3=aws_client("s3", settings.aws_region), bucket=settings.s3_bucket
        ):
            typer.echo(
                f"{document.source:<28} {document.language}  {document.chunks} chunk(s)  "
                f"s3://{settings.s3_bucket}/{document.s3_key}"
            )
        typer.echo(f"{kb_id}: {base.document_count()} chunk(s) indexed")


@cli.command()
def chat(
    user: Annotated[str, typer.Option(help="The WhatsApp number you write from")] = "+15550001",
    phone_number_id: Annotated[
        str | None, typer.Option(help="Business number id (default: WHATSAPP_PHONE_NUMBER_ID)")
    ] = None,
) -> None:
    """Chat in the terminal as a WhatsApp user; shows the routed agent and the tools called."""
    import asyncio

    asyncio.run(_chat(user, phone_number_id))


async def _chat(user: str, phone_number_id: str | None) -> None:

    from agents import AgentContext
    from app.terminal import StdinLines
    from checkpointers import async_redis_saver
    from graph import compile_supervisor, run_turn

    settings = _settings()
    with running_stack(settings) as runtime:
        deps = runtime.supervisor_deps()
        wa_id = user.removeprefix("whatsapp:").lstrip("+")
        number = phone_number_id or settings.whatsapp_phone_number_id
        context = AgentContext(
            router_threshold=settings.router_threshold,
            max_history_tokens=settings.max_history_tokens,
        )
        async with async_redis_saver(runtime.redis_url, settings.session_ttl_minutes) as saver:
            graph = compile_supervisor(deps, saver)
            typer.echo(f"Chatting as +{wa_id} (thread {number}:{wa_id}). Ctrl-D to quit.")
            _echo_stack_note(runtime)
            lines = StdinLines()
            while True:
                try:
                    text = (await lines.read_line("you> ")).strip()
                except EOFError:
                    break
                if not text:
                    continue
                result = await run_turn(
                    graph, phone_number_id=number, wa_id=wa_id, texts=[text], context=context
                )
                tools = ", ".join(result.tools) or "none"
                flags = "  ESCALATED" if result.escalation_triggered else ""
                typer.echo(f"[{result.agent_id} | tools: {tools} | {result.model_id}]{flags}")
                buttons = "  ".join(f"[{title}]" for _, title in result.buttons)
                typer.echo(f"bot> {result.reply}" + (f"\n     {buttons}" if buttons else "") + "\n")


_CONTEXT_FIELDS = {
    "model_provider": str,
    "model_id": str,
    "temperature": float,
    "router_threshold": float,
    "max_history_tokens": int,
}


def _context_overrides(pairs: list[str]) -> dict[str, object]:
    overrides: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in _CONTEXT_FIELDS:
            raise typer.BadParameter(
                f"--set {pair!r}: use key=value with key one of {', '.join(_CONTEXT_FIELDS)}"
            )
        try:
            overrides[key] = _CONTEXT_FIELDS[key](value)
        except ValueError:
            raise typer.BadParameter(f"--set {pair!r}: {value!r} is not a valid {key}") from None
    return overrides


def _judge_model(spec: str | None) -> object:
    """`provider:model_id` (e.g. `bedrock:anthropic.claude-3-5-sonnet-20240620-v1:0`)."""
    if not spec:
        return None
    from agents import ModelRegistry, ModelSettings

    provider, sep, model_id = spec.partition(":")
    if not sep or provider not in ("bedrock", "openai"):
        raise typer.BadParameter(f"--judge {spec!r}: use bedrock:<model id> or openai:<model>")
    return ModelRegistry().chat_model(
        ModelSettings(provider=provider, model_id=model_id, temperature=0.0, max_tokens=16)
    )


def _run_evals(
    agents_dir: Path | None,
    datasets: list[str],
    tags: list[str],
    limit: int | None,
    overrides: dict[str, object],
    out: Path,
    concurrency: int,
    seed: int,
    judge: str | None = None,
) -> dict[str, object]:
    import asyncio

    from agents import AgentContext
    from app.wiring import agents_dir as default_agents_dir
    from checkpointers import async_redis_saver
    from evals import RunOptions, run_evals, tables, write_results
    from evals.langsmith_sync import sync_to_langsmith
    from graph import compile_supervisor

    settings = _settings()
    if agents_dir is not None:
        settings = settings.model_copy(update={"agents_dir": agents_dir.resolve()})
    folder = default_agents_dir(settings)
    context = AgentContext(
        router_threshold=settings.router_threshold, max_history_tokens=settings.max_history_tokens
    )
    for key, value in overrides.items():
        setattr(context, key, value)
    options = RunOptions(
        datasets=datasets,
        tags=tags,
        limit=limit,
        concurrency=concurrency,
        seed=seed,
        context=context,
        judge=_judge_model(judge),  # type: ignore[arg-type]
    )

    with running_stack(settings) as runtime:
        deps = runtime.supervisor_deps()

        async def go() -> dict[str, object]:
            async with async_redis_saver(runtime.redis_url, settings.session_ttl_minutes) as saver:
                return await run_evals(
                    compile_supervisor(deps, saver), runtime.stores, options, folder
                )

        results = asyncio.run(go())
    experiment = sync_to_langsmith(results)
    if experiment:
        results["langsmith_experiment"] = experiment
    typer.echo(tables(results))
    json_path, html_path = write_results(results, out)
    typer.echo(f"\nwrote {json_path} and {html_path}")
    return results


@evals_cli.command("run")
def evals_run(
    dataset: Annotated[
        list[str] | None,
        typer.Option("--dataset", help="single_turn, conversations, or a .jsonl path (repeatable)"),
    ] = None,
    agents_dir: Annotated[Path | None, typer.Option(help="Agents folder to evaluate")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Run context, e.g. router_threshold=0.4 or model_provider=bedrock"
        ),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option(help="Only cases with this tag (e.g. smoke)")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many cases")] = None,
    out: Annotated[Path, typer.Option(help="Folder for results.json and report.html")] = Path(
        "eval-results"
    ),
    concurrency: Annotated[int, typer.Option(help="Conversations in flight")] = 4,
    seed: Annotated[int, typer.Option(help="Seed (unknown numbers, order)")] = 7,
    judge: Annotated[
        str | None,
        typer.Option(help="LLM-as-judge model, provider:model_id (adds llm_judge_correctness)"),
    ] = None,
) -> None:
    """Run the eval datasets through the real graph and score every turn."""
    _run_evals(
        agents_dir,
        dataset or ["single_turn", "conversations"],
        tag or [],
        limit,
        _context_overrides(set_ or []),
        out,
        concurrency,
        seed,
        judge,
    )


@evals_cli.command("compare")
def evals_compare(
    run_a: Annotated[Path, typer.Argument(help="Baseline: a results folder/json, or agents dir")],
    run_b: Annotated[Path, typer.Argument(help="Candidate: a results folder/json, or agents dir")],
    metric: Annotated[list[str] | None, typer.Option(help="Metrics that gate (repeatable)")] = None,
    threshold: Annotated[float, typer.Option(help="Largest allowed drop of a gated metric")] = 0.02,
    dataset: Annotated[list[str] | None, typer.Option(help="Datasets, when comparing dirs")] = None,
    tag: Annotated[list[str] | None, typer.Option(help="Tags, when comparing dirs")] = None,
) -> None:
    """Per-metric deltas and flipped cases; exits 1 when a gated metric regresses."""
    from evals import compare, is_results, load_results
    from evals.compare import CoverageError

    def resolve(path: Path, label: str) -> dict[str, object]:
        if is_results(path):
            return load_results(path)
        return _run_evals(
            path,
            dataset or ["single_turn", "conversations"],
            tag or [],
            None,
            {},
            Path("eval-results") / label,
            4,
            7,
        )

    try:
        comparison = compare(
            resolve(run_a, "a"),
            resolve(run_b, "b"),  # type: ignore[arg-type]
            metric or ["routing_accuracy", "answer_correctness"],
            threshold,
        )
    except CoverageError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    if comparison.coverage_differs:
        typer.echo(comparison.coverage_note(), err=True)
    typer.echo(comparison.render())
    if comparison.regressions:
        typer.echo(f"\nREGRESSED beyond {threshold}: {', '.join(comparison.regressions)}", err=True)
        raise typer.Exit(1)


def main() -> None:
    """Entry point: configuration and start-up errors end in one clear line, not a traceback."""
    try:
        cli()
    except (
        ConfigurationError,
        RedisModulesMissingError,
        EmbeddedServerError,
        AgentConfigError,
        IntegrationConfigError,
        IngestError,
        AccountConfigError,
        DatasetError,
    ) as error:
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
