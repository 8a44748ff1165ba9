"""A local HTTP server standing for a DingTalk / WeCom group robot (a pytest plugin).

``robot`` (function): records every POST (path, query, JSON body) and answers
``{"errcode": 0}`` unless told otherwise with ``answer_next``.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from support.dovecot import HOST


@dataclass(frozen=True)
class Call:
    path: str
    query: dict[str, str]
    body: dict[str, Any]


class Robot:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.answers: deque[tuple[int, dict[str, Any]]] = deque()
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                split = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                robot.calls.append(Call(split.path, dict(urllib.parse.parse_qsl(split.query)),
                                        body))
                status, answer = robot.answers.popleft() if robot.answers else (
                    200, {"errcode": 0, "errmsg": "ok"})
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((HOST, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/robot/send", **query: str) -> str:
        return f"http://{HOST}:{self.port}{path}?{urllib.parse.urlencode(query)}"

    def answer_next(self, status: int, answer: dict[str, Any]) -> None:
        self.answers.append((status, answer))


@pytest.fixture
def robot() -> Iterator[Robot]:
    server = Robot()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()
