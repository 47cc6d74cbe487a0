"""Web addresses the app is given: a Galileo website, its API, its inference URL.

Each must be ``https``. Plain ``http`` is accepted only for a loopback host
(``localhost``, ``127.0.0.0/8``, ``::1``): a local stand-in in tests, never a
server across a network, where the sign-in settings could be rewritten on the way.
An address typed without a scheme (``galileo.example.com``) means ``https``.
"""

from __future__ import annotations

import ipaddress
import urllib.parse

from ..errors import InvalidInput

#: Longer than any real address; a longer one is a paste gone wrong.
MAX_URL_CHARS = 2048


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secure_url(text: str, what: str) -> str:
    """``text`` as an https URL (or http on loopback); :class:`InvalidInput` naming ``what``."""
    url = text.strip()
    if not url:
        raise InvalidInput(f"Enter {what}.")
    if len(url) > MAX_URL_CHARS or any(ord(c) < 0x21 or c == "\x7f" for c in url):
        raise InvalidInput(f"{_capital(what)} is not a web address: it has spaces or control characters.")
    if "://" not in url:
        url = "https://" + url
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput(f"{_capital(what)} {text.strip()!r} is not a web address.") from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise InvalidInput(f"{_capital(what)} {text.strip()!r} is not an https:// address.")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput(f"{_capital(what)} may not carry a user name or password.")
    if parts.scheme == "http" and not is_loopback(host):
        raise InvalidInput(
            f"{_capital(what)} must start with https:// (plain http is accepted only for this computer)."
        )
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None:
        netloc += f":{port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def website_root(text: str) -> str:
    """The website's origin with a trailing slash: where ``runtime-config.json`` lives.

    A pasted address of any page of the site (``https://x/#/chat/1``) names the same site.
    """
    parts = urllib.parse.urlsplit(secure_url(text, "the website's address"))
    return f"{parts.scheme}://{parts.netloc}/"


def _capital(what: str) -> str:
    return what[:1].upper() + what[1:]
