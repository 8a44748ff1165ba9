"""First-report credit (R3, 首报): judge a new submission against the stored ones.

The pipeline calls `Dedupe.judge` right after inserting a submission, in the same
transaction. Narrowing (dedupe/signature) finds candidates through the band index; the
pure scorer (dedupe/verdict) decides; this module reads and writes the rows.

Order. The first report is the earliest received (INTERNALDATE, then id) of a cluster.
A mail received earlier but processed later takes the credit: the later items it matches
become duplicates / suspected of it, and their own duplicates follow. The office's review
of an item is never overridden.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy.orm import Session

from mailroom.config import DedupeSettings
from mailroom.dedupe import index
from mailroom.dedupe.normalize import MIN_PIECE, Content, clean_title, normalize
from mailroom.dedupe.signature import Sketch, similarity, sketch
from mailroom.dedupe.verdict import Features, Match, compare, status_for
from mailroom.rules.markers import without_followup_marker
from mailroom.vocabulary import JUDGED

MAX_CANDIDATES = 8         # stored items loaded per decision, most band keys shared first
MIN_JACCARD = 0.3          # estimated trigram Jaccard below which a pair is not scored:
                           # content that similar has fuzz.ratio < 60, too low for any verdict


@dataclass(frozen=True)
class Item:
    """What the pipeline knows of a new submission."""

    title: str
    body: str
    attachment_texts: tuple[str, ...] = ()
    content: Content | None = None  # normalize_content(body, attachment_texts), if known
    content_sketch: Sketch | None = None  # content_sketch(content.text), if known


def initial_title(title: str) -> str:
    """A follow-up's title without its 续报 / 终报 word, for finding its 初报."""
    return clean_title(without_followup_marker(title))


def _detail(match: Match) -> dict[str, Any]:
    """Why, in numbers and words: the part scores and the sentences found in both (the
    new item's, then the matched item's; see dedupe/passages)."""
    detail: dict[str, Any] = {"title": match.title, "content": match.content,
                              "specifics": match.numbers, "specifics_bonus": match.bonus}
    if match.retold:
        detail["retold"] = True  # the same event in other words (dedupe/verdict.retold_score)
    if match.overlap is not None and match.overlap.pairs:
        detail.update(match.overlap.detail())
    return detail


class Dedupe:
    def __init__(self, settings: DedupeSettings) -> None:
        self.settings = settings
        self.window = timedelta(days=settings.window_days)

    def judge(self, session: Session, submission_pk: int, item: Item) -> None:
        """Index a new submission and give it (and the later items it precedes) a verdict."""
        me = index.load_submission(session, submission_pk)
        normalized = normalize(item.title, item.body, item.attachment_texts, item.content)
        sketched = sketch(normalized.title, normalized.content, item.content_sketch,
                          normalized.sentences)
        keys = sketched.keys
        index.save_index(session, submission_pk, me.received_at, normalized, sketched)
        features = Features(normalized.title, normalized.content, normalized.source,
                            normalized.numbers, sketched.minhash, normalized.sentences)
        me = replace(me, features=features)
        if me.followup is not None:
            self._link_initial(session, me, item.title, keys)
        self._verdict(session, me, sketched)

    def rejudge(self, session: Session, submission_pk: int) -> None:
        """Judge an item indexed earlier but not judged then, because its status was not
        one that is judged (an `unassigned` item the office has since assigned, now
        `counted`): against the stored items and the later items it precedes, as `judge`
        does, from its stored index rows (nothing is parsed or indexed again)."""
        me = index.load(session, [submission_pk])[0]
        keys = index.band_keys_of(session, submission_pk)
        self._verdict(session, me, Sketch(keys, me.features.minhash))

    def _verdict(self, session: Session, me: index.Stored, sketched: Sketch) -> None:
        if me.status not in JUDGED:
            return
        features = me.features
        peers = [c for c in self._candidates(session, me, sketched)
                 if c.status in JUDGED and c.followup == me.followup]
        scored = [(compare(features, c.features), c) for c in peers]
        root = self._judge_new(session, me, [(m, c) for m, c in scored if c.order < me.order])
        self._precede(session, me, root, [(m, c) for m, c in scored if c.order > me.order])

    def _candidates(self, session: Session, me: index.Stored,
                    sketched: Sketch) -> list[index.Stored]:
        """Stored items worth scoring: those sharing the most band keys (their number
        grows with Jaccard³), then only those whose MinHash-estimated Jaccard could reach a
        verdict (or, for an item without content, any: its title decides)."""
        ids = index.candidate_ids(session, sketched.keys, me.received_at - self.window,
                                  me.received_at + self.window, me.id, MAX_CANDIDATES)
        loaded = index.load(session, ids)
        if len(me.features.content) < MIN_PIECE:
            return loaded
        jaccards = similarity(sketched.minhash, [c.features.minhash for c in loaded])
        return [c for c, jaccard in zip(loaded, jaccards, strict=True)
                if jaccard >= MIN_JACCARD or len(c.features.content) < MIN_PIECE]

    def _judge_new(self, session: Session, me: index.Stored,
                   earlier: list[tuple[Match, index.Stored]]) -> int:
        """The verdict of the new item; returns its cluster's first report."""
        if not earlier:
            return me.id
        match, best = max(earlier, key=lambda pair: (pair[0].score, pair[1].order))
        status = status_for(match.score, self.settings.duplicate_threshold,
                            self.settings.suspect_threshold, match.bonus)
        root = best.root if status != "counted" else None
        index.set_verdict(session, me.id, status=status, duplicate_of_id=root,
                          score=match.score, matched_id=best.id, match_part=match.part,
                          match_detail=_detail(match))
        return root if root is not None else me.id

    def _precede(self, session: Session, me: index.Stored, root: int,
                 later: list[tuple[Match, index.Stored]]) -> None:
        """A mail received before items already judged: it takes their cluster's credit."""
        if not later:
            return
        root_order = me.order if root == me.id else index.load_submission(session, root).order
        for match, other in sorted(later, key=lambda pair: pair[1].order):
            status = status_for(match.score, self.settings.duplicate_threshold,
                                self.settings.suspect_threshold, match.bonus)
            if status == "counted" or other.review is not None:
                continue
            current = index.load_submission(session, other.id)  # an earlier step may move it
            if current.root != current.id:
                current_root = index.load_submission(session, current.root)
                if current_root.order <= root_order:
                    continue  # its first report is earlier still
            index.set_verdict(session, other.id, status=status, duplicate_of_id=root,
                              score=match.score, matched_id=me.id, match_part=match.part,
                              match_detail=_detail(match))
            index.record_change(session, current, status=status, duplicate_of_id=root,
                                caused_by=me.id)
            if current.root == current.id:
                for moved in index.repoint_cluster(session, other.id, root):
                    index.record_change(session, moved, status=moved.status,
                                        duplicate_of_id=root, caused_by=me.id)

    def _link_initial(self, session: Session, me: index.Stored, title: str,
                      keys: list[int]) -> None:
        """Link a 续报 / 终报 to its 初报: the best title match among earlier urgent items,
        else among the candidates that are not follow-ups."""
        wanted = initial_title(title)
        if len(wanted) < 4:
            return
        pool = index.recent_initial_reports(session, me.received_at - self.window,
                                            me.received_at)
        if not pool:
            ids = index.candidate_ids(session, keys, me.received_at - self.window,
                                      me.received_at, me.id, MAX_CANDIDATES)
            pool = [c for c in index.load(session, ids) if c.followup is None]
        best, best_score = None, 0.0
        for candidate in pool:
            if candidate.order >= me.order or candidate.id == me.id:
                continue
            score = _title_match(wanted, candidate.features.title)
            if score > best_score:
                best, best_score = candidate, score
        if best is not None and best_score >= self.settings.suspect_threshold:
            index.set_followup_of(session, me.id, best.id)


def _title_match(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    short = min(len(a), len(b))
    ratio = float(fuzz.ratio(a, b))
    if short >= 6:
        ratio = max(ratio, float(fuzz.partial_ratio(a, b)) * 0.95)
    return ratio

