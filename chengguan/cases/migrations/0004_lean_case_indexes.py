"""Fewer indexes on the case table: every one is written on each of 10⁷ yearly inserts.

Dropped, because another index answers the same lookups (EXPLAIN-checked with a million
cases, see ``bench/intake.py``): the single-column indexes on ``category_id`` (served by
``case_category_time``), ``status`` (``case_queue``), ``lead_unit_id`` (``case_unit_inbox``),
``territory_id`` (the dashboard's ``dash_case_territory_time``), ``channel`` (no query needs
it: the queue reads open cases in deadline order, the Open311 list newest first), and on
PostgreSQL the ``varchar_pattern_ops`` twins Django adds for indexed text columns (no query
searches a code, status, channel or grid by prefix alone). The inspector and duplicate
references become partial indexes (almost every row has neither). Uniqueness of the code
stays, as a named constraint.

Hand-written on the database side: on SQLite, Django's AlterField rebuilds the whole table,
which takes minutes at a million rows and silently loses the indexes other migrations made in
plain SQL (``case_duplicate_lookup``, the dashboard's). Here only indexes are dropped and
created; what Django would have named them is found by introspection. On SQLite the code keeps
its inline UNIQUE (the same guarantee; the table is not rebuilt for a name).
"""

from typing import Any

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# Columns whose own single-column, non-unique indexes go.
DROPPED = ("category_id", "status", "lead_unit_id", "territory_id", "channel", "assigned_inspector_id",
           "duplicate_of_id", "unit_grid", "code")  # fmt: skip
NEW = (
    models.Index(fields=["unit_grid"], name="case_unit_grid"),
    models.Index(
        fields=["assigned_inspector"],
        name="case_inspector_task",
        condition=models.Q(assigned_inspector__isnull=False),
    ),
    models.Index(
        fields=["duplicate_of"], name="case_duplicate_of", condition=models.Q(duplicate_of__isnull=False)
    ),
)


def _single_column_indexes(schema_editor: Any) -> dict[str, str]:
    """index name -> column, for the non-unique single-column indexes of DROPPED columns."""
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, "cases_case")
    keep = {index.name for index in NEW}
    return {
        name: info["columns"][0]
        for name, info in found.items()
        if info["index"]
        and not info["unique"]
        and not info["primary_key"]
        and len(info["columns"]) == 1
        and info["columns"][0] in DROPPED
        and name not in keep
    }


def forwards(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("cases", "Case")
    q = schema_editor.quote_name
    for name in sorted(_single_column_indexes(schema_editor)):
        schema_editor.execute(f"DROP INDEX IF EXISTS {q(name)}")
    for index in NEW:
        schema_editor.add_index(model, index)
    if schema_editor.connection.vendor == "postgresql":
        # A rename, not a rebuild: the constraint keeps its unique index.
        schema_editor.execute(
            "ALTER TABLE cases_case RENAME CONSTRAINT cases_case_code_key TO case_code_unique"
        )


def backwards(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("cases", "Case")
    for index in NEW:
        schema_editor.remove_index(model, index)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE cases_case RENAME CONSTRAINT case_code_unique TO cases_case_code_key"
        )
    postgres = schema_editor.connection.vendor == "postgresql"
    for column in DROPPED:
        field = next(f for f in model._meta.concrete_fields if f.column == column)
        if column != "code":  # the code's own index is its unique constraint's
            schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))
        if postgres and field.get_internal_type() == "CharField":
            schema_editor.execute(schema_editor._create_like_index_sql(model, field))


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_append_only_history"),
        ("catalog", "0002_local_snapshots"),
        ("org", "0001_initial"),
        # The dashboard's case indexes must exist before the ones they replace are dropped.
        ("dashboard", "0002_case_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(forwards, backwards, elidable=False)],
            state_operations=[
                migrations.AlterField(
                    model_name="case",
                    name="assigned_inspector",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="inspection_tasks",
                        to="org.staff",
                        verbose_name="核实/核查巡查员",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="category",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="catalog.category",
                        verbose_name="类别",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="channel",
                    field=models.CharField(
                        choices=[
                            ("patrol", "巡查上报"),
                            ("web", "市民网页"),
                            ("hotline", "12345 热线"),
                            ("open311", "Open311 应用"),
                            ("camera", "视频/AI 识别"),
                            ("drone", "无人机"),
                            ("leader", "领导交办"),
                            ("media", "媒体曝光"),
                        ],
                        max_length=12,
                        verbose_name="来源",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="code",
                    field=models.CharField(max_length=20, verbose_name="案件编号"),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="duplicate_of",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="duplicates",
                        to="cases.case",
                        verbose_name="重复于",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="lead_unit",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="lead_cases",
                        to="org.orgunit",
                        verbose_name="主办单位",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="status",
                    field=models.CharField(
                        choices=[
                            ("reported", "待立案"),
                            ("verifying", "待核实"),
                            ("self_handled", "自行处置待审"),
                            ("to_dispatch", "待派遣"),
                            ("void_requested", "作废待批"),
                            ("dispatched", "已派遣"),
                            ("returned", "已回退"),
                            ("handling", "处置中"),
                            ("extension_requested", "延期待批"),
                            ("deferral_requested", "挂账待批"),
                            ("deferred", "挂账"),
                            ("handled", "已反馈"),
                            ("checking", "待核查"),
                            ("to_close", "待结案"),
                            ("closed", "已结案"),
                            ("rejected", "不予立案"),
                            ("voided", "已作废"),
                            ("duplicate", "重复案件"),
                        ],
                        max_length=20,
                        verbose_name="状态",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="territory",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases_here",
                        to="org.orgunit",
                        verbose_name="所属镇街",
                    ),
                ),
                migrations.AlterField(
                    model_name="case",
                    name="unit_grid",
                    field=models.CharField(blank=True, max_length=32, verbose_name="单元网格"),
                ),
                migrations.AddIndex(
                    model_name="case",
                    index=models.Index(fields=["unit_grid"], name="case_unit_grid"),
                ),
                migrations.AddIndex(
                    model_name="case",
                    index=models.Index(
                        condition=models.Q(("assigned_inspector__isnull", False)),
                        fields=["assigned_inspector"],
                        name="case_inspector_task",
                    ),
                ),
                migrations.AddIndex(
                    model_name="case",
                    index=models.Index(
                        condition=models.Q(("duplicate_of__isnull", False)),
                        fields=["duplicate_of"],
                        name="case_duplicate_of",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="case",
                    constraint=models.UniqueConstraint(fields=("code",), name="case_code_unique"),
                ),
            ],
        )
    ]
