import pytest
from helpers.filter_workspace import filtered_workspace
from helpers.kg_workspace import PRODUCTS, make_workspace  # noqa: F401  (re-exported for the KG tests)

from intentkg.workspace import Workspace


@pytest.fixture
def kg_workspace(tmp_path) -> Workspace:
    return make_workspace(tmp_path)


@pytest.fixture(scope="session")
def filtered_ws(tmp_path_factory):
    """The filter tests' real filtered workspace (MiniLM, Gemma scorer, critic trained by train-critic), built once."""
    return filtered_workspace(str(tmp_path_factory.getbasetemp() / "filtered"))
