"""Candidate narrowing (R3), pure: MinHash over character shingles, cut into LSH bands.

Two items share a band key with a probability that rises steeply with the Jaccard
similarity of their shingle sets, so a look-up of an item's band keys in an indexed table
finds its likely matches among any number of stored items without comparing them all.

Content: character 3-grams of the content (of the title when there is none), 96 hashes in
32 bands of 3 rows: a pair with trigram Jaccard 0.3 shares at least one band with
p ≈ 0.58, 0.4 → 0.88, 0.5 → 0.99; unrelated news (Jaccard ≈ 0.02) ≈ 0.0003. Title:
2-grams, 16 hashes in 8 bands of 2, so an item with no body still finds the items of its
title. The stored MinHash estimates the Jaccard of any two items (`similarity`). The hash
family is multiply-shift over a fixed 64-bit mix of each shingle's code points (stable
across processes and versions, unlike Python's `hash`); numpy evaluates all hashes of all
shingles at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CONTENT_BANDS, CONTENT_ROWS = 32, 3
TITLE_BANDS, TITLE_ROWS = 8, 2
MINHASH_CHARS = 1500  # the start of an item decides its candidates
SENTENCE_KEYS = 6        # sentence keys an item is indexed under
SENTENCE_KEY_CHARS = 16  # compacted characters of a sentence with a key
_MASK63 = (1 << 63) - 1
_MIX = np.uint64(0x9E3779B97F4A7C15)
_GENERATOR = np.random.Generator(np.random.PCG64(20190509))  # fixed: keys must stay stable
_COEFFICIENTS = _GENERATOR.integers(1, 2**63, size=CONTENT_BANDS * CONTENT_ROWS,
                                    dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_TITLE_COEFFICIENTS = _GENERATOR.integers(1, 2**63, size=TITLE_BANDS * TITLE_ROWS,
                                          dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def shingles(text: str, size: int) -> np.ndarray:
    """Each distinct `size`-character window of `text` as one integer (21 bits a code
    point), computed on arrays: a Python loop over the windows costs more than hashing."""
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if points.size == 0:
        return points
    if points.size < size:
        size = int(points.size)
    count = points.size - size + 1
    packed = np.zeros(count, dtype=np.uint64)
    for offset in range(size):
        packed = (packed << np.uint64(21)) | points[offset:offset + count]
    return np.unique(packed)


def minhash(array: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    """One minimum per hash function h(x) = a·mix(x) mod 2^64 (multiply-shift: an odd `a`
    permutes the 64-bit values; the high bits are the well-mixed ones, and taking the
    minimum of whole products keeps the order of their high halves)."""
    if array.size == 0:
        return np.zeros(0, dtype=np.uint64)
    mixed = array * _MIX
    mixed ^= mixed >> np.uint64(29)
    products: np.ndarray = np.multiply.outer(coefficients, mixed)
    minima: np.ndarray = products.min(axis=1) >> np.uint64(32)
    return minima


def _band_keys(signature: np.ndarray, bands: int, rows: int, salt: int) -> list[int]:
    if signature.size == 0:
        return []
    keys = []
    for band in range(bands):
        chunk = signature[band * rows:(band + 1) * rows]
        value = (salt * 1_000_003 + band) & 0xFFFFFFFF
        for part in chunk.tolist():
            value = (value * 0x100000001B3 ^ part) & 0xFFFFFFFFFFFFFFFF
        keys.append(_signed(value ^ (value >> 31)))
    return keys


def _signed(value: int) -> int:
    """A 64-bit key as a signed BIGINT (PostgreSQL has no unsigned integers)."""
    value &= 0xFFFFFFFFFFFFFFFF
    return value - (1 << 64) if value >= 1 << 63 else value


@dataclass(frozen=True)
class Sketch:
    keys: list[int]  # content bands, then title bands (salted apart)
    minhash: bytes   # the content MinHash, 32 bits a hash: estimates Jaccard (`similarity`)


def content_sketch(text: str) -> Sketch:
    """Content bands and MinHash of an item's text (its title's, when it has no content):
    computed where the mail is parsed, in worker processes."""
    values = minhash(shingles(text[:MINHASH_CHARS], 3), _COEFFICIENTS)
    return Sketch(_band_keys(values, CONTENT_BANDS, CONTENT_ROWS, salt=1),
                  values.astype("<u4").tobytes())


def sentence_keys(sentences: Sequence[str]) -> list[int]:
    """A key for each of a few of an item's sentences: those of `SENTENCE_KEY_CHARS` or
    more, sentences with figures first (the issue of a series is told apart by them), then
    by a stable hash (a bottom-k sample: a copy cut to its first part or with its
    paragraphs reordered still shares some with its original). They find an original among
    its series' look-alikes, whose band keys are shared by dozens of issues."""
    ranked = sorted((not any(ch.isdigit() for ch in s), _stable(s), s)
                    for s in set(sentences) if len(s) >= SENTENCE_KEY_CHARS)
    return [_signed(hashed ^ 0x5E17E9CE) for _, hashed, _ in ranked[:SENTENCE_KEYS]]


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def sketch(title: str, content: str, content_part: Sketch | None = None,
           sentences: Sequence[str] = ()) -> Sketch:
    """The LSH keys and the MinHash of an item (`content_part`: content_sketch(content),
    when already computed), with its sentence keys."""
    if content_part is None or not content:
        content_part = content_sketch(content or title)
    keys = content_part.keys + _band_keys(minhash(shingles(title, 2), _TITLE_COEFFICIENTS),
                                          TITLE_BANDS, TITLE_ROWS, salt=2)
    return Sketch(keys + sentence_keys(sentences), content_part.minhash)


def band_keys(title: str, content: str) -> list[int]:
    return sketch(title, content).keys


def similarity(mine: bytes, others: list[bytes]) -> list[float]:
    """Estimated trigram Jaccard of one item with others: the share of equal MinHashes."""
    if not mine or not others:
        return [0.0] * len(others)
    size = len(mine)
    own = np.frombuffer(mine, dtype="<u4")
    rows = np.frombuffer(b"".join(o if len(o) == size else bytes(size) for o in others),
                         dtype="<u4").reshape(len(others), -1)
    shares: list[float] = (np.count_nonzero(rows == own, axis=1) / own.size).tolist()
    return [share if len(o) == size else 0.0 for share, o in zip(shares, others, strict=True)]
