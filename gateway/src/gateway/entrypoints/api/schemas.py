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


Tag = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")]
Tags = Annotated[list[Tag], Field(max_length=50)]


class UserAttributesIn(BaseModel):
    """A collector's attributes (BRIEF decision 12), carried in the trusted principal."""

    model_config = ConfigDict(extra="forbid")

    supervisor: Username | None = Field(
        default=None, description="The team lead: a user with role supervisor."
    )
    skills: Tags = Field(default_factory=list, description='e.g. ["early", "field_visit"]')
    languages: Tags = Field(default_factory=list, description='e.g. ["zh-CN", "en"]')
    capacity: int | None = Field(default=None, ge=0, le=100_000, description="Open cases.")
    away: bool = False


class UserCreate(UserAttributesIn):
    username: Username
    password: str = Field(min_length=12, max_length=256)
    roles: Roles


class UserUpdate(BaseModel):
    """Only the fields sent change; ``"supervisor": null`` removes the team lead."""

    model_config = ConfigDict(extra="forbid")

    roles: Roles | None = None
    active: bool | None = None
    supervisor: Username | None = None
    skills: Tags | None = None
    languages: Tags | None = None
    capacity: int | None = Field(default=None, ge=0, le=100_000)
    away: bool | None = None


class UserPublic(BaseModel):
    username: str
    roles: list[Role]
    active: bool = True
    supervisor: str | None = None
    skills: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    capacity: int | None = None
    away: bool = False
    team: list[str] = Field(
        default_factory=list, description="The active collectors whose supervisor this user is."
    )


class UserPage(BaseModel):
    items: list[UserPublic]
    next_cursor: str | None


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Username
    roles: Roles


class ApiKeyPublic(BaseModel):
    name: str
    key: str = Field(description="The key itself: shown only in this response.")
    prefix: str
    roles: list[Role]
