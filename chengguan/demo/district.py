"""The demo district's organisation, as data.

Names are invented (示例区 …) and clearly fictional; the shape follows the seed: one
comprehensive enforcement bureau, a committee of 42 member units (10 towns/subdistricts, 22
departments, 10 utilities), a brigade per town/subdistrict, 27 units in the grid system (the
10 territories and 17 departments), 550 assistants and 160 bicycle assistants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DISTRICT = "示例区"


@dataclass(frozen=True)
class UnitSpec:
    code: str
    name: str
    kind: str
    parent: str | None = None
    territory: str | None = None
    domains: tuple[str, ...] = ()
    committee: bool = False
    in_grid: bool = False
    short: str = ""


BUREAU = UnitSpec(
    "BUR",
    f"{DISTRICT}城市管理综合行政执法局",
    "bureau",
    short="综合执法局",
    domains=(
        "sanitation",
        "planning",
        "greening",
        "municipal",
        "environment",
        "market",
        "traffic",
        "housing",
        "property",
    ),
)
COMMITTEE = UnitSpec("CGW", f"{DISTRICT}城乡综合管理委员会", "committee", short="城管委")

# (code suffix, name, kind) — eight subdistricts and two towns with their population centres.
TERRITORIES: list[tuple[str, str, str]] = [
    ("01", "东岭街道", "subdistrict"),
    ("02", "西苑街道", "subdistrict"),
    ("03", "南湖街道", "subdistrict"),
    ("04", "北桥街道", "subdistrict"),
    ("05", "中和街道", "subdistrict"),
    ("06", "长青街道", "subdistrict"),
    ("07", "新华里街道", "subdistrict"),
    ("08", "锦河街道", "subdistrict"),
    ("09", "石门镇", "town"),
    ("10", "白杨镇", "town"),
]

# (code, name, domains, in grid) — 22 departments; 17 take part in the grid system.
DEPARTMENTS: list[tuple[str, str, tuple[str, ...], bool]] = [
    ("D01", "区环境卫生服务中心", ("sanitation",), True),
    ("D02", "区市政设施管理中心", ("municipal",), True),
    ("D03", "区园林绿化服务中心", ("greening",), True),
    ("D04", "区住房和城乡建设局", ("housing", "planning"), True),
    ("D05", "区自然资源分局", ("planning",), True),
    ("D06", "区生态环境分局", ("environment",), True),
    ("D07", "区市场监督管理局", ("market",), True),
    ("D08", "区交通运输局", ("traffic",), True),
    ("D09", "区公安分局交警大队", ("traffic",), True),
    ("D10", "区公安分局", (), True),
    ("D11", "区应急管理局", (), True),
    ("D12", "区林业和草原局", ("greening",), True),
    ("D13", "区房产服务中心", ("housing",), True),
    ("D14", "区物业管理办公室", ("property",), True),
    ("D15", "区水利局", ("environment",), True),
    ("D16", "区消防救援大队", (), True),
    ("D17", "区商务局", ("market",), True),
    ("D18", "区教育局", (), False),
    ("D19", "区卫生健康委员会", (), False),
    ("D20", "区文化和旅游局", (), False),
    ("D21", "区民政局", (), False),
    ("D22", "区农牧局", (), False),
]

# (code, name) — the water, heat, power, gas and telecom companies (水热电气讯).
UTILITIES: list[tuple[str, str]] = [
    ("U01", "示例水务供水有限公司"),
    ("U02", "示例水务排水有限公司"),
    ("U03", "示例热力有限公司"),
    ("U04", "示例供电分公司"),
    ("U05", "示例燃气有限公司"),
    ("U06", "示例电信分公司"),
    ("U07", "示例移动分公司"),
    ("U08", "示例联通分公司"),
    ("U09", "示例广电网络分公司"),
    ("U10", "示例路灯照明运维有限公司"),
]

VILLAGES_PER_TERRITORY = 4
VILLAGE_SUFFIXES = ("社区", "社区", "村", "社区")
VILLAGE_PREFIXES = (
    "光明",
    "和平",
    "幸福",
    "团结",
    "友谊",
    "振兴",
    "丰收",
    "阳光",
    "育才",
    "康宁",
    "红星",
    "向阳",
    "兴隆",
    "永安",
    "富民",
    "安居",
    "新风",
    "春晖",
    "福源",
    "明珠",
)


def territory_code(suffix: str) -> str:
    return f"T{suffix}"


def brigade_code(suffix: str) -> str:
    return f"B{suffix}"


def units() -> list[UnitSpec]:
    """Every unit of the demo district, parents before children."""
    specs = [BUREAU, COMMITTEE]
    for suffix, name, kind in TERRITORIES:
        specs.append(UnitSpec(territory_code(suffix), name, kind, committee=True, in_grid=True, domains=()))
    for code, name, domains, in_grid in DEPARTMENTS:
        parent = "BUR" if code in {"D01", "D02", "D03"} else None
        specs.append(
            UnitSpec(
                code, name, "department", parent=parent, domains=domains, committee=True, in_grid=in_grid
            )
        )
    for code, name in UTILITIES:
        specs.append(UnitSpec(code, name, "utility", committee=True))
    for suffix, name, _kind in TERRITORIES:
        # Brigades belong to the bureau (they act in its name) and work in one territory.
        specs.append(
            UnitSpec(
                brigade_code(suffix),
                f"{name}综合行政执法中队",
                "brigade",
                parent="BUR",
                territory=territory_code(suffix),
                domains=("sanitation", "planning", "market", "traffic", "property"),
            )
        )
    index = 0
    for suffix, name, _kind in TERRITORIES:
        for n in range(VILLAGES_PER_TERRITORY):
            base = VILLAGE_PREFIXES[index % len(VILLAGE_PREFIXES)]
            index += 1
            village_suffix = VILLAGE_SUFFIXES[n] if name.endswith("镇") else "社区"
            specs.append(
                UnitSpec(
                    f"V{suffix}{n + 1:02d}",
                    f"{name[:2]}{base}{village_suffix}",
                    "village",
                    parent=territory_code(suffix),
                    territory=territory_code(suffix),
                )
            )
    return specs


@dataclass(frozen=True)
class StaffPlan:
    role: str
    unit: str
    count: int
    prefix: str
    equipment: tuple[str, ...] = ()
    vehicle: str | None = None
    logins: int = 0  # the first N get a demo login


def staff_plans() -> list[StaffPlan]:
    plans: list[StaffPlan] = []
    # 550 assistants and 160 bicycle assistants spread over the ten brigades as the seed's
    # district hired them: 55 and 16 per territory.
    for suffix, _name, _kind in TERRITORIES:
        brigade = brigade_code(suffix)
        plans.append(
            StaffPlan(
                "assistant", brigade, 55, f"XG{suffix}", ("terminal",), None, 1 if suffix == "01" else 0
            )
        )
        plans.append(StaffPlan("bicycle_assistant", brigade, 16, f"ZX{suffix}", ("terminal",), "bicycle"))
        plans.append(StaffPlan("officer", brigade, 8, f"ZF{suffix}", ("recorder",), None))
        plans.append(
            StaffPlan(
                "inspector",
                brigade,
                6,
                f"XC{suffix}",
                ("terminal", "camera"),
                "ebike",
                1 if suffix == "01" else 0,
            )
        )
    plans += [
        StaffPlan("operator", "BUR", 6, "SL", (), None, 1),
        StaffPlan("shift_leader", "BUR", 3, "ZB", (), None, 1),
        StaffPlan("dispatcher", "BUR", 6, "PQ", (), None, 1),
        StaffPlan("assessor", "CGW", 5, "KP", (), None, 1),
        StaffPlan("leader", "BUR", 3, "LD", (), None, 1),
        StaffPlan("administrator", "BUR", 2, "GL", (), None, 0),
    ]
    for code, _name, _domains, _in_grid in DEPARTMENTS:
        plans.append(StaffPlan("handler", code, 2, f"CZ{code}", (), None, 1 if code == "D01" else 0))
    for code, _name in UTILITIES:
        plans.append(StaffPlan("handler", code, 2, f"CZ{code}", (), None))
    return plans


SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史"
    "顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩"
    "凯健俊帆帅旭宁欣悦晨阳泽"
)


@dataclass
class NameMaker:
    """Deterministic Chinese-looking names: surname + one or two given characters."""

    state: int = 20261125
    used: set[str] = field(default_factory=set)

    def _next(self) -> int:
        # A fixed linear congruential sequence: the same names on every machine and Python.
        self.state = (self.state * 1103515245 + 12345) % (2**31)
        return self.state

    def make(self) -> str:
        while True:
            surname = SURNAMES[self._next() % len(SURNAMES)]
            given = GIVEN[self._next() % len(GIVEN)]
            if self._next() % 3:
                given += GIVEN[self._next() % len(GIVEN)]
            name = surname + given
            if name not in self.used or len(self.used) > 5000:
                self.used.add(name)
                return name
