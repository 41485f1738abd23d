"""Who is calling: bearer token or API key, checked before anything else happens."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer

from gateway.domain.principal import Principal
from gateway.domain.scopes import Scope
from gateway.runtime import Gateway, gateway_of
from gateway.service_layer.openapi import TOKEN_URL
from gateway.service_layer.tokens import InvalidToken

# Declared so that the OpenAPI document and Swagger UI know both ways in; the check is ours.
_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, scheme_name="oauth2", auto_error=False)
_api_key = APIKeyHeader(name="X-API-Key", scheme_name="apiKey", auto_error=False)


def unauthorized(detail: str, error: str | None = None) -> HTTPException:
    challenge = 'Bearer realm="postloan"' + (f', error="{error}"' if error else "")
    return HTTPException(401, detail, headers={"WWW-Authenticate": challenge})


async def authenticate(gw: Gateway, headers: Mapping[str, str]) -> Principal:
    """The caller's principal, or a 401 problem: no credentials, bad or expired ones."""
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("use the Bearer scheme", "invalid_request")
        try:
            return gw.tokens.verify(token.strip())
        except InvalidToken:
            raise unauthorized("the token is invalid or has expired", "invalid_token") from None
    key = headers.get("x-api-key")
    if key:
        principal = await gw.api_keys.authenticate(key)
        if principal is None:
            raise unauthorized("the API key is not valid")
        return principal
    raise unauthorized("credentials required: a bearer token or an API key")


async def current_principal(
    request: Request,
    _token: Annotated[str | None, Depends(_bearer)],
    _key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    return await authenticate(gateway_of(request), request.headers)


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
