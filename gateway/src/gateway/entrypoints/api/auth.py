"""``POST /api/v1/auth/token``: the OAuth2 password grant."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from gateway.entrypoints.api.deps import GatewayDep, locked_out, unauthorized
from gateway.entrypoints.api.limits import client_address, spend
from gateway.entrypoints.api.schemas import TokenPublic
from gateway.service_layer.auth import InvalidCredentials
from gateway.service_layer.logins import LockedOut
from gateway.service_layer.openapi import TOKEN_URL

router = APIRouter(tags=["auth"])


@router.post(
    TOKEN_URL,
    response_model=TokenPublic,
    responses={401: {"description": "Wrong username or password"}},
)
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    gw: GatewayDep,
    request: Request,
    response: Response,
) -> TokenPublic:
    """Exchange a username and password for a short-lived bearer token."""
    await spend(gw, request, None)  # the login class, by client address
    try:
        principal = await gw.logins.check_password(
            form.username, form.password, client_address(request)
        )
    except InvalidCredentials:
        raise unauthorized("wrong username or password") from None
    except LockedOut as exc:
        raise locked_out(exc) from None
    token = gw.tokens.issue(principal)
    response.headers["Cache-Control"] = "no-store"
    return TokenPublic(access_token=token.access_token, expires_in=token.expires_in)
