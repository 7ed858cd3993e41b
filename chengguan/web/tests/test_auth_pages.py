"""Login, logout and the per-post navigation."""

from __future__ import annotations

import pytest
from django.test import Client

from chengguan.web.tests.conftest import PASSWORD, Site

pytestmark = pytest.mark.django_db


def test_login_page_is_ours_and_chinese(client: Client) -> None:
    response = client.get("/login/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "工作人员登录" in body and "用户名（工号）" in body and 'name="viewport"' in body


@pytest.mark.parametrize(
    ("who", "landing"),
    [
        ("inspector", "/m/"),
        ("inspector2", "/m/"),  # grid assistants patrol like inspectors
        ("operator", "/command/"),
        ("shift_leader", "/command/"),
        ("dispatcher", "/command/"),
        ("leader", "/command/"),
        ("handler", "/unit/"),
        ("assessor", "/assessment/"),  # the assessment is the assessor's page
    ],
)
def test_login_lands_on_the_page_of_the_post(site: Site, client: Client, who: str, landing: str) -> None:
    response = client.post("/login/", {"username": who, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == landing


def test_wrong_password_is_told_in_chinese(site: Site, client: Client) -> None:
    response = client.post("/login/", {"username": "inspector", "password": "nope"})
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()


def test_login_follows_next(site: Site, client: Client) -> None:
    response = client.post("/login/", {"username": "handler", "password": PASSWORD, "next": "/public/"})
    assert response["Location"] == "/public/"


def test_pages_send_visitors_to_our_login(client: Client) -> None:
    for url in ("/m/", "/command/", "/unit/", "/cases/2026112500001/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), url


def test_logout_is_a_post_and_returns_to_login(site: Site) -> None:
    client = site.client("operator")
    response = client.post("/logout/")
    assert response.status_code == 302 and response["Location"] == "/login/"
    assert client.get("/command/").status_code == 302


@pytest.mark.parametrize(
    ("who", "shown", "hidden"),
    [
        ("inspector", ["巡查上报"], ["指挥中心", "单位待办"]),
        ("operator", ["指挥中心"], ["巡查上报", "单位待办"]),
        ("handler", ["单位待办"], ["巡查上报", "指挥中心"]),
    ],
)
def test_nav_shows_the_pages_of_the_post(site: Site, who: str, shown: list[str], hidden: list[str]) -> None:
    body = site.client(who).get("/public/").content.decode()
    nav = body[body.index("<nav>") : body.index("</nav>")]
    for label in shown:
        assert label in nav
    for label in hidden:
        assert label not in nav
    assert "退出" in nav


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("handler", "/m/"),
        ("operator", "/m/"),
        ("inspector", "/command/"),
        ("handler", "/command/"),
        ("assessor", "/command/"),
        ("inspector", "/unit/"),
        ("dispatcher", "/unit/"),
    ],
)
def test_pages_of_other_posts_are_refused(site: Site, who: str, url: str) -> None:
    response = site.client(who).get(url)
    assert response.status_code == 403
    assert "无权访问" in response.content.decode()


def test_home_still_works_for_everyone(site: Site, client: Client) -> None:
    assert client.get("/").status_code == 200
    assert site.client("inspector").get("/").status_code == 200
