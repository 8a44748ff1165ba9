"""The comparable text of a submission (R3), pure: full/half width folded, quoted-forward
headers, greetings, boilerplate ("详见附件"), signature blocks and phone numbers dropped,
then punctuation and white space removed. What remains is compared character by
character (Chinese has no spaces; rapidfuzz's token scorers would see one token).

The specifics of an item — numbers (dates, counts, areas…) and place names (…镇, …村,
…林场) — are kept apart: items of one template (the weekly 森林防火 patrol report, the same
notice for another township) differ mainly there.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

MIN_PIECE = 20        # normalised characters a body or an attachment needs to count as content
MAX_INPUT = 20_000    # characters of a body or attachment read: a mail of megabytes costs no more
MAX_CONTENT = 1500    # characters of content kept for matching: the start decides
MIN_SENTENCE = 6      # compacted characters a sentence needs to be compared on its own
_CONTAINED = 0.7      # a piece whose trigrams are this much inside a longer piece repeats it

_FORWARD_RULE = re.compile(
    r"^\s*-{2,}\s*(?:原始邮件|原邮件|邮件原件|转发邮件信息|邮件原文|Original Message|"
    r"Forwarded message)\s*-{2,}\s*$|^\s*开始转发的邮件\s*[:：]\s*$", re.IGNORECASE)
_QUOTE_HEAD = re.compile(  # the first line of a quoted mail's header block
    r"^\s*(?:发件人|From)\s*[:：]", re.IGNORECASE)
_QUOTE_HEAD_NEXT = re.compile(
    r"^\s*(?:发送时间|发送日期|日期|时间|Sent|Date|收件人|To)\s*[:：]", re.IGNORECASE)
NEW_TEXT = 100  # compacted characters of its own above a quote that make a mail a reply:
                # more than a cover note or a comment on a forward, less than a report
_HEADER_LINE = re.compile(
    r"^\s*(?:发件人|发送时间|发送日期|收件人|抄送|主题|日期|时间|From|Sent|To|Cc|Subject|Date)"
    r"\s*[:：]", re.IGNORECASE)
_QUOTE = re.compile(r"^(?:\s*>)+\s?")
# 126/163/QQ/iPhone "在 2019-04-25 17:05，张三 <a@b.cn> 写道：", Thunderbird "On … wrote:"
_WROTE_LINE = re.compile(
    r"^\s*(?:在.{0,100}写道\s*[:：]?|On .{0,160}wrote:|.{0,100}于.{0,60}写道\s*[:：])\s*$")
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|https?://\S+|mailto:\S+", re.ASCII)
_GREETING = re.compile(
    r"^\s*(?:各位领导|各位同事|各位|尊敬的[^\n:：]{0,16}|[^\n:：,，。]{0,16}?(?:领导|同志|老师|科长|"
    r"主任|局长|办公室|股长|同事|同仁))\s*(?:[:：,，!！]\s*(?:(?:您|你|大家)好\s*[!！,，。]?)?|"
    r"(?:您|你|大家)好\s*[!！,，。:：]?)")
_HELLO = re.compile(r"^\s*(?:(?:您|你|大家)好)\s*[!！,，。:：]?")
_BOILERPLATE = re.compile(
    r"(?:(?:具体|详细)?(?:内容)?(?:详|请|具体)?见附件[。.!！]?|请(?:查收|审阅|审核|审定|阅示|收阅)[。.!！]?"
    r"|谢谢[!！。]?|此致\s*敬礼[!！]?|发自我的\w+|(?:来自|发自)\S{0,10}(?:邮箱|客户端|手机)\S{0,6})")
_AS_FOLLOWS = re.compile(r"(?:现将|特将)?[^\n。]{0,16}(?:报送|呈报|上报)如下[:：。]?")
_RESEND_WORDS = re.compile(  # a clerk's note on a re-send, not content
    r"补发|重发|重新发送|重新报送|再次发送|以此为准|以此稿为准|以本稿为准|漏附|发错|更正如下|"
    r"签字稿|按要求补充|已补充")
_SENTENCE = re.compile(r"[^。！!？?]*[。！!？?]?")
_ENDS = "。！!？?；;：:"
_SENTENCE_END = re.compile(r"(?<=[。！!？?；;])|\n")
_SIGNATURE_WORD = re.compile(
    r"(?:信息员|报送人|报送单位|联系人|联系电话|电话|手机|撰稿|供稿|审核|审签|签发|拟稿|编辑|"
    r"通讯员|E-?mail|邮箱|QQ|地址|邮编|单位|职务|部门|传真)[:：\s]|[(（]信息员[)）]", re.IGNORECASE)
_SIGNATURE_RULE = re.compile(r"^\s*(?:--|-{4,}|_{4,}|—{2,}|[-—_=*]{6,})\s*$")  # "-- " & co.
_ORGANISATION = re.compile(r"^[\u4e00-\u9fff]{2,24}(?:局|站|场|股|队|中心|办公室|政府|委员会)$")
_PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{7,8})(?!\d)")
_DATE_LINE = re.compile(
    r"^\s*(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}[-./]\d{1,2}[-./]\d{1,2})\s*$")
_KEEP = re.compile(r"[^\w]|_", re.UNICODE)  # what compaction removes
_TITLE_MARK = re.compile(
    r"[\[【〔(（〖「]\s*(?:更正|修改|修订|修正|补充|重发|再发|第?[二三四五六七八九十\d]+稿|修改稿|"
    r"更正稿|定稿|终稿|紧急|特急|加急|重要|特别紧急)\s*[\]】〕)）〗」]"
    r"|(?:更正|修改稿|修订稿|更正版|修改版|重发)$")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_CN_NUMBER = re.compile(
    r"[零〇一二两三四五六七八九十百千万]+(?=[年月日号时点人名处起次亩顷元里米个家户棵株件条项期周])")
_PLACE = re.compile(r"[\u4e00-\u9fff]{2}(?:镇|乡|村|街道|社区|林场|分场|林业站|管护站)")
_CN_DIGIT = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
             "七": 7, "八": 8, "九": 9}
_CN_UNIT = {"十": 10, "百": 100, "千": 1000, "万": 10000}


@dataclass(frozen=True)
class Normalized:
    title: str             # compacted title, markers (更正, 紧急…) removed
    content: str           # compacted body + attachment text, repeats removed
    source: str            # where content came from: body | attachment | body+attachment | ""
    numbers: frozenset[str]  # the specifics of title and text: numbers, place names
    sentences: tuple[str, ...] = ()  # content cut at sentence ends ("".join == content)


def fold(text: str) -> str:
    """Full width → half width and compatibility forms (NFKC)."""
    return unicodedata.normalize("NFKC", text)


def compact(text: str) -> str:
    """Only letters, digits and Han characters, lower-cased."""
    return _KEEP.sub("", text).lower()


def _body_lines(text: str) -> list[str]:
    lines = []
    for line in fold(text).replace("\r", "").split("\n"):
        line = _QUOTE.sub("", line)
        if _FORWARD_RULE.match(line) or _HEADER_LINE.match(line) or _WROTE_LINE.match(line):
            continue
        lines.append(_ADDRESS.sub("", line))
    return lines


def split_quoted(text: str) -> tuple[str, str]:
    """A mail body's own text and the quoted (replied to or forwarded) part below it: from
    the first quote marker — a `-----原始邮件-----` / `-----邮件原件-----` / QQ / iPhone rule,
    `在…写道：` / `On … wrote:`, a header block (`发件人：` followed by `发送时间：` / `日期:` /
    `收件人：`, as Outlook and Foxmail write it) or a `>` line."""
    lines = fold(text).replace("\r", "").split("\n")
    for index, line in enumerate(lines):
        quoted = (_FORWARD_RULE.match(line) or _WROTE_LINE.match(line) or _QUOTE.match(line)
                  or (_QUOTE_HEAD.match(line) and any(
                      _QUOTE_HEAD_NEXT.match(after) for after in lines[index + 1:index + 3])))
        if quoted:
            return "\n".join(lines[:index]), "\n".join(lines[index:])
    return "\n".join(lines), ""


def own_text(body: str) -> str:
    """What a mail says itself: a reply is judged on its new text above the quote; a
    forward (or reply) with nothing new on top of it on the quoted text."""
    own, quoted = split_quoted(body)
    if quoted and len(compact(clean_text(own))) >= NEW_TEXT:
        return own
    return body


def _unwrapped(text: str) -> str:
    """Lines a PDF (or a mail program) wrapped at a fixed width joined again: the lines
    of (nearly) the longest length that end without punctuation run on."""
    lines = text.split("\n")
    sizes = [len(line.strip()) for line in lines]
    widest = max(sizes, default=0)
    full = [size >= 0.9 * widest for size in sizes]
    if widest < 20 or sum(full) < 3:
        return text
    out: list[str] = []
    for line, is_full in zip(lines, full, strict=True):
        out.append(line.strip())
        if not (is_full and line.strip()[-1:] not in _ENDS):
            out.append("\n")
    return "".join(out)


def sentences_of(text: str) -> list[str]:
    """Compacted sentences (and lines) of a cleaned text, in order; empty ones dropped."""
    return [piece for piece in (compact(part) for part in _SENTENCE_END.split(_unwrapped(text)))
            if piece]


def _drop_signature(lines: list[str]) -> list[str]:
    """Signature blocks sit at the end: short lines with a contact word, a date, a name."""
    end = len(lines)
    tail_start = max(0, end - 10)
    for index in range(tail_start, end):  # a signature rule ("-- ", "————"): the rest
        if _SIGNATURE_RULE.match(lines[index]):
            lines, end = lines[:index], index
            break
    cut = end
    seen = 0  # non-empty lines looked at: blank lines (and removed addresses) are free
    for index in range(end - 1, -1, -1):
        line = lines[index].strip()
        if not line:
            continue
        seen += 1
        if seen > 8:
            break
        if len(line) <= 60 and (_SIGNATURE_WORD.search(line + " ") or _DATE_LINE.match(line)
                                or _PHONE.search(line) or len(compact(line)) <= 12
                                or _ORGANISATION.match(compact(line))):
            cut = index
            continue
        break
    return lines[:cut]


def clean_text(text: str) -> str:
    """Readable text with forwards, greetings, boilerplate, signatures and phones removed."""
    lines = _drop_signature(_body_lines(text))
    kept = []
    for line in lines:
        line = _GREETING.sub("", line, count=1)
        line = _HELLO.sub("", line, count=1)
        if _RESEND_WORDS.search(line):
            line = "".join(sentence for sentence in _SENTENCE.findall(line)
                           if not _RESEND_WORDS.search(sentence))
        line = _BOILERPLATE.sub("", line)
        if "如下" in line:
            line = _AS_FOLLOWS.sub("", line)
        line = _PHONE.sub("", line)
        kept.append(line)
    return "\n".join(kept)


def clean_title(title: str) -> str:
    text = fold(title).strip()
    previous = None
    while previous != text:
        previous = text
        text = _TITLE_MARK.sub("", text).strip()
    return compact(text)


def _cn_int(word: str) -> int:
    total, current = 0, 0
    for ch in word:
        if ch in _CN_DIGIT:
            current = _CN_DIGIT[ch]
        else:
            total += (current or 1) * _CN_UNIT[ch]
            current = 0
    return total + current


def numbers_of(text: str, folded: bool = False) -> set[str]:
    folded_text = text if folded else fold(text)
    found = {m.group(0).lstrip("0") or "0" for m in _NUMBER.finditer(folded_text)}
    for match in _CN_NUMBER.finditer(folded_text):
        try:
            found.add(str(_cn_int(match.group(0))))
        except KeyError:
            continue
    return found


def specifics_of(text: str, folded: bool = False) -> set[str]:
    """Numbers and place names: where items of one template differ."""
    text = text if folded else fold(text)
    return numbers_of(text, folded=True) | set(_PLACE.findall(text))


def trigrams(text: str) -> set[str]:
    return {text[i:i + 3] for i in range(len(text) - 2)} or ({text} if text else set())


def _distinct_pieces(pieces: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop a piece that repeats a longer one (the .docx that is the body, the PDF of it)."""
    ordered = sorted(pieces, key=lambda piece: -len(piece[1]))
    kept: list[tuple[str, str, set[str]]] = []
    for label, text in ordered:
        grams = trigrams(text)
        if any(len(grams & other) >= _CONTAINED * len(grams) for _, _, other in kept):
            continue
        kept.append((label, text, grams))
    order = {text: index for index, (_, text) in enumerate(pieces)}
    return [(label, text) for label, text, _ in sorted(kept, key=lambda k: order[k[1]])]


@dataclass(frozen=True)
class Content:
    """The title-independent half of Normalized: computed in the worker processes that
    parse the mail (preparing.py), so the recording process only adds the title."""

    text: str
    source: str
    specifics: frozenset[str]
    sentences: tuple[str, ...] = ()  # text cut at sentence ends ("".join(sentences) == text)


def _cut_sentences(parts: list[str], limit: int) -> tuple[str, ...]:
    kept: list[str] = []
    size = 0
    for part in parts:
        if size + len(part) >= limit:
            if limit > size:
                kept.append(part[:limit - size])
            break
        kept.append(part)
        size += len(part)
    return tuple(kept)


def normalize_content(body: str, attachment_texts: Sequence[str]) -> Content:
    """Body (its own text when it replies with something new: `own_text`) and attachments,
    cleaned; an attachment that repeats the body counts once."""
    cleaned = [clean_text(text[:MAX_INPUT])
               for text in (own_text(body[:MAX_INPUT]), *attachment_texts)]
    pieces = [("body" if index == 0 else "attachment", compact(text), text)
              for index, text in enumerate(cleaned)]
    kept_texts = {text for _, text in _distinct_pieces(
        [(label, text) for label, text, _ in pieces if len(text) >= MIN_PIECE])}
    kept = [(label, text, readable) for label, text, readable in pieces if text in kept_texts]
    sentences = _cut_sentences(
        [s for _, _, readable in kept for s in sentences_of(readable)], MAX_CONTENT)
    source = "+".join(sorted({label for label, _, _ in kept}, key=("body", "attachment").index))
    specifics = specifics_of("\n".join(text for _, _, text in kept) if kept
                             else "\n".join(cleaned), folded=True)
    return Content("".join(sentences), source, frozenset(specifics), sentences)


def _is_title(sentence: str, title: str) -> bool:
    """A line that only repeats the title (a .docx starts with it)."""
    if len(sentence) > 1.3 * len(title) + 4:
        return False
    return title in sentence or (len(sentence) >= 0.6 * len(title) and sentence in title) or \
        fuzz.ratio(sentence, title) >= 90


def normalize(title: str, body: str, attachment_texts: Sequence[str],
              content: Content | None = None) -> Normalized:
    """The comparable form of one submission (`content`: its body and attachments'
    part, when already computed). Lines of the content that repeat the title are left out:
    the title is compared on its own, and a copy with a new title keeps the old one's
    words nowhere else."""
    if content is None:
        content = normalize_content(body, attachment_texts)
    cleaned_title = clean_title(title)
    sentences = content.sentences
    if len(cleaned_title) >= 4 and any(_is_title(s, cleaned_title) for s in sentences):
        sentences = tuple(s for s in sentences if not _is_title(s, cleaned_title))
    text = "".join(sentences) if sentences != content.sentences else content.text
    return Normalized(cleaned_title, text, content.source if text else "",
                      frozenset(specifics_of(title) | content.specifics), sentences)
