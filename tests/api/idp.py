"""A local identity provider for tests: OIDC discovery and a JWKS served over real HTTP on
127.0.0.1, from keys generated here with ``cryptography``; it signs tokens with them.

It can rotate (publish a new key), go down and come back on the same port, and counts the
key-set requests it answered, so a test can see when Brain asked.
"""

import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

AUDIENCE = "brain-api"
REALM = "/realms/brain"


@dataclass
class Key:
    kid: str
    alg: str
    private: Any

    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        algorithm = {"RS256": RSAAlgorithm, "ES256": ECAlgorithm, "EdDSA": OKPAlgorithm}[self.alg]
        jwk: dict[str, Any] = algorithm.to_jwk(public, as_dict=True)  # type: ignore[attr-defined]
        return {**jwk, "kid": self.kid, "alg": self.alg, "use": "sig"}


def new_key(kid: str, alg: str = "RS256") -> Key:
    if alg == "RS256":
        private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif alg == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        private = ed25519.Ed25519PrivateKey.generate()
    return Key(kid, alg, private)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Provider:
    def __init__(self, *keys: Key) -> None:
        self.keys = list(keys) or [new_key("rsa-1"), new_key("ec-1", "ES256")]
        self.port = _free_port()
        self.jwks_requests = 0
        self.discovery_requests = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return self.base + REALM

    @property
    def jwks_url(self) -> str:
        return self.issuer + "/protocol/openid-connect/certs"

    def key(self, kid: str) -> Key:
        return next(k for k in self.keys if k.kid == kid)

    def publish(self, key: Key) -> None:
        self.keys.append(key)

    def claims(self, **over: Any) -> dict[str, Any]:
        now = int(time.time())
        base = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "ann",
            "tenant": "acme",
            "role": "approver",
            "iat": now,
            "exp": now + 600,
        }
        return {k: v for k, v in {**base, **over}.items() if v is not None}

    def token(self, kid: str = "rsa-1", *, key: Key | None = None, **claims: Any) -> str:
        """A token signed by ``key`` (default: the published key ``kid``), naming ``kid``."""
        signer = key or self.key(kid)
        return jwt.encode(
            self.claims(**claims), signer.private, algorithm=signer.alg, headers={"kid": kid}
        )

    def start(self) -> "Provider":
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == REALM + "/.well-known/openid-configuration":
                    provider.discovery_requests += 1
                    body: dict[str, Any] = {
                        "issuer": provider.issuer,
                        "jwks_uri": provider.jwks_url,
                    }
                elif self.path == provider.jwks_url.removeprefix(provider.base):
                    provider.jwks_requests += 1
                    body = {"keys": [k.jwk() for k in provider.keys]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        # A short poll: stopping waits for the server loop's next look at its flag.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Down: nothing listens on its port any more (connections are refused)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join()
            self._server = None
