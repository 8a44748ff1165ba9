"""What a reporter types: the text of an item after edits and reformatting, the mail body
(cover notes, greetings, signature blocks, quoted forwards and replies in each client's
own style) and the subject. Pure functions of an `Item` and its earlier items.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta

from dedupe_set.data import Item

MAILBOX = "ynlyj452@126.com"
INDENT = "\u3000\u3000"
_HALF = str.maketrans({"，": ",", "。": ".", "：": ":", "；": ";", "（": "(", "）": ")",
                       "“": '"', "”": '"', "！": "!", "？": "?", "、": ","})
_FULL = str.maketrans({c: chr(ord(c) + 0xFEE0) for c in "0123456789%."})
_CJK_DIGIT = re.compile(r"(?<=[\u4e00-\u9fff])(?=\d)|(?<=\d)(?=[\u4e00-\u9fff])")


def pick(item_id: str, salt: str, options: int) -> int:
    """A stable choice among `options`, different per item and purpose."""
    return int(hashlib.sha256(f"{item_id}:{salt}".encode()).hexdigest()[:8], 16) % options


def paragraphs(item: Item) -> list[str]:
    """The item's text: its story after edits, paragraphs reordered (`reorder`: a rotation,
    or of the sentences when there are fewer than three paragraphs) and cut (`cut`: whole
    sentences from the start up to 60-70 % of the characters)."""
    out = list(item.story.paragraphs)
    for old, new in item.edits:
        out = [p.replace(old, new) for p in out]
    out = [p for p in out if p]  # an edit may drop a whole paragraph
    if "reorder" in item.formats:
        out = _reordered(item, out)
    if "cut" in item.formats:
        out = _cut(item, out)
    return out


def _sentences(paragraph: str) -> list[str]:
    return [s + "。" for s in paragraph.split("。") if s]


def _reordered(item: Item, paras: list[str]) -> list[str]:
    if len(paras) < 3:
        paras = [s for p in paras for s in _sentences(p)]
    if len(paras) < 2:
        return paras
    shift = 1 + pick(item.id, "reorder", len(paras) - 1)
    return paras[shift:] + paras[:shift]


def _cut(item: Item, paras: list[str]) -> list[str]:
    total = sum(len(p) for p in paras)
    goal = total * (60 + pick(item.id, "cut", 11)) / 100
    kept: list[str] = []
    size = 0
    for paragraph in paras:
        sentences: list[str] = []
        for sentence in _sentences(paragraph):
            if size >= goal:
                break
            sentences.append(sentence)
            size += len(sentence)
        if sentences:
            kept.append("".join(sentences))
        if size >= goal:
            break
    return kept


def signature(item: Item) -> str:
    r = item.reporter
    return f"信息员：{r.name}  联系电话：{r.phone}"


def article_text(item: Item) -> str:
    """The item as pasted into a body: indented paragraphs and the signature line, with
    the item's reformatting applied."""
    paras = paragraphs(item)
    if "split" in item.formats:
        paras = [s + "。" for p in paras for s in p.split("。") if s]
    if "merge" in item.formats:
        paras = ["".join(paras)]
    lead = INDENT
    if "noindent" in item.formats or "halfwidth" in item.formats:
        lead = ""
    if "spaces" in item.formats:
        lead = "    "
        paras = [_CJK_DIGIT.sub(" ", p) for p in paras]
    if "halfwidth" in item.formats:
        paras = [p.translate(_HALF) for p in paras]
    if "fullwidth" in item.formats:
        paras = [p.translate(_FULL) for p in paras]
    gap = "\n\n" if "spaces" in item.formats else "\n"
    return gap.join(lead + p for p in paras) + "\n" + signature(item)


def signature_block(item: Item) -> str:
    r = item.reporter
    if item.sign == "full":  # the block a mail program appends: several lines
        forms = (f"--\n{r.name}\n永宁县自然资源局{r.unit}\n地址：永宁县杨和镇纳家户路88号\n"
                 f"电话：0951-8011234  手机：{r.phone}\n邮编：750100",
                 f"————————————\n信息员：{r.name}\n单位：{r.unit}\n手机：{r.phone}\n"
                 f"邮箱：{r.address}",
                 f"{r.unit}\n{r.name}（信息员）\n{r.phone}\n"
                 f"{item.received_at.year}年{item.received_at.month}月"
                 f"{item.received_at.day}日")
    else:
        forms = (f"{r.unit} 信息员 {r.name} 电话：{r.phone}",
                 f"{r.unit}  {r.name}\n电话：{r.phone}",
                 f"{r.name}\n{r.unit}\n联系电话：{r.phone}")
    return forms[pick(item.id, "sign", len(forms))]


def cover_note(item: Item) -> str:
    r = item.reporter
    lines = (f"现报送我单位信息《{item.shown_title}》，电子版及分管领导签字稿见附件，请审核。",
             f"报送信息《{item.shown_title}》，请审阅。",
             "附件是我单位本期信息，请查收。")
    to = ("办公室", "局办公室", "刘老师")[pick(item.id, "to", 3)]
    return (f"{to}：\n{INDENT}{lines[pick(item.id, 'note', len(lines))]}\n\n"
            f"{r.unit}  {r.name}\n电话：{r.phone}")


def own_body(item: Item) -> str:
    """The body of an item that quotes nothing."""
    if item.body == "note":
        core = cover_note(item)
    elif item.body == "detail":
        core = ("详见附件", "详见附件。", "内容详见附件，请审核。")[pick(item.id, "detail", 3)]
    elif item.body == "empty":
        core = ""
    else:
        core = article_text(item)
    head = f"{item.greet}\n" if item.greet else ""
    tail = f"\n\n{signature_block(item)}" if item.sign else ""
    return head + core + tail


# --- subjects ---------------------------------------------------------------------------

_FORMS = ("{u}+{t}", "{u}+{t}", "{u}+{t}", "{u}＋{t}", "【{u}】{t}", "{u}-{t}", "{u}：{t}",
          "{u} {t}", "{u}——{t}", "{u} + {t}")
FORWARD_PREFIX = {"outlook": "转发: ", "foxmail": "转发：", "coremail126": "Fw:",
                  "coremail163": "Fw:", "qqmail": "转发：", "thunderbird": "Fwd: ",
                  "legacy": "FW: ", "iphone": "转发："}
REPLY_PREFIX = {"outlook": "答复: ", "foxmail": "回复：", "coremail126": "Re:",
                "coremail163": "Re:", "qqmail": "回复：", "thunderbird": "Re: ",
                "legacy": "RE: ", "iphone": "回复："}


def plain_subject(item: Item) -> str:
    if item.subject:
        return item.subject
    form = _FORMS[pick(item.id, "subject", len(_FORMS))]
    return form.format(u=item.reporter.unit, t=item.shown_title)


def subject(item: Item, quoted: Item | None) -> str:
    if item.wrap == "forward" and quoted is not None:
        return FORWARD_PREFIX[item.reporter.client] + plain_subject(quoted)
    if item.wrap == "reply" and quoted is not None:
        office = REPLY_PREFIX["coremail126"] + plain_subject(quoted)
        return REPLY_PREFIX[item.reporter.client] + office
    if item.wrap == "answer" and quoted is not None and not item.title:
        return REPLY_PREFIX[item.reporter.client] + plain_subject(quoted)
    return plain_subject(item)


# --- quoting ----------------------------------------------------------------------------

def _stamp(when: datetime) -> str:
    return f"{when:%Y-%m-%d %H:%M}"


def _outlook_header(name: str, address: str, when: datetime, to: str, subj: str) -> str:
    return (f"-----邮件原件-----\n发件人: {name} [mailto:{address}] \n"
            f"发送时间: {when.year}年{when.month}月{when.day}日 {when:%H:%M}\n"
            f"收件人: {to}\n主题: {subj}\n\n")


def quote_header(client: str, name: str, address: str, when: datetime, to: str,
                 subj: str, *, reply: bool = False) -> str:
    """The line(s) a client writes above a quoted or forwarded mail."""
    if reply and client.startswith("coremail"):
        return f"在 {when:%Y-%m-%d %H:%M:%S}，\"{name}\" <{address}> 写道：\n"
    if client in ("outlook", "legacy"):
        return _outlook_header(name, address, when, to, subj)
    if client == "foxmail":
        return (f"\n\n{address}\n \n发件人： {name}\n发送时间： {_stamp(when)}\n"
                f"收件人： {to}\n主题： {subj}\n")
    if client == "iphone":
        return (f"\n开始转发的邮件：\n\n发件人: {name} <{address}>\n"
                f"日期: {when.year}年{when.month}月{when.day}日 {when:%H:%M}\n"
                f"收件人: {to}\n主题: {subj}\n\n")
    if client == "qqmail":
        weekday = "一二三四五六日"[when.weekday()]
        return (f"\n------------------ 原始邮件 ------------------\n"
                f"发件人: \"{name}\"<{address}>;\n"
                f"发送时间: {when.year}年{when.month}月{when.day}日(星期{weekday}) "
                f"{when:%H:%M}\n收件人: \"{to}\";\n主题: {subj}\n\n")
    if client == "thunderbird":
        return f"在 {when:%Y/%m/%d} {when:%H:%M}, {name} 写道:\n"
    return (f"-------- 转发邮件信息 --------\n发件人：\"{name}\" <{address}>\n"
            f"发送日期：{when:%Y-%m-%d %H:%M:%S}\n收件人：{to}\n主题：{subj}\n\n")


def quote_lines(client: str, text: str, *, reply: bool = True) -> str:
    """Thunderbird and Coremail replies prefix quoted lines with '>'; the others don't."""
    if not reply:
        return text
    if client in ("thunderbird", "coremail126", "coremail163"):
        return "\n".join("> " + line if line else ">" for line in text.split("\n"))
    return text


OFFICE_ASK = ("收到。请按通知要求补充分管领导签字稿后重新报送。",
              "请将电子版以“单位+信息标题”命名，连同签字稿重新发送。")


def office_reply_time(quoted: Item) -> datetime:
    return quoted.received_at + timedelta(minutes=25 + pick(quoted.id, "ask", 60))


def wrapped_body(item: Item, quoted: Item, quoted_body: str) -> str:
    """A forward or reply of `quoted` as the item's client writes it."""
    client, r, q = item.reporter.client, item.reporter, quoted.reporter
    if item.wrap == "answer":  # the unit's own report on top, the office's request below
        header = quote_header(client, q.name, q.address, quoted.received_at,
                              f"{r.name} <{r.address}>", plain_subject(quoted), reply=True)
        return f"{own_body(item)}\n\n{header}{quote_lines(client, quoted_body)}"
    note = item.greet or ("请审核。" if item.wrap == "forward" else "已按要求补充，请查收。")
    sign = signature_block(item)
    replying = item.wrap == "reply"
    original = quote_header(client, q.name, q.address, quoted.received_at, MAILBOX,
                            plain_subject(quoted), reply=replying) + quoted_body
    if not replying:
        return f"{note}\n\n{sign}\n\n{original}"
    ask = OFFICE_ASK[pick(quoted.id, "ask", len(OFFICE_ASK))]
    asked = office_reply_time(quoted)
    office = quote_header(client, "ynlyj452", MAILBOX, asked, f"{r.name} <{r.address}>",
                          REPLY_PREFIX["coremail126"] + plain_subject(quoted), reply=True)
    thread = f"{ask}\n\n{original}"
    return f"{note}\n\n{sign}\n\n{office}{quote_lines(client, thread)}"
