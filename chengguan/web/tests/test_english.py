"""English is the second language: LocaleMiddleware picks it from the cookie or Accept-Language."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

# page -> (English strings that must appear, Chinese strings they replace)
PAGES: dict[str, tuple[list[str], list[str]]] = {
    "/": (
        [
            "Urban Management Platform",
            "Citizen complaints",
            "Sign in",
            "Enforcement brigade",
            "Dispatch rule",
        ],
        ["城管综合管理平台", "市民投诉", "执法中队", "派遣规则", "网格化综合管理"],
    ),
    "/login/": (
        ["Staff sign-in", "Username (staff number)", "Password", "I am a citizen and want to complain"],
        ["工作人员登录", "用户名（工号）", "密码", "我是市民"],
    ),
    "/public/": (
        [
            "Citizen complaints and enquiries",
            "Check case progress",
            "File a complaint",
            "Access code",
            "Problem description",
            "Submit complaint",
        ],
        ["市民投诉与查询", "查询案件办理进度", "我要投诉", "查询码", "问题描述", "提交投诉"],
    ),
}


def body(response: Any) -> str:
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("url", PAGES)
def test_accept_language_en_shows_english(client: Client, url: str) -> None:
    english, chinese = PAGES[url]
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    text = body(response)
    assert response["Content-Language"] == "en"
    assert '<html lang="en">' in text
    for word in english:
        assert word in text, word
    for word in chinese:
        assert word not in text, word


@pytest.mark.parametrize("url", PAGES)
def test_language_cookie_en_shows_english(client: Client, url: str) -> None:
    english, chinese = PAGES[url]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    text = body(client.get(url))
    for word in english:
        assert word in text, word
    for word in chinese:
        assert word not in text, word


@pytest.mark.parametrize("url", PAGES)
def test_chinese_stays_the_default(client: Client, url: str) -> None:
    english, chinese = PAGES[url]
    response = client.get(url)
    text = body(response)
    assert response["Content-Language"] == "zh-hans"
    for word in chinese:
        assert word in text, word
    for word in english[:2]:
        assert word not in text, word


def test_switcher_sets_english_for_the_next_pages(client: Client) -> None:
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    text = body(client.get(response["Location"]))
    assert "Staff sign-in" in text
    assert "工作人员登录" not in text


def test_english_search_placeholder_keeps_the_attribute_intact(client: Client) -> None:
    text = body(client.get("/public/", HTTP_ACCEPT_LANGUAGE="en"))
    assert 'placeholder="Search categories, e.g. “garbage”, “manhole cover”"' in text
