"""A self-contained KG explorer page: type a query or a product and see its intentions and the
products linked through them. Opens offline (no network, no external scripts); all data is
embedded as JSON and every text is inserted with textContent, never as HTML.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from intentkg import atomic_file
from intentkg.kg.export import load_kg
from intentkg.workspace import Workspace

MAX_EDGES = 200_000  # the page embeds its data; bigger KGs should use `intentkg kg query`


def explorer_data(workspace: Workspace | str | Path) -> dict:
    nodes, edges = load_kg(workspace)
    structural = {"bought_after_search", "bought_with", "in_category"}
    node_rows = {n["node_id"]: [n["kind"], n["text"], n["parent_id"]] for n in nodes.to_pylist()}
    edge_rows = [[e["head"], e["relation"], e["tail"], e["support"],
                  None if e["plausibility"] is None else round(e["plausibility"], 3)]
                 for e in edges.to_pylist() if e["relation"] not in structural][:MAX_EDGES]
    return {"nodes": node_rows, "edges": edge_rows}


def _json_for_script(data: dict) -> str:
    """JSON that cannot close the <script> element it sits in."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


SCRIPT = """
const data = JSON.parse(document.getElementById('kg-data').textContent);
const byHead = new Map(), byTail = new Map();
for (const e of data.edges) {
  (byHead.get(e[0]) || byHead.set(e[0], []).get(e[0])).push(e);
  (byTail.get(e[2]) || byTail.set(e[2], []).get(e[2])).push(e);
}
const entries = Object.entries(data.nodes).filter(([id, n]) => n[0] === 'query' || n[0] === 'product');
function el(tag, text, cls) { const x = document.createElement(tag); if (text !== undefined) x.textContent = text;
  if (cls) x.className = cls; return x; }
function show(id) {
  const out = document.getElementById('kg-result'); out.replaceChildren();
  const node = data.nodes[id]; out.appendChild(el('h3', node[0] + ': ' + node[1]));
  const list = el('ul');
  for (const e of (byHead.get(id) || []).sort((a, b) => b[3] - a[3])) {
    const intent = data.nodes[e[2]]; const li = el('li');
    li.appendChild(el('span', e[1], 'rel')); li.appendChild(el('b', ' ' + intent[1]));
    if (intent[2] && data.nodes[intent[2]]) li.appendChild(el('span', '  (broader: ' + data.nodes[intent[2]][1] + ')', 'muted'));
    li.appendChild(el('span', '  support ' + e[3] + (e[4] === null ? '' : ', plausibility ' + e[4]), 'muted'));
    const products = (byTail.get(e[2]) || []).filter(x => x[0].startsWith('product:') && x[0] !== id).slice(0, 8);
    if (products.length) { const sub = el('ul');
      for (const p of products) sub.appendChild(el('li', data.nodes[p[0]][1], 'product')); li.appendChild(sub); }
    list.appendChild(li);
  }
  if (!list.children.length) out.appendChild(el('p', 'No intentions for this node.'));
  out.appendChild(list);
}
function search() {
  const q = document.getElementById('kg-q').value.trim().toLowerCase();
  const hits = document.getElementById('kg-hits'); hits.replaceChildren();
  if (!q) return;
  for (const [id, n] of entries.filter(([id, n]) => n[1].toLowerCase().includes(q)).slice(0, 30)) {
    const b = el('button', n[0] + ': ' + n[1]); b.onclick = () => show(id); hits.appendChild(b);
  }
}
document.getElementById('kg-q').addEventListener('input', search);
if (location.hash.startsWith('#q=')) {  // link straight to a search: explorer.html#q=winter%20camping
  document.getElementById('kg-q').value = decodeURIComponent(location.hash.slice(3)); search();
  const first = document.querySelector('#kg-hits button'); if (first) first.click();
}
"""

STYLE = """
#kg-explorer input { width: 28em; padding: .4em; font-size: 1em; }
#kg-hits button { display: block; margin: .15em 0; text-align: left; background: #eef; border: 1px solid #ccd;
  padding: .25em .5em; cursor: pointer; }
#kg-explorer .rel { font-family: monospace; color: #555; }
#kg-explorer .muted { color: #888; font-size: .9em; }
#kg-explorer .product { color: #245; }
"""


def explorer_section(workspace: Workspace | str | Path) -> str:
    """HTML for the explorer, usable as a section of the report or as a page body."""
    data = explorer_data(workspace)
    return (f"<div id=\"kg-explorer\"><style>{STYLE}</style>"
            f"<p>Type part of a query or a product title ({len(data['nodes']):,} nodes, "
            f"{len(data['edges']):,} intention edges).</p>"
            "<input id=\"kg-q\" placeholder=\"e.g. winter camping\" autocomplete=\"off\">"
            "<div id=\"kg-hits\"></div><div id=\"kg-result\"></div>"
            f"<script type=\"application/json\" id=\"kg-data\">{_json_for_script(data)}</script>"
            f"<script>{SCRIPT}</script></div>")


def write_explorer(workspace: Workspace | str | Path, out: Path | None = None) -> Path:
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    page = ("<!doctype html><html><head><meta charset=\"utf-8\"><title>intentkg explorer: "
            f"{html.escape(str(ws.root))}</title></head><body style=\"font-family: sans-serif; margin: 2em\">"
            f"<h2>intentkg KG explorer</h2>{explorer_section(ws)}</body></html>")
    if out is None:  # the default page is an output of the kg stage: committed and hashed in its manifest
        ws.amend("kg", {"explorer.html": page})
        return ws.stage_dir("kg") / "explorer.html"
    return atomic_file.write_text(out, page)  # replaces a planted link, never writes through it
