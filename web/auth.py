"""Who is asking, and the one gate every request passes: :func:`lineage.policy.decide`.

Every view declares its action with :func:`requires` (or ``route(..., action=...)``);
:func:`init_app` refuses to start an app with a view that has none, and checks the action
before each request. A view that needs a finer target (the record being edited) calls
:func:`authorize` with it.

The actor comes from, in order: a trusted single-sign-on header (only when
``LINEAGE_TRUSTED_HEADER`` is configured), an ``Authorization: Bearer`` API token, the session
cookie, and otherwise :data:`~lineage.policy.OPEN` while the database has no accounts, else
:data:`~lineage.policy.ANONYMOUS`.
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import Forbidden, Unauthorized

from lineage.accounts import Accounts, actor_of
from lineage.errors import RateLimitError, StoreError
from lineage.policy import ANONYMOUS, OPEN, Actor, Verdict, decide

from .db import get_store
from .errors import wants_json

csrf = CSRFProtect()


def requires(action: str, target: Callable[[dict[str, Any]], Any] | None = None) -> Callable:
    """Declare the policy action of a view; ``target`` maps the URL's arguments to its target."""
    def mark(view: Callable) -> Callable:
        view.lineage_action = action
        view.lineage_target = target
        return view
    return mark


def get_accounts() -> Accounts:
    if "accounts" not in g:
        g.accounts = Accounts(get_store())
    return g.accounts


def current_actor() -> Actor:
    if "actor" not in g:
        g.actor = _resolve_actor()
    return g.actor


def _resolve_actor() -> Actor:
    accounts = get_accounts()
    header = current_app.config.get("LINEAGE_TRUSTED_HEADER")
    if header:
        name = request.headers.get(header, "").strip().lower()
        if not name:
            return ANONYMOUS
        user = accounts.active(name)  # a name the proxy knows and we do not (or disabled): nobody, here
        return actor_of(user) if user else ANONYMOUS
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        user = accounts.user_for_token(authorization[7:].strip())
        if user is None:
            raise Unauthorized("that API token is not valid: make one with 'lineage user token NAME'")
        g.token_auth = True
        return actor_of(user)
    name = session.get("user")
    if name:
        user = accounts.active(name)
        if user:
            return actor_of(user)
        session.clear()  # the account was removed or disabled: its session ends
    return OPEN if accounts.count() == 0 else ANONYMOUS


def authorize(action: str, target: Any = None) -> Verdict:
    """Check ``action`` on ``target`` for the current actor; a 401 or 403 if it is not allowed."""
    verdict = decide(current_actor(), action, target)
    if not verdict:
        if verdict.sign_in:
            raise Unauthorized(verdict.reason)
        raise Forbidden(verdict.reason)
    return verdict


def allowed(action: str, target: Any = None) -> bool:
    """For templates: may the current actor do this (to show a link or a button, or not)?"""
    return bool(decide(current_actor(), action, target))


def visible(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``records`` without the people the actor may not see by name (contributors and owners see
    themselves; other people only as counts and teams)."""
    if allowed("read_person"):
        return records
    me = current_actor().person
    return [r for r in records if r.get("kind") != "person" or r.get("id") == me]


def safe_next(url: str | None) -> str:
    """Where to go after signing in: only a path on this site."""
    if not url:
        return url_for("home.index")
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//"):
        return url_for("home.index")
    return url


class RateLimiter:
    """At most ``limit`` events per key in a sliding ``window`` of seconds (per process, in memory)."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Count one event; 0 if it is within the limit, else the seconds until one is allowed."""
        now = self.clock()
        with self._lock:
            events = self._events[key]
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return events[0] + self.window - now
            events.append(now)
            return 0.0

    def reset(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)


def limit(limiter: RateLimiter, key: str, what: str) -> None:
    """A 429 (the library's :class:`~lineage.errors.RateLimitError`) when ``key`` has done ``what``
    too often."""
    wait = limiter.hit(key)
    if wait:
        raise RateLimitError(f"too many {what}; try again in {int(wait) + 1} seconds", retry_after=int(wait) + 1)


def _exempt_from_csrf() -> bool:
    """Requests a forged cross-site form cannot make: token-authenticated ones, and JSON sent to
    the API (a browser sends JSON cross-site only after a CORS preflight, which is never granted)."""
    return bool(g.get("token_auth")) or (request.path.startswith("/api/") and request.is_json)


def init_app(app: Flask) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session
    csrf.init_app(app)

    @app.before_request
    def check_policy() -> Any:
        view = app.view_functions.get(request.endpoint or "")
        if view is None or request.endpoint == "static":
            return None
        actor = current_actor()
        target_of = view.lineage_target
        target = target_of(request.view_args or {}) if target_of else None
        verdict = decide(actor, view.lineage_action, target)
        if verdict:
            if request.method not in ("GET", "HEAD", "OPTIONS") and app.config.get("WTF_CSRF_ENABLED", True) \
                    and not _exempt_from_csrf():
                csrf.protect()
            return None
        if verdict.sign_in and not wants_json():
            return redirect(url_for("account.sign_in", next=request.full_path.rstrip("?")))
        if verdict.sign_in:
            abort(401, verdict.reason)
        abort(403, verdict.reason)

    @app.context_processor
    def actor_in_templates() -> dict[str, Any]:
        try:
            actor = current_actor()
        except StoreError:  # the error page for an unusable database still renders
            actor = ANONYMOUS
        return {"actor": actor, "allowed": allowed}


def check_every_view_declares_an_action(app: Flask) -> None:
    """Fail at start-up, not in production, if a view escapes the policy."""
    missing = [endpoint for endpoint, view in app.view_functions.items()
               if endpoint != "static" and not hasattr(view, "lineage_action")]
    if missing:
        raise RuntimeError(f"views without a policy action (use web.auth.requires): {', '.join(sorted(missing))}")
