"""Indexes for the command queue at a million cases (figures in ``python -m bench.intake``).

``case_open_queue``: the open cases' deadlines. The queue reads open cases in deadline order a
page at a time; with a filter that keeps few of them (a light, a territory) the planners walk
this small index in order rather than sorting (SQLite used to scan the table, PostgreSQL to
sort the overdue ones). ``case_open_channel``: the same per channel (public complaints are a
few percent of open cases; the single-column channel index went in 0004). ``case_paused``:
the rare paused clocks, for the "paused" light. None of them holds closed cases.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0004_lean_case_indexes'),
        ('catalog', '0002_local_snapshots'),
        ('org', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('status__in', ['checking', 'deferral_requested', 'deferred', 'dispatched', 'extension_requested', 'handled', 'handling', 'reported', 'returned', 'self_handled', 'to_close', 'to_dispatch', 'verifying', 'void_requested'])), fields=['deadline'], name='case_open_queue'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('status__in', ['checking', 'deferral_requested', 'deferred', 'dispatched', 'extension_requested', 'handled', 'handling', 'reported', 'returned', 'self_handled', 'to_close', 'to_dispatch', 'verifying', 'void_requested'])), fields=['channel', 'deadline'], name='case_open_channel'),
        ),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(condition=models.Q(('paused_at__isnull', False)), fields=['deadline'], name='case_paused'),
        ),
    ]
