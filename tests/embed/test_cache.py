import hashlib

import numpy as np

from intentkg.embed.cache import EmbeddingCache, text_key


class Counting:
    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, texts):
        self.seen.extend(texts)
        return np.array([[len(t), t.count("a"), 1.0] for t in texts], dtype=np.float32)


def test_only_new_texts_are_encoded_and_order_is_kept(tmp_path):
    compute = Counting()
    cache = EmbeddingCache(tmp_path, "model@1", flush_every=2)
    first = cache.encode(["a", "bb", "a", "ccc"], compute)
    assert compute.seen == ["a", "bb", "ccc"] and first[:, 0].tolist() == [1, 2, 1, 3]
    again = EmbeddingCache(tmp_path, "model@1")  # a new process: reads the shards from disk
    second = again.encode(["ccc", "dddd", "a"], compute)
    assert compute.seen[3:] == ["dddd"] and second[:, 0].tolist() == [3, 4, 1]
    assert (again.hits, again.misses) == (2, 1) and len(again) == 4
    other = EmbeddingCache(tmp_path, "model@2")  # another model never shares vectors
    other.encode(["a"], compute)
    assert compute.seen[-1] == "a"
    assert other.encode([], compute).shape == (0, 3)


def test_shards_are_plain_npy_and_partial_shards_are_ignored(tmp_path):
    cache = EmbeddingCache(tmp_path, "m")
    cache.encode(["x", "y"], Counting())
    files = sorted(p.name for p in cache.folder.iterdir())
    assert len(files) == 2 and all(f.endswith(".npy") for f in files)
    for path in cache.folder.iterdir():
        np.load(path, allow_pickle=False)  # no pickle anywhere
    (cache.folder / "broken.vec.npy").write_bytes(b"")  # a vector file whose keys never landed
    keys = np.frombuffer(text_key("m", "z"), dtype=np.uint8).reshape(1, 32)
    np.save(cache.folder / "orphan.keys.npy", keys)  # keys without vectors
    compute = Counting()
    assert EmbeddingCache(tmp_path, "m").encode(["x", "z"], compute).shape == (2, 3)
    assert compute.seen == ["z"]


def test_keys_ending_in_zero_bytes_round_trip(tmp_path):
    # find a text whose key ends in a zero byte: a bytes dtype ('S32') would strip it
    text = next(f"t{i}" for i in range(100000) if hashlib.sha256(f"m\x1ft{i}".encode()).digest()[-1] == 0)
    compute = Counting()
    EmbeddingCache(tmp_path, "m").encode([text], compute)
    EmbeddingCache(tmp_path, "m").encode([text], compute)
    assert compute.seen == [text]
