"""Request and response bodies of the gateway's own routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.domain.scopes import Role

Username = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$")]
Roles = Annotated[list[Role], Field(min_length=1, max_length=len(Role))]


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    password: str = Field(min_length=12, max_length=256)
    roles: Roles


class UserPublic(BaseModel):
    username: str
    roles: list[Role]


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Username
    roles: Roles


class ApiKeyPublic(BaseModel):
    name: str
    key: str = Field(description="The key itself: shown only in this response.")
    prefix: str
    roles: list[Role]
