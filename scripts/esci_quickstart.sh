#!/usr/bin/env bash
# The README's ESCI quickstart as one script: from the two public ESCI parquet files to the measured
# lift with its controls. Prints the expected time first, then times every step.
# Usage: scripts/esci_quickstart.sh <folder with the two parquet files> <workspace> [types] [behaviours]
set -euo pipefail
DATA=$1 WS=$2 TYPES=${3:-600} BEHAVIOURS=${4:-150}
INTENTKG=${INTENTKG:-intentkg}
RELATION=used_for_function
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE} HF_HUB_OFFLINE=1
python - "$DATA" "$TYPES" "$BEHAVIOURS" <<'PY'
import sys
import pyarrow.parquet as pq
from intentkg.generate.budget import SECONDS_PER_PROMPT
data, types, behaviours = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ex = pq.read_table(f"{data}/shopping_queries_dataset_examples.parquet", columns=["query", "product_id"])
queries, products = len(set(ex.column("query").to_pylist())), len(set(ex.column("product_id").to_pylist()))
prompts = behaviours + min(types, products) + queries
# eval: 4 cross-encoder texts per pair (without, with, shuffled, filler); measured on esci-dev on 2 cores
# shared with seven other jobs: 0.065 s a text (docs/eval.md, "Measured"); a free machine is faster
eval_min = ex.num_rows * 4 * 0.065 / 60
print(f"ESCI quickstart: {queries} queries, {ex.num_rows} pairs, {products} products -> {prompts} prompts "
      f"({behaviours} behaviours + {min(types, products)} product types + {queries} queries, one relation): "
      f"~{prompts * SECONDS_PER_PROMPT / 60:.0f} min of generation on a free core (several times more on a busy "
      f"machine) and at most ~{eval_min:.0f} min of evaluation (measured on a busy machine). Answers are cached: a re-run costs only what changed.", flush=True)
PY
step() { local t0=$SECONDS; echo "== $*"; "$@"; echo "== $(( SECONDS - t0 )) s: $1 $2"; }
T0=$SECONDS
step $INTENTKG ingest esci "$DATA" -w "$WS" --all-products
step $INTENTKG generate -w "$WS" --limit "$BEHAVIOURS" --relations "$RELATION"
step $INTENTKG filter -w "$WS"
step $INTENTKG build -w "$WS"
step $INTENTKG catalogue -w "$WS" --types "$TYPES" --relation "$RELATION"
step $INTENTKG eval esci "$DATA" -w "$WS" --version all --on-demand --on-demand-scope unseen
echo "== ESCI quickstart: $(( SECONDS - T0 )) s in all"
