"""``/api/v1/users`` and ``/api/v1/api-keys``: accounts, for administrators only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from gateway.domain.principal import Principal
from gateway.domain.scopes import Scope
from gateway.entrypoints.api.deps import GatewayDep, require
from gateway.entrypoints.api.schemas import ApiKeyCreate, ApiKeyPublic, UserCreate, UserPublic
from gateway.service_layer.accounts import create_api_key, create_user

router = APIRouter(tags=["accounts"])
Admin = Annotated[Principal, Depends(require(Scope.USERS_ADMIN))]


@router.post("/api/v1/users", status_code=201, response_model=UserPublic)
async def add_user(body: UserCreate, gw: GatewayDep, _admin: Admin) -> UserPublic:
    """Create a user who logs in with a password."""
    await create_user(
        gw.db, username=body.username, password=body.password, roles=frozenset(body.roles)
    )
    return UserPublic(username=body.username, roles=sorted(set(body.roles)))


@router.post("/api/v1/api-keys", status_code=201, response_model=ApiKeyPublic)
async def add_api_key(body: ApiKeyCreate, gw: GatewayDep, admin: Admin) -> ApiKeyPublic:
    """Create an API key for a machine client; the key is in this response only."""
    new = await create_api_key(
        gw.db, name=body.name, roles=frozenset(body.roles), created_by=admin.subject
    )
    return ApiKeyPublic(name=new.name, key=new.key, prefix=new.prefix, roles=list(new.roles))
