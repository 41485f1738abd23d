"""``/api/v1/users`` and ``/api/v1/api-keys``: accounts, for administrators only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from gateway.domain.principal import Principal
from gateway.domain.scopes import Scope
from gateway.entrypoints.api.deps import GatewayDep, require
from gateway.entrypoints.api.schemas import (
    ApiKeyCreate,
    ApiKeyPublic,
    UserCreate,
    Username,
    UserPage,
    UserPublic,
    UserUpdate,
)
from gateway.service_layer.accounts import (
    User,
    create_api_key,
    create_user,
    get_user,
    list_users,
    revoke_api_key,
    update_user,
)
from gateway.service_layer.auth import known_roles
from shared.params import PageLimit
from shared.problems import Problem

router = APIRouter(tags=["accounts"])
Admin = Annotated[Principal, Depends(require(Scope.USERS_ADMIN))]
ATTRIBUTES = ("supervisor", "skills", "languages", "capacity", "away")
#: Columns that cannot be emptied with null (supervisor and capacity can).
NOT_NULL = frozenset({"roles", "active", "skills", "languages", "away"})


def _public(user: User) -> UserPublic:
    p = user.profile
    return UserPublic(
        username=p.username,
        roles=sorted(known_roles(p.roles)),
        active=p.active,
        supervisor=p.supervisor,
        skills=list(p.skills),
        languages=list(p.languages),
        capacity=p.capacity,
        away=p.away,
        team=list(user.team),
    )


@router.post(
    "/api/v1/users",
    status_code=201,
    response_model=UserPublic,
    responses={409: {"description": "The username is taken"}},
)
async def add_user(body: UserCreate, gw: GatewayDep, _admin: Admin) -> UserPublic:
    """Create a user who logs in with a password, with a collector's attributes."""
    user = await create_user(
        gw.db,
        username=body.username,
        password=body.password,
        roles=frozenset(body.roles),
        attributes=body.model_dump(include=set(ATTRIBUTES)),
    )
    gw.identity.directory.forget()  # a new member changes their supervisor's team
    return _public(user)


@router.get("/api/v1/users", response_model=UserPage)
async def users(
    gw: GatewayDep,
    _admin: Admin,
    cursor: Annotated[
        Username | None, Query(description="the next_cursor of a previous page")
    ] = None,
    limit: PageLimit = 100,
) -> UserPage:
    """Users by name with their roles, attributes and team (pass ``next_cursor`` back)."""
    found = await list_users(gw.db, after=cursor, limit=limit + 1)
    page = found[:limit]
    more = len(found) > limit
    return UserPage(
        items=[_public(u) for u in page], next_cursor=page[-1].profile.username if more else None
    )


@router.get("/api/v1/users/{username}", response_model=UserPublic)
async def user(username: Username, gw: GatewayDep, _admin: Admin) -> UserPublic:
    """One user with their roles, attributes and team."""
    return _public(await get_user(gw.db, username))


@router.patch("/api/v1/users/{username}", response_model=UserPublic)
async def change_user(
    username: Username, body: UserUpdate, gw: GatewayDep, _admin: Admin
) -> UserPublic:
    """Change roles, ``active`` or attributes; services see it within the directory cache's
    time (``POSTLOAN_DIRECTORY_CACHE_TTL_S``) and new tokens at once."""
    changes = body.model_dump(exclude_unset=True)
    emptied = [{"field": k, "message": "may not be null"} for k in NOT_NULL if k in changes
               and changes[k] is None]  # fmt: skip
    if emptied:
        raise Problem(422, "Invalid request", "fields may not be null", errors=emptied)
    if body.roles is not None:
        changes["roles"] = sorted({r.value for r in body.roles})
    updated = await update_user(gw.db, username, changes)
    gw.identity.directory.forget()
    return _public(updated)


@router.post(
    "/api/v1/api-keys",
    status_code=201,
    response_model=ApiKeyPublic,
    responses={409: {"description": "An API key of that name exists"}},
)
async def add_api_key(body: ApiKeyCreate, gw: GatewayDep, admin: Admin) -> ApiKeyPublic:
    """Create an API key for a machine client; the key is in this response only."""
    new = await create_api_key(
        gw.db, name=body.name, roles=frozenset(body.roles), created_by=admin.subject
    )
    return ApiKeyPublic(name=new.name, key=new.key, prefix=new.prefix, roles=list(new.roles))


@router.delete("/api/v1/api-keys/{name}", status_code=204)
async def delete_api_key(name: Username, gw: GatewayDep, _admin: Admin) -> Response:
    """Revoke an API key: this replica refuses it at once, other replicas within their key
    cache's time (``POSTLOAN_API_KEY_CACHE_TTL_S``); the key's row stays, inactive, for the
    audit trail. Revoking a revoked key is a 204 again; a name no key has is a 404."""
    await revoke_api_key(gw.db, name)
    gw.api_keys.forget()
    return Response(status_code=204)
