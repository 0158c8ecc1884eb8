"""The JSON API under ``/v1``: recommendations for known users and anonymous sessions, items, the vocabulary,
explanations, and the event log (writes need an API key)."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Depends, Query, Request, Response, Security
from fastapi import Path as PathParam
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

from agenticrec.errors import AgenticRecError
from agenticrec.serve.catalogue import MAX_K, Catalogue
from agenticrec.serve.events import Event, EventStore, IdempotencyConflict
from agenticrec.serve.problems import Problem, problem_responses
from agenticrec.serve.settings import ServeSettings

API_KEY_HEADER = "X-API-Key"
EventType = Literal["view", "click", "cart", "purchase", "like", "dislike"]
MAX_ID = 200
Text = Annotated[str, Field(min_length=1, max_length=MAX_ID, pattern=r"^[^\x00-\x1f\x7f]+$")]  # printable
PathId = Annotated[str, PathParam(min_length=1, max_length=MAX_ID)]


class ItemOut(BaseModel):
    item_id: str
    text: str
    fields: dict[str, str]
    descriptor_path: list[str] | None = Field(description="level-1 first; null when the server has no descriptor IDs")


class ExplanationOut(BaseModel):
    user_id: str
    item_id: str
    interest: str
    explanation: str
    similarity: float


class RankedItem(ItemOut):
    rank: int
    score: float
    explanation: ExplanationOut | None = None


class Recommendations(BaseModel):
    user_id: str | None
    model: str
    k: int
    allow: list[str]
    items: list[RankedItem]


class ModelOut(BaseModel):
    name: str
    model: str
    test_ndcg10: float | None
    default: bool


class SessionRequest(BaseModel):
    items: list[Text] = Field(min_length=1, max_length=200, description="item ids, oldest first")
    k: int = Field(10, ge=1, le=MAX_K)
    model: Text | None = None
    exclude_seen: bool = True
    allow: list[Text] = Field(default_factory=list, max_length=50)


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: Text
    item_id: Text = Field(description="an item of the served catalogue")
    type: EventType
    timestamp: datetime | None = Field(None, description="when it happened (default: when the server receives it)")
    idempotency_key: Text = Field(description="a retried post with the same key stores nothing twice")
    new_user: bool = Field(False, description="the user is new to the served data (else an unknown user is a 404)")


class EventAck(BaseModel):
    event_id: int
    duplicate: bool


class DescriptorOut(BaseModel):
    id: str
    name: str
    description: str
    parent: str | None
    level: int
    item_count: int


class VocabularyOut(BaseModel):
    dataset: str
    descriptors: list[DescriptorOut]


key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="needed for writes (and for reads when the server runs with --keyed-reads)",
)


def catalogue(request: Request) -> Catalogue:
    served: Catalogue = request.app.state.catalogue
    return served


def check_key(request: Request, given: str | None) -> None:
    settings: ServeSettings = request.app.state.settings
    keys = settings.key_values()
    if not keys:
        raise Problem(403, "writes disabled", "no API keys are configured (set AGENTICREC_API_KEYS)", API_KEY_HEADER)
    if not given:
        raise Problem(401, "API key required", f"send the key in the {API_KEY_HEADER} header", API_KEY_HEADER)
    matches = [hmac.compare_digest(given.encode(), key.encode()) for key in keys]  # every key, in constant time
    if not any(matches):
        raise Problem(403, "wrong API key", "the key is not one of the server's keys", API_KEY_HEADER)


def write_access(request: Request, given: Annotated[str | None, Security(key_header)] = None) -> None:
    check_key(request, given)


def read_access(request: Request, given: Annotated[str | None, Security(key_header)] = None) -> None:
    if request.app.state.settings.keyed_reads:
        check_key(request, given)


router = APIRouter(prefix="/v1", dependencies=[Depends(read_access)], responses=problem_responses(401, 403, 404, 422))
Served = Annotated[Catalogue, Depends(catalogue)]


def ranked(
    served: Catalogue,
    model: str | None,
    history: np.ndarray,
    k: int,
    exclude_seen: bool,
    allow: list[str],
    user_id: str | None = None,
) -> Recommendations:
    """The shared ranking path of the API and the page (``history`` of item indices)."""
    if model is not None and model not in served.models:
        raise Problem(404, "unknown model", f"model {model!r}; served: {', '.join(served.models)}", "model")
    if allow and served.descriptor_ids is None:
        raise Problem(422, "no descriptors", "this server has no descriptor IDs to critique by", "allow")
    try:
        allowed = served.allowed(history if exclude_seen else np.zeros(0, dtype=np.int64), allow)
    except AgenticRecError as err:
        raise Problem(422, "unknown descriptor", str(err), "allow") from None
    chosen = served.model(model)
    items, scores = chosen.rank(history, k, allowed)
    rows = []
    for rank, (item, score) in enumerate(zip(items.tolist(), scores.tolist()), start=1):
        row = RankedItem(rank=rank, score=float(score), **served.describe(item))
        if user_id is not None:
            row.explanation = explanation(served, user_id, row.item_id)
        rows.append(row)
    return Recommendations(user_id=user_id, model=chosen.name, k=k, allow=allow, items=rows)


def explanation(served: Catalogue, user_id: str, item_id: str) -> ExplanationOut | None:
    found = served.explain(user_id, item_id)
    if found is None:
        return None
    return ExplanationOut(
        user_id=user_id,
        item_id=item_id,
        interest=found.interest,
        explanation=found.explanation,
        similarity=found.similarity,
    )


def known_user(served: Catalogue, user_id: str) -> np.ndarray:
    if served.user_index(user_id) is None:
        raise Problem(404, "unknown user", f"no user {user_id!r} in {served.dataset.name}", "user_id")
    return served.history(user_id)


def known_item(served: Catalogue, item_id: str, parameter: str = "item_id") -> int:
    index = served.item_index(item_id)
    if index is None:
        raise Problem(404, "unknown item", f"no item {item_id!r} in {served.dataset.name}", parameter)
    return index


@router.get("/models")
def list_models(served: Served) -> list[ModelOut]:
    """The served runs; ``default`` is the one used when a request names none."""
    return [
        ModelOut(
            name=name,
            model=m.kind,
            test_ndcg10=m.test_metrics.get("ndcg@10"),
            default=name == served.default_model,
        )
        for name, m in served.models.items()
    ]


@router.get("/users/{user_id}/recommendations")
def user_recommendations(
    served: Served,
    user_id: PathId,
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
    model: Annotated[str | None, Query(max_length=200)] = None,
    exclude_seen: bool = True,
    allow: Annotated[list[str], Query(max_length=50, description="level-1 descriptor ids or names to keep")] = [],  # noqa: B006
) -> Recommendations:
    """The next items for a known user after their whole history, optionally only under chosen descriptors."""
    return ranked(served, model, known_user(served, user_id), k, exclude_seen, allow, user_id)


@router.post("/sessions/recommendations")
def session_recommendations(served: Served, session: SessionRequest) -> Recommendations:
    """The next items for an anonymous session of item ids."""
    history = np.asarray([known_item(served, item, f"items.{i}") for i, item in enumerate(session.items)])
    return ranked(served, session.model, history, session.k, session.exclude_seen, session.allow)


@router.get("/items/{item_id}")
def item_details(served: Served, item_id: PathId) -> ItemOut:
    return ItemOut(**served.describe(known_item(served, item_id)))


@router.get("/items/{item_id}/similar")
def similar_items(
    served: Served,
    item_id: PathId,
    k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
    model: Annotated[str | None, Query(max_length=200)] = None,
) -> Recommendations:
    """Items the model ranks highest after a session of this one item (the item itself left out)."""
    return ranked(served, model, np.asarray([known_item(served, item_id)]), k, True, [])


@router.get("/vocabulary")
def vocabulary(served: Served) -> VocabularyOut:
    """The descriptor tree behind the descriptor paths (404 when the served runs have none)."""
    if served.vocabulary is None:
        raise Problem(404, "no vocabulary", "the served runs were not built on an AgenticTagger vocabulary")
    return VocabularyOut(
        dataset=served.vocabulary.dataset,
        descriptors=[
            DescriptorOut(**d.model_dump(include={"id", "name", "description", "parent", "level", "item_count"}))
            for d in served.vocabulary.descriptors
        ],
    )


@router.get("/explanations")
def explain(
    served: Served, user_id: Annotated[str, Query(max_length=200)], item_id: Annotated[str, Query(max_length=200)]
) -> ExplanationOut:
    """The offline explanation of an item for a user, under the user's interest closest to it."""
    known_user(served, user_id)
    known_item(served, item_id)
    found = explanation(served, user_id, item_id)
    if found is None:
        raise Problem(404, "no explanation", f"no explanation of {item_id!r} for {user_id!r}", "item_id")
    return found


@router.post("/events", status_code=201, dependencies=[Depends(write_access)], responses=problem_responses(409))
def post_event(served: Served, request: Request, response: Response, event: EventIn) -> EventAck:
    """Append an interaction for the next training run; acknowledged only once it is durably stored."""
    if not event.new_user:
        known_user(served, event.user_id)
    known_item(served, event.item_id)
    store: EventStore = request.app.state.events
    timestamp = (event.timestamp or datetime.now(UTC)).isoformat()
    try:
        event_id, created = store.append(
            Event(event.idempotency_key, event.user_id, event.item_id, event.type, timestamp)
        )
    except IdempotencyConflict:
        raise Problem(409, "idempotency key reused", "this key was used for another event", "idempotency_key") from None
    if not created:
        response.status_code = 200
    return EventAck(event_id=event_id, duplicate=not created)
