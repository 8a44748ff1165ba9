"""Any number of varied, realistic submission mails, for benchmarks and load tests.

`bureau_mail(i, seed=s)` is a pure function of (s, i): the i-th mail of an endless, steady
stream (one every `interval`, from `start`) sent by the sample bureau's reporters through
the clients of `clients.py`, so charsets, file-name encodings and subject forms are mixed
as in the real mailbox. Bodies are 300–2000 Chinese characters; 0–3 attachments (a real
.docx, a scanned .pdf, photos); about 1 in 12 mails re-reports an earlier item, lightly
edited, by the same or another unit (work for the first-report check).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailroom.sample.articles import Article
from mailroom.sample.clients import CLIENTS, Attachment, Draft, delivered
from mailroom.sample.mime import crlf
from mailroom.sample.month import CST, DOCX
from mailroom.sample.payloads import docx, jpeg, scan_pdf

BENCH_START = datetime(2019, 1, 2, 8, 30, tzinfo=CST)


@dataclass(frozen=True)
class Reporter:
    unit: str
    name: str
    address: str
    client: str


# The units of the sample config (name, aliases) and a reporter or two each.
UNITS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("办公室", ("局办公室",)),
    ("自然资源综合执法大队", ("执法大队", "综合执法大队")),
    ("国土空间规划股", ("规划股",)),
    ("耕地保护股", ("耕保股",)),
    ("不动产登记中心", ("登记中心",)),
    ("地籍与确权登记股", ("地籍股",)),
    ("林业和草原股", ("林草股",)),
    ("望洪林业站", ("望洪站",)),
    ("李俊林业站", ("李俊站",)),
    ("黄河生态林场", ("生态林场",)),
)
REPORTERS: tuple[Reporter, ...] = (
    Reporter("办公室", "刘婧", "liujing_bgs@example.cn", "outlook"),
    Reporter("自然资源综合执法大队", "王喆", "zfdd2019@163.com", "foxmail"),
    Reporter("自然资源综合执法大队", "李明", "zfdd_lm@163.com", "coremail163"),
    Reporter("国土空间规划股", "马丽", "ghg@example.cn", "outlook"),
    Reporter("耕地保护股", "杨帆", "gengbao_yn@126.com", "coremail126"),
    Reporter("不动产登记中心", "马镕", "bdcdj@example.cn", "foxmail"),
    Reporter("不动产登记中心", "周红", "bdc_zh@qq.com", "qqmail"),
    Reporter("地籍与确权登记股", "何文", "djg@example.cn", "outlook"),
    Reporter("林业和草原股", "田野", "lcg@example.cn", "legacy"),
    Reporter("望洪林业站", "马晓燕", "wanghong_lyz@126.com", "coremail126"),
    Reporter("李俊林业站", "张强", "lijun_lyz@126.com", "coremail126"),
    Reporter("黄河生态林场", "苏静", "hhstlc@example.cn", "thunderbird"),
    Reporter("黄河生态林场", "孙立军", "hhstlc_slj@example.cn", "iphone"),
)

TOWNS = ("杨和镇", "李俊镇", "望洪镇", "望远镇", "闽宁镇", "胜利乡", "黄羊滩农场", "玉泉营农场")
TOPICS = (
    "耕地保护", "违法用地整治", "国土空间规划编制", "不动产登记", "林业有害生物防治", "森林防火",
    "造林绿化", "农村宅基地确权登记", "地质灾害防治", "矿产资源执法检查", "防沙治沙", "湿地保护",
    "自然资源资产清查", "土地征收", "建设用地审批", "“大棚房”问题整治", "永久基本农田保护",
    "党风廉政建设", "安全生产", "信访维稳", "林长制巡林", "草原保护修复",
)
TITLES = (
    "{town}扎实开展{topic}专项巡查", "我县召开{topic}工作推进会", "我局组织开展{topic}业务培训",
    "{town}{topic}工作取得阶段性成效", "我局深入{town}开展{topic}调研", "我县{topic}工作稳步推进",
    "{town}全面完成{topic}年度任务", "我局多措并举推进{topic}工作", "我县召开{topic}工作现场会",
    "{town}：{topic}“回头看”见实效", "我局开展{topic}宣传活动", "聚焦{topic} 守护绿水青山",
)
SENTENCES = (
    "此次活动共出动工作人员{a}人次、车辆{b}台次，覆盖{town}等{c}个乡镇。",
    "工作人员采取查阅资料、实地核查、走访群众相结合的方式，逐项逐地块核实情况。",
    "对检查中发现的{c}个问题，现场下发整改通知书，明确整改时限和责任人。",
    "截至目前，已累计完成{topic}任务{a}亩，占年度计划的{d}%。",
    "会议传达学习了上级有关文件精神，通报了前一阶段{topic}工作进展情况。",
    "会议要求，各单位要提高思想认识，压实工作责任，确保各项任务按时保质完成。",
    "活动中，工作人员通过悬挂横幅、发放宣传资料、现场答疑等方式，向群众宣传相关法律法规。",
    "共发放宣传资料{a}余份，接受群众咨询{b}余人次，群众知晓率明显提高。",
    "针对存在的问题，{unit}及时研究制定整改方案，建立问题台账，实行销号管理。",
    "同时，加强与乡镇、村组的沟通协调，形成了上下联动、齐抓共管的工作格局。",
    "{unit}组织技术人员深入{town}，对重点区域开展拉网式排查，做到不漏一户、不漏一地。",
    "通过此次{topic}工作，进一步增强了干部群众的法治意识和责任意识。",
    "据统计，今年以来全县共办理相关业务{a}件，办结率达{d}%，群众满意度持续提升。",
    "检查组重点查看了{town}{c}个项目现场，详细了解项目进展和存在的困难。",
    "{unit}坚持问题导向，聚焦短板弱项，推动{topic}工作提质增效。",
    "下一步，{unit}将持续加大工作力度，建立长效机制，巩固{topic}工作成果。",
    "下一步，将加强督促检查，对工作推进不力的单位进行通报，确保{topic}工作落到实处。",
    "培训邀请区、市业务专家授课，全局{b}名干部职工参加培训。",
    "此次调研共走访群众{b}户，召开座谈会{c}场，收集意见建议{c}条。",
    "各乡镇、各相关部门分管负责同志和业务骨干共{b}人参加会议。",
    "现场查处违法行为{c}起，责令停止违法行为{c}起，拆除违法建筑{a}平方米。",
    "下一步，{unit}将认真总结经验做法，查漏补缺，切实把{topic}工作抓紧抓实抓好。",
)


def _numbers(rng: random.Random) -> dict[str, int]:
    return {"a": rng.randint(20, 3000), "b": rng.randint(10, 400), "c": rng.randint(2, 30),
            "d": rng.randint(60, 110)}


def _fresh_article(seed: int, i: int) -> tuple[Reporter, Article]:
    """The item reporter i would write if it were new (a pure function of seed and i)."""
    rng = random.Random(f"mailroom-bench:{seed}:{i}:article")
    reporter = rng.choice(REPORTERS)
    topic, town = rng.choice(TOPICS), rng.choice(TOWNS)
    title = rng.choice(TITLES).format(town=town, topic=topic)
    when = BENCH_START + timedelta(minutes=15 * i)  # nominal: the default interval
    target = rng.randint(300, 2000)
    sentences = [f"{when.month}月{when.day}日，{reporter.unit}在{town}组织开展{topic}工作。"]
    length = len(sentences[0])
    while length < target - 40:
        slots = _numbers(rng) | {"town": rng.choice(TOWNS), "topic": topic, "unit": reporter.unit}
        sentence = rng.choice(SENTENCES).format(**slots)
        sentences.append(sentence)
        length += len(sentence)
    paragraphs: list[str] = []
    current = ""
    for sentence in sentences:
        if current and len(current) + len(sentence) > 260:
            paragraphs.append(current)
            current = ""
        current += sentence
    paragraphs.append(current)
    phone = f"138001{int(i) % 100000:05d}"
    return reporter, Article(title, tuple(paragraphs), reporter.name, phone)


def _re_report(rng: random.Random, seed: int, i: int) -> tuple[Reporter, Article] | None:
    if i == 0 or rng.random() >= 1 / 12:
        return None
    earlier = i - rng.randint(1, min(i, 60))
    original_reporter, article = _fresh_article(seed, earlier)
    paragraphs = list(article.paragraphs)
    if len(paragraphs) > 2 and rng.random() < 0.5:
        del paragraphs[rng.randrange(1, len(paragraphs))]
    paragraphs[0] = paragraphs[0].replace("组织开展", "开展", 1)
    reporter = original_reporter if rng.random() < 0.5 else rng.choice(REPORTERS)
    return reporter, Article(article.title, tuple(paragraphs), reporter.name, article.phone)


def _subject(rng: random.Random, unit: str, title: str) -> str:
    aliases = dict(UNITS)[unit]
    name = rng.choice(aliases) if aliases and rng.random() < 0.2 else unit
    form = rng.choice(("{u}+{t}", "{u}+{t}", "{u}+{t}", "{u}＋{t}", "【{u}】{t}", "{u}-{t}",
                       "{u}：{t}", "{u} {t}", "{u}——{t}", "{u} + {t}"))
    subject = form.format(u=name, t=title)
    roll = rng.random()
    if roll < 0.02:
        subject = "【紧急】" + subject
    elif roll < 0.06:
        subject = "（重要）" + subject
    roll = rng.random()
    if roll < 0.05:
        subject = "回复：" + subject
    elif roll < 0.08:
        subject = "转发：" + subject
    elif roll < 0.10:
        subject = "Re: " + subject
    return subject


def _attachments(rng: random.Random, unit: str, article: Article, sent: datetime,
                 key: str) -> tuple[Attachment, ...]:
    count = rng.choices((0, 1, 2, 3), weights=(15, 35, 35, 15))[0]
    items: list[Attachment] = []
    if count:
        name = f"{unit}+{article.title}.docx" if rng.random() < 0.85 else f"{article.title}.docx"
        items.append(Attachment(name, DOCX, docx(article.title, article.lines(),
                                                 author=article.reporter, created=sent)))
    if count >= 2:
        items.append(Attachment("签字稿.pdf", "application/pdf", scan_pdf(key, created=sent)))
    for photo in range(1, count - 1):
        name = f"现场照片{photo}.jpg"
        items.append(Attachment(name, "image/jpeg", jpeg(key + name, comment=name)))
    return tuple(items)


def bureau_mail(i: int, *, seed: int = 0, start: datetime = BENCH_START,
                interval: timedelta = timedelta(minutes=15),
                wire: bool = False) -> tuple[bytes, datetime]:
    """The i-th generated submission mail: (raw bytes, the time the mailbox received it).

    Received times grow with i (one per `interval` on average, from `start`); `wire=True`
    gives CRLF line ends (SMTP, IMAP APPEND), else LF as in a Maildir."""
    rng = random.Random(f"mailroom-bench:{seed}:{i}")
    reporter, article = _re_report(rng, seed, i) or _fresh_article(seed, i)
    jitter = rng.uniform(0, interval.total_seconds() / 2)
    received = (start + interval * i + timedelta(seconds=jitter)).replace(microsecond=0)
    sent = received - timedelta(seconds=rng.randint(2, 90))
    key = f"bench-{seed}-{i}"
    client = reporter.client if rng.random() < 0.8 else rng.choice(sorted(CLIENTS))
    draft = Draft(key=key, sender=reporter.address, sender_name=reporter.name,
                  subject=_subject(rng, reporter.unit, article.title),
                  text=article.text(), sent_at=sent,
                  attachments=_attachments(rng, reporter.unit, article, sent, key))
    raw = delivered(CLIENTS[client](draft).raw, envelope_from=reporter.address,
                    received_at=received, key=key)
    return (crlf(raw) if wire else raw), received


def iter_generated_mails(n: int, seed: int = 0, *, start: datetime = BENCH_START,
                         interval: timedelta = timedelta(minutes=15),
                         wire: bool = False) -> Iterator[tuple[bytes, datetime]]:
    """`bureau_mail(0 … n-1)`: n mails in order of receipt."""
    for i in range(n):
        yield bureau_mail(i, seed=seed, start=start, interval=interval, wire=wire)
