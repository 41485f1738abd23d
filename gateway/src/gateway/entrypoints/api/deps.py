"""Who is calling: bearer token or API key, checked before anything else happens."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from gateway.domain.principal import Principal
from gateway.domain.scopes import Scope
from gateway.entrypoints.api.limits import spend, too_many
from gateway.runtime import Gateway, gateway_of
from gateway.service_layer.accounts import API_KEY_PREFIX
from gateway.service_layer.auth import InvalidCredentials
from gateway.service_layer.external_identity import verify_bearer
from gateway.service_layer.logins import LockedOut
from gateway.service_layer.openapi import TOKEN_URL
from gateway.service_layer.signing_keys import KeysUnavailable
from gateway.service_layer.tokens import InvalidToken

# Declared so that the OpenAPI document and Swagger UI know both ways in; the check is ours.
_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, scheme_name="oauth2", auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", scheme_name="apiKey", auto_error=False)

#: Sent with every refusal on the documentation pages, so that a browser asks for a password.
DOCS_CHALLENGE = 'Basic realm="postloan-docs", charset="UTF-8"'


def unauthorized(detail: str, error: str | None = None) -> HTTPException:
    challenge = 'Bearer realm="postloan"' + (f', error="{error}"' if error else "")
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


async def _api_key_principal(gw: Gateway, key: str) -> Principal:
    principal = await gw.api_keys.authenticate(key)
    if principal is None:
        raise unauthorized("the API key is not valid", "invalid_token")
    return principal


async def authenticate(gw: Gateway, headers: Mapping[str, str]) -> Principal:
    """The caller's principal, or a 401 problem: no credentials, bad or expired ones.

    A bearer credential is a token, or an API key for clients that can only set
    ``Authorization`` (Prometheus). Any other scheme is no credential here: a browser resends
    the Basic credentials of the documentation pages with Swagger UI's calls, and an
    ``X-API-Key`` sent beside them must still count.
    """
    scheme, _, credential = headers.get("authorization", "").partition(" ")
    credential = credential.strip()
    if scheme.lower() == "bearer":
        if credential.startswith(API_KEY_PREFIX):
            return await _api_key_principal(gw, credential)
        if not credential:
            raise unauthorized("use the Bearer scheme", "invalid_request")
        try:
            return await verify_bearer(credential, gw.tokens, gw.external_tokens)
        except InvalidToken:
            raise unauthorized("the token is invalid or has expired", "invalid_token") from None
        except KeysUnavailable:
            # not the caller's fault: the token may be good, it cannot be checked now
            raise HTTPException(503, "the identity provider's keys cannot be fetched") from None
    key = headers.get("x-api-key")
    if key:
        return await _api_key_principal(gw, key)
    if scheme:
        raise unauthorized("use the Bearer scheme", "invalid_request")
    raise unauthorized("credentials required: a bearer token or an API key")


def _basic_credentials(credential: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(credential, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise unauthorized("malformed Basic credentials") from None
    username, colon, password = decoded.partition(":")
    if not colon or not username:
        raise unauthorized("malformed Basic credentials")
    return username, password


def locked_out(exc: LockedOut) -> HTTPException:
    """429 for a locked name or address: the same whether or not the user exists."""
    return too_many("too many failed logins", exc.retry_after_s)


async def authenticate_reader(
    gw: Gateway, headers: Mapping[str, str], address: str | None = None
) -> Principal:
    """For the documentation: a user's name and password (HTTP Basic), a token or an API key.

    Every refusal carries a Basic challenge, so that a browser opening ``/docs`` asks for
    them; the browser then resends them to the OpenAPI document by itself. Passwords are
    checked behind the same lock-out as logins.
    """
    scheme, _, credential = headers.get("authorization", "").partition(" ")
    try:
        if scheme.lower() != "basic":
            return await authenticate(gw, headers)
        username, password = _basic_credentials(credential.strip())
        try:
            return await gw.logins.check_password(username, password, address)
        except InvalidCredentials:
            raise unauthorized("wrong username or password") from None
        except LockedOut as exc:
            raise locked_out(exc) from None
    except HTTPException as exc:
        if exc.status_code == 429:
            raise
        raise HTTPException(401, exc.detail, headers={"WWW-Authenticate": DOCS_CHALLENGE}) from None


async def current_principal(
    request: Request,
    _token: Annotated[str | None, Depends(_bearer)],
    _key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    gw = gateway_of(request)
    principal = await authenticate(gw, request.headers)
    await spend(gw, request, principal)
    return remember(request, principal)


def remember(request: Request, principal: Principal) -> Principal:
    """Leave the caller in the request's state, where the audit recorder finds it."""
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
GatewayDep = Annotated[Gateway, Depends(gateway_of)]


def forbidden(scope: Scope) -> HTTPException:
    return HTTPException(403, f"this call needs the scope {scope}")


def require(scope: Scope) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through only principals holding ``scope``."""

    async def check(principal: PrincipalDep) -> Principal:
        if not principal.allows(scope):
            raise forbidden(scope)
        return principal

    return check


async def render_problem(request: Request, exc: Exception) -> Response:
    """An error raised in a middleware, rendered by the app's problem handlers as a route's."""
    handlers = request.app.exception_handlers
    handler = next(handlers[t] for t in type(exc).__mro__ if t in handlers)
    response: Response = await handler(request, exc)
    return response
