"""An identity provider for tests: keys generated here, their JWKS served over real HTTP.

``IdentityProvider.app()`` is what an IdP's JWKS endpoint answers (``serving(idp.app())`` puts
it on a free port); tokens are signed with the private halves, as Keycloak signs them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ISSUER = "https://idp.test/realms/postloan"
AUDIENCE = "postloan-api"
JWKS_PATH = "/realms/postloan/protocol/openid-connect/certs"
ROLE_MAP = {"pl-collector": "collector", "pl-auditor": "auditor", "pl-admin": "admin"}

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class SigningKey:
    kid: str
    algorithm: str
    private: PrivateKey

    def jwk(self) -> dict[str, Any]:
        """The public half, as a JWKS lists it."""
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            data = RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            data = ECAlgorithm.to_jwk(public, as_dict=True)
        return data | {"kid": self.kid, "alg": self.algorithm, "use": "sig"}

    def sign(self, claims: dict[str, Any], **header: Any) -> str:
        headers = {"kid": self.kid} | header
        return jwt.encode(claims, self.private, algorithm=self.algorithm, headers=headers)


def make_rsa_key(kid: str | None = None) -> SigningKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return SigningKey(kid or f"rsa-{uuid.uuid4().hex[:8]}", "RS256", private)


def make_ec_key(kid: str | None = None) -> SigningKey:
    private = ec.generate_private_key(ec.SECP256R1())
    return SigningKey(kid or f"ec-{uuid.uuid4().hex[:8]}", "ES256", private)


def make_claims(*, now: float | None = None, **overrides: Any) -> dict[str, Any]:
    """What Keycloak puts in an access token, for a collector named ``alice``."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": [AUDIENCE, "account"],
        "sub": "alice",
        "iat": issued,
        "exp": issued + 300,
        "typ": "Bearer",
        "realm_access": {"roles": ["pl-collector", "offline_access"]},
    }
    return claims | overrides


def unsigned(claims: dict[str, Any], **header: Any) -> str:
    """A token saying ``alg: none``, with no signature at all."""
    return jwt.encode(claims, "", algorithm="none", headers=header)


def with_public_key_as_hmac_secret(key: SigningKey, claims: dict[str, Any]) -> str:
    """Key confusion: HS256 keyed with the public key's PEM, which anyone can read.

    A verifier that lets the token choose the algorithm would check this HMAC with the RSA
    public key as its secret and accept it. PyJWT refuses PEM keys as HMAC secrets, so the
    attacker's token is put together by hand.
    """
    pem = key.private.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "JWT", "kid": key.kid}
    signing_input = b".".join(_b64(json.dumps(part).encode()) for part in (header, claims))
    signature = hmac.new(pem, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + _b64(signature)).decode()


def hand_made(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token with any header at all (PyJWT would refuse to write some), signature made up."""
    parts = (_b64(json.dumps(header).encode()), _b64(json.dumps(claims).encode()), b"c2ln")
    return b".".join(parts).decode()


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@dataclass
class IdentityProvider:
    """The keys it publishes (change ``keys`` to rotate) and how often it was asked for them."""

    keys: list[SigningKey] = field(default_factory=list)
    fetches: int = 0

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwk() for k in self.keys]}

    def app(self) -> FastAPI:
        app = FastAPI(title="identity provider")

        @app.get(JWKS_PATH)
        async def certs() -> dict[str, Any]:
            self.fetches += 1
            return self.jwks()

        return app
