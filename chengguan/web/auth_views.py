"""Login and logout on a Chinese page of our own (Django's auth underneath)."""

from __future__ import annotations

from django.contrib.auth import views as auth
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from chengguan.cases import selectors
from chengguan.web.access import start_url


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码不正确，请重新输入。"),
        "inactive": _("该账号已停用，请联系系统管理员。"),
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["username"].label = _("用户名（工号）")
        self.fields["username"].widget.attrs.update({"autocapitalize": "none", "autocomplete": "username"})
        self.fields["password"].label = _("密码")


class LoginView(auth.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return start_url(selectors.viewer_of(self.request.user))


class LogoutView(auth.LogoutView):
    next_page = "web:login"


def start(request: HttpRequest) -> HttpResponse:
    """The first page of the user's post (after login, or from the brand link)."""
    if not request.user.is_authenticated:
        return redirect("web:login")
    return redirect(start_url(selectors.viewer_of(request.user)))
