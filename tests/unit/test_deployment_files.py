"""The deployment files (Dockerfile, .dockerignore, compose.yaml, .env.example) agree with
the code: the settings it reads, the port it serves, where it looks for its migrations.

No Docker engine is needed: the files are parsed, and their settings go through
`load_settings`, as the containers would do at start.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from adapters.postgres import migrations
from entrypoints.settings import ENV_NAMES, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"api", "worker", "postgres", "redis", "qdrant"}
OBSERVABILITY = {"prometheus", "grafana"}
APP_SERVICES = ("api", "worker")
# Which compose service each URL setting must reach, recognised by its image.
URL_SERVICES = {"DATABASE_URL": "postgres", "REDIS_URL": "redis", "QDRANT_URL": "qdrant/qdrant"}
URL_SCHEMES = {
    "DATABASE_URL": {"postgresql", "postgres"},
    "REDIS_URL": {"redis", "rediss"},
    "QDRANT_URL": {"http", "https"},
}
# Stands in for a ${VAR} or ${VAR:?message} the operator must supply.
SUPPLIED = "supplied-by-the-operator"


# --- compose.yaml -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(document, dict), "compose.yaml is not a mapping"
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return compose["services"]


_INTERPOLATION = re.compile(
    r"\$(?:\$|\{(?P<name>\w+)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}|(?P<bare>\w+))"
)


def interpolate(value: str) -> str:
    """Compose's ${...} substitution with nothing set on the host: defaults apply, and a
    required or plain variable gets a stand-in value."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        op = match.group("op")
        if op in (":-", "-"):
            return match.group("arg")
        if op in (":+", "+"):
            return ""
        return SUPPLIED

    return _INTERPOLATION.sub(replace, value)


def compose_env(service: Mapping[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: interpolate(str(value)) for name, value in environment.items()}


def container_environ(service: Mapping[str, Any]) -> dict[str, str]:
    """What the process sees: the image's ENV, then the service's environment on top."""
    return {**dockerfile_env(), **compose_env(service)}


def command_of(service: Mapping[str, Any]) -> list[str]:
    command = service.get("command", dockerfile_cmd())
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def healthcheck_text(service: Mapping[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


def container_ports(service: Mapping[str, Any]) -> dict[int, int]:
    """Published ports, host port -> container port (short and long syntax)."""
    published: dict[int, int] = {}
    for port in service.get("ports", []):
        if isinstance(port, dict):
            published[int(port["published"])] = int(port["target"])
        else:
            *host, target = str(port).split("/")[0].split(":")
            published[int(host[-1] if host else target)] = int(target)
    return published


def listening_port(service: Mapping[str, Any]) -> int:
    """The port a backing service listens on inside its container."""
    image = str(service["image"])
    env = compose_env(service)
    if image.startswith("postgres"):
        return int(env.get("PGPORT", 5432))
    if image.startswith("redis"):
        command = command_of(service) if "command" in service else []
        return int(command[command.index("--port") + 1]) if "--port" in command else 6379
    if image.startswith("qdrant/qdrant"):
        return int(env.get("QDRANT__SERVICE__HTTP_PORT", 6333))
    raise AssertionError(f"no known port for image {image}")


def test_compose_has_the_five_services(services: dict[str, Any]) -> None:
    assert {name for name, service in services.items() if not service.get("profiles")} == SERVICES


def test_observability_services_are_optional_and_wired(services: dict[str, Any]) -> None:
    optional = {name for name, service in services.items() if service.get("profiles")}
    assert optional == OBSERVABILITY
    for name in OBSERVABILITY:
        assert services[name]["profiles"] == ["observability"]
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    scrape = yaml.safe_load((ROOT / "docs/ops/prometheus.yml").read_text())
    [job] = scrape["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == ["api:8000"]
    mounts = services["prometheus"]["volumes"] + services["grafana"]["volumes"]
    for mount in mounts:
        assert (ROOT / mount.split(":")[0]).exists(), f"{mount} mounts a missing path"


def test_the_dashboard_only_queries_metrics_the_service_exports() -> None:
    from adapters.telemetry import prometheus as ours

    dashboard = json.loads((ROOT / "docs/ops/grafana/dashboards/chatconnect.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {m for e in exprs for m in re.findall(r"chatconnect_[a-z_]+", e)}
    exported = {
        metric._name  # prometheus_client keeps the base name there
        for metric in vars(ours).values()
        if hasattr(metric, "_name") and hasattr(metric, "_type")
    }
    http = {
        "chatconnect_http_requests",
        "chatconnect_http_request_duration_seconds",
        "chatconnect_http_requests_error",
    }
    suffixes = ("_total", "_bucket", "_sum", "_count")
    for name in used:
        base = next((name.removesuffix(s) for s in suffixes if name.endswith(s)), name)
        assert base in exported | http, f"the dashboard queries {name}, which nothing exports"


def test_compose_uses_the_specification_format(compose: dict[str, Any]) -> None:
    assert "version" not in compose, "the Compose Specification has no version: key"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_a_healthcheck(services: dict[str, Any], name: str) -> None:
    healthcheck = services[name].get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    assert not healthcheck.get("disable", False)
    test = healthcheck.get("test")
    assert test and test != ["NONE"], f"{name}'s healthcheck runs nothing"
    if isinstance(test, list):
        assert test[0] in {"CMD", "CMD-SHELL"}, f"{name}: healthcheck test must start with CMD"


def test_api_publishes_8000_to_the_port_it_listens_on(services: dict[str, Any]) -> None:
    settings = load_settings(container_environ(services["api"]))
    assert container_ports(services["api"]).get(8000) == settings.port
    assert settings.host == "0.0.0.0", "the API must listen beyond the container's loopback"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_set_only_known_settings(services: dict[str, Any], name: str) -> None:
    environment = services[name].get("environment") or {}
    assert isinstance(environment, dict)
    unknown = set(environment) - set(ENV_NAMES.values())
    assert not unknown, f"{name} sets variables no setting reads: {sorted(unknown)}"
    # Compose rejects YAML booleans and nulls here ("false" must be quoted).
    wrong = sorted(
        k for k, v in environment.items() if isinstance(v, bool) or not isinstance(v, str | int)
    )
    assert not wrong, f"{name}: quote these values: {wrong}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_environment_is_accepted_by_the_settings(
    services: dict[str, Any], name: str
) -> None:
    settings = load_settings(container_environ(services[name]))
    assert settings.environment == "production"
    assert settings.admin_token == SUPPLIED, "ADMIN_TOKEN must come from the operator"
    assert settings.log_format == "json"


def test_admin_token_is_required_from_the_operator(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        value = str(services[name]["environment"]["ADMIN_TOKEN"])
        assert re.fullmatch(r"\$\{ADMIN_TOKEN:\?[^}]*\}", value), (
            f"{name}: ADMIN_TOKEN must be ${{ADMIN_TOKEN:?...}}, so compose refuses to start "
            "without it"
        )


@pytest.mark.parametrize("setting", sorted(URL_SERVICES))
@pytest.mark.parametrize("name", APP_SERVICES)
def test_service_urls_reach_the_compose_services(
    services: dict[str, Any], name: str, setting: str
) -> None:
    url = urlsplit(compose_env(services[name])[setting])
    assert url.scheme in URL_SCHEMES[setting], f"{setting} has scheme {url.scheme!r}"
    assert url.hostname in services, f"{setting} points at {url.hostname!r}, not a service"
    target = services[url.hostname]
    assert str(target.get("image", "")).startswith(URL_SERVICES[setting]), (
        f"{setting} points at {url.hostname}, which is not a {URL_SERVICES[setting]} service"
    )
    port = listening_port(target)
    assert url.port == port, f"{setting} uses port {url.port}, {url.hostname} listens on {port}"
    assert str(port) in healthcheck_text(target), f"{url.hostname}'s healthcheck misses {port}"
    if setting == "DATABASE_URL":
        env = compose_env(target)
        assert url.username == env["POSTGRES_USER"]
        assert url.password == env["POSTGRES_PASSWORD"]
        assert url.path.lstrip("/") == env.get("POSTGRES_DB", env["POSTGRES_USER"])


def test_api_and_worker_share_one_database_and_qdrant_server(services: dict[str, Any]) -> None:
    # An embedded Qdrant Edge shard (or pgserver) opens in one process only.
    api, worker = (load_settings(container_environ(services[n])) for n in APP_SERVICES)
    assert api.database_url and api.qdrant_url
    assert (worker.database_url, worker.qdrant_url) == (api.database_url, api.qdrant_url)


def test_documents_are_processed_by_the_worker_not_the_api(services: dict[str, Any]) -> None:
    assert load_settings(container_environ(services["api"])).worker_in_process is False
    assert command_of(services["api"]) == ["chatconnect", "serve"]
    assert command_of(services["worker"]) == ["chatconnect", "worker"]
    assert "ports" not in services["worker"]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_wait_for_healthy_dependencies(services: dict[str, Any], name: str) -> None:
    depends_on = services[name].get("depends_on")
    assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions, not a list"
    needed = {"postgres", "redis", "qdrant"} | ({"api"} if name == "worker" else set())
    assert needed <= set(depends_on), f"{name} misses {sorted(needed - set(depends_on))}"
    for dependency in needed:
        assert depends_on[dependency].get("condition") == "service_healthy", dependency


def test_api_healthcheck_asks_the_api_itself(services: dict[str, Any]) -> None:
    port = load_settings(container_environ(services["api"])).port
    urls = re.findall(r"https?://[^\s'\"]+", healthcheck_text(services["api"]))
    assert urls, "the api healthcheck requests no URL"
    url = urlsplit(urls[0])
    assert (url.hostname, url.port) in {("127.0.0.1", port), ("localhost", port)}
    assert url.path in {"/health", "/health/ready"}
    assert "curl" not in healthcheck_text(services["api"]), "the slim image has no curl"


def test_worker_healthcheck_does_not_expect_an_http_server(services: dict[str, Any]) -> None:
    # The worker serves no HTTP; the image's /health check would mark it unhealthy forever.
    assert "/health" not in healthcheck_text(services["worker"])


# --- .env.example -------------------------------------------------------------------------


def env_example() -> list[tuple[str, str, str]]:
    """(name, value, the comment just above it) for each variable of .env.example."""
    entries: list[tuple[str, str, str]] = []
    comment = ""
    for line in (ROOT / ".env.example").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("# ---"):
            comment = ""  # a group heading explains no variable
        elif stripped.startswith("#"):
            comment = stripped.lstrip("#").strip()
        elif "=" in stripped:
            name, value = stripped.split("=", 1)
            entries.append((name.strip(), value.strip(), comment))
            comment = ""
        elif not stripped:
            comment = ""
        else:
            raise AssertionError(f".env.example: cannot read {line!r}")
    return entries


def test_env_example_lists_exactly_the_settings() -> None:
    names = [name for name, _, _ in env_example()]
    assert len(names) == len(set(names)), "a variable is listed twice"
    expected = set(ENV_NAMES.values())
    assert not expected - set(names), f"missing: {sorted(expected - set(names))}"
    assert not set(names) - expected, f"unknown: {sorted(set(names) - expected)}"


def test_env_example_explains_every_variable() -> None:
    unexplained = [name for name, _, comment in env_example() if not comment]
    assert not unexplained, f"no comment above: {unexplained}"


def test_env_example_values_are_accepted_and_are_the_defaults() -> None:
    documented = load_settings({name: value for name, value, _ in env_example()})
    assert documented == Settings(), "a value in .env.example is not the built-in default"


# --- Dockerfile and .dockerignore -----------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        keyword, _, arguments = (current + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        current = ""
    assert not current, "the Dockerfile ends inside a continued line"
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile()
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts, "the Dockerfile has no FROM"
    return instructions[starts[-1] :]


def exec_form(arguments: str) -> list[str]:
    try:
        parsed = json.loads(arguments)
    except json.JSONDecodeError:
        return shlex.split(arguments)
    assert isinstance(parsed, list)
    return parsed


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, arguments in final_stage():
        if keyword == "ENV":
            for pair in shlex.split(arguments):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def dockerfile_cmd() -> list[str]:
    commands = [exec_form(a) for k, a in final_stage() if k == "CMD"]
    assert commands, "the final stage has no CMD"
    return commands[-1]


def copied_sources() -> list[str]:
    """What the Dockerfile copies from the build context (not from other stages)."""
    sources: list[str] = []
    for keyword, arguments in dockerfile():
        if keyword not in {"COPY", "ADD"}:
            continue
        parts = exec_form(arguments) if arguments.startswith("[") else shlex.split(arguments)
        if any(part.startswith("--from") for part in parts):
            continue
        sources += [p.rstrip("/") for p in parts if not p.startswith("--")][:-1]
    return sources


def test_dockerfile_is_multi_stage_on_python_311_slim() -> None:
    # The virtualenv is copied between stages: it must be built on the Python it runs on.
    images = [a.split()[0] for k, a in dockerfile() if k == "FROM"]
    assert len(images) >= 2
    assert set(images) == {"python:3.11-slim"}


def test_dockerfile_exposes_the_port_the_api_listens_on(services: dict[str, Any]) -> None:
    exposed = {int(p.split("/")[0]) for k, a in final_stage() if k == "EXPOSE" for p in a.split()}
    api_port = load_settings(container_environ(services["api"])).port
    assert exposed == {api_port}
    assert api_port in container_ports(services["api"]).values()


def test_dockerfile_serves_by_default() -> None:
    assert dockerfile_cmd() == ["chatconnect", "serve"]
    assert not [a for k, a in final_stage() if k == "ENTRYPOINT"], "an ENTRYPOINT wraps CMD"


def test_dockerfile_environment() -> None:
    env = dockerfile_env()
    assert {k: env.get(k) for k in ("HOST", "PORT", "DATA_DIR", "DO_NOT_TRACK")} == {
        "HOST": "0.0.0.0",
        "PORT": "8000",
        "DATA_DIR": "/data",
        "DO_NOT_TRACK": "1",
    }
    load_settings(env)


def test_dockerfile_runs_as_a_non_root_user() -> None:
    users = [a.split(":")[0] for k, a in final_stage() if k == "USER"]
    assert users, "the image runs as root"
    assert users[-1] not in {"root", "0"}


def test_dockerfile_healthcheck_asks_health_with_python() -> None:
    checks = [a for k, a in final_stage() if k == "HEALTHCHECK"]
    assert checks, "the image has no HEALTHCHECK"
    _, _, command = checks[-1].partition("CMD ")
    argv = exec_form(command)
    assert argv[0] in {"python", "python3"} and "urllib" in " ".join(argv)
    assert "/health" in " ".join(argv)


def test_dockerfile_installs_the_lock_then_the_project_without_dependencies() -> None:
    runs = [a for k, a in dockerfile() if k == "RUN"]
    lock = [i for i, run in enumerate(runs) if re.search(r"-r\s+requirements\.lock", run)]
    project = [
        i
        for i, run in enumerate(runs)
        if re.search(r"pip install .*--no-deps.*(-e|--editable)\s+\.", run)
    ]
    assert lock and project and lock[0] < project[0]
    assert "requirements.lock" in copied_sources()


def test_image_holds_the_packages_and_what_the_build_reads() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]}
    needed = packages | {"pyproject.toml", project["project"]["readme"]}
    assert needed <= set(copied_sources()), f"not copied: {sorted(needed - set(copied_sources()))}"


def test_image_holds_the_migrations_where_the_service_looks() -> None:
    ini = Path(migrations.ALEMBIC_INI)
    package_dir = Path(migrations.__file__).resolve().parents[1]  # adapters/
    if ini.is_relative_to(package_dir):
        return  # shipped as package data: any install finds them
    # Found beside the sources: they must be in the image, and the project installed
    # editable so the packages stay next to them instead of moving into site-packages.
    relative = ini.relative_to(migrations.PROJECT_ROOT)
    assert {str(relative), "alembic"} <= set(copied_sources())
    installs = [a for k, a in dockerfile() if k == "RUN" and "--no-deps" in a]
    assert any(re.search(r"(--editable|-e)\s+\.", run) for run in installs)


def dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    """(is an exception, pattern) per line, in .dockerignore's glob syntax."""
    rules: list[tuple[bool, re.Pattern[str]]] = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        glob = line.lstrip("!").strip("/")
        regex = ""
        i = 0
        while i < len(glob):
            if glob.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif glob.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif glob[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif glob[i] == "?":
                regex, i = regex + "[^/]", i + 1
            elif glob[i] == "[":
                end = glob.index("]", i)
                regex, i = regex + glob[i : end + 1], end + 1
            else:
                regex, i = regex + re.escape(glob[i]), i + 1
        rules.append((negate, re.compile(regex)))
    return rules


def ignored(path: str) -> bool:
    """Docker's rule: the last matching line wins; a matched directory takes its contents."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    result = False
    for negate, pattern in dockerignore():
        if any(pattern.fullmatch(prefix) for prefix in prefixes):
            result = not negate
    return result


def test_dockerignore_keeps_what_the_image_copies() -> None:
    dropped = [source for source in copied_sources() if ignored(source)]
    assert not dropped, f".dockerignore drops what the Dockerfile copies: {dropped}"
    assert not ignored("adapters/embeddings/data/tokenizer.json"), "package data is dropped"
    assert not ignored("alembic/versions/0001_initial.py")


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".venv/bin/python",
        "data/admin_token",
        ".env",
        "tests/unit/test_x.py",
        "bench/chat_latency.py",
        "docs/index.md",
        "adapters/__pycache__/x.cpython-311.pyc",
        "chatconnect.egg-info/PKG-INFO",
        ".pytest_cache/README.md",
    ],
)
def test_dockerignore_drops_local_state_tests_and_docs(path: str) -> None:
    assert ignored(path)


def test_the_qdrant_server_counts_bm25_per_widget(services: dict[str, Any]) -> None:
    # The store scopes BM25's document frequencies to the asking widget (IdfParams), which
    # Qdrant servers before 1.19 do not understand.
    tag = str(services["qdrant"]["image"]).split(":")[1].lstrip("v")
    assert tuple(int(part) for part in tag.split(".")[:2]) >= (1, 19)
