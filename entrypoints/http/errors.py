"""One error shape for every failure: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from domain import errors

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
    return Response(error_body(code, message, details), status_code=status, headers=headers)


def domain_error(_: Request[Any, Any, Any], exc: errors.ChatConnectError) -> Response[Any]:
    status = status_of(exc)
    headers = None
    if isinstance(exc, errors.RateLimitedError):
        headers = {"Retry-After": str(exc.retry_after)}
    if status == 500:
        log.error("unmapped_domain_error", code=exc.code, exc_info=exc)
    elif status > 500:
        log.warning("dependency_unavailable", code=exc.code, error=exc.message)
    return _respond(status, exc.code, exc.message, exc.details, headers)


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if isinstance(exc, ValidationException) and exc.extra:
        # A well-formed body whose fields are wrong; malformed JSON stays 400.
        return _respond(422, "invalid_input", "request body is invalid", exc.extra)
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
