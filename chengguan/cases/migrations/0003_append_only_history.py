"""Case history is append-only in the database too (PostgreSQL; a no-op on SQLite).

``CaseEvent.save``/``delete`` already refuse changes in Python; these triggers refuse them for
every client of the database (raw SQL, a bulk ``QuerySet.update``/``delete``, psql): UPDATE or
DELETE of a ``cases_caseevent`` row and DELETE of a ``cases_case`` row raise an error.
TRUNCATE and DROP are left to the database owner (test flushes and ``pg_restore --clean``
use them). A later data migration that really must rewrite history has to disable the
trigger explicitly, in the open: ``ALTER TABLE cases_caseevent DISABLE TRIGGER …``.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION chengguan_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'integrity_constraint_violation',
        MESSAGE = format('%s只能追加，不能%s（表 %s）',
                         TG_ARGV[0], CASE TG_OP WHEN 'DELETE' THEN '删除' ELSE '修改' END, TG_TABLE_NAME),
        HINT = '案件历史不可更改：更正请追加一条新的流转记录。';
END
$$;
CREATE TRIGGER cases_caseevent_append_only
    BEFORE UPDATE OR DELETE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION chengguan_refuse_change('案件流转记录');
CREATE TRIGGER cases_case_no_delete
    BEFORE DELETE ON cases_case
    FOR EACH ROW EXECUTE FUNCTION chengguan_refuse_change('案件');
"""

BACKWARD = """
DROP TRIGGER IF EXISTS cases_case_no_delete ON cases_case;
DROP TRIGGER IF EXISTS cases_caseevent_append_only ON cases_caseevent;
DROP FUNCTION IF EXISTS chengguan_refuse_change();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_duplicate_lookup_index")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
