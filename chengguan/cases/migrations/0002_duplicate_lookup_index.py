"""Index for the likely-duplicates lookup: category, then a latitude band, then longitude.

Plain SQL (the same on SQLite and PostgreSQL) rather than an index in the model's Meta, so
this file is the only change: the model's other indexes stay as they are.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [
        migrations.RunSQL(
            sql="CREATE INDEX IF NOT EXISTS case_duplicate_lookup ON cases_case (category_id, lat, lon)",
            reverse_sql="DROP INDEX IF EXISTS case_duplicate_lookup",
        )
    ]
