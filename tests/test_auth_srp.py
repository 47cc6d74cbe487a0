"""SRP sign-in against a local server that really verifies the password proof.

moto accepts any PASSWORD_CLAIM_SIGNATURE (getmoto/moto#7562), so it cannot tell a
right password from a wrong one. This server speaks the two cognito-idp calls of
the SRP flow over HTTP and checks the proof as Cognito does, from its side of the
protocol (a verifier ``v = g^x``, ``S = (A * v^u)^b``), so the client's arithmetic,
the message it signs and its timestamp are all checked, and a wrong password fails.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import types
import warnings
from collections.abc import Iterator
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pycognito import aws_srp
from pycognito.aws_srp import (
    AWSSRP,
    G_HEX,
    N_HEX,
    calculate_u,
    compute_hkdf,
    hash_sha256,
    hex_hash,
    hex_to_long,
    long_to_hex,
    pad_hex,
)

from galileio_desktop.data.auth.cognito import UserPool
from galileio_desktop.data.auth.tokens import jwt_claims
from galileio_desktop.data.errors import CredentialsError

POOL_ID = "us-east-1_VerifyPool"
CLIENT_ID = "srpclient"
USERNAME = "alice"
PASSWORD = 'S3cret-pässword-"quoted"'
SUB = "3f1c6d2e-0000-4000-8000-000000000001"
N = hex_to_long(N_HEX)
G = hex_to_long(G_HEX)
K = hex_to_long(hex_hash("00" + N_HEX + "0" + G_HEX))
TIMESTAMP = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} [1-9]\d? \d{2}:\d{2}:\d{2} UTC \d{4}$")


def unsigned_jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}.sig"


class SrpVerifier:
    """The server side of Cognito's SRP: holds only a salt and a verifier, never the password."""

    def __init__(self, password: str) -> None:
        self.pool_name = POOL_ID.split("_", 1)[1]
        self.salt = secrets.token_hex(16)
        identity = hash_sha256(f"{self.pool_name}{USERNAME}:{password}".encode())
        x = hex_to_long(hex_hash(pad_hex(self.salt) + identity))
        self.verifier = pow(G, x, N)
        self.pending: dict[str, tuple[int, int, int]] = {}  # secret block -> (A, B, b)
        self.bodies: list[bytes] = []

    def initiate(self, request: dict[str, Any]) -> dict[str, Any]:
        assert request["AuthFlow"] == "USER_SRP_AUTH"
        params = request["AuthParameters"]
        big_a = hex_to_long(params["SRP_A"])
        if big_a % N == 0:
            raise Rejected("InvalidParameterException", "bad SRP_A")
        b = secrets.randbelow(N - 1) + 1
        big_b = (K * self.verifier + pow(G, b, N)) % N
        block = base64.standard_b64encode(secrets.token_bytes(32)).decode()
        self.pending[block] = (big_a, big_b, b)
        return {
            "ChallengeName": "PASSWORD_VERIFIER",
            "ChallengeParameters": {
                "SALT": self.salt,
                "SRP_B": long_to_hex(big_b),
                "SECRET_BLOCK": block,
                "USERNAME": params["USERNAME"],
                "USER_ID_FOR_SRP": params["USERNAME"],
            },
        }

    def respond(self, request: dict[str, Any]) -> dict[str, Any]:
        assert request["ChallengeName"] == "PASSWORD_VERIFIER"
        answer = request["ChallengeResponses"]
        block = answer["PASSWORD_CLAIM_SECRET_BLOCK"]
        if block not in self.pending or answer["USERNAME"] != USERNAME:
            raise Rejected("NotAuthorizedException", "Incorrect username or password.")
        big_a, big_b, b = self.pending.pop(block)
        stamp = answer["TIMESTAMP"]
        assert TIMESTAMP.match(stamp), stamp
        u = calculate_u(big_a, big_b)
        shared = pow(big_a * pow(self.verifier, u, N), b, N)
        key = compute_hkdf(bytearray.fromhex(pad_hex(shared)), bytearray.fromhex(pad_hex(long_to_hex(u))))
        message = (
            self.pool_name.encode() + USERNAME.encode() + base64.standard_b64decode(block) + stamp.encode()
        )
        expected = base64.standard_b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, answer["PASSWORD_CLAIM_SIGNATURE"]):
            raise Rejected("NotAuthorizedException", "Incorrect username or password.")
        now = int(time.time())
        return {
            "ChallengeParameters": {},
            "AuthenticationResult": {
                "IdToken": unsigned_jwt({"sub": SUB, "iat": now, "exp": now + 3600, "token_use": "id"}),
                "AccessToken": unsigned_jwt(
                    {"sub": SUB, "iat": now, "exp": now + 3600, "token_use": "access"}
                ),
                "RefreshToken": "refresh-" + secrets.token_urlsafe(24),
                "ExpiresIn": 3600,
                "TokenType": "Bearer",
            },
        }


class Rejected(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@pytest.fixture
def srp_server() -> Iterator[tuple[str, SrpVerifier]]:
    verifier = SrpVerifier(PASSWORD)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers["Content-Length"]))
            verifier.bodies.append(body)
            action = self.headers["X-Amz-Target"].rsplit(".", 1)[-1]
            request = json.loads(body)
            try:
                if action == "InitiateAuth":
                    status, reply = 200, verifier.initiate(request)
                elif action == "RespondToAuthChallenge":
                    status, reply = 200, verifier.respond(request)
                else:
                    raise Rejected("InvalidAction", action)
            except Rejected as exc:
                status, reply = 400, {"__type": exc.code, "message": exc.message}
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", verifier
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_right_password_signs_in(srp_server: tuple[str, SrpVerifier]) -> None:
    url, verifier = srp_server
    tokens = UserPool(POOL_ID, CLIENT_ID, endpoint_url=url).sign_in(USERNAME, PASSWORD)
    assert tokens.sub == SUB
    assert jwt_claims(tokens.id_token)["token_use"] == "id"
    assert tokens.refresh_token and tokens.refresh_token.startswith("refresh-")
    # The password itself never travelled, in any encoding.
    sent = b"".join(verifier.bodies)
    for form in (PASSWORD, json.dumps(PASSWORD)[1:-1], json.dumps(PASSWORD, ensure_ascii=False)[1:-1]):
        assert form.encode() not in sent


@pytest.mark.parametrize("wrong", ["S3cret-passw0rd", PASSWORD + " "])
def test_wrong_password_is_refused(srp_server: tuple[str, SrpVerifier], wrong: str) -> None:
    url, _ = srp_server
    with pytest.raises(CredentialsError, match="incorrect username or password"):
        UserPool(POOL_ID, CLIENT_ID, endpoint_url=url).sign_in(USERNAME, wrong)


def test_timestamp_is_cognitos_format_in_any_locale() -> None:
    """The sign-in signs pycognito's timestamp: English names from its own tables, not
    ``strftime`` (which would follow the user's locale), and no zero before the day."""
    stamp = AWSSRP.get_cognito_formatted_timestamp
    assert stamp(datetime(2024, 3, 5, 9, 4, 5, tzinfo=timezone.utc)) == "Tue Mar 5 09:04:05 UTC 2024"
    assert stamp(datetime(2023, 12, 31, 23, 59, 59, tzinfo=timezone.utc)) == "Sun Dec 31 23:59:59 UTC 2023"


def test_sign_in_survives_the_clock_warning_of_newer_pythons(
    srp_server: tuple[str, SrpVerifier], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pycognito reads the clock with ``datetime.utcnow()``, deprecated since Python 3.12:
    with warnings as errors there, the sign-in must not fail on the library's warning."""
    calls = []

    class Python312Datetime(datetime):
        @classmethod
        def utcnow(cls) -> datetime:  # type: ignore[override]
            calls.append(1)
            warnings.warn(
                "datetime.datetime.utcnow() is deprecated and scheduled for removal in a future version.",
                DeprecationWarning,
                stacklevel=2,
            )
            return datetime.now(timezone.utc).replace(tzinfo=None)

    monkeypatch.setattr(aws_srp, "datetime", types.SimpleNamespace(datetime=Python312Datetime))
    url, _ = srp_server
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tokens = UserPool(POOL_ID, CLIENT_ID, endpoint_url=url).sign_in(USERNAME, PASSWORD)
    assert tokens.sub == SUB
    assert calls == [1]
