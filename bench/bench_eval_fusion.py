"""The cost of the knowledge comparison: ``cross`` (knowledge inside the joint text, 4 encodings a pair:
without, with, shuffled, filler) against ``fusion`` (each pair once without knowledge + each distinct
knowledge text once with the bi-encoder, eval/fusion.py), on the same pairs and knowledge texts, no
embedding cache. The baseline (cross) is measured in the same run; prints CPU-seconds, wall and the ratio.

    .venv/bin/python bench/bench_eval_fusion.py ws/eval-esci/knowledge.parquet path/to/esci --pairs 600
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("knowledge", help="knowledge.parquet of an `intentkg eval esci` run")
    parser.add_argument("esci", help="the ESCI folder that run read (for the product titles)")
    parser.add_argument("--pairs", type=int, default=600, help="the first N pairs of the knowledge table")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import pyarrow.parquet as pq
    import torch

    from intentkg.embed import load_embedder
    from intentkg.eval.controls import filler_text, token_counter
    from intentkg.eval.features import CrossEncoder, joint_text
    from intentkg.eval.fusion import knowledge_block

    torch.set_num_threads(args.threads)
    k = pq.read_table(args.knowledge).slice(0, args.pairs).to_pylist()
    titles = dict(zip(*pq.read_table(f"{args.esci}/shopping_queries_dataset_products.parquet",
                                     columns=["product_id", "product_title"]).to_pydict().values()))
    q = [r["query"] for r in k]
    p = [titles.get(r["product_id"]) or "" for r in k]
    cross = CrossEncoder()  # no cache: every text is encoded
    count = token_counter(cross.tokenizer)
    shuffled = [r["knowledge"] for r in k[1:] + k[:1]]
    filler = [filler_text(n) for n in count([r["knowledge"] for r in k])]

    def timed(work):
        c0, w0 = time.process_time(), time.perf_counter()
        work()
        return time.process_time() - c0, time.perf_counter() - w0

    def cross_all():
        for texts in ([""] * len(k), [r["knowledge"] for r in k], shuffled, filler):
            cross._encode(sorted({joint_text(a, b, t) for a, b, t in zip(q, p, texts)}))

    embedder = load_embedder("all-MiniLM-L6-v2")
    memo: dict[str, object] = {}

    def embed(texts):
        """Each text once, as the stage's embedding cache does (queries and titles recur per setting)."""
        import numpy as np

        new = [t for t in dict.fromkeys(texts) if t not in memo]
        if new:
            memo.update(zip(new, embedder.encode(new)))
        return np.stack([memo[t] for t in texts])

    def fusion_all():
        cross._encode(sorted({joint_text(a, b) for a, b in zip(q, p)}))
        qk, pk = [r["query_knowledge"] for r in k], [r["product_knowledge"] for r in k]
        for a, b in ((qk, pk), (qk[1:] + qk[:1], pk[1:] + pk[:1]),
                     ([filler_text(n) for n in count(qk)], [filler_text(n) for n in count(pk)])):
            knowledge_block(embed, q, p, a, b)

    base_cpu, base_wall = timed(cross_all)
    new_cpu, new_wall = timed(fusion_all)
    print(f"{len(k)} pairs, {args.threads} torch thread(s), load {os.getloadavg()[0]:.1f}")
    print(f"cross  (baseline): {base_cpu:7.1f} CPU-s  {base_wall:7.1f} s wall")
    print(f"fusion           : {new_cpu:7.1f} CPU-s  {new_wall:7.1f} s wall")
    print(f"ratio cross/fusion: {base_cpu / max(new_cpu, 1e-9):.1f}x CPU, {base_wall / max(new_wall, 1e-9):.1f}x wall")


if __name__ == "__main__":
    main()
