"""A partial index on case events for the monthly assessment's dispatch and return counts.

Why it lives here and not in chengguan/cases: the case tables belong to the cases app, whose
indexes are kept lean for intake speed (every index is written on each of 10⁷ yearly events).
This one serves only the assessment (``selectors.unit_event_counts``) and is partial — just the
dispatch and return events, a fifth of the table — so intake pays for it on those rows only.
Django's AddIndex cannot name another app's model, hence RunSQL; the statement is the same on
SQLite and PostgreSQL, and IF [NOT] EXISTS makes it safe to re-run either way.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0002_line_tier_choices"),
        ("cases", "0004_lean_case_indexes"),
    ]

    operations = [
        migrations.RunSQL(
            sql=(
                "CREATE INDEX IF NOT EXISTS assess_event_unit_time ON cases_caseevent (at) "
                "WHERE action IN ('dispatch', 'return')"
            ),
            reverse_sql="DROP INDEX IF EXISTS assess_event_unit_time",
        ),
    ]
