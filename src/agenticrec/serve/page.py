"""The web page at ``/``: pick a user, see their history and recommendations with descriptor paths and
explanations, steer the list with critique chips, and send feedback. Server-rendered, so it works without
JavaScript; ``static/page.js`` only makes chips and feedback update in place."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request, Security
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from fastapi.templating import Jinja2Templates

from agenticrec.serve.api import EventType, check_key, key_header, known_item, known_user, ranked
from agenticrec.serve.catalogue import Catalogue
from agenticrec.serve.events import Event, EventStore, IdempotencyConflict
from agenticrec.serve.problems import Problem

HISTORY_SHOWN = 10
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
basic = HTTPBasic(auto_error=False, realm="agenticrec")


def page_access(
    request: Request,
    header: Annotated[str | None, Security(key_header)] = None,
    credentials: Annotated[HTTPBasicCredentials | None, Depends(basic)] = None,
) -> None:
    """With keyed reads the page needs a key as well: the API key header, or the password of HTTP Basic auth,
    which a browser asks for."""
    if not request.app.state.settings.keyed_reads:
        return
    given = header or (credentials.password if credentials else None)
    if not given:
        challenge = {"WWW-Authenticate": 'Basic realm="agenticrec"'}
        raise Problem(401, "API key required", "reads need a key: give it as the password", headers=challenge)
    check_key(request, given)


router = APIRouter(include_in_schema=False, dependencies=[Depends(page_access)])


def render(
    request: Request,
    user: str | None,
    model: str | None,
    allow: list[str],
    k: int = 10,
    message: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    served: Catalogue = request.app.state.catalogue
    context: dict[str, object] = {
        "dataset": served.dataset.name,
        "users": served.dataset.user_ids[: request.app.state.settings.page_users],
        "models": list(served.models),
        "model": model or served.default_model,
        "user": user,
        "allow": allow,
        "chips": [],
        "message": message,
        "writes": bool(request.app.state.settings.api_keys),
        "nonce": uuid.uuid4().hex,
        "history": [],
        "recommendations": None,
    }
    if user:
        try:
            history = known_user(served, user)
            context["history"] = [served.describe(i) for i in history[::-1][:HISTORY_SHOWN].tolist()]
            context["history_length"] = len(history)
            recommendations = ranked(served, model, history, k, True, allow, user)
            context["recommendations"] = recommendations
            context["chips"] = chips(served, user, recommendations.model, allow)
        except Problem as problem:
            context["message"], status_code = problem.detail, problem.status
    return templates.TemplateResponse(request, "page.html.j2", context, status_code=status_code)


def chips(served: Catalogue, user: str, model: str, allow: list[str]) -> list[dict[str, object]]:
    """One chip per level-1 descriptor; its link toggles it in the critique."""
    out = []
    for token, name in served.level1().items():
        on = token in allow or name in allow
        toggled = [a for a in allow if a not in (token, name)] if on else [*allow, token]
        href = "/?" + urlencode({"user": user, "model": model, "allow": toggled}, doseq=True)
        out.append({"token": token, "name": name, "on": on, "href": href})
    return out


@router.get("/", response_class=HTMLResponse)
def page(
    request: Request,
    user: Annotated[str | None, Query(max_length=200)] = None,
    model: Annotated[str | None, Query(max_length=200)] = None,
    allow: Annotated[list[str], Query(max_length=50)] = [],  # noqa: B006
    message: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    return render(request, user or None, model or None, allow, message=message)


@router.post("/feedback")
def feedback(
    request: Request,
    user_id: Annotated[str, Form(min_length=1, max_length=200)],
    item_id: Annotated[str, Form(min_length=1, max_length=200)],
    nonce: Annotated[str, Form(min_length=1, max_length=64)],
    type: Annotated[EventType, Form()] = "like",
    api_key: Annotated[str, Form(max_length=200)] = "",
    model: Annotated[str, Form(max_length=200)] = "",
    allow: Annotated[list[str], Form(max_length=50)] = [],  # noqa: B006
) -> Response:
    """The page's feedback form without JavaScript: store the event, then show the page again."""
    served: Catalogue = request.app.state.catalogue
    store: EventStore = request.app.state.events
    try:
        check_key(request, api_key or None)
        known_item(served, item_id)
        store.append(Event(f"page:{nonce}:{item_id}", user_id, item_id, type, datetime.now(UTC).isoformat()))
    except Problem as problem:
        return render(request, user_id, model or None, allow, message=problem.detail, status_code=problem.status)
    except IdempotencyConflict:
        pass  # the same form sent twice: already stored
    query = urlencode({"user": user_id, "model": model, "message": f"saved: {type} {item_id}", "allow": allow}, True)
    return RedirectResponse(f"/?{query}", status_code=303)
