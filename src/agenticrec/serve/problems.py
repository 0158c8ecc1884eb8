"""Errors as RFC 9457 problem bodies (``application/problem+json``) that name the offending parameter; bad input
is a 4xx, never a 500."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"


class ProblemOut(BaseModel):
    """An error answer (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    parameter: str | None = Field(None, description="the request parameter at fault")
    errors: list[dict[str, str]] | None = Field(None, description="422: each invalid parameter and why")


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI answers for ``statuses``, each an ``application/problem+json`` body."""
    schema = ProblemOut.model_json_schema()
    return {status: {"description": HTTPStatus(status).phrase, "content": {MEDIA_TYPE: {"schema": schema}}}
            for status in statuses}  # fmt: skip


class Problem(Exception):
    def __init__(
        self, status: int, title: str, detail: str, parameter: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.parameter = status, title, detail, parameter
        self.headers = headers


def problem_response(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _parameter(error: dict[str, Any]) -> str:
    """The request part an error is about: a malformed JSON body is the body, not the character it broke at."""
    if error["type"] == "json_invalid":
        return "body"
    return ".".join(str(part) for part in error["loc"][1:]) or str(error["loc"][0])


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        extra = {"parameter": exc.parameter} if exc.parameter else {}
        return problem_response(exc.status, exc.title, exc.detail, exc.headers, **extra)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"parameter": _parameter(error), "message": error["msg"]} for error in exc.errors()]
        detail = "; ".join(f"{e['parameter']}: {e['message']}" for e in errors)
        return problem_response(422, "invalid request", detail, errors=errors)

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException) -> JSONResponse:
        detail = f"{request.method} {request.url.path}: {exc.detail}"
        return problem_response(exc.status_code, str(exc.detail), detail, dict(exc.headers or {}))  # 405 keeps Allow

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        log.exception("%s %s failed", request.method, request.url.path)
        return problem_response(500, "internal error", "the server failed on this request; see its log")
