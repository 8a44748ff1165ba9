"""What an outgoing mail says, as plain values: built from the database by outgoing.py
after the decision, rendered by compose.py. Pure: no session, no clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mailroom.vocabulary import COUNTING, WarningCode

# Submission warning codes (pipeline, rules/checks.py) → the receipt's Chinese wording.
WARNING_TEXT: Mapping[str, str] = {
    "attachment_name": "未见以“单位+信息标题”命名的附件，请按“单位+信息标题”命名附件",
    "electronic_version": "未附电子版（doc、docx、wps 或 txt）",
    "signed_scan": "未附分管领导签字的扫描件（pdf、jpg 或 png）",
    "unit_from_sender": "主题中未写单位，已按发件人登记的单位计",
    "no_unit": "主题中未识别出单位",
    "unknown_sender": "发件邮箱尚未登记为信息员",
    "sender_authentication_failed": "发件人身份验证未通过",
}

PRIORITY_TEXT: Mapping[str, str] = {"urgent": "紧急", "important": "重要", "general": "一般"}


@dataclass(frozen=True)
class ItemRef:
    """Another submission a receipt points to (the first report, the 初报)."""

    number: str
    unit: str | None
    received_at: str  # local time, "YYYY-MM-DD HH:MM"


@dataclass(frozen=True)
class ReceiptFacts:
    number: str
    unit: str | None
    title: str
    status: str  # counted | suspected | duplicate | unassigned | rejected
    priority: str  # urgent | important | general
    followup: str | None  # 续报 / 终报 …
    received_at: str
    attachments: tuple[str, ...]
    warnings: tuple[str, ...]  # codes, see WARNING_TEXT
    rejected_by: tuple[str, ...]  # the warnings configured to reject
    missing_elements: tuple[str, ...]  # R5 elements an urgent report lacks
    duplicate_of: ItemRef | None
    score: float | None
    followup_of: ItemRef | None
    month: str  # "YYYY-MM"
    counted_this_month: int  # the unit's counted + suspected items this month
    quota: int | None  # the unit's monthly quota; None without a unit
    registered: bool  # the sender is a registered reporter
    unit_example: str  # a configured unit name, for the how-to-fix text

    @property
    def counts(self) -> bool:
        return self.status in COUNTING

    @property
    def subject_word(self) -> str:
        return {"counted": "已计数", "suspected": "疑似重复", "duplicate": "重复不计数",
                "unassigned": "未识别单位", "rejected": "未计数"}.get(self.status, self.status)

    def warning_texts(self) -> list[str]:
        return [WARNING_TEXT.get(code, code) for code in self.warnings
                if code not in self.rejected_by]

    def rejection_texts(self) -> list[str]:
        return [WARNING_TEXT.get(code, code) for code in self.rejected_by]

    def status_text(self) -> str:
        """One sentence: counted or not, and why (R6)."""
        return _STATUS_TEXT.get(self.status, _other_status)(self)

    @property
    def priority_text(self) -> str:
        return PRIORITY_TEXT.get(self.priority, self.priority)


@dataclass(frozen=True)
class RosterFacts:
    registered: bool
    unit: str | None
    name: str
    address: str
    why: str  # when not registered
    unit_example: str


def receipt_subject(facts: ReceiptFacts) -> str:
    """Distinct per receipt (the number is in it): NetEase rejects runs of identical
    subjects as spam (554 DT:SPM)."""
    return f"回执 {facts.number}：{facts.subject_word}｜{_short(facts.title)}"


def alert_subject(facts: ReceiptFacts) -> str:
    unit = facts.unit or "未识别单位"
    followup = f"（{facts.followup}）" if facts.followup else ""
    return f"【紧急信息】{facts.number} {unit}：{_short(facts.title)}{followup}"


def roster_subject(facts: RosterFacts) -> str:
    if facts.registered:
        return f"信息员登记确认：{facts.unit} {facts.name or facts.address}"
    return f"信息员登记未完成：{facts.address}"


def _short(title: str, limit: int = 40) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


def rejected_checks(warnings: Sequence[str], actions: Mapping[str, str]) -> tuple[str, ...]:
    """The warnings that made a submission `rejected`: checks configured to reject, and
    failed sender authentication."""
    return tuple(code for code in warnings
                 if actions.get(code) == "reject"
                 or code == WarningCode.SENDER_AUTHENTICATION_FAILED)


def _ref(ref: ItemRef | None) -> str:
    if ref is None:
        return "（未找到）"
    return f"{ref.number}（{ref.unit or '未识别单位'}，{ref.received_at}）"


def _similarity(facts: ReceiptFacts) -> str:
    return f"（相似度 {facts.score:.0f}）" if facts.score is not None else ""


def _counted(facts: ReceiptFacts) -> str:
    if facts.followup_of is not None:
        return f"状态：已计数（{facts.followup or '续报'}，已关联初报 {_ref(facts.followup_of)}）。"
    return "状态：已计数。"


def _suspected(facts: ReceiptFacts) -> str:
    return (f"状态：疑似重复。与 {_ref(facts.duplicate_of)}内容相近{_similarity(facts)}，"
            "暂予计数，待办公室确认。")


def _duplicate(facts: ReceiptFacts) -> str:
    return (f"状态：重复，不计数。与 {_ref(facts.duplicate_of)}内容基本相同{_similarity(facts)}；"
            "按“首报”规定，只计首报。")


def _unassigned(facts: ReceiptFacts) -> str:
    return ("状态：未识别单位，暂不计入任何单位。请以“单位+信息标题”为邮件主题重新报送，"
            f"例如“{facts.unit_example}+{facts.title}”。")


def _rejected(facts: ReceiptFacts) -> str:
    reasons = "；".join(facts.rejection_texts()) or "不符合报送要求"
    return f"状态：未计数。原因：{reasons}。请补正后重新报送。"


def _other_status(facts: ReceiptFacts) -> str:
    return f"状态：{facts.status}。"


_STATUS_TEXT = {"counted": _counted, "suspected": _suspected, "duplicate": _duplicate,
                "unassigned": _unassigned, "rejected": _rejected}
