"""R7 roster titles: does a subject's title name 信息员 as a roster mail does, and whom?

Units send their officers' (信息员) names to the mailbox ("站所名称+信息员名字"): 信息员名单,
信息员张三, 报送信息员, 张三（信息员）… A title that merely mentions 信息员
(信息员培训会, 信息员队伍建设) is news, not a roster mail.
"""

from __future__ import annotations

import re

from mailroom.rules.folding import CLOSE, EDGE, HAN, OPEN, fold

_ROSTER_VERB = r"(?:关于)?(?:报送|上报|拟定|确定|更新|变更|调整|新增|更换|推荐|备案)?的?"
_UNIT_SUFFIX = r"(?:股|站|室|队|中心|场|局|所|科|办|院|组)"
_ROSTER_OWNER = rf"(?:本单位|我单位|单位|{HAN}{{1,15}}?{_UNIT_SUFFIX})?的?"
_ROSTER_BEFORE = re.compile(rf"{_ROSTER_VERB}{_ROSTER_OWNER}")
_ROSTER_AFTER_WORD = re.compile(
    r"名单|名字|姓名|人选|人员|联系|变更|调整|报备|备案|信息表|登记表"
)
_NOT_A_NAME = re.compile(  # 信息员培训会 is news, not a name
    r"培训|会议|工作|队伍|业务|考核|座谈|交流|学习|大会|能力|素质|表彰|评选|专题|例会|培养"
)
_NAMES = re.compile(rf"{HAN}{{2,4}}(?:[\s,，、]+{HAN}{{2,4}})*(?:{OPEN}.*{CLOSE})?[\d\s-]*")

_DOTS = "·•・‧"  # the 间隔号 of transliterated names, as IMEs type it
_NAME = re.compile(  # a name ends where the Han characters do, or before 的 (张三的报告)
    rf"(?:{HAN}{{1,6}}(?:[{_DOTS}]{HAN}{{1,8}})+|{HAN}{{2,4}})(?=的|[^\u4e00-\u9fff{_DOTS}]|$)"
)
_CHANGED_TO = re.compile(r"(?:变更|更换|调整)?[为是]")  # 信息员变更为张三, 信息员为张三
_NOT_A_NAME_START = re.compile(r"[的及和与等]")


def is_roster_title(title: str) -> bool:
    """R7: the title names 信息员 as a roster does (信息员名单, 信息员张三, 报送信息员…)."""
    folded = fold(title).strip()
    position = folded.find("信息员")
    if position < 0:
        return False
    before = folded[:position].rstrip(EDGE + "[【〔(")
    after = folded[position + 3:].lstrip(EDGE + "]】〕)")
    if _ROSTER_BEFORE.fullmatch(before) is None and not _bracketed_name(folded, position):
        return False
    if not after or _ROSTER_AFTER_WORD.match(after) or re.fullmatch(r"[\d\s-]+", after):
        return True
    return _NAMES.fullmatch(after) is not None and _NOT_A_NAME.match(after) is None


def _bracketed_name(folded: str, position: int) -> bool:
    """张三（信息员）."""
    return re.fullmatch(rf"{HAN}{{2,4}}\s*{OPEN}", folded[:position]) is not None


def officer_name(title: str) -> str | None:
    """The officer a roster title names, as written: 信息员张三, 信息员：李四,
    信息员变更为王五, 张三（信息员）. None for 信息员名单 and every title naming nobody."""
    folded = fold(title)
    for found in re.finditer("信息员", folded):
        span = _name_after(folded, found.end()) or _name_before(folded, found.start())
        if span is not None:
            return title[span[0]:span[1]]
    return None


def _name_after(folded: str, end: int) -> tuple[int, int] | None:
    start = end
    while start < len(folded) and folded[start] in EDGE + "]】〕)":
        start += 1
    changed = _CHANGED_TO.match(folded, start)
    if changed is not None:
        start = changed.end()
    elif _ROSTER_AFTER_WORD.match(folded, start) or _NOT_A_NAME.match(folded, start):
        return None
    name = None if _NOT_A_NAME_START.match(folded, start) else _NAME.match(folded, start)
    return name.span() if name else None


def _name_before(folded: str, start: int) -> tuple[int, int] | None:
    match = re.fullmatch(rf"\s*({HAN}{{2,4}})\s*{OPEN}\s*", folded[:start])
    return match.span(1) if match else None
