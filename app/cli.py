"""`wam`: the command line of whatsapp-multiagent."""

from __future__ import annotations

import sys
import threading
from typing import Annotated

import typer

from app.logging import configure_logging
from app.runtime import prepare_data, running_stack
from app.settings import ConfigurationError, Settings, load_settings
from checkpointers import EmbeddedServerError, RedisModulesMissingError, redact_url

cli = typer.Typer(
    help="Answer a business's WhatsApp customers with a team of LangGraph agents.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
infra = typer.Typer(help="The embedded local stack (Redis with modules, moto DynamoDB/S3).")
db = typer.Typer(help="DynamoDB tables and demo data.")
cli.add_typer(infra, name="infra")
cli.add_typer(db, name="db")


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
        env = runtime.stack.environment()
        if not (runtime.stack.redis or runtime.stack.aws):
            typer.echo("Nothing to start: REDIS_URL and AWS are both configured.")
            return
        typer.echo("# Embedded stack is up. In another shell:")
        for name, value in env.items():
            typer.echo(f"export {name}={value}")
        typer.echo("# Ctrl-C stops it.")
        sys.stdout.flush()
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            typer.echo("stopping", err=True)


@db.command("init")
def db_init() -> None:
    """Create the tables (conversations, customers, service-levels) and the bucket, idempotently."""
    settings = _settings()
    with running_stack(settings, prepare=False) as runtime:
        created = runtime.stores.init_tables()
        prepare_data(runtime.settings, runtime.stores, seed=False)
        typer.echo(f"tables ready (created: {', '.join(created) or 'none'})")


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
) -> None:
    """Run the server on the configured, or embedded, infrastructure."""
    import uvicorn

    from server import create_app

    settings = _settings()
    with running_stack(settings) as runtime:
        app = create_app(redis_url=runtime.redis_url, stores=runtime.stores)
        bind_host, bind_port = host or settings.host, port if port is not None else settings.port
        typer.echo(
            f"serving on http://{bind_host}:{bind_port} (redis {redact_url(runtime.redis_url)})"
        )
        uvicorn.run(app, host=bind_host, port=bind_port, log_config=None)


def main() -> None:
    """Entry point: configuration and start-up errors end in one clear line, not a traceback."""
    try:
        cli()
    except (ConfigurationError, RedisModulesMissingError, EmbeddedServerError) as error:
        typer.echo(f"error: {error}", err=True)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
