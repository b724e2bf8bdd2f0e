"""Benchmark: what one batched decode step costs per token with k sequences, against k = 1.

    .venv/bin/python bench/bench_decode_step.py [--threads 1] [--extra-buffers] [--k 1,4,8,16] [--reps 5]

Loads the bundled Gemma 3 270M into a :class:`intentkg.llm.llama_cpp_batched.BatchedDecoder` with
max(k) slots, evaluates a 101-token prompt in every slot alone (CPU ms per prompt token), then times
``llama_decode`` steps of k sequences, one token each with logits (median of ``--reps`` steps, CPU
ms of this process and wall ms). Prints the per-token cost at each k and its ratio to k = 1: the
most batching can save on generated tokens on this machine (prompt tokens are not decoded this way).
Sampling and log-probs are not included (about 1.6 ms a token, the same for single stream and batch).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

PROMPT = ('Question: A customer searched for "camping stove" and bought "Coleman Propane Cylinder 16 oz". '
          "What is the product used for?\nAnswer: The product is used for\n1. cooking on a camp stove\n2. heating\n\n") * 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--extra-buffers", action="store_true", help="llama.cpp's repacked weights (the single "
                                                                     "stream's default; batched decoding never uses them)")
    parser.add_argument("--k", default="1,4,8,16", help="sequences per step")
    parser.add_argument("--reps", type=int, default=5)
    opts = parser.parse_args()

    from intentkg.llm import bundled
    from intentkg.llm.llama_cpp_batched import BatchedDecoder

    ks = sorted({int(k) for k in opts.k.split(",")} | {1})
    decoder = BatchedDecoder(str(bundled.resolve(bundled.GEMMA)), max(ks), 512, opts.threads,
                             use_extra_buffers=opts.extra_buffers)
    lc, batch = decoder.lc, decoder.batch
    tokens = decoder.tokenize(PROMPT, add_bos=True)
    n = len(tokens)
    prompt = []
    for slot in decoder.slots:
        started, cpu = time.perf_counter(), time.process_time()
        decoder._eval(slot, tokens, 0, logits_last=True)
        prompt.append((time.process_time() - cpu, time.perf_counter() - started))
    result = {"threads": opts.threads, "extra_buffers": opts.extra_buffers, "prompt_tokens": n,
              "prompt_cpu_ms_per_token": round(statistics.median(c for c, _ in prompt) / n * 1e3, 2), "steps": {}}
    for k in ks:
        times = []
        for r in range(opts.reps):
            for i in range(k):
                batch.token[i], batch.pos[i], batch.n_seq_id[i], batch.logits[i] = tokens[5], n + r, 1, 1
                batch.seq_id[i][0] = i
            batch.n_tokens = k
            started, cpu = time.perf_counter(), time.process_time()
            if lc.llama_decode(decoder.ctx, batch) != 0:
                raise SystemExit("llama_decode failed")
            times.append((time.process_time() - cpu, time.perf_counter() - started))
        for slot in decoder.slots:
            lc.llama_memory_seq_rm(decoder.memory, slot.seq, n, -1)
        cpu_ms = statistics.median(c for c, _ in times) * 1e3 / k
        wall_ms = statistics.median(w for _, w in times) * 1e3 / k
        result["steps"][k] = {"cpu_ms_per_token": round(cpu_ms, 2), "wall_ms_per_token": round(wall_ms, 2)}
    base = result["steps"][1]["cpu_ms_per_token"]
    for k, step in result["steps"].items():
        step["cpu_per_token_over_k1"] = round(step["cpu_ms_per_token"] / base, 3)
        print(f"k={k:3d}: {step['cpu_ms_per_token']:6.1f} CPU ms a token ({step['wall_ms_per_token']:.1f} wall), "
              f"{step['cpu_per_token_over_k1']:.2f} of k=1", flush=True)
    result["loadavg"] = os.getloadavg()
    print(json.dumps(result, indent=2))
    decoder.close()


if __name__ == "__main__":
    main()
