"""Password rules of our own, beside Django's length, common-password and numeric checks."""

from __future__ import annotations

import itertools
import string
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CLASS_NAMES = ("小写字母", "大写字母", "数字", "符号")


def character_classes(password: str) -> set[str]:
    """Which of lower-case, upper-case, digit and symbol the password uses."""
    found: set[str] = set()
    for char in password:
        if char.isdigit():
            found.add("数字")
        elif char.isalpha() and char.isascii():
            found.add("小写字母" if char.islower() else "大写字母")
        elif char in string.punctuation or not char.isascii() or char.isspace():
            # Chinese characters and full-width symbols count as symbols: they are rare in
            # dictionaries of leaked passwords.
            found.add("符号")
    return found


class CharacterClassesValidator:
    """At least ``min_classes`` of: lower-case, upper-case, digits, symbols (等保 口令复杂度)."""

    def __init__(self, min_classes: int = 3) -> None:
        if not 1 <= min_classes <= len(CLASS_NAMES):
            raise ValueError("min_classes must be between 1 and 4")
        self.min_classes = min_classes

    def validate(self, password: str, user: Any = None) -> None:
        if len(character_classes(password)) < self.min_classes:
            raise ValidationError(
                _("密码至少要包含小写字母、大写字母、数字、符号中的 %(n)d 种。"),
                code="password_too_simple",
                params={"n": self.min_classes},
            )

    def get_help_text(self) -> str:
        return _("密码至少要包含小写字母、大写字母、数字、符号中的 %(n)d 种。") % {"n": self.min_classes}


class RepeatedCharactersValidator:
    """No run of the same character or of a keyboard/number sequence making up most of it."""

    SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm")

    def __init__(self, max_run: int = 4) -> None:
        self.max_run = max_run

    def _longest_run(self, password: str) -> int:
        lowered = password.lower()
        longest = run = 1 if lowered else 0
        for previous, char in itertools.pairwise(lowered):
            same = char == previous
            following = any(
                previous in seq and seq.find(previous) + 1 < len(seq) and seq[seq.find(previous) + 1] == char
                for seq in self.SEQUENCES
            )
            run = run + 1 if same or following else 1
            longest = max(longest, run)
        return longest

    def validate(self, password: str, user: Any = None) -> None:
        if self._longest_run(password) > self.max_run:
            raise ValidationError(
                _("密码不能包含超过 %(n)d 个连续或重复的字符（如 aaaaa、12345、qwert）。"),
                code="password_sequence",
                params={"n": self.max_run},
            )

    def get_help_text(self) -> str:
        return _("密码不能包含超过 %(n)d 个连续或重复的字符。") % {"n": self.max_run}
