"""The ``chengguan`` console script.

It runs the project's management commands with dashes allowed in their names, so a bureau
types ``chengguan import-org units.xlsx`` or ``chengguan demo`` instead of remembering
``python manage.py import_org``. Sub-command groups (``chengguan grid generate``) map to
``grid_generate``.
"""

from __future__ import annotations

import os
import sys


def _command_name(argv: list[str]) -> list[str]:
    if not argv:
        return argv
    from django.core.management import get_commands

    commands = get_commands()
    first = argv[0].replace("-", "_")
    if len(argv) > 1:
        joined = f"{first}_{argv[1].replace('-', '_')}"
        if joined in commands:
            return [joined, *argv[2:]]
    if first in commands:
        return [first, *argv[1:]]
    return argv


def main(argv: list[str] | None = None, prog: str = "chengguan") -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chengguan.settings")
    import django
    from django.core.management import execute_from_command_line

    args = list(sys.argv[1:] if argv is None else argv)
    django.setup()
    execute_from_command_line([prog, *_command_name(args)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
