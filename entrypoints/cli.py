"""`chatconnect serve | worker | migrate | ingest`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

import structlog

from entrypoints import ingest_cli
from entrypoints.settings import Settings, SettingsError, load_settings

# The code `--reload` watches: the packages, not the data directory the service writes.
SOURCES = ("domain", "application", "adapters", "entrypoints")


def _serve(settings: Settings, reload: bool = False) -> None:
    from granian import Granian
    from granian.constants import Interfaces, Loops

    root = Path(__file__).resolve().parent.parent
    Granian(
        "entrypoints.http.app:create_served_app",
        factory=True,
        interface=Interfaces.ASGI,
        # Named, not left to granian's `auto` (which would prefer rloop, were it installed).
        loop=Loops.uvloop,
        address=settings.host,
        port=settings.port,
        workers=1,
        log_access=False,
        reload=reload,
        reload_paths=[root / package for package in SOURCES],
    ).serve()


async def _work(settings: Settings) -> None:
    from dishka import make_async_container

    from application.data_rights import PurgeIdleConversations
    from application.ingestion.processing import ProcessDocument
    from entrypoints.heap import freeze_startup_heap
    from entrypoints.logs import configure_logging
    from entrypoints.wiring import providers
    from entrypoints.worker import Worker

    configure_logging(settings.log_level, settings.log_format)
    container = make_async_container(*providers(), context={Settings: settings})
    worker = Worker(
        await container.get(ProcessDocument),
        concurrency=settings.worker_concurrency,
        purge=await container.get(PurgeIdleConversations),
        purge_seconds=settings.retention_sweep_seconds,
    )
    freeze_startup_heap()
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    worker.start()
    await stopped.wait()
    await worker.stop()
    await container.close()


def _migrate(settings: Settings) -> None:
    from adapters.postgres.embedded import start_embedded_postgres
    from adapters.postgres.migrations import upgrade_to_head

    upgrade_to_head(settings.database_url or start_embedded_postgres(settings.data_dir))
    structlog.get_logger().info("migrated_to_head")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="chatconnect", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")
    serve = commands.add_parser("serve", help="serve the HTTP API")
    serve.add_argument(
        "--reload",
        action="store_true",
        help="restart when the code changes (development; needs the dev dependencies)",
    )
    commands.add_parser("worker", help="process queued documents (when not in the API process)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    ingest_cli.add_arguments(
        commands.add_parser(
            "ingest",
            help="upload files and folders to a widget of a running service",
            description=ingest_cli.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
    )
    args = parser.parse_args(argv)
    if args.command == "ingest":  # speaks HTTP to a running service: no settings needed
        sys.exit(ingest_cli.main(args))
    try:
        settings = load_settings()
    except SettingsError as error:
        sys.exit(f"chatconnect: configuration error: {error}")
    if args.command == "serve":
        _serve(settings, reload=args.reload)
    elif args.command == "worker":
        asyncio.run(_work(settings))
    else:
        _migrate(settings)


if __name__ == "__main__":
    main()
