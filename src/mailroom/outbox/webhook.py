"""DingTalk / WeCom group-robot webhooks for urgent alerts.

DingTalk ("加签"): the URL gets `timestamp` (ms) and `sign` = base64(HMAC-SHA256(secret,
f"{timestamp}\\n{secret}")), URL-encoded; the signature must be fresh (DingTalk allows an
hour), so it is made at send time. WeCom: the key is in the URL, nothing to sign. Both
answer HTTP 200 with {"errcode": 0} on success. The URL (it holds the access token) and
the secret are never logged. The stdlib's urllib is enough for one JSON POST.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Literal

from mailroom.errors import MailroomError

Kind = Literal["dingtalk", "wecom"]
TIMEOUT = 15.0
# robots answer these when we send too fast: try again later
RATE_LIMITED = frozenset({130101, 45009})


class WebhookError(MailroomError):
    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


def kind_of(url: str, configured: str) -> Kind:
    """The robot's flavour: as configured, else from the host of the URL."""
    if configured in ("dingtalk", "wecom"):
        return configured  # type: ignore[return-value]
    host = urllib.parse.urlsplit(url).hostname or ""
    if host.endswith("dingtalk.com"):
        return "dingtalk"
    if host.endswith("qq.com"):
        return "wecom"
    raise WebhookError(f"cannot tell the robot type from the webhook host {host!r}; set "
                       "[urgent] webhook_kind to \"dingtalk\" or \"wecom\"", temporary=False)


def payload(kind: Kind, title: str, markdown: str) -> bytes:
    if kind == "dingtalk":
        body: dict[str, object] = {"msgtype": "markdown",
                                   "markdown": {"title": title, "text": markdown}}
    else:
        body = {"msgtype": "markdown", "markdown": {"content": markdown}}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def dingtalk_signature(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(),
                      hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def signed_url(url: str, kind: Kind, secret: str, timestamp_ms: int) -> str:
    """`url` with DingTalk's timestamp and signature added (when there is a secret)."""
    if kind != "dingtalk" or not secret:
        return url
    query = urllib.parse.urlencode({"timestamp": timestamp_ms,
                                    "sign": dingtalk_signature(secret, timestamp_ms)})
    return f"{url}{'&' if '?' in url else '?'}{query}"


@dataclass(frozen=True)
class Delivery:
    status: int
    answer: str


def post(url: str, body: bytes, timeout: float = TIMEOUT) -> Delivery:
    """POST the JSON body; WebhookError (temporary or not) unless the robot took it."""
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, text = response.status, response.read(4096).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"webhook answered HTTP {exc.code}",
                           temporary=exc.code >= 500 or exc.code == 429) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise WebhookError(f"webhook unreachable: {reason}", temporary=True) from None
    return Delivery(status, _check_answer(text))


def _check_answer(text: str) -> str:
    try:
        answer = json.loads(text)
    except ValueError:
        raise WebhookError(f"webhook answered non-JSON: {text[:100]!r}", temporary=True) from None
    code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
    if code:
        message = str(answer.get("errmsg", ""))[:200]
        raise WebhookError(f"webhook refused: errcode {code} {message}",
                           temporary=code in RATE_LIMITED)
    return text[:200]
