"""The sample assessment standard shipped with the demo district (marked as a sample).

Six zero-tolerance items (六个零容忍) and ten strict-management items (十个严管理) named after
the seed's themes — illegal construction found and stopped the same day, illegal earth
digging, dumping into rivers, open burning, fireworks in no-fireworks zones, rebound after a
key-area clean-up; outdoor ads and signs, posters, road markets, business outside shops,
parking, outdoor barbecue, recycling stations, 门前三包, rural "five piles", exposed garbage —
plus routine and bonus items, composite weights after GB/T 30428.4 and the accountability rules
of the seed (通报批评, 领导约谈, 离岗培训, 组织调整, 一票双查). A bureau edits or replaces them.
"""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from chengguan.assessment import services
from chengguan.assessment.models import Standard, StandardStatus
from chengguan.catalog.models import Category

DATA = Path(__file__).resolve().parent / "data"
SAMPLE_CODE = "sample"
SAMPLE_NAME = "示例区城乡综合管理考评标准"

# Which case categories an item covers, by words in the category's name (findings may turn
# into cases of these categories).
ITEM_CATEGORIES: dict[str, tuple[str, ...]] = {
    "ZT-01": ("违法建设", "违章建"),
    "ZT-03": ("河道", "水域"),
    "ZT-04": ("焚烧",),
    "ZT-05": ("烟花",),
    "SM-01": ("违规户外广告", "违规牌匾"),
    "SM-02": ("小广告", "涂写"),
    "SM-03": ("占道经营",),
    "SM-04": ("店外经营", "游商"),
    "SM-05": ("乱停",),
    "SM-06": ("露天烧烤",),
    "SM-07": ("废品",),
    "SM-09": ("乱堆",),
    "SM-10": ("暴露垃圾", "积存垃圾"),
}


class SampleError(RuntimeError):
    pass


def load_sample_standard() -> Standard:
    """Create (or complete) the sample standard; a second call changes nothing.

    It becomes the active standard only when no other standard is active. Once a published
    run uses it, it is left exactly as it is.
    """
    with transaction.atomic():
        standard, created = Standard.objects.get_or_create(
            code=SAMPLE_CODE,
            version=1,
            defaults={
                "name": SAMPLE_NAME,
                "is_sample": True,
                "source": "《城乡综合管理工作考评制度》《城乡综合管理考评标准》（示例，据经验材料整理）",
                "note": "示例标准：六个零容忍、十个严管理和常规工作三个层次，加分扣分制，上不封顶、"
                "下不封底。正式使用前请按本区考评制度修改或导入本区标准。",
            },
        )
        if not created and services.standard_locked(standard):
            return standard
        for name, load in (
            ("sample_items.csv", lambda path: services.import_items(standard, path, drop_unknown_units=True)),
            ("sample_weights.csv", lambda path: services.import_weights(standard, path)),
            ("sample_rules.csv", lambda path: services.import_rules(standard, path)),
        ):
            report = load(DATA / name)
            if not report.ok:
                raise SampleError(f"{name}: " + "；".join(str(e) for e in report.errors))
        categories = list(Category.objects.filter(kind="matter", active=True))
        for item in standard.items.prefetch_related("categories"):
            words = ITEM_CATEGORIES.get(item.code, ())
            if not words or item.categories.exists():
                continue
            matches = [c for c in categories if any(w in c.name for w in words)]
            if matches:
                item.categories.set(matches[:4])
        if not Standard.objects.filter(status=StandardStatus.ACTIVE).exists():
            services.activate_standard(standard)
    return standard
