import pytest
from helpers.kg_workspace import PRODUCTS, make_workspace  # noqa: F401  (re-exported for the KG tests)

from intentkg.workspace import Workspace


@pytest.fixture
def kg_workspace(tmp_path) -> Workspace:
    return make_workspace(tmp_path)
