"""A small FastAPI app written for the corpus: `cargo xtask corpus` exports its `app.openapi()` (OpenAPI 3.1, as
FastAPI writes it) and runs stub-gen on it. Its models use what FastAPI apps commonly do: `Optional` fields (pydantic
writes `anyOf: [X, {type: null}]`), enums, constrained strings and numbers, UUID path parameters, and an API key
in a header that the operations that change tickets require."""

from datetime import datetime
from enum import Enum
from typing import Annotated, Optional
from uuid import UUID, uuid4

from fastapi import Depends, FastAPI, Header, HTTPException, Path, Query, Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, Field

app = FastAPI(
    title="Tickets",
    version="1.0.0",
    summary="A ticket tracker, written for stub-gen's corpus",
    license_info={"name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0"},
)


class Priority(str, Enum):
    low = "low"
    normal = "normal"
    high = "high"


class Status(str, Enum):
    open = "open"
    closed = "closed"


Title = Annotated[str, Field(min_length=1, max_length=120)]
Tag = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=32)]
Login = Annotated[str, Field(pattern=r"^[a-z]{2,16}$")]


class TicketIn(BaseModel):
    title: Title
    description: Optional[str] = None
    priority: Priority = Priority.normal
    tags: list[Tag] = []
    due: Optional[datetime] = None
    estimate_hours: Optional[Annotated[float, Field(gt=0, le=1000)]] = None


class Ticket(TicketIn):
    id: UUID
    status: Status
    assignee: Optional[Login] = None


class TicketPatch(BaseModel):
    title: Optional[Title] = None
    status: Optional[Status] = None
    assignee: Optional[Login] = None


class Message(BaseModel):
    detail: str


TicketId = Annotated[UUID, Path(description="The ticket's id")]
# FastAPI checks that the header is there; what a key is worth is the app's business, as in the stub.
ApiKey = Annotated[str, Depends(APIKeyHeader(name="X-API-Key"))]
NOT_FOUND = {404: {"model": Message, "description": "No such ticket"}}
TICKETS: dict[UUID, Ticket] = {}


@app.get("/tickets", response_model=list[Ticket])
def list_tickets(
    status: Optional[Status] = None,
    priority: Optional[Priority] = None,
    tag: Annotated[Optional[Tag], Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
):
    found = [
        ticket
        for ticket in TICKETS.values()
        if (status is None or ticket.status == status)
        and (priority is None or ticket.priority == priority)
        and (tag is None or tag in ticket.tags)
    ]
    return found[:limit]


@app.post("/tickets", status_code=201, response_model=Ticket)
def create_ticket(
    _key: ApiKey,
    ticket: TicketIn,
    x_request_id: Annotated[Optional[UUID], Header()] = None,
):
    created = Ticket(id=uuid4(), status=Status.open, **ticket.model_dump())
    TICKETS[created.id] = created
    return created


@app.get("/tickets/{ticket_id}", response_model=Ticket, responses=NOT_FOUND)
def get_ticket(ticket_id: TicketId):
    if ticket_id not in TICKETS:
        raise HTTPException(status_code=404, detail="No such ticket")
    return TICKETS[ticket_id]


@app.patch("/tickets/{ticket_id}", response_model=Ticket, responses=NOT_FOUND)
def update_ticket(_key: ApiKey, ticket_id: TicketId, patch: TicketPatch):
    if ticket_id not in TICKETS:
        raise HTTPException(status_code=404, detail="No such ticket")
    changes = patch.model_dump(exclude_unset=True)
    TICKETS[ticket_id] = TICKETS[ticket_id].model_copy(update=changes)
    return TICKETS[ticket_id]


@app.delete("/tickets/{ticket_id}", status_code=204, responses=NOT_FOUND)
def delete_ticket(_key: ApiKey, ticket_id: TicketId):
    if TICKETS.pop(ticket_id, None) is None:
        raise HTTPException(status_code=404, detail="No such ticket")
    return Response(status_code=204)
