"""The templated series of variants C and D, as a bureau's units write them: only the
specifics (dates, figures, places, people) change from one issue to the next.

    .venv/bin/python benchmarks/dedupe_set/make.py c   # writes c/families.toml, c/items.toml

`issues` returns each issue's slot values; a seeded `random.Random` makes them, so the
set is the same every time. Three series per variant: a daily log, a ten-day report and
a weekly patrol report of several units.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

TOWNS = ("杨和镇", "李俊镇", "望洪镇", "望远镇", "闽宁镇", "胜利乡")
VILLAGES = {
    "杨和镇": ("纳家户村", "红星村", "东全村", "旺全村"),
    "李俊镇": ("金星村", "宁化村", "雷台村", "东方村"),
    "望洪镇": ("新华村", "北方村", "增岗村", "南方村"),
    "望远镇": ("板桥村", "通贵村", "丰盈村", "望远村"),
    "闽宁镇": ("原隆村", "木兰村", "园艺村", "福宁村"),
    "胜利乡": ("胜利村", "烟墩村", "八里桥村", "永红村"),
}
SURNAMES = "马王李张刘杨何周田孙赵陈郭苏吴黄"
GIVEN = ("建国", "海军", "文秀", "玉兰", "志强", "小红", "永福", "金花", "国庆", "德胜",
         "春梅", "学军", "有才", "秀英", "长青", "晓东")


def person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def cn_date(day: date) -> str:
    return f"{day.month}月{day.day}日"


@dataclass(frozen=True)
class Series:
    key: str
    title: str
    paragraphs: tuple[str, ...]


DAILY = Series(
    "rz", "自然资源执法巡查日志（{date}）",
    ("{date}，执法大队{leader}带队，{people}名队员分两组对{town1}、{town2}辖区开展日常动态巡查，"
     "行程{km}公里，核查卫片图斑{spots}个。",
     "{finding}",
     "当日巡查共发现问题{problems}处，已全部登记台账并{handled}。{tomorrow}"),
)
DAILY_FINDINGS = (
    "在{town1}{village}发现一处疑似违法占地建房，当事人{person}未经批准在承包地内建设彩钢房约"
    "{area}平方米，队员当场下达《责令停止违法行为通知书》，要求其{days}日内自行拆除。",
    "在{town2}{village}黄河滩地发现{count}台挖掘机非法取土，现场暂扣机械{count}台，"
    "取土坑面积约{area}平方米，已移交县公安局{branch}派出所调查处理。",
    "对{town1}{village}此前立案的{person}违法建房案进行复查，当事人已按要求拆除违建{area}平方米，"
    "恢复耕地{mu}亩。",
    "在{town2}{village}发现有人在基本农田内堆放建筑垃圾约{area}立方米，经查系{person}所为，"
    "已责令其{days}日内清运完毕并恢复种植条件。",
    "巡查{town1}{village}设施农业项目{count}个，发现{person}经营的养殖场擅自扩建看护房{area}平方米，"
    "超出备案面积，已责令整改。",
)
DAILY_HANDLED = ("分别下达整改通知", "录入执法监管平台", "报大队长审核", "通报属地乡镇政府")
DAILY_NEXT = ("次日将重点巡查{town2}黄河沿岸。", "次日将对{town1}复垦地块开展回头看。",
              "次日将配合{town1}政府开展联合执法。", "")

TEN_DAY = Series(
    "xb", "全县矿产资源开发秩序旬报（{month}月{third}旬）",
    ("{month}月{third}旬，执法大队对全县{mines}家持证矿山企业开展巡查，出动执法人员{people}人次、"
     "车辆{cars}台次，重点检查了{focus}。",
     "本旬共发现无证开采、越界开采等违法行为{cases}起，{detail}立案查处{filed}起，"
     "罚没款{fine}万元。",
     "全县持证矿山本旬累计开采砂石{volume}万立方米，{safety}"),
)
TEN_DAY_FOCUS = ("贺兰山东麓砂石矿的开采边界和生态修复", "黄河沿岸的河道采砂和砂石堆场",
                 "停产整顿矿山的封停措施落实", "矿山企业的安全生产和扬尘治理")
TEN_DAY_DETAIL = ("其中在{town1}发现{count}处夜间盗采点，", "均已责令停止违法行为，",
                  "其中{person}无证开采案已移送公安机关，", "")
TEN_DAY_SAFETY = ("未发生安全生产事故。", "督促{count}家企业完成边坡治理。",
                  "对{count}家企业下达了整改通知。")

WEEKLY = Series(
    "fh", "{unit}森林防火巡护周报（{period}）",
    ("{period}，{unit}组织护林员{rangers}人对辖区{area}亩林地开展森林防火巡护，"
     "累计巡护{patrols}人次，设置临时检查站{posts}处。",
     "本周在{village}{finding}",
     "本周辖区{fires}。下周将{next}"),
)
WEEKLY_FINDINGS = ("劝阻野外用火{count}起，清理林下可燃物约{tons}吨。",
                   "发现并制止林区吸烟{count}人次，发放防火宣传单{flyers}份。",
                   "排查坟头用火隐患{count}处，与{count}户村民签订防火承诺书。",
                   "检查进山车辆{count}台次，登记进山人员{flyers}人。")
WEEKLY_FIRES = ("未发生森林火情", "未发生森林火灾", "发生林下火情1起，已及时扑灭，未造成损失")
WEEKLY_NEXT = ("加强重点时段值守。", "开展扑火队应急演练。", "清理林缘地带杂草。",
               "配合村委会开展入户宣传。")


def _fill(rng: random.Random, slots: dict[str, str]) -> dict[str, str]:
    town1, town2 = rng.sample(TOWNS, 2)
    slots.setdefault("town1", town1)
    slots.setdefault("town2", town2)
    slots.setdefault("village", rng.choice(VILLAGES[slots["town1"]]))
    slots.setdefault("person", person(rng))
    slots.setdefault("count", str(rng.randint(2, 9)))
    slots.setdefault("area", str(rng.randint(3, 90) * 10))
    return slots


def daily(rng: random.Random, day: date) -> dict[str, str]:
    slots = _fill(rng, {"date": cn_date(day)})
    slots.update(leader=person(rng), people=str(rng.randint(4, 12)),
                 km=str(rng.randint(40, 180)), spots=str(rng.randint(3, 25)),
                 problems=str(rng.randint(1, 4)), days=str(rng.choice((3, 5, 7, 10))),
                 mu=f"{rng.randint(2, 40) / 10:.1f}", branch=slots["town2"][:2],
                 handled=rng.choice(DAILY_HANDLED))
    slots["finding"] = rng.choice(DAILY_FINDINGS).format(**slots)
    slots["tomorrow"] = rng.choice(DAILY_NEXT).format(**slots)
    return slots


def ten_day(rng: random.Random, month: int, third: int) -> dict[str, str]:
    slots = _fill(rng, {"month": str(month), "third": "上中下"[third]})
    slots.update(mines=str(rng.randint(14, 19)), people=str(rng.randint(30, 80)),
                 cars=str(rng.randint(10, 30)), focus=rng.choice(TEN_DAY_FOCUS),
                 cases=str(rng.randint(1, 6)), filed=str(rng.randint(0, 3)),
                 fine=f"{rng.randint(5, 150) / 10:.1f}", volume=f"{rng.randint(30, 95) / 10:.1f}")
    slots["detail"] = rng.choice(TEN_DAY_DETAIL).format(**slots)
    slots["safety"] = rng.choice(TEN_DAY_SAFETY).format(**slots)
    return slots


def weekly(rng: random.Random, unit: str, town: str, start: date) -> dict[str, str]:
    end = start + timedelta(days=6)
    slots = _fill(rng, {"unit": unit, "town1": town,
                        "period": f"{cn_date(start)}至{cn_date(end)}"})
    slots.update(rangers=str(rng.randint(12, 40)), patrols=str(rng.randint(60, 300)),
                 posts=str(rng.randint(2, 8)), tons=f"{rng.randint(5, 60) / 10:.1f}",
                 flyers=str(rng.randint(50, 600)), fires=rng.choice(WEEKLY_FIRES),
                 next=rng.choice(WEEKLY_NEXT))
    slots["area"] = {"望洪林业站": "21000", "李俊林业站": "18600", "黄河生态林场": "32500"}.get(
        unit, "20000")
    slots["finding"] = rng.choice(WEEKLY_FINDINGS).format(**slots)
    return slots
