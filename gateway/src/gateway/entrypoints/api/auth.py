"""``POST /api/v1/auth/token``: the OAuth2 password grant."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordRequestForm

from gateway.entrypoints.api.deps import GatewayDep, unauthorized
from gateway.entrypoints.api.schemas import TokenPublic
from gateway.service_layer.auth import InvalidCredentials, login
from gateway.service_layer.openapi import TOKEN_URL

router = APIRouter(tags=["auth"])


@router.post(
    TOKEN_URL,
    response_model=TokenPublic,
    responses={401: {"description": "Wrong username or password"}},
)
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], gw: GatewayDep, response: Response
) -> TokenPublic:
    """Exchange a username and password for a short-lived bearer token."""
    try:
        token = await login(gw.db, gw.tokens, form.username, form.password)
    except InvalidCredentials:
        raise unauthorized("wrong username or password") from None
    response.headers["Cache-Control"] = "no-store"
    return TokenPublic(access_token=token.access_token, expires_in=token.expires_in)
