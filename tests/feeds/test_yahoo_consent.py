"""Yahoo's European consent flow over two local servers (two host names): each step, each break."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from capgap.feeds.base import FeedError
from capgap.feeds.http import make_client
from capgap.feeds.providers.yahoo_consent import MAX_HOPS, consent_form
from capgap.feeds.providers.yahoo_quote import CRUMB_PATH, QUOTE_PATH, YahooQuotes
from server import LocalServer, Reply, local_server, provider_test_client, serving
from test_yahoo_quote import COOKIE_PATH, CRUMB, answer, item

__all__ = ["local_server"]

CLIENT = provider_test_client("Yahoo")
SESSION = "3f2c9b1e-consent-session"
TOKEN = "Zq8_token-9"
FORM_PATH = "/v2/collectConsent"


def consent_page(
    *, token: str | None = TOKEN, session: str | None = SESSION, form: bool = True
) -> Reply:
    """Yahoo's consent page as a small HTML document: hidden inputs, agree and reject buttons."""
    hidden = []
    if token is not None:
        hidden.append(f'<input type="hidden" name="csrfToken" value="{token}">')
    if session is not None:
        hidden.append(f'<input type="hidden" name="sessionId" value="{session}">')
    hidden.append('<input type="hidden" name="originalDoneUrl" value="https://finance.yahoo.com/">')
    inner = "\n".join(hidden) + (
        '\n<button type="submit" class="btn" name="agree" value="agree">Accept all</button>'
        '\n<button type="submit" class="btn" name="reject" value="reject">Reject all</button>'
    )
    body = f"<form method='post' class='consent-form'>\n{inner}\n</form>" if form else inner
    page = f"<!DOCTYPE html><html><head><title>Yahoo</title></head><body>{body}</body></html>"
    return Reply.text(page, 200, "text/html; charset=utf-8")


def redirect(location: str, *cookies: str) -> Reply:
    """A 302 to ``location`` setting ``cookies`` (one Set-Cookie header each)."""
    headers = (("Location", location), *(("Set-Cookie", cookie) for cookie in cookies))
    return Reply(302, b"", headers, "text/html; charset=utf-8")


@pytest.fixture
def consent_host() -> Iterator[tuple[LocalServer, str]]:
    """A second local server, addressed by another host name (localhost, not 127.0.0.1)."""
    with serving() as server:
        yield server, server.base_url.replace("127.0.0.1", "localhost")


def play_flow(finance: LocalServer, consent: LocalServer, consent_url: str) -> None:
    """Script the five steps: cookie on one host, the consent pages on the other, crumb back."""
    finance.add(
        COOKIE_PATH,
        redirect(
            f"{consent_url}/consent?brandType=nonEu&gcrumb=G1&done={finance.base_url}/",
            "GUCS=guc-one; Path=/; Max-Age=900",
        ),
    )
    # Relative, as a server may write it: resolved against the consent host.
    consent.add("/consent", redirect(f"{FORM_PATH}?sessionId={SESSION}"))
    consent.add(
        FORM_PATH,
        consent_page(),
        redirect(f"{consent_url}/copyConsent?sessionId={SESSION}&lang=en-US"),
    )
    consent.add(
        "/copyConsent",
        redirect(f"{finance.base_url}/", "A3=d=consented&S=sig; Path=/; Max-Age=31536000"),
    )
    finance.add(CRUMB_PATH, Reply.text(CRUMB))
    finance.add(QUOTE_PATH, Reply.json(answer(item("SPY"))))


def quotes_for(client, finance: LocalServer) -> YahooQuotes:
    return YahooQuotes(client, finance.base_url, cookie_url=finance.base_url + COOKIE_PATH)


async def test_the_five_steps_across_two_hosts_end_in_a_crumb(local_server, consent_host):
    consent, consent_url = consent_host
    play_flow(local_server, consent, consent_url)
    async with make_client(CLIENT, trust_env=False) as client:
        yahoo = quotes_for(client, local_server)
        frame, problems = await yahoo.quotes(["SPY"])
        assert frame["last"].to_list() == [100.0] and problems == {}
        assert yahoo._session.consent_given
    steps = [(seen.method, seen.path) for seen in consent.seen]
    assert steps == [
        ("GET", "/consent"),
        ("GET", FORM_PATH),
        ("POST", FORM_PATH),
        ("GET", "/copyConsent"),
    ]
    # GUCS, set by the cookie host, went along to every step on the other host.
    assert all("GUCS=guc-one" in seen.headers.get("cookie", "") for seen in consent.seen)
    post = consent.seen[2]
    assert post.query == f"sessionId={SESSION}"
    assert post.headers["content-type"] == "application/x-www-form-urlencoded"
    form = {key: values[0] for key, values in parse_qs(post.body.decode()).items()}
    assert form == {
        "csrfToken": TOKEN,
        "sessionId": SESSION,
        "originalDoneUrl": "https://finance.yahoo.com/",
        "namespace": "yahoo",
        "agree": "agree",
    }
    # A3, set by the consent host, arrived with the crumb request (and the quote's).
    paths = [seen.path for seen in local_server.seen]
    assert paths == [COOKIE_PATH, CRUMB_PATH, QUOTE_PATH]
    crumb_request = local_server.seen[1]
    assert "A3=d=consented&S=sig" in crumb_request.headers["cookie"]
    assert "A3=d=consented&S=sig" in local_server.seen[2].headers["cookie"]
    # The redirect back to finance is not followed: the session cookie ends the flow.
    assert local_server.count("/") == 0


async def test_another_redirect_of_the_cookie_request_is_not_followed(local_server):
    local_server.add(COOKIE_PATH, redirect("/elsewhere", "A3=d=plain; Path=/"))
    local_server.add(CRUMB_PATH, Reply.text(CRUMB))
    local_server.add(QUOTE_PATH, Reply.json(answer(item("SPY"))))
    async with make_client(CLIENT, trust_env=False) as client:
        yahoo = quotes_for(client, local_server)
        await yahoo.quotes(["SPY"])
        assert not yahoo._session.consent_given
    assert [seen.path for seen in local_server.seen] == [COOKIE_PATH, CRUMB_PATH, QUOTE_PATH]


async def fails_with(finance: LocalServer, message: str) -> None:
    async with make_client(CLIENT, trust_env=False) as client:
        with pytest.raises(FeedError) as caught:
            await quotes_for(client, finance).fetch(["SPY"])
    assert str(caught.value) == message
    # No crumb is asked after a broken flow.
    assert finance.count(CRUMB_PATH) == 0


async def test_a_page_without_a_form_names_step_3(local_server, consent_host):
    consent, consent_url = consent_host
    play_flow(local_server, consent, consent_url)
    consent.replace(FORM_PATH, consent_page(form=False))
    await fails_with(local_server, "Yahoo consent: step 3 (the consent form): no form in the page")


async def test_a_form_without_the_token_names_step_3(local_server, consent_host):
    consent, consent_url = consent_host
    play_flow(local_server, consent, consent_url)
    consent.replace(FORM_PATH, consent_page(token=None))
    await fails_with(
        local_server, "Yahoo consent: step 3 (the consent form): no csrfToken in the page"
    )


async def test_a_redirect_loop_stops_after_the_bounded_hops(local_server, consent_host):
    consent, consent_url = consent_host
    play_flow(local_server, consent, consent_url)
    consent.replace("/consent", redirect(f"{consent_url}/consent?again=1"))
    await fails_with(
        local_server,
        f"Yahoo consent: step 3 (the consent form): more than {MAX_HOPS} requests"
        " (a redirect loop?)",
    )
    assert consent.total == MAX_HOPS


async def test_an_agreement_answered_200_names_step_4(local_server, consent_host):
    consent, consent_url = consent_host
    play_flow(local_server, consent, consent_url)
    # The form again, for the GET and the POST alike: the agreement went nowhere.
    consent.replace(FORM_PATH, consent_page())
    await fails_with(
        local_server,
        "Yahoo consent: step 4 (the agreement): HTTP 200 instead of a redirect"
        " (the agreement refused?)",
    )


async def test_a_flow_that_never_sets_the_session_cookie_names_step_5(local_server, consent_host):
    consent, consent_url = consent_host
    play_flow(local_server, consent, consent_url)
    consent.replace("/copyConsent", Reply.text("done", 200, "text/html"))
    await fails_with(
        local_server,
        "Yahoo consent: step 5 (the session cookie): no session cookie (A3) in the reply",
    )


async def test_a_failing_step_names_it_with_its_status(local_server, consent_host):
    consent, consent_url = consent_host
    play_flow(local_server, consent, consent_url)
    consent.replace("/consent", Reply.text("oops", 500))
    await fails_with(
        local_server,
        "Yahoo consent: step 2 (the consent redirect): HTTP 500"
        " where the consent form was expected",
    )


def test_the_form_reader_takes_hidden_inputs_and_the_agree_button():
    page = (
        "<form action='/search'><input name='q' value='x'></form>"
        "<form><input type=hidden name=csrfToken value='a&amp;b'>"
        "<input type='hidden' name='sessionId' value='s'>"
        "<input type='text' name='visible' value='v'>"
        "<button name='agree' value='agree'>OK</button></form>"
    )
    form = consent_form(page)
    assert form.action == ""
    assert form.fields == {
        "csrfToken": "a&b",
        "sessionId": "s",
        "namespace": "yahoo",
        "agree": "agree",
    }
    with_action = page.replace(
        "<form><input type=hidden", "<form action='/v2/agree'><input type=hidden"
    )
    assert consent_form(with_action).action == "/v2/agree"


async def test_a_form_with_an_action_is_posted_there(local_server, consent_host):
    consent, consent_url = consent_host
    play_flow(local_server, consent, consent_url)
    page = consent_page().body.replace(b"<form ", b"<form action='/v2/agree' ")
    consent.replace(FORM_PATH, Reply(200, page, content_type="text/html; charset=utf-8"))
    consent.add("/v2/agree", redirect(f"{consent_url}/copyConsent?sessionId={SESSION}"))
    async with make_client(CLIENT, trust_env=False) as client:
        await quotes_for(client, local_server).fetch(["SPY"])
    assert [(seen.method, seen.path) for seen in consent.seen][1:3] == [
        ("GET", FORM_PATH),
        ("POST", "/v2/agree"),
    ]
    assert "A3=d=consented&S=sig" in local_server.seen[1].headers["cookie"]
