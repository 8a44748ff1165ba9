"""The sample month, May 2019 at 永宁县自然资源局's submission mailbox, as cases: who sent
each mail with which program, what it says and carries, and what mailroom should make of it.

`corpus.sample_mails()` turns them into the mails themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from mailroom.sample import articles as a
from mailroom.sample.articles import Article
from mailroom.sample.draft import Attachment
from mailroom.sample.payloads import docx, jpeg, legacy_doc, scan_pdf

CST = timezone(timedelta(hours=8), "CST")  # Asia/Shanghai has had no DST since 1991
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
Kind = Literal["submission", "roster", "auto-reply", "bounce"]
Priority = Literal["urgent", "important", "general"]


def at(month: int, day: int, hour: int, minute: int, second: int) -> datetime:
    return datetime(2019, month, day, hour, minute, second, tzinfo=CST)


@dataclass(frozen=True)
class Case:
    received: datetime
    client: str
    sender: str
    name: str
    subject: str
    text: str
    kind: Kind
    unit: str | None
    title: str | None
    priority: Priority | None = None
    attachments: tuple[Attachment, ...] = ()
    note: str = ""
    delay: int = 0  # seconds from Date to delivery; 0: derived from the key
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    extra_headers: tuple[tuple[str, str], ...] = ()
    relay: str = ""  # the sender's server, when its hop is shown (a delayed delivery)


# --- attachments --------------------------------------------------------------------------

def _docx(article: Article, unit: str, when: datetime, name: str = "") -> Attachment:
    filename = name or f"{unit}+{article.title}.docx"
    return Attachment(filename, DOCX, docx(article.title, article.lines(),
                                           author=article.reporter or "Administrator",
                                           created=when - timedelta(minutes=40)))


def _pdf(seed: str, when: datetime, name: str = "签字稿.pdf") -> Attachment:
    return Attachment(name, "application/pdf",
                      scan_pdf(seed, created=when - timedelta(minutes=15)))


def _jpg(seed: str, name: str = "现场照片1.jpg") -> Attachment:
    return Attachment(name, "image/jpeg", jpeg(seed, comment=f"{seed} {name}"))


def _doc(article: Article, unit: str) -> Attachment:
    return Attachment(f"{unit}+{article.title}.doc", "application/msword",
                      legacy_doc(article.title, article.lines()))


def _note(to: str, body: str, signature: str) -> str:
    return f"{to}：\n\u3000\u3000{body}\n\n{signature}"


# --- the month ----------------------------------------------------------------------------

OFFICE_NOTICE_ID = "<5cd8e1a2.7c1d.16aafa5b3c0.Coremail.ynlyj452@126.com>"
OFFICE_REPLY_ID = "<000001d50bd2$4f1a2b3c$ed4e81b4$@example.cn>"
DJG_FIRST_ID = "<000001d50b61$9a3c5e10$ceb61930$@example.cn>"


def month_cases() -> list[Case]:
    s: list[Case] = []
    office, zf, gh, gb = "办公室", "自然资源综合执法大队", "国土空间规划股", "耕地保护股"
    bdc, dj, wh, lc = "不动产登记中心", "地籍与确权登记股", "望洪林业站", "黄河生态林场"
    lcg = "林业和草原股"

    when = at(5, 5, 9, 14, 21)
    s.append(Case(when, "outlook", "liujing_bgs@example.cn", "刘婧",
                  f"办公室+{a.SHOUXIN.title}", a.SHOUXIN.text(), "submission", office,
                  a.SHOUXIN.title, "general",
                  (_docx(a.SHOUXIN, office, when), _pdf("m01", when)),
                  "the office's own reporter, also an [office] address: still a submission"))
    when = at(5, 6, 16, 40, 8)
    s.append(Case(when, "coremail126", "gengbao_yn@126.com", "杨帆",
                  f"耕地保护股＋{a.GENGBAO_KAOHE.title}", a.GENGBAO_KAOHE.text(), "submission",
                  gb, a.GENGBAO_KAOHE.title, "general", (_docx(a.GENGBAO_KAOHE, gb, when),),
                  "full-width ＋; no signed scan (warning)"))
    when = at(5, 7, 11, 25, 37)
    s.append(Case(when, "outlook", "ghg@example.cn", "马丽",
                  f"【国土空间规划股】{a.GUIHUA_QIDONG.title}",
                  _note("办公室", f"现报送我股信息《{a.GUIHUA_QIDONG.title}》，电子版及分管领导"
                        "签字稿见附件，请审核。", "国土空间规划股  马丽\n电话：13800138086"),
                  "submission", gh, a.GUIHUA_QIDONG.title, "general",
                  (_docx(a.GUIHUA_QIDONG, gh, when), _pdf("m03", when)),
                  "【单位】标题 form; the text is only in the .docx"))
    when = at(5, 8, 15, 3, 52)
    s.append(Case(when, "foxmail", "zfdd2019@163.com", "王喆",
                  f"执法大队：{a.DAPENGFANG.title}", a.DAPENGFANG.text(), "submission", zf,
                  a.DAPENGFANG.title, "general",
                  (_docx(a.DAPENGFANG, "执法大队", when), _jpg("m04"),
                   _jpg("m04b", "现场照片2.jpg")),
                  "alias 执法大队 + full-width colon; GB2312 label with GBK-only 喆 in "
                  "subject, From name, file name and body; no signed scan"))
    when = at(5, 8, 17, 30, 16)
    s.append(Case(when, "foxmail", "bdcdj@example.cn", "马镕",
                  f"不动产登记中心-{a.YICHUANG.title}", a.YICHUANG.text(), "submission", bdc,
                  a.YICHUANG.title, "general",
                  (_docx(a.YICHUANG, bdc, when), _pdf("m05", when)),
                  "'-' separator; GB2312 label with GBK-only 镕 in From name and body"))
    when = at(5, 9, 10, 12, 40)
    title = a.YOUHAI_SHENGWU.title + "（5月8日）"
    s.append(Case(when, "thunderbird", "hhstlc@example.cn", "苏静",
                  f"黄河生态林场+{title}", a.YOUHAI_SHENGWU.text(), "submission", lc, title,
                  "general", (_docx(a.YOUHAI_SHENGWU, lc, when, name=f"{lc}+{title}.docx"),
                              _pdf("m06", when),
                              _jpg("m06")),
                  "trailing date （5月8日）; UTF-8 8bit; RFC 2231 file names with continuations"))
    when = at(5, 10, 8, 47, 3)
    s.append(Case(when, "coremail126", "wanghong_lyz@126.com", "马晓燕",
                  "望洪林业站+信息员马晓燕",
                  _note("局办公室", "根据《关于进一步加强信息报送工作的通知》要求，"
                        "我站确定马晓燕同志为信息员，联系电话：13800138062，"
                        "邮箱：wanghong_lyz@126.com。",
                        "望洪林业站\n2019年5月10日"),
                  "roster", wh, "信息员马晓燕", None, (),
                  "roster: registers wanghong_lyz@126.com (not in the config) for 望洪林业站"))
    when = at(5, 10, 16, 20, 55)
    s.append(Case(when, "outlook", "liujing_bgs@example.cn", "刘婧",
                  f"办公室+{a.XUEXI.title}", a.XUEXI.text(), "submission", office, a.XUEXI.title,
                  "general", (_docx(a.XUEXI, office, when), _pdf("m08", when)),
                  "重要 inside the title: general, not important"))
    when = at(5, 13, 9, 31, 18)
    s.append(Case(when, "coremail163", "zfdd_lm@163.com", "李明", "执法大队信息员名单",
                  _note("办公室", "现将我大队信息员名单报送如下：\n\u3000\u30001.王喆，联系电话"
                        "13800138033，邮箱zfdd2019@163.com；\n\u3000\u30002.李明，联系电话13800138074，"
                        "邮箱zfdd_lm@163.com。", "自然资源综合执法大队\n2019年5月13日"),
                  "roster", zf, "信息员名单", None, (),
                  "roster with no separator, alias 执法大队: registers zfdd_lm@163.com"))
    when = at(5, 13, 11, 2, 44)
    s.append(Case(when, "coremail126", "lijun_lyz@126.com", "lijun_lyz",
                  "自动回复：关于进一步加强信息报送工作的通知",
                  "您好！我目前正在参加县里组织的封闭培训，5月20日返回，期间邮件不能及时回复，"
                  "紧急事务请致电站办公室。谢谢！",
                  "auto-reply", None, None, None, (),
                  "126.com vacation reply to the office's circular; Auto-Submitted: auto-replied;"
                  " 李俊林业站 sends nothing else all month (zero report)",
                  delay=2, in_reply_to=OFFICE_NOTICE_ID,
                  extra_headers=(("Auto-Submitted", "auto-replied"),)))
    when = at(5, 14, 10, 15, 9)
    s.append(Case(when, "coremail126", "wanghong_lyz@126.com", "马晓燕",
                  f"望洪林业站+{a.BUZHI.title}",
                  a.BUZHI.text(), "submission", wh, a.BUZHI.title, "general",
                  (_docx(a.BUZHI, wh, when), _jpg("m11")),
                  "sender known only from the roster mail; no signed scan"))
    when = at(5, 14, 15, 48, 30)
    s.append(Case(when, "coremail126", "gengbao_yn@126.com", "杨帆",
                  f"耕地保护股+{a.JIBEN_NONGTIAN.title}", a.JIBEN_NONGTIAN.text(),
                  "submission", gb, a.JIBEN_NONGTIAN.title, "general",
                  (_docx(a.JIBEN_NONGTIAN, gb, when),),
                  "first report; the signed scan is missing (warning)"))
    when = at(5, 15, 9, 5, 12)
    fixed = a.JIBEN_NONGTIAN.edited("48个", "52个")
    s.append(Case(when, "coremail126", "gengbao_yn@126.com", "杨帆",
                  f"耕地保护股+{a.JIBEN_NONGTIAN.title}",
                  "办公室：昨天发送的信息漏附签字稿，现补发，请以此为准。\n\n" + fixed.text(),
                  "submission", gb, a.JIBEN_NONGTIAN.title, "general",
                  (_docx(fixed, gb, when), _pdf("m13", when)),
                  "re-send of m12 with the signed scan and one number changed: duplicate of m12"))
    when = at(5, 15, 14, 22, 36)
    s.append(Case(when, "outlook", "ghg@example.cn", "马丽",
                  f"（重要）国土空间规划股+{a.TUIJINHUI.title}",
                  _note("办公室", f"报送信息《{a.TUIJINHUI.title}》，请审核后尽快上报县政府网站。",
                        "国土空间规划股  马丽\n电话：13800138086"),
                  "submission", gh, f"（重要）{a.TUIJINHUI.title}", "important",
                  (_docx(a.TUIJINHUI, gh, when), _pdf("m14", when)),
                  "（重要） marker before the unit; the text is only in the .docx"))
    when = at(5, 16, 10, 40, 27)
    s.append(Case(when, "outlook", "liujing_bgs@example.cn", "刘婧",
                  f"办公室+{a.TUIJINHUI_OFFICE.title}", a.TUIJINHUI_OFFICE.text(), "submission",
                  office, a.TUIJINHUI_OFFICE.title, "general",
                  (_docx(a.TUIJINHUI_OFFICE, office, when), _pdf("m15", when)),
                  "the same meeting as m14, lightly rewritten by another unit: duplicate or "
                  "suspected of m14 (首报 goes to 国土空间规划股)"))
    when = at(5, 17, 8, 55, 41)
    quoted = (
        "刘老师：已按要求发送至信息报送邮箱，分管领导签字稿一并附上。\n\n地籍与确权登记股  何文\n\n"
        "-----邮件原件-----\n发件人: 刘婧 [mailto:liujing_bgs@example.cn] \n"
        "发送时间: 2019年5月16日 17:22\n收件人: djg@example.cn\n"
        f"主题: 答复: 地籍与确权登记股+{a.QUEQUAN.title}\n\n"
        "你好，信息请按通知要求发送至信息报送邮箱ynlyj452@126.com，并附分管领导签字稿。"
    )
    s.append(Case(when, "outlook", "djg@example.cn", "何文",
                  f"答复: 地籍与确权登记股+{a.QUEQUAN.title}", quoted, "submission", dj,
                  a.QUEQUAN.title, "general", (_docx(a.QUEQUAN, dj, when), _pdf("m16", when)),
                  "Outlook 答复: prefix, threaded to the office's reply; the unit's only May item",
                  in_reply_to=OFFICE_REPLY_ID, references=(DJG_FIRST_ID, OFFICE_REPLY_ID)))
    when = at(5, 17, 16, 5, 3)
    s.append(Case(when, "legacy", "lcg@example.cn", "林业和草原股",
                  f"林业和草原股 {a.ZAOLIN.title}", a.ZAOLIN.text(), "submission", lcg,
                  a.ZAOLIN.title, "general", (_doc(a.ZAOLIN, lcg), _jpg("m17")),
                  "space as separator; raw 8-bit GBK subject, From name and file names; .doc"))
    when = at(5, 20, 14, 37, 10)
    s.append(Case(when, "iphone", "hhstlc@example.cn", "苏静",
                  "【紧急】黄河生态林场+关于三分场发生林下地表火的报告", a.URGENT_FIRE_TEXT,
                  "submission", lc, "【紧急】关于三分场发生林下地表火的报告", "urgent",
                  (Attachment("IMG_2035.JPG", "image/jpeg",
                              jpeg("m18", width=96, height=72, comment="IMG_2035")),),
                  "urgent 初报 from a phone 32 minutes after the fire: has source, time "
                  "and place, "
                  "cause, casualties, course, consequences, scope, trend, leader on site, "
                  "measures, next steps, reporter and phone; says nothing of property loss. "
                  "Photo inline with a file name; no .docx, no signed scan"))
    when = at(5, 20, 17, 52, 19)
    s.append(Case(when, "thunderbird", "hhstlc@example.cn", "苏静",
                  f"黄河生态林场+{a.HUOQING_XUBAO.title}", a.HUOQING_XUBAO.text(), "submission",
                  lc, a.HUOQING_XUBAO.title, "general",
                  (_docx(a.HUOQING_XUBAO, lc, when), _pdf("m19", when), _jpg("m19")),
                  "续报 of m18: linked to it, counted on its own, never its duplicate"))
    when = at(5, 21, 9, 40, 26)
    s.append(Case(when, "coremail126", "wanghong_lyz@126.com", "马晓燕", a.FANGHUO_XUANCHUAN.title,
                  a.FANGHUO_XUANCHUAN.text(), "submission", wh, a.FANGHUO_XUANCHUAN.title,
                  "general", (_docx(a.FANGHUO_XUANCHUAN, wh, when,
                                    name=f"{a.FANGHUO_XUANCHUAN.title}.docx"),),
                  "no unit in the subject (which has a space): unit from the roster "
                  "registration of m07; file name lacks the unit (warning)"))
    when = at(5, 22, 11, 18, 50)
    s.append(Case(when, "coremail163", "zfdd_lm@163.com", "李明",
                  f"自然资源综合执法大队——{a.CHAICHU.title}", a.CHAICHU.text(), "submission", zf,
                  a.CHAICHU.title, "general",
                  (_docx(a.CHAICHU, zf, when), _jpg("m21"), _jpg("m21b", "现场照片2.jpg")),
                  "—— separator; sender registered by the roster mail m09; no signed scan"))
    when = at(5, 23, 15, 30, 2)
    s.append(Case(when, "coremail163", "lh19900312@163.com", "李华", a.FANGZAI.title,
                  a.FANGZAI.text(), "submission", None, a.FANGZAI.title, "general",
                  (_docx(a.FANGZAI, "", when, name="防灾减灾日宣传.docx"),),
                  "unknown sender, no unit anywhere: unassigned"))
    when = at(5, 24, 10, 20, 14)
    s.append(Case(when, "qqmail", "bdcdj@example.cn", "马镕",
                  f"不动产登记中心+{a.FANGGUANFU.title}",
                  a.FANGGUANFU.text(), "submission", bdc, a.FANGGUANFU.title, "general",
                  (_docx(a.FANGGUANFU, bdc, when), _pdf("m23", when)),
                  "Tencent Exmail web: gb18030 everywhere"))
    s.append(_bounce_case())
    when = at(5, 28, 16, 44, 9)
    forwarded = (
        "\n\n\n\nlcg@example.cn\n \n发件人： lcg@example.cn\n发送时间： 2019-05-28 09:12\n"
        f"收件人： bgszr@example.cn\n主题： 林业和草原股+{a.FANGHUO_HUIYI.title}\n"
        + a.FANGHUO_HUIYI.text()
    )
    s.append(Case(when, "foxmail", "lcg@example.cn", "田野",
                  f"转发：林业和草原股+{a.FANGHUO_HUIYI.title}", forwarded, "submission", lcg,
                  a.FANGHUO_HUIYI.title, "general",
                  (_docx(a.FANGHUO_HUIYI, lcg, when), _pdf("m25", when)),
                  "转发： prefix: forwarded from the mail first sent to the office head"))
    when = at(5, 30, 10, 6, 33)
    s.append(Case(when, "thunderbird", "hhstlc@example.cn", "苏静", f"生态林场+{a.ANQUAN.title}",
                  a.ANQUAN.text(), "submission", lc, a.ANQUAN.title, "general",
                  (_docx(a.ANQUAN, "生态林场", when), _jpg("m26")),
                  "alias 生态林场; no signed scan"))
    when = at(5, 31, 16, 26, 48)
    s.append(Case(when, "outlook", "ghg@example.cn", "马丽",
                  f"国土空间规划股 + {a.JICHU_SHUJU.title}",
                  _note("办公室", f"报送我股5月份信息《{a.JICHU_SHUJU.title}》，请审核。",
                        "国土空间规划股  马丽"),
                  "submission", gh, a.JICHU_SHUJU.title, "general",
                  (_docx(a.JICHU_SHUJU, gh, when), _pdf("m27", when)),
                  "' + ' with spaces"))
    when = at(6, 1, 0, 5, 3)
    s.append(Case(when, "outlook", "djg@example.cn", "何文",
                  f"地籍与确权登记股+{a.QUANJI_RUKU.title}",
                  "刘老师：这是我股5月份第二篇信息，请审阅。\n\n" + a.QUANJI_RUKU.text(),
                  "submission", dj, a.QUANJI_RUKU.title, "general",
                  (_docx(a.QUANJI_RUKU, dj, when), _pdf("m28", when)),
                  "Date says 2019-05-31 23:58 but the mailbox received it 2019-06-01 00:05 "
                  "(a delayed relay): counts for June, so 地籍与确权登记股 stays below "
                  "quota in May",
                  delay=411, relay="smtp.example.cn"))
    return s


BOUNCE_WHEN = at(5, 27, 9, 12, 40)


def _bounce_case() -> Case:
    return Case(BOUNCE_WHEN, "bounce", "MAILER-DAEMON@126.com", "", "系统退信", "", "bounce",
                None, None, None, (),
                "126.com DSN (multipart/report) for the office's reminder to a mistyped "
                "address; Return-Path: <>; also carries Auto-Submitted (bounce wins)")

