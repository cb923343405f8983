"""The batched MinHash equals datasketch's, and band keys do not depend on the batch."""

from datasketch import MinHash

from streams.lsh import BANDS, ROWS_PER_BAND, SEED, gram_hashes, lsh_keys, minhashes, word_hashes

TEXTS = [
    "def add(a, b):\n    return a + b\n",
    "x",
    "",
    "one two",
    "class Stack:\n    def push(self, item):\n        self.items.append(item)\n" * 3,
    'fn main() { let v = vec![1, 2, 3]; println!("{:?}", v); }',
]


def test_minhash_values_equal_datasketch_per_text() -> None:
    words = [text.split() for text in TEXTS]
    batched = minhashes(*word_hashes(words))
    for row, text_words in zip(batched, words, strict=True):
        sketch = MinHash(num_perm=BANDS * ROWS_PER_BAND, seed=SEED, hashfunc=int)
        sketch.update_batch(gram_hashes(word_hashes([text_words])[0]).tolist())
        assert row.tolist() == sketch.hashvalues.tolist()


def test_keys_do_not_depend_on_the_batch() -> None:
    words = [text.split() for text in TEXTS]
    families = ["", "class"] * 3
    together = lsh_keys(words, families)
    alone = [lsh_keys([w], [f])[0] for w, f in zip(words, families, strict=True)]
    assert together == alone
    assert all(len(keys) == BANDS for keys in together)


def test_a_family_changes_every_key_and_bands_differ() -> None:
    words = [TEXTS[0].split()]
    plain, classy = lsh_keys(words, [""])[0], lsh_keys(words, ["class"])[0]
    assert not set(plain) & set(classy)
    assert len(set(plain)) == BANDS
    assert lsh_keys([], []) == []
