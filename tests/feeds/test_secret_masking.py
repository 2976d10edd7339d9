"""A key echoed by FRED or Finnhub is masked in every spelling before any message is cut."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from urllib.parse import quote, quote_plus

import pytest
from capgap.feeds import http
from capgap.feeds.base import FeedError
from capgap.feeds.http import ClientSettings, make_client
from capgap.feeds.providers.finnhub import QUOTE_PATH, Finnhub
from capgap.feeds.providers.fred import OBSERVATIONS_PATH, Fred
from server import LocalServer, Reply, local_server

__all__ = ["local_server"]

FAST = ClientSettings(provider="test", read_timeout_s=2.0, connect_timeout_s=5.0)
#: A key with every character a query string encodes: / + = & and a space.
KEY = "Ab/cd+ef=gh&ij 0123456789klMNOP"


def spellings(key: str) -> dict[str, str]:
    """The key as a provider may echo it: raw, percent- or plus-encoded, hex in either case."""
    percent = quote(key, safe="")
    return {
        "raw": key,
        "percent": percent,
        "percent-lower": re.sub(r"%[0-9A-F]{2}", lambda hit: hit.group(0).lower(), percent),
        "path-safe": quote(key),  # "/" kept as it is
        "plus": quote_plus(key, safe=""),
        "plus-path-safe": quote_plus(key, safe="/"),
        "double": quote(percent, safe=""),
    }


def leaked(message: str) -> list[str]:
    """Every 6-character piece of any spelling of the key that survives in ``message``."""
    pieces = []
    for form in spellings(KEY).values():
        for start in range(len(form) - 5):
            piece = form[start : start + 6]
            if piece in message:
                pieces.append(piece)
    return pieces


def test_the_spellings_differ_from_each_other():
    forms = spellings(KEY)
    assert len(set(forms.values())) == len(forms)
    assert forms["percent"] == "Ab%2Fcd%2Bef%3Dgh%26ij%200123456789klMNOP"
    assert forms["percent-lower"] == "Ab%2fcd%2bef%3dgh%26ij%200123456789klMNOP"
    assert forms["plus"] == "Ab%2Fcd%2Bef%3Dgh%26ij+0123456789klMNOP"


@pytest.mark.parametrize("form", list(spellings(KEY)))
def test_mask_secret_masks_every_spelling(form):
    text = f"key {spellings(KEY)[form]} refused"
    assert http.mask_secret(text, KEY) == "key *** refused"


def test_mask_secret_leaves_other_text_alone():
    assert http.mask_secret("a + b = c & d", KEY) == "a + b = c & d"
    assert http.mask_secret("nothing here", "") == "nothing here"


def echo(form: str, padding: int) -> str:
    """A long provider message whose key, in ``form``, straddles the 200th character."""
    return "Bad Request. " + "x" * padding + f" api_key={spellings(KEY)[form]} is not registered."


@pytest.fixture
async def fred(local_server: LocalServer) -> AsyncIterator[Fred]:
    async with make_client(FAST, trust_env=False) as client:
        yield Fred(client, local_server.base_url, api_key=KEY)


@pytest.fixture
async def finnhub(local_server: LocalServer) -> AsyncIterator[Finnhub]:
    async with make_client(FAST, trust_env=False) as client:
        yield Finnhub(client, local_server.base_url, api_key=KEY)


@pytest.mark.parametrize("form", list(spellings(KEY)))
@pytest.mark.parametrize("padding", [10, 170, 185])
async def test_fred_masks_a_long_echo_before_cutting_it(fred, local_server, form, padding):
    local_server.add(OBSERVATIONS_PATH, Reply.json({"error_message": echo(form, padding)}, 400))
    with pytest.raises(FeedError) as caught:
        await fred.latest("DFF")
    message = str(caught.value)
    assert leaked(message) == []
    assert message.startswith("FRED HTTP 400: Bad Request. xxxxxxxxxx")
    if padding == 10:
        assert message.endswith(" api_key=*** is not registered.")


@pytest.mark.parametrize("form", list(spellings(KEY)))
@pytest.mark.parametrize("padding", [10, 170, 185])
async def test_finnhub_masks_a_long_echo_before_cutting_it(finnhub, local_server, form, padding):
    local_server.add(QUOTE_PATH, Reply.json({"error": echo(form, padding)}, 401))
    with pytest.raises(FeedError) as caught:
        await finnhub.quote("SPY")
    message = str(caught.value)
    assert leaked(message) == []
    assert message.startswith("Finnhub rejected the API key (HTTP 401): Bad Request. xxxxx")
    if padding == 10:
        assert message.endswith(" api_key=*** is not registered.")


async def test_a_long_echo_is_still_bounded(fred, local_server):
    local_server.add(OBSERVATIONS_PATH, Reply.json({"error_message": "y" * 5000}, 400))
    with pytest.raises(FeedError) as caught:
        await fred.latest("DFF")
    message = str(caught.value)
    assert len(message) <= 240
    assert message.endswith("y\u2026")
