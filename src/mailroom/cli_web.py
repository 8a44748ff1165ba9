"""`mailroom web` (the office console) and `mailroom web user add|remove|list`.

A password is prompted on a terminal (twice) or read from the first line of standard input
otherwise (`printf '%s\\n' "$PW" | mailroom web user add 刘婧 --role office`); it is never an
argument, so it never shows in `ps` or a shell history.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mailroom.app import App
from mailroom.errors import InvalidInput
from mailroom.store.database import require_current_schema
from mailroom.web import users


def add_commands(commands: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    web = commands.add_parser("web", help="the office console: serve it on [web] listen, or "
                              "manage its users")
    sub = web.add_subparsers(dest="web_command", parser_class=parser_class)
    user = sub.add_parser("user", help="console users: add | remove | list")
    actions = user.add_subparsers(dest="user_command", required=True,
                                  parser_class=parser_class)
    add = actions.add_parser("add", help="add a user, or give one a new password and role "
                             "(the password: prompted, or read from stdin)")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=users.ROLES,
                     help="office: may decide; viewer: may only look (leaders)")
    remove = actions.add_parser("remove", help="remove a user (their sessions end)")
    remove.add_argument("name")
    listed = actions.add_parser("list", help="every console user and role")
    listed.add_argument("--format", choices=("text", "json"), default="text")


def cmd_web(app: App, args: argparse.Namespace) -> int:
    require_current_schema(app.engine)
    if args.web_command == "user":
        return USER_COMMANDS[args.user_command](app, args)
    return _serve(app)


def _serve(app: App) -> int:
    from mailroom.web.app import create_app
    from mailroom.web.serve import load_secret, serve

    settings = app.settings.web
    secret = load_secret(Path(settings.secret_file))
    with app.sessions() as session:
        if not users.list_users(session):
            print("mailroom: no console users yet: add one with `mailroom web user add NAME "
                  "--role office`", file=sys.stderr)
    serve(create_app(app, secret), settings.listen)
    return 0


def read_password(name: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {name}: ")
        if getpass.getpass("again: ") != first:
            raise InvalidInput("the two passwords differ; nothing changed")
        return users.check_password(first)
    line = sys.stdin.readline()
    if not line:
        raise InvalidInput("no password on standard input (one line expected)")
    return users.check_password(line.rstrip("\r\n"))


def _add(app: App, args: argparse.Namespace) -> int:
    name = users.check_name(args.name)
    password = read_password(name)
    with app.sessions.begin() as session:
        existed = any(row.name == name for row in users.list_users(session))
        users.add_user(session, name, args.role, password, app.clock.now())
    print(f"{'updated' if existed else 'added'} console user {name} ({args.role})"
          + ("; their sessions ended" if existed else ""))
    return 0


def _remove(app: App, args: argparse.Namespace) -> int:
    with app.sessions.begin() as session:
        account = users.remove_user(session, args.name)
    print(f"removed console user {account.name} ({account.role}); their sessions ended")
    return 0


def _list(app: App, args: argparse.Namespace) -> int:
    zone = app.settings.zone
    with app.sessions() as session:
        rows = [{"name": row.name, "role": row.role,
                 "created_at": row.created_at.astimezone(zone).isoformat(),
                 "password_set_at": row.password_set_at.astimezone(zone).isoformat()}
                for row in users.list_users(session)]
    if args.format == "json":
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        print()
    elif not rows:
        print("no console users (add one: mailroom web user add NAME --role office)")
    else:
        for row in rows:
            print(f"{row['name']}\t{row['role']}\tpassword set {row['password_set_at'][:16]}")
    return 0


USER_COMMANDS: dict[str, Callable[[App, argparse.Namespace], int]] = {
    "add": _add, "remove": _remove, "list": _list}
COMMANDS: dict[str, Callable[[App, argparse.Namespace], int]] = {"web": cmd_web}
