"""Realistic Chinese submission text for dedupe tests: sample articles and a weekly report
template whose instances must stay distinct (hard negatives)."""

from __future__ import annotations

from mailroom.sample import articles as a

WEEKLY_TITLE = "{town}森林防火巡查周报（{month}月{start}日—{month}月{end}日）"
WEEKLY_BODY = (
    "{month}月{start}日至{month}月{end}日，{station}组织护林员{people}人，对{town}辖区{area}重点林区"
    "开展森林防火巡查，累计巡查{km}公里，清理林下可燃物{tons}吨，发放宣传资料{leaflets}份，"
    "排查火灾隐患{risks}处，已整改{fixed}处。本周未发生森林火情。\n"
    "下一步，{station}将继续加强野外火源管控，严格落实24小时值班和领导带班制度，确保林区安全。"
)


def weekly(town: str, station: str, area: str, month: int, start: int, people: int,
           km: int, tons: float, leaflets: int, risks: int, fixed: int) -> tuple[str, str]:
    """(title, body) of one week's patrol report."""
    values = dict(town=town, station=station, area=area, month=month, start=start,
                  end=start + 6, people=people, km=km, tons=tons, leaflets=leaflets,
                  risks=risks, fixed=fixed)
    return WEEKLY_TITLE.format(**values), WEEKLY_BODY.format(**values)


ORIGINAL = a.JIBEN_NONGTIAN
JOINT_FIRST, JOINT_SECOND = a.TUIJINHUI, a.TUIJINHUI_OFFICE
OTHER = a.BUZHI
# JOINT_FIRST re-sent corrected by another unit (other figures and dates, a sentence added):
# near it but not the same, so `suspected` (R3) for the office to confirm; JOINT_SECOND, the
# office's own write-up of the same meeting, is an automatic duplicate (the same event retold)
CORRECTED_TITLE = JOINT_FIRST.title
CORRECTED_TEXT = (JOINT_FIRST.text().replace("22个", "24个").replace("5月31日", "6月10日")
                  .replace("会议强调", "会上，各乡镇作了表态发言。\n　　会议强调"))
