"""MinHash LSH band keys of many texts at once. Pure.

A text's set is its word 3-grams; its MinHash is datasketch's (``affine32`` scheme: the
MurmurHash3 finalizer, then ``BANDS * ROWS_PER_BAND`` affine permutations ``a·h + b mod 2³²``
whose parameters datasketch draws from ``SEED``), cut into ``BANDS`` bands of ``ROWS_PER_BAND``
values, each band hashed to one signed 64-bit key tagged by band and family.

datasketch fills one sketch per call, and for snippets of a few dozen words its per-call work
costs more than the hashing; here every text of a file goes through the same few array
operations at once (``tests/unit/streams/test_lsh.py`` checks the values equal datasketch's own
``MinHash.update_batch``). A 3-gram's hash is a polynomial in its words' crc32s, folded to
32 bits (crc32 is deterministic across processes, Python's ``str`` hash is not); a text shorter
than three words is one 3-gram padded with zeros.
"""

import zlib
from collections.abc import Sequence
from itertools import chain

import numpy as np
from datasketch import MinHash

BANDS = 8
ROWS_PER_BAND = 8
SHINGLE = 3
SEED = 1

_U32, _U64 = np.uint32, np.uint64
_A, _B = MinHash(num_perm=BANDS * ROWS_PER_BAND, seed=SEED).permutations.astype(np.uint32)
_GRAM = (_U64(0x100000001B3), _U64(0xC2B2AE3D27D4EB4F))
_ROW_MIX = np.array([0x9E3779B97F4A7C15 + 2 * i for i in range(ROWS_PER_BAND)], np.uint64)
_BAND_SALT = np.arange(1, BANDS + 1, dtype=np.uint64) * _U64(0xD6E8FEB86659FD93)
_FAMILY_MIX = 0xA0761D6478BD642F
_FINAL_MIX = _U64(0xBF58476D1CE4E5B9)


def gram_hashes(hashes: np.ndarray) -> np.ndarray:
    """The 32-bit hash of each 3-gram of one text's word hashes (at least 3 of them)."""
    grams: np.ndarray = (hashes[:-2] * _GRAM[0] + hashes[1:-1]) * _GRAM[1] + hashes[2:]
    folded: np.ndarray = (grams ^ (grams >> _U64(32))) & _U64(0xFFFFFFFF)
    return folded.astype(np.uint32)


def word_hashes(texts_words: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
    """The crc32 of every word of every text, each text padded with zeros to one 3-gram, and
    how many each text has."""
    padded = [w if len(w) >= SHINGLE else [*w, *[""] * (SHINGLE - len(w))] for w in texts_words]
    lengths = np.fromiter(map(len, padded), np.int64, len(padded))
    words = chain.from_iterable(padded)
    hashes = np.fromiter(map(zlib.crc32, map(str.encode, words)), np.uint64, int(lengths.sum()))
    return hashes, lengths


def minhashes(hashes: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The MinHash values of each text from :func:`word_hashes`, one row per text."""
    grams_all = gram_hashes(hashes)
    # A 3-gram starting in a text's last two words runs into the next text: dropped.
    ends = np.cumsum(lengths)
    keep = np.ones(len(grams_all) + 2, bool)
    keep[ends - 1] = keep[ends - 2] = False
    grams = grams_all[keep[: len(grams_all)]]
    # One row per permutation: reducing along rows is contiguous, about 9 times faster than along
    # the columns of the (grams, permutations) layout.
    mixed = _A[:, None] * _fmix32(grams)[None, :]
    mixed += _B[:, None]
    starts = np.cumsum(lengths - 2) - (lengths - 2)
    return np.minimum.reduceat(mixed, starts, axis=1).T


def band_keys(values: np.ndarray, families: Sequence[str]) -> list[list[int]]:
    """Each text's band keys from its MinHash values (one row per text)."""
    rows = values.astype(np.uint64).reshape(len(values), BANDS, ROWS_PER_BAND)
    bands = (rows * _ROW_MIX).sum(axis=2, dtype=np.uint64) + _BAND_SALT
    tags = [zlib.crc32(family.encode()) * _FAMILY_MIX % 2**64 for family in families]
    bands += np.array(tags, np.uint64)[:, None]
    bands ^= bands >> _U64(31)
    bands *= _FINAL_MIX
    bands ^= bands >> _U64(29)
    return bands.view(np.int64).tolist()  # type: ignore[no-any-return]


def lsh_keys(texts_words: Sequence[Sequence[str]], families: Sequence[str]) -> list[list[int]]:
    """The band keys of each text, given as its whitespace-separated words."""
    if not texts_words:
        return []
    return band_keys(minhashes(*word_hashes(texts_words)), families)


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, as datasketch pre-mixes every input."""
    values = values ^ (values >> _U32(16))
    values = values * _U32(0x85EBCA6B)
    values = values ^ (values >> _U32(13))
    values = values * _U32(0xC2B2AE35)
    mixed: np.ndarray = values ^ (values >> _U32(16))
    return mixed
