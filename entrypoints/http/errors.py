"""One error shape for every failure: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from domain import errors
from domain.models.text import PATTERN_WORDS
from domain.models.widgets import MODEL_SPEC_PATTERN

log = structlog.get_logger()

# Looked up along the exception's class hierarchy, so a new subclass inherits its status.
STATUS_OF: dict[type[errors.ChatConnectError], int] = {
    errors.InvalidInputError: 422,
    errors.AuthenticationError: 401,
    errors.OriginNotAllowedError: 403,
    errors.NotFoundError: 404,
    errors.PayloadTooLargeError: 413,
    errors.UnsupportedMediaTypeError: 415,
    errors.RateLimitedError: 429,
    errors.ParseError: 422,
    errors.FetchError: 422,
    errors.DependencyUnavailableError: 503,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
}


def status_of(error: errors.ChatConnectError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]  # type: ignore[index]
    return 500


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _respond(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> Response[Any]:
    if status == 413:
        # A body refused for its size is left unread, so the server closes the connection
        # after the answer: saying so keeps a client from sending its next request into it.
        headers = {**(headers or {}), "Connection": "close"}
    return Response(error_body(code, message, details), status_code=status, headers=headers)


def domain_error(_: Request[Any, Any, Any], exc: errors.ChatConnectError) -> Response[Any]:
    status = status_of(exc)
    headers = None
    if isinstance(exc, errors.RateLimitedError | errors.DatabaseBusyError):
        headers = {"Retry-After": str(exc.retry_after)}
    if status == 500:
        log.error("unmapped_domain_error", code=exc.code, exc_info=exc)
    elif status > 500:
        # The cause (a timeout, a refused connection) stays out of the answer, not the log.
        cause = repr(exc.__cause__) if exc.__cause__ is not None else None
        log.warning("dependency_unavailable", code=exc.code, error=exc.message, cause=cause)
    return _respond(status, exc.code, exc.message, exc.details, headers)


# Litestar's words for a required parameter left out: "Missing required query parameter
# 'tenant_id' for path /api/widgets".
_MISSING = re.compile(r"Missing required (\w+) parameter '([^']+)'")


_WORDS = {**PATTERN_WORDS, MODEL_SPEC_PATTERN: "must be 'extractive' or 'provider:model'"}
# msgspec's words for a value its type's pattern refused, and for where it was.
_PATTERN_REFUSED = re.compile(r"Expected `str` matching regex '(.*)'", re.DOTALL)
_AT = re.compile(r" - at `\$\.?([^`]*)`$")
# Litestar's words for a JSON route called without a body: the missing argument's name.
_NO_BODY = {"message": "'data'", "key": "data", "source": "body"}


def readable(message: str) -> str:
    """msgspec's message, with a pattern of ours said in words rather than as a regex."""

    def words(found: re.Match[str]) -> str:
        pattern = found.group(1).replace("\\\\", "\\")
        return _WORDS.get(pattern, found.group(0))

    return _PATTERN_REFUSED.sub(words, message)


def _problem(problem: Any) -> Any:
    if not isinstance(problem, dict):
        return problem
    message = problem.get("message")
    return {**problem, "message": readable(message)} if isinstance(message, str) else problem


def invalid_body(error: msgspec.ValidationError) -> errors.InvalidInputError:
    """A body a route decoded itself and found wrong, said as the framework says others."""
    message = str(error)
    at = _AT.search(message)
    key = at.group(1) if at else None
    problem = {"message": readable(_AT.sub("", message)), "key": key, "source": "body"}
    return errors.InvalidInputError(_invalid([problem]), details=[problem])


def _invalid(problems: list[Any]) -> str:
    """Names what was wrong: "query parameter 'since': Invalid RFC3339 encoded datetime"."""
    said = []
    for problem in problems:
        source, key = (
            getattr(problem.get("source"), "value", problem.get("source")),
            problem.get("key"),
        )
        where = "request body" if source in (None, "body") else f"{source} parameter"
        message = problem.get("message")
        if key:
            said.append(f"{where} {key!r}: {message}")
        else:
            said.append(f"{where} is invalid: {message}" if message else f"{where} is invalid")
    return "; ".join(said) or "request is invalid"


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        # A well-formed request whose fields or parameters are wrong is 422, naming them;
        # malformed JSON stays 400.
        if exc.extra == [_NO_BODY]:
            details = [{"message": "required", "key": None, "source": "body"}]
            return _respond(
                422,
                "invalid_input",
                "the request body is empty: a JSON object is required",
                details,
            )
        if isinstance(exc.extra, list) and exc.extra:
            problems = [_problem(problem) for problem in exc.extra]
            return _respond(422, "invalid_input", _invalid(problems), problems)
        if missing := _MISSING.match(exc.detail or ""):
            source, key = missing.groups()
            details = [{"message": "required", "key": key, "source": source}]
            return _respond(
                422, "invalid_input", f"{source} parameter {key!r} is required", details
            )
    if status >= 500:
        log.error("http_error", status=status, exc_info=exc)
        return _respond(500, "internal_error", "internal server error")
    code = _HTTP_CODES.get(status, "http_error")
    return _respond(status, code, exc.detail or code.replace("_", " "), headers=exc.headers)


def unexpected_error(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.error("unexpected_error", exc_info=exc)
    return _respond(500, "internal_error", "internal server error; see the log by request id")


EXCEPTION_HANDLERS = {
    errors.ChatConnectError: domain_error,
    HTTPException: http_error,
    Exception: unexpected_error,
}
