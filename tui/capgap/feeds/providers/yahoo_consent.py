"""Yahoo's European consent flow: from the cookie request's redirect to the session cookie."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlsplit

import httpx

from capgap.core.clock import Clock
from capgap.feeds.base import FeedError
from capgap.feeds.http import RawReply, endpoint_label, fetch
from capgap.feeds.providers.yahoo import PROVIDER

#: At most this many requests after the cookie request: the five steps take four, and a
#: flow that keeps redirecting is a loop, not a longer flow.
MAX_HOPS = 10
#: The cookie that completes the flow (Yahoo's session cookie).
SESSION_COOKIE = "A3"
#: The form fields the agreement cannot go without.
REQUIRED_FIELDS = ("csrfToken", "sessionId")
#: What the cookie request's failures begin with ("Yahoo cookie: HTTP 500").
COOKIE_LABEL = endpoint_label(PROVIDER, "cookie")
#: What the flow's steps are called in its messages: "Yahoo consent: step 3 (the consent form)".
STEPS = {
    1: "the cookie request",
    2: "the consent redirect",
    3: "the consent form",
    4: "the agreement",
    5: "the session cookie",
}

_REDIRECTS = range(300, 400)
# Every status the flow reads itself (a 429 still raises RateLimited inside fetch).
_ANY_STATUS = range(100, 600)
# The agreement's button and the namespace Yahoo's own page posts.
_AGREE = ("agree", "agree")
_NAMESPACE = ("namespace", "yahoo")


@dataclass(frozen=True, slots=True)
class CookieOutcome:
    """What the cookie request came to: whether the consent flow ran, and its cookies."""

    consent_given: bool
    cookies: Mapping[str, str]


def is_consent_redirect(reply: RawReply) -> bool:
    """Return True when ``reply`` redirects into a consent flow (a consent host or path).

    Other redirects of the cookie request (it sets the cookie anyway) are not followed.
    """
    location = reply.header("location")
    if reply.status not in _REDIRECTS or not location:
        return False
    parts = urlsplit(location)
    # guce.yahoo.com/consent, consent.yahoo.com/v2/collectConsent, or a mirror's /consent.
    return "consent" in (parts.hostname or "") or "consent" in parts.path.lower()


async def request_cookie(
    client: httpx.AsyncClient, cookie_url: str, *, clock: Clock | None = None
) -> CookieOutcome:
    """Ask ``cookie_url`` for the session cookie; complete the consent flow when redirected into it.

    The flow's redirects are followed wherever they point (absolute or relative, any host),
    the cookies it sets are sent along to every later step whatever host it is on, and at most
    MAX_HOPS requests follow the cookie request. A flow of another shape raises FeedError
    naming the step ("Yahoo consent: step 3 (the consent form): no csrfToken in the page").
    """
    first = await fetch(client, COOKIE_LABEL, cookie_url, accept=_ANY_STATUS, clock=clock)
    if not is_consent_redirect(first):
        return CookieOutcome(False, {})
    flow = _Flow(client, clock, _cookies_set(first))
    page_url, page = await flow.follow(2, _location(first, cookie_url, 1), stop_on_page=True)
    form = consent_form(page.body.decode("utf-8", errors="replace"))
    # Posted where the form says, else back to the page (Yahoo's form has no action).
    target = str(httpx.URL(page_url).join(form.action)) if form.action else page_url
    agreed = await flow.send(4, target, form.fields)
    if agreed.status not in _REDIRECTS:
        raise _failure(4, f"HTTP {agreed.status} instead of a redirect (the agreement refused?)")
    await flow.follow(5, _location(agreed, target, 4), stop_on_page=False)
    return CookieOutcome(True, dict(flow.cookies))


def carry_cookies(client: httpx.AsyncClient, cookies: Mapping[str, str], url: str) -> None:
    """Make the client's jar send ``cookies`` to ``url``'s host (unless it already does).

    Yahoo sets its cookies for all of .yahoo.com; a flow served from other hosts (a mirror, a
    test) sets them for one host only, and the crumb's host would never see them.
    """
    already = _sent_to(client, url)
    host = httpx.URL(url).host
    if "." not in host:
        # The stdlib jar files a dotless host (localhost) under "<host>.local" and matches
        # cookies against that name only.
        host += ".local"
    for name, value in cookies.items():
        if already.get(name) != value:
            client.cookies.set(name, value, domain=host)


class _Flow:
    """The requests of one consent flow: hops counted, cookies carried across hosts."""

    def __init__(
        self, client: httpx.AsyncClient, clock: Clock | None, cookies: Mapping[str, str]
    ) -> None:
        self._client = client
        self._clock = clock
        self._hops = 0
        self.cookies = dict(cookies)

    async def follow(self, step: int, url: str, *, stop_on_page: bool) -> tuple[str, RawReply]:
        """GET ``url`` and the redirects after it; return the page's URL and reply.

        With ``stop_on_page`` the first non-redirect is the consent form (step 3); without,
        the flow ends as soon as the session cookie has arrived, and a page without it fails.
        """
        while True:
            reply = await self.send(step, url)
            arrived = SESSION_COOKIE in _cookies_set(reply)
            if not stop_on_page and arrived:
                return url, reply
            if reply.status not in _REDIRECTS:
                if stop_on_page:
                    return url, _form_page(reply, step)
                raise _failure(step, f"no session cookie ({SESSION_COOKIE}) in the reply")
            url = _location(reply, url, step)
            if stop_on_page:
                # After the consent redirect, the next page should be the form.
                step = 3

    async def send(self, step: int, url: str, form: Mapping[str, str] | None = None) -> RawReply:
        """Make one request of the flow (a POST of ``form`` if given), counted in MAX_HOPS."""
        self._hops += 1
        if self._hops > MAX_HOPS:
            raise _failure(step, f"more than {MAX_HOPS} requests (a redirect loop?)")
        carry_cookies(self._client, self.cookies, url)
        reply = await fetch(
            self._client, _label(step), url, accept=_ANY_STATUS, clock=self._clock, form=form
        )
        self.cookies.update(_cookies_set(reply))
        return reply


@dataclass(frozen=True, slots=True)
class ConsentForm:
    """The agreement to post: where (the form's action, "" for the page itself) and what."""

    action: str
    fields: Mapping[str, str]


@dataclass(slots=True)
class _Form:
    action: str
    # Each named input or button: its type and its value.
    controls: dict[str, tuple[str, str]] = field(default_factory=dict)


class _FormParser(HTMLParser):
    """Collect each form's action and named inputs and buttons (values as the page writes them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[_Form] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open a form, or note an input or button of the open one."""
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(_Form(values.get("action", "").strip()))
            self._open = True
        elif tag in ("input", "button") and self._open and values.get("name"):
            kind = values.get("type", "submit" if tag == "button" else "text").lower()
            self.forms[-1].controls.setdefault(values["name"], (kind, values.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        """Close the open form."""
        if tag == "form":
            self._open = False


def consent_form(page: str) -> ConsentForm:
    """Return the agreement to the consent form in ``page``: its hidden inputs and agree.

    Raises FeedError naming step 3 when there is no form or it lacks csrfToken or sessionId.
    """
    parser = _FormParser()
    parser.feed(page)
    parser.close()
    forms = [form for form in parser.forms if form.controls]
    if not forms:
        raise _failure(3, "no form in the page")
    # The consent form is the one carrying the token; a page may hold other forms (a search).
    form = next((form for form in forms if REQUIRED_FIELDS[0] in form.controls), forms[0])
    controls = form.controls
    for name in REQUIRED_FIELDS:
        if not controls.get(name, ("", ""))[1]:
            raise _failure(3, f"no {name} in the page")
    fields = {name: value for name, (kind, value) in controls.items() if kind == "hidden"}
    fields.setdefault(*_NAMESPACE)
    name, value = _AGREE
    fields[name] = controls.get(name, ("submit", value))[1] or value
    return ConsentForm(form.action, fields)


def _form_page(reply: RawReply, step: int) -> RawReply:
    if reply.status != 200:
        raise _failure(step, f"HTTP {reply.status} where the consent form was expected")
    return reply


def _location(reply: RawReply, url: str, step: int) -> str:
    location = reply.header("location")
    if not location:
        raise _failure(step, f"a redirect (HTTP {reply.status}) with no Location")
    # Relative targets are resolved against the request's own URL.
    return str(httpx.URL(url).join(location.strip()))


def _cookies_set(reply: RawReply) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in reply.headers:
        if name.lower() != "set-cookie":
            continue
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(value)
        except CookieError:
            # One malformed cookie must not hide the others; the jar ignores it too.
            continue
        found.update({key: morsel.value for key, morsel in jar.items()})
    return found


def _sent_to(client: httpx.AsyncClient, url: str) -> dict[str, str]:
    # Ask the jar which cookies it would send, rather than re-implementing its domain rules.
    request = httpx.Request("GET", url)
    client.cookies.set_cookie_header(request)
    header = request.headers.get("cookie", "")
    pairs = (part.strip().partition("=") for part in header.split(";") if part.strip())
    return {name: value for name, _, value in pairs}


def _label(step: int) -> str:
    return endpoint_label(PROVIDER, f"consent: step {step} ({STEPS[step]})")


def _failure(step: int, what: str) -> FeedError:
    return FeedError(f"{_label(step)} {what}")
