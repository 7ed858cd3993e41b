"""The client's address behind N trusted proxies: what a client writes itself never counts."""

from __future__ import annotations

from typing import Any

from django.test import RequestFactory, override_settings
from hypothesis import given
from hypothesis import strategies as st

from chengguan.security.clientip import client_ip

PROXY = "192.168.1.1"
addresses = st.ip_addresses().map(str)
junk = st.text(alphabet=st.characters(blacklist_characters=","), max_size=20)


def request(forwarded: str | None) -> Any:
    extra = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    return RequestFactory().get("/", REMOTE_ADDR=PROXY, **extra)


def test_without_proxies_the_socket_answers() -> None:
    with override_settings(CHENGGUAN_PROXY_COUNT=0):
        assert client_ip(request("203.0.113.9")) == PROXY


def test_one_proxy_reads_the_entry_it_wrote() -> None:
    with override_settings(CHENGGUAN_PROXY_COUNT=1):
        assert client_ip(request("203.0.113.9")) == "203.0.113.9"  # the usual request
        assert client_ip(request("6.6.6.6, 203.0.113.9")) == "203.0.113.9"  # a forged prefix
        assert client_ip(request(None)) == PROXY  # bypassed the proxy: only the socket is known
        assert client_ip(request("not-an-address")) == PROXY


def test_two_proxies_read_the_second_from_the_right() -> None:
    with override_settings(CHENGGUAN_PROXY_COUNT=2):
        assert client_ip(request("6.6.6.6, 203.0.113.9, 10.0.0.2")) == "203.0.113.9"
        assert client_ip(request("203.0.113.9")) == PROXY  # shorter than two proxies make


@given(
    proxies=st.integers(min_value=1, max_value=3),
    forged=st.lists(st.one_of(addresses, junk), max_size=4),
    client=addresses,
    hops=st.lists(addresses, min_size=3, max_size=3),
)
def test_what_the_client_writes_never_changes_the_answer(
    proxies: int, forged: list[str], client: str, hops: list[str]
) -> None:
    # The first proxy appends the client; each further proxy appends the one before it.
    chain = ", ".join([*forged, client, *hops[: proxies - 1]])
    with override_settings(CHENGGUAN_PROXY_COUNT=proxies):
        assert client_ip(request(chain)) == client
