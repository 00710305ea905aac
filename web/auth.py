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
from lineage.policy import ANONYMOUS, OPEN, Actor, PeopleRule, Verdict, decide

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


SESSION_GENERATION = "sessions"
"""The session cookie's key for the account's session generation it was made in (see
:meth:`lineage.accounts.Accounts.in_session`); a cookie from before generations counts as 0."""


def _resolve_actor() -> Actor:
    accounts = get_accounts()
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        # First, and in trusted-header mode too: a pipeline behind the single-sign-on proxy (an
        # OpenLineage client, say) has a token, not a browser session the proxy could vouch for.
        user = accounts.user_for_token(authorization[7:].strip())
        if user is None:
            raise Unauthorized("that API token is not valid or has expired: make one with "
                               "'lineage user token NAME'")
        g.token_auth = True
        return actor_of(user)
    header = current_app.config.get("LINEAGE_TRUSTED_HEADER")
    if header:
        name = request.headers.get(header, "").strip().lower()
        if not name:
            return ANONYMOUS
        user = accounts.active(name)  # a name the proxy knows and we do not (or disabled): nobody, here
        return actor_of(user) if user else ANONYMOUS
    name = session.get("user")
    if name:
        generation = session.get(SESSION_GENERATION, 0)
        user = accounts.in_session(name, generation) if isinstance(generation, int) else None
        if user is not None:
            return actor_of(user)
        session.clear()  # the account was removed, disabled, signed out or given a new password: its session ends
    return OPEN if accounts.count() == 0 else ANONYMOUS


def start_session(user: dict[str, Any]) -> None:
    """Sign ``user`` (as :meth:`~lineage.accounts.Accounts.verify` returns it) in on a fresh session."""
    session.clear()  # nothing from before signing in carries over
    session["user"] = user["name"]
    session[SESSION_GENERATION] = user["sessions"]
    session.permanent = True


def signed_in_request() -> bool:
    """Whether this request was made by someone signed in (a session, a token or the proxy's header)."""
    actor = g.get("actor")
    return actor is not None and actor.signed_in


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


def people_rule() -> PeopleRule:
    """What the current actor may see of people (:class:`lineage.policy.PeopleRule`)."""
    return PeopleRule(current_actor())


def visible(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``records`` without the people the actor may not see by name (contributors and owners see
    themselves; other people only as counts and teams)."""
    return people_rule().visible(records)


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

    def _wait(self, events: deque[float], now: float) -> float:
        while events and events[0] <= now - self.window:
            events.popleft()
        return events[0] + self.window - now if len(events) >= self.limit else 0.0

    def hit(self, key: str) -> float:
        """Count one event; 0 if it is within the limit, else the seconds until one is allowed."""
        now = self.clock()
        with self._lock:
            events = self._events[key]
            wait = self._wait(events, now)
            if not wait:
                events.append(now)
            return wait

    def wait(self, key: str) -> float:
        """Seconds until ``key`` may do one more (0: now), without counting anything."""
        now = self.clock()
        with self._lock:
            if key not in self._events:
                return 0.0
            return self._wait(self._events[key], now)

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

    app.jinja_env.globals["allowed"] = allowed  # for macros imported without the page's context

    @app.context_processor
    def actor_in_templates() -> dict[str, Any]:
        try:
            actor = current_actor()
        except (StoreError, Unauthorized):  # the error page (a bad token, an unusable database) still renders
            actor = ANONYMOUS
        return {"actor": actor, "allowed": allowed}


def check_every_view_declares_an_action(app: Flask) -> None:
    """Fail at start-up, not in production, if a view escapes the policy."""
    missing = [endpoint for endpoint, view in app.view_functions.items()
               if endpoint != "static" and not hasattr(view, "lineage_action")]
    if missing:
        raise RuntimeError(f"views without a policy action (use web.auth.requires): {', '.join(sorted(missing))}")
