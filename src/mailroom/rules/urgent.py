"""R5: the elements an urgent report must carry, checked with configurable keyword rules.

The notice (item 13) lists them: 信息来源、事发时间及地点、事件起因和性质、伤亡人数、财产损失、
基本过程、已造成的后果、影响范围、事件发展趋势、相关领导是否到位、已采取的初步处置措施、
下一步工作措施、责任单位信息员的姓名和联系方式. Time and place, and name and phone, are checked
apart so the receipt can say exactly which is missing.

An element is present when any of its keywords matches the report's text (title, body and
attachment text). Keywords are regular expressions; a plain word matches itself. The
rules are deliberately generous: a receipt that wrongly names an element as missing costs
a reporter a second look, one that wrongly passes a report costs the office a phone call.

A deferral does not supply an element. A first report often says what it does not know
yet: "财产损失正在核实", "伤亡情况正在统计", "核实过火面积和林木受害情况后续报". A match
inside a clause (the text between ，。；！？ and line ends) that carries a deferral word
(待核实, 正在统计, 尚不清楚, 不详, 后续报, 另行报告…) does not count, so the element is still
to report unless the report states it elsewhere. A clause that is nothing but the deferral
("伤亡和财产损失情况，目前正在核实") defers the clause before it when that one names what
is deferred (…情况, …人数, …原因). Deferral words are read narrowly, so a stated element is
not lost by accident: "经初步核实，无人员伤亡" states, "正在组织扑救" is not a deferral.
Burned area (过火面积) is the fire's extent (影响范围), not a loss figure: it does not
supply 财产损失.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Protocol


@dataclass(frozen=True)
class Element:
    name: str  # as the receipt and the alert show it
    keywords: tuple[str, ...]  # regular expressions; any match means present


_NUMBER = r"[0-9０-９一二三四五六七八九十两百千]+"
_PLACE_WORDS = (r"村|镇|乡|街道|社区|林场|林区|山|沟|河|湖|水库|矿|"
                r"路段|公路|小区|工地|地块|点位|区域|景区")

_TIME = (rf"{_NUMBER}\s*[时点](许|左右|{_NUMBER}分)?", r"\d{1,2}\s*[:：]\s*\d{2}",
         rf"{_NUMBER}月{_NUMBER}[日号]",
         r"今[日天晨早]|昨[日天晚]|凌晨|上午|中午|下午|傍晚|晚上|夜间")
_LEADER_ON_SITE = (r"领导.{0,12}(到位|赶赴|到达|在场|现场|坐镇|指挥)",
                   r"(局长|书记|县长|镇长|乡长|主任|场长|站长|队长)[^。；]{0,30}"
                   r"(赶赴|到达|赶到|现场|带队|带领|坐镇)")
_REPORTER = r"(信息员|报告人|联系人|报送人|填报人|撰稿)[:：\s]*[\u4e00-\u9fff·]{2,4}"

DEFAULT_ELEMENTS: tuple[Element, ...] = (
    Element("信息来源", (r"来源", r"据.{0,12}(报告|反映|报称|介绍|通报)", r"接到", r"接报",
                     r"接.{0,12}(电话|报告|反映|报称|举报|报警)",
                     r"获悉", r"报告称", r"举报", r"(巡查|巡护|检查|排查).{0,4}发现",
                     r"监测(到|发现)")),
    Element("事发时间", _TIME),
    Element("事发地点", (r"地点", r"位于", _PLACE_WORDS)),
    Element("事件起因和性质", (r"起因", r"原因", r"由于", r"因.{1,20}(引发|导致|造成|所致)",
                        r"引发", r"性质", r"初步(判断|认定|查明)", r"系.{1,20}(引起|所致|造成)")),
    Element("伤亡人数", (r"伤亡", r"死亡", r"受伤", r"遇难", r"失踪", r"伤者", r"无人员")),
    Element("财产损失", (r"损失", r"损毁", r"毁坏", r"烧毁", r"受损", r"万元", r"倒塌", r"冲毁",
                     r"(林木|森林|林地|幼树|苗木)受害", r"受害(森林|林木|林地)?面积")),
    Element("基本过程", (r"经过", r"过程", r"随即", r"随后", r"赶赴", r"到达现场", r"赶到")),
    Element("已造成的后果", (r"后果", r"造成", r"致使", r"导致", r"烧毁", r"损毁", r"受灾")),
    Element("影响范围", (r"范围", r"面积", r"波及", r"涉及", r"影响")),
    Element("事件发展趋势", (r"趋势", r"态势", r"(得到|已被?).{0,4}控制", r"扑灭", r"熄灭", r"明火",
                       r"蔓延", r"可控", r"险情.{0,4}解除", r"进一步发展", r"稳定")),
    Element("相关领导是否到位", _LEADER_ON_SITE),
    Element("已采取的处置措施", (r"措施", r"处置", r"采取", r"扑救", r"疏散", r"封锁", r"转移",
                         r"抢修", r"救援", r"警戒")),
    Element("下一步工作措施", (r"下一步", r"下步", r"接下来", r"后续",
                        r"将(进一步|继续|加强|持续)", r"拟")),
    Element("信息员姓名", (_REPORTER,)),
    Element("联系电话", (r"1[3-9]\d{9}", r"\d{3,4}-?\d{7,8}", r"\b\d{7,8}\b", r"电话[:：\s]*\d")),
)


# After NFKC the full-width ，；！？：are ASCII; 。 and 、 stay.
_CLAUSE = re.compile(r"[^。;!?,\n]+")
_DEFERRAL = re.compile(
    r"(?:待|有待|尚待)(?:进一步)?(?:核实|核查|核定|查明|查|调查|确认|确定|评估|统计|清点)"
    r"|(?:正在|正|尚在|仍在)(?:进一步)?(?:核实|核查|核定|调查|统计|评估|清点|查明)"
    r"|(?:正在|尚在|仍在)(?:进一步)?确认"  # not 正确认识
    r"|(?:核实|核查|调查|统计|评估|清点)(?:之)?中(?![\u4e00-\u9fff])"  # not 调查中发现
    r"|(?:尚|暂|还)?不(?:清楚|明确|详)|尚未(?:查明|确定|统计|核实|掌握|核定)"
    r"|暂(?:无法|未能?)(?:确定|统计|估算|核实|查明)"
    r"|后续报|另行(?:报告|上报|续报|报送)|(?:随后|稍后|适时|及时|再行?)续报"
)
_BARE_DEFERRAL = re.compile(  # "目前正在进一步核实中": nothing but the deferral
    rf"(?:目前|现在|现|均|都|仍|尚|还|暂|具体)*(?:{_DEFERRAL.pattern})+(?:中|之中)?"
)
_DEFERRED_SUBJECT = re.compile(r"(?:情况|人数|数量|数字|原因|损失|面积|范围|程度|结果)$")


class ElementSetting(Protocol):  # read-only members: the frozen settings satisfy them
    @property
    def name(self) -> str: ...

    @property
    def keywords(self) -> Sequence[str]: ...


class UrgentSettingsLike(Protocol):
    @property
    def elements(self) -> Sequence[ElementSetting] | None: ...


def elements_from(settings: UrgentSettingsLike) -> tuple[Element, ...]:
    """The configured `[[urgent.elements]]`, else the defaults above."""
    if settings.elements is None:
        return DEFAULT_ELEMENTS
    return tuple(Element(e.name, tuple(e.keywords)) for e in settings.elements)


@cache
def _compiled(keywords: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{keyword})" for keyword in keywords))


def missing_elements(text: str, elements: Iterable[Element] = DEFAULT_ELEMENTS) -> list[str]:
    """The names of the elements no keyword of which is stated in `text` (matched outside
    a deferring clause), in rule order."""
    folded = unicodedata.normalize("NFKC", text)
    deferred = deferred_spans(folded)
    return [e.name for e in elements if not _stated(e, folded, deferred)]


def _stated(element: Element, folded: str, deferred: Sequence[tuple[int, int]]) -> bool:
    if not element.keywords:
        return False
    return any(not any(start <= m.start() < end for start, end in deferred)
               for m in _compiled(element.keywords).finditer(folded))


def deferred_spans(folded: str) -> list[tuple[int, int]]:
    """The (start, end) of every clause of an NFKC-folded text that defers what it names."""
    spans: list[tuple[int, int]] = []
    clauses = list(_CLAUSE.finditer(folded))
    for index, clause in enumerate(clauses):
        if _DEFERRAL.search(clause.group()) is None:
            continue
        spans.append(clause.span())
        before = clauses[index - 1] if index else None
        if before is not None and _defers_the_clause_before(folded, before, clause):
            spans.append(before.span())
    return spans


def _defers_the_clause_before(folded: str, before: re.Match[str], clause: re.Match[str]) -> bool:
    """A bare deferral after a comma defers what the clause before names
    ("伤亡和财产损失情况，目前正在核实")."""
    return (folded[before.end():clause.start()] == ","
            and _BARE_DEFERRAL.fullmatch(clause.group().strip()) is not None
            and _DEFERRED_SUBJECT.search(before.group().strip()) is not None)
