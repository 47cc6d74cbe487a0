"""A stand-in for a Galileo deployment's chat REST API, for the demo and the tests.

It answers the routes of the deployment's Smithy model (``chat/``) with the shapes and
the behaviour of the web app's own handlers, on 127.0.0.1, storing into a DynamoDB table
(moto's server in the demo and the tests) with the web app's item shapes, so a chat
written through the API reads the same straight from the table and the other way round.

What it checks, as API Gateway and the API's interceptors do:

- the SigV4 signature of every request: the credential's scope (its date, the region,
  the service ``execute-api`` or ``lambda``), the time of the request (15 minutes either
  way), the session token when the key has one, and the signature itself, recomputed
  with botocore's signer from the key's secret;
- who the user is: the user pool ``sub`` of the id token in ``X-Cognito-IdToken``, the
  token verified against the user pool's published keys (RS256 signature, issuer,
  audience, expiry, ``token_use`` = ``id``). The demo, which has no user pool, serves
  one fixed user (:class:`FixedUser`).

Behaviour kept from the web app's handlers (and their generated runtime):

- ``GET /chat`` lists every chat, newest first, unpaged; ``PUT /chat`` and
  ``POST /chat/{chatId}`` answer without ``createdAt``; a rename of a missing chat is a
  500 ``{"errorMessage": "The conditional request failed"}``; deletes of missing chats
  and messages answer 200 and change nothing;
- ``GET /chat/{chatId}`` pages with DynamoDB's ``Limit`` (20 by default, newest first)
  and ``nextToken`` = the plain ``PK|SK|GSI1PK|GSI1SK`` of the last key, so a final
  empty page follows when the count divides evenly; ``reverse`` flips the page only;
  booleans must be ``true`` or ``false``; a ``pageSize`` that is not a whole number is
  a 400 ``{}`` with ``x-amzn-errortype``;
- sources are never paged and come in the text order of their sort key (``0, 1, 10, 2``);
- ``PUT /chat/{chatId}/message`` answers with an assistant (the offline local-documents
  one) and stores the question, the answer and its sources itself.
"""

from __future__ import annotations

import datetime
import json
import logging
import threading
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

log = logging.getLogger(__name__)

#: How far a request's time may be from the server's, as API Gateway allows.
MAX_SKEW = datetime.timedelta(minutes=15)
SIGNING_SERVICES = ("execute-api", "lambda")
ID_TOKEN_HEADER = "X-Cognito-IdToken"
DEFAULT_PAGE_SIZE = 20
#: The path prefix of the deployment's stage: ``apiUrl`` ends in ``/prod/``.
STAGE = "/prod"


class ApiError(Exception):
    """An answer other than 200: status, JSON body and extra headers."""

    def __init__(
        self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {body}")
        self.status = status
        self.body = dict(body)
        self.headers = dict(headers or {})


def refused(message: str) -> ApiError:
    """A gateway refusal (signature, missing route): 403 ``{"message"}``."""
    return ApiError(403, {"message": message})


def handler_failure(message: str) -> ApiError:
    """A handler's uncaught error: 500 ``{"errorMessage"}``."""
    return ApiError(500, {"errorMessage": message})


# -- who is calling -------------------------------------------------------------------


@dataclass(frozen=True)
class SigningKey:
    secret_key: str
    session_token: str | None = None


class FixedUser:
    """Every correctly signed request is this user's (the demo: it has no user pool)."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id

    def user_of(self, headers: Mapping[str, str]) -> str:
        return self.user_id


class CognitoIdTokens:
    """The user is the ``sub`` of the verified id token in ``X-Cognito-IdToken``.

    The keys are read once from ``{idp_endpoint}/{pool_id}/.well-known/jwks.json`` (the
    place moto's server publishes them; Cognito's is the issuer's ``/.well-known``).
    """

    def __init__(self, idp_endpoint: str, region: str, pool_id: str, client_id: str) -> None:
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
        self.jwks_url = f"{idp_endpoint.rstrip('/')}/{pool_id}/.well-known/jwks.json"
        self.client_id = client_id
        self._keys: Any = None
        self._lock = threading.Lock()

    def _jwks(self) -> Any:
        import jwt

        with self._lock:
            if self._keys is None:
                self._keys = jwt.PyJWKClient(self.jwks_url, cache_keys=True)
            return self._keys

    def user_of(self, headers: Mapping[str, str]) -> str:
        import jwt

        token = headers.get(ID_TOKEN_HEADER.lower())
        if not token:
            raise ApiError(403, {"errorMessage": "You are not authorized to perform this operation"})
        try:
            key = self._jwks().get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.client_id,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "sub"]},
            )
        except jwt.PyJWTError as exc:
            log.info("id token refused: %s", exc)
            raise ApiError(403, {"errorMessage": "You are not authorized to perform this operation"}) from exc
        if claims.get("token_use") != "id":
            raise ApiError(403, {"errorMessage": "You are not authorized to perform this operation"})
        return str(claims["sub"])


class SignatureCheck:
    """SigV4 as API Gateway checks it, with the secrets of the keys it knows."""

    def __init__(self, region: str, keys: Mapping[str, SigningKey], clock: Callable[[], datetime.datetime]):
        self.region = region
        self.keys = dict(keys)
        self.clock = clock

    def verify(self, method: str, url: str, headers: Mapping[str, str], body: bytes) -> None:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        authorization = headers.get("authorization", "")
        if not authorization:
            raise refused("Missing Authentication Token")
        fields = _authorization_fields(authorization)
        scope = fields.get("Credential", "").split("/")
        if len(scope) != 5 or scope[4] != "aws4_request":
            raise refused("Authorization header requires 'Credential' parameter.")
        access_key, date, region, service, _ = scope
        amz_date = headers.get("x-amz-date", "")
        if not amz_date.startswith(date) or len(amz_date) != 16:
            raise refused("Credential should be scoped to a valid date and region.")
        if region != self.region:
            raise refused(f"Credential should be scoped to a valid region, not '{region}'.")
        if service not in SIGNING_SERVICES:
            raise refused(f"Credential should be scoped to correct service: 'execute-api', not '{service}'.")
        sent_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
        if abs(self.clock() - sent_at) > MAX_SKEW:
            raise refused("Signature expired: the request time is too far from the server's time.")
        key = self.keys.get(access_key)
        if key is None:
            raise refused("The security token included in the request is invalid.")
        if key.session_token is not None and headers.get("x-amz-security-token") != key.session_token:
            raise refused("The security token included in the request is invalid.")
        signed = fields.get("SignedHeaders", "").split(";")
        if "host" not in signed:
            raise refused("'Host' must be a 'SignedHeader' in the AWS Authorization.")
        request = AWSRequest(
            method=method, url=url, data=body, headers={h: headers.get(h, "") for h in signed}
        )
        request.context["timestamp"] = amz_date
        signer = SigV4Auth(Credentials(access_key, key.secret_key, key.session_token), service, region)
        canonical = signer.canonical_request(request)
        expected = signer.signature(signer.string_to_sign(request, canonical), request)
        if expected != fields.get("Signature"):
            raise refused("The request signature we calculated does not match the signature you provided.")


def _authorization_fields(header: str) -> dict[str, str]:
    algorithm, _, rest = header.partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        raise refused("Authorization header requires AWS4-HMAC-SHA256.")
    fields = {}
    for part in rest.split(","):
        name, _, value = part.strip().partition("=")
        fields[name] = value
    return fields


# -- the handlers -----------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A deserialized DynamoDB value as JSON can hold it."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, set, tuple)):
        return [_plain(v) for v in value]
    return value


def _boolean(params: Mapping[str, list[str]], name: str, default: bool) -> bool:
    values = params.get(name)
    if not values:
        return default
    if values[-1] not in ("true", "false"):
        raise ApiError(400, {"message": f"Expected parameter '{name}' to be a boolean: true or false"})
    return values[-1] == "true"


class ChatHandlers:
    """The chat routes on one table, as the web app's Lambda handlers run them."""

    def __init__(self, client: Any, table: str, index: str = "GSI1", assistant: Any = None) -> None:
        from boto3.dynamodb.types import TypeDeserializer

        self.client = client
        self.table = table
        self.index = index
        self.assistant = assistant
        self._deserializer = TypeDeserializer()

    def plain_item(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: _plain(self._deserializer.deserialize(v)) for k, v in item.items()}

    def _query_all(self, **params: Any) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        params = {"TableName": self.table, **params}
        while True:
            response = self.client.query(**params)
            found += [self.plain_item(i) for i in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last:
                return found
            params["ExclusiveStartKey"] = last

    def _gsi_all(self, pk: str, forward: bool) -> list[dict[str, Any]]:
        return self._query_all(
            IndexName=self.index,
            KeyConditionExpression="GSI1PK = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ScanIndexForward=forward,
        )

    def _sources(self, user_id: str, message_id: str) -> list[dict[str, Any]]:
        return self._query_all(
            KeyConditionExpression="PK = :pk AND begins_with(SK, :sk)",
            ExpressionAttributeValues={":pk": {"S": user_id}, ":sk": {"S": f"SOURCE#{message_id}#"}},
            ScanIndexForward=True,
        )

    def _delete_keys(self, keys: list[dict[str, Any]]) -> None:
        for start in range(0, len(keys), 25):
            requests = [{"DeleteRequest": {"Key": k}} for k in keys[start : start + 25]]
            while requests:
                response = self.client.batch_write_item(RequestItems={self.table: requests})
                requests = response.get("UnprocessedItems", {}).get(self.table, [])

    @staticmethod
    def _key(user_id: str, sk: str) -> dict[str, Any]:
        return {"PK": {"S": user_id}, "SK": {"S": sk}}

    # routes

    def list_chats(self, user_id: str) -> dict[str, Any]:
        chats = self._gsi_all(f"{user_id}#CHAT", forward=False)
        return {
            "chats": [
                {
                    "chatId": c.get("chatId"),
                    "title": c.get("title"),
                    "userId": c.get("userId"),
                    "createdAt": c.get("createdAt"),
                }
                for c in chats
            ]
        }

    def create_chat(self, user_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        from .data.schema import Chat, now_ms

        title = body.get("title")
        if not isinstance(title, str) or not title:
            raise handler_failure("title is invalid")
        chat = Chat(str(uuid.uuid4()), user_id, title, now_ms())
        self.client.put_item(TableName=self.table, Item=chat.to_item())
        return {"chatId": chat.chat_id, "title": chat.title, "userId": user_id}

    def update_chat(self, user_id: str, chat_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        title = body.get("title")
        if not isinstance(title, str) or not title:
            raise handler_failure("title is invalid")
        try:
            response = self.client.update_item(
                TableName=self.table,
                Key=self._key(user_id, f"CHAT#{chat_id}"),
                ConditionExpression="attribute_exists(PK) and attribute_exists(SK)",
                UpdateExpression="set title = :title",
                ExpressionAttributeValues={":title": {"S": title}},
                ReturnValues="ALL_NEW",
            )
        except self.client.exceptions.ConditionalCheckFailedException as exc:
            raise handler_failure("The conditional request failed") from exc
        chat = self.plain_item(response["Attributes"])
        return {
            "chatId": chat.get("chatId", ""),
            "title": chat.get("title", ""),
            "userId": chat.get("userId", ""),
        }

    def delete_chat(self, user_id: str, chat_id: str) -> dict[str, Any]:
        messages = self._gsi_all(f"{user_id}#CHAT#{chat_id}", forward=True)
        keys = []
        for message in messages:
            keys.append(self._key(user_id, message["SK"]))
            keys += [
                self._key(user_id, s["SK"]) for s in self._sources(user_id, str(message.get("messageId")))
            ]
        self._delete_keys(keys)
        self.client.delete_item(TableName=self.table, Key=self._key(user_id, f"CHAT#{chat_id}"))
        return {"chatId": chat_id}

    def list_messages(self, user_id: str, chat_id: str, params: Mapping[str, list[str]]) -> dict[str, Any]:
        raw_size = params.get("pageSize", [None])[-1]
        page_size = DEFAULT_PAGE_SIZE
        if raw_size is not None:
            try:
                page_size = int(raw_size)
            except ValueError:
                raise ApiError(400, {}, {"x-amzn-errortype": "BadRequestException"}) from None
            if page_size < 1:
                raise handler_failure(
                    "1 validation error detected: Value at 'limit' failed to satisfy constraint"
                )
        ascending = _boolean(params, "ascending", False)
        reverse = _boolean(params, "reverse", False)
        query: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": self.index,
            "KeyConditionExpression": "GSI1PK = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"{user_id}#CHAT#{chat_id}"}},
            "Limit": page_size,
            "ScanIndexForward": ascending,
        }
        token = params.get("nextToken", [None])[-1]
        if token:
            pk, sk, gsi1pk, gsi1sk = (token.split("|") + ["", "", "", ""])[:4]
            query["ExclusiveStartKey"] = {
                "PK": {"S": pk},
                "SK": {"S": sk},
                "GSI1PK": {"S": gsi1pk},
                "GSI1SK": {"S": gsi1sk},
            }
        response = self.client.query(**query)
        messages = [
            {
                "chatId": m.get("chatId"),
                "messageId": m.get("messageId"),
                "createdAt": m.get("createdAt"),
                "text": (m.get("data") or {}).get("content"),
                "type": m.get("type"),
            }
            for m in (self.plain_item(i) for i in response.get("Items", []))
        ]
        if reverse:
            messages.reverse()
        out: dict[str, Any] = {"chatMessages": messages}
        last = response.get("LastEvaluatedKey")
        if last:
            last_plain = self.plain_item(last)
            out["nextToken"] = "|".join(str(last_plain.get(k)) for k in ("PK", "SK", "GSI1PK", "GSI1SK"))
        return out

    def delete_message(self, user_id: str, chat_id: str, message_id: str) -> dict[str, Any]:
        keys = [self._key(user_id, f"MESSAGE#{message_id}")]
        keys += [self._key(user_id, s["SK"]) for s in self._sources(user_id, message_id)]
        self._delete_keys(keys)
        return {"chatId": chat_id, "messageId": message_id}

    def list_sources(self, user_id: str, message_id: str) -> dict[str, Any]:
        return {
            "chatMessageSources": [
                {
                    "sourceId": s.get("sourceId"),
                    "pageContent": s.get("pageContent"),
                    "metadata": s.get("metadata"),
                    "chatId": s.get("chatId"),
                    "messageId": s.get("messageId"),
                }
                for s in self._sources(user_id, message_id)
            ]
        }

    def ask(self, user_id: str, chat_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        from .data.assistants.base import Turn
        from .data.schema import Message, make_sources, now_ms

        question = body.get("question")
        if not isinstance(question, str) or not question:
            raise ApiError(400, {"message": "Invalid request body: question is required"})
        if self.assistant is None:
            raise ApiError(503, {"errorMessage": "No assistant is configured for this stand-in."})
        earlier = self._gsi_all(f"{user_id}#CHAT#{chat_id}", forward=True)
        history = [Turn(str(m.get("type")), str((m.get("data") or {}).get("content", ""))) for m in earlier]
        asked_at = now_ms()
        human = Message(str(uuid.uuid4()), chat_id, user_id, "human", question, asked_at)
        self.client.put_item(TableName=self.table, Item=human.to_item())
        answer = self.assistant.answer(chat_id, question, history[-20:], lambda _t: None, threading.Event())
        answered_at = max(now_ms(), asked_at + 1)
        ai_id = str(uuid.uuid4())
        sources = make_sources(user_id, chat_id, ai_id, list(answer.sources), answered_at)
        ai = Message(ai_id, chat_id, user_id, "ai", answer.text, answered_at)
        for item in [ai.to_item(), *(s.to_item() for s in sources)]:
            self.client.put_item(TableName=self.table, Item=item)

        def shown(message: Message) -> dict[str, Any]:
            return {
                "chatId": chat_id,
                "messageId": message.message_id,
                "createdAt": message.created_at,
                "text": message.content,
                "type": message.type,
            }

        return {
            "question": shown(human),
            "answer": shown(ai),
            "sources": [
                {
                    "sourceId": s.source_id,
                    "pageContent": s.page_content,
                    "metadata": dict(s.metadata),
                    "chatId": chat_id,
                    "messageId": ai_id,
                }
                for s in sources
            ],
        }

    def route(
        self, user_id: str, method: str, parts: list[str], params: Mapping[str, list[str]], body: Any
    ) -> Any:
        """The handler of ``method`` on ``/chat/...`` (``parts``: the path after ``/chat``)."""
        n = len(parts)
        if n == 0 and method == "GET":
            return self.list_chats(user_id)
        if n == 0 and method == "PUT":
            return self.create_chat(user_id, body)
        if n == 1 and method == "POST":
            return self.update_chat(user_id, parts[0], body)
        if n == 1 and method == "DELETE":
            return self.delete_chat(user_id, parts[0])
        if n == 1 and method == "GET":
            return self.list_messages(user_id, parts[0], params)
        if n == 2 and parts[1] == "message" and method == "PUT":
            return self.ask(user_id, parts[0], body)
        if n == 3 and parts[1] == "message" and method == "DELETE":
            return self.delete_message(user_id, parts[0], parts[2])
        if n == 4 and parts[1] == "message" and parts[3] == "source" and method == "GET":
            return self.list_sources(user_id, parts[2])
        raise refused("Missing Authentication Token")


# -- the server ----------------------------------------------------------------------------


class ApiStandIn:
    """The stand-in on 127.0.0.1 (a free port by default), until :meth:`stop`.

    ``requests`` counts the requests answered, by ``"METHOD /route"``, for the benchmark.
    """

    def __init__(
        self,
        handlers: ChatHandlers,
        identity: Any,
        signature: SignatureCheck,
        *,
        port: int = 0,
    ) -> None:
        self.handlers = handlers
        self.identity = identity
        self.signature = signature
        self.requests: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _make_handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``apiUrl`` as a website's runtime config gives it (ends in ``/prod/``)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{STAGE}/"

    def start(self) -> ApiStandIn:
        self._thread = threading.Thread(target=self._server.serve_forever, name="api-stand-in", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> ApiStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count(self, method: str, path: str) -> None:
        parts = path.split("/")
        route = "/".join("{id}" if i in (2, 4) else p for i, p in enumerate(parts))
        with self._lock:
            key = f"{method} {route}"
            self.requests[key] = self.requests.get(key, 0) + 1

    def total_requests(self) -> int:
        with self._lock:
            return sum(self.requests.values())

    def handle(
        self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes, host: str
    ) -> tuple[int, Any, dict[str, str]]:
        split = urllib.parse.urlsplit(raw_path)
        try:
            if not split.path.startswith(STAGE + "/chat"):
                raise refused("Missing Authentication Token")
            self.signature.verify(method, f"http://{host}{raw_path}", headers, body)
            path = split.path[len(STAGE) :]
            self.count(method, path)
            user_id = self.identity.user_of(headers)
            parts = [urllib.parse.unquote(p) for p in path.split("/")[2:] if p != ""]
            params = urllib.parse.parse_qs(split.query, keep_blank_values=True)
            document: Any = {}
            if body:
                try:
                    document = json.loads(body)
                except json.JSONDecodeError:
                    raise ApiError(400, {"message": "Could not parse request body into json"}) from None
            return 200, self.handlers.route(user_id, method, parts, params, document), {}
        except ApiError as exc:
            return exc.status, exc.body, exc.headers
        except Exception as exc:  # noqa: BLE001 - a handler's uncaught error is a 500, as in Lambda
            log.exception("stand-in handler failed")
            return 500, {"errorMessage": str(exc)}, {}


def _make_handler(stand_in: ApiStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, document, extra = stand_in.handle(
                self.command, self.path, headers, body, self.headers.get("Host", "")
            )
            data = json.dumps(document).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            log.debug("stand-in: " + format, *args)

    return Handler


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def start_stand_in(
    client: Any,
    table: str,
    region: str,
    keys: Mapping[str, SigningKey],
    identity: Any,
    *,
    index: str = "GSI1",
    assistant: Any = None,
    port: int = 0,
) -> ApiStandIn:
    """A started stand-in over ``table`` (reached with ``client``)."""
    handlers = ChatHandlers(client, table, index, assistant)
    return ApiStandIn(handlers, identity, SignatureCheck(region, keys, utc_now), port=port).start()
