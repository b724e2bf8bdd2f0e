"""Configuration of ``intentkg eval esci`` (recorded in the stage manifest; see docs/eval.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from intentkg.engine.settings import EngineSettings
from intentkg.eval.esci_data import EsciDataConfig

TASKS = {"esci": ("E", "S", "C", "I"), "substitute": ("other", "S")}
ENCODERS = ("bi", "cross", "fusion")
SETTINGS = ("without", "with")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KnowledgeConfig(_Strict):
    kg: bool = Field(True, description="look knowledge up in the workspace's KG")
    top_k: int = Field(5, ge=0, description="facts per side (query, product) in the knowledge text")
    nearest: bool = Field(True, description="borrow from the nearest KG query/product when there is no exact hit")
    nearest_k: int = Field(3, ge=1)
    min_similarity: float = Field(0.6, ge=-1, le=1, description="cosine a neighbour needs to lend its facts")
    unseen: Literal["split", "own", "test", "all", "none"] = Field(
        "split", description="the protocol keeping evaluation queries out of the KG. split (default): every "
                             "test-split query's behaviours are hidden from the KG for everyone and every pair "
                             "leaves its own query out; with folds, each fold is looked up with its own queries "
                             "hidden. own: only the pair's own query is left out (leaks: the other test queries "
                             "stay in the KG); test / all: the test split's / every evaluation query's behaviour "
                             "hidden, no leave-own-out; none: the KG as built")
    on_demand: bool = Field(False, description="generate + filter knowledge for queries the KG cannot answer")
    on_demand_scope: Literal["missing", "unseen"] = Field(
        "missing", description="missing: queries without an exact KG hit (after hiding); unseen: every "
                               "evaluation query")
    catalogue: bool = Field(True, description="add product-side knowledge from the catalogue stage "
                                              "(`intentkg catalogue`), when the workspace has one")
    relations: list[str] | None = Field(None, description="keep only facts of these relations (None: all)")
    on_demand_config: str | None = Field(
        None, description="YAML with generate: / filter: sections for on-demand knowledge; default: the "
                          "workspace's own generate and filter configuration (docs/knowledge.md)")
    on_demand_model: str | None = Field(
        None, description="the on-demand generator instead of the configured one, as `generate --model`: e.g. "
                          "the distilled student <ws>/distill/student.gguf (a .gguf runs through llama.cpp); "
                          "its file hash is an input of the evaluation and its lineage is in knowledge_stats")


class FinetuneConfig(_Strict):
    enabled: bool = False
    epochs: int = Field(3, ge=1)
    lr: float = 5e-5
    batch_size: int = Field(16, ge=1)
    max_length: int = Field(160, ge=16)
    seeds: int = Field(1, ge=1)
    tasks: list[Literal["esci", "substitute"]] = ["esci"]


class EvalConfig(_Strict):
    data: EsciDataConfig
    knowledge: KnowledgeConfig = KnowledgeConfig()
    encoders: list[Literal["bi", "cross", "fusion"]] = Field(
        ["bi", "cross"], description="bi: sentence embeddings of each side; cross: one joint text with the knowledge "
                                     "in it; fusion: the cross-encoder's knowledge-free pair features + the "
                                     "knowledge encoded once per distinct text (eval/fusion.py, much cheaper)")
    fusion_vectors: bool = Field(False, description="fusion: also append the two knowledge embeddings (else only "
                                                    "their cosines and presence flags)")
    fusion_facts: bool = Field(False, description="fusion: also the query against each product fact alone (best and "
                                                   "mean cosine), the title against each query fact, and the "
                                                   "query-title cosine in every setting (eval/fusion.py)")
    heads: list[Literal["logreg", "mlp", "mlp_vote"]] = Field(
        ["logreg", "mlp"], description="mlp_vote: one head of `seeds` MLPs predicting by their mean probability")
    tasks: list[Literal["esci", "substitute"]] = ["esci", "substitute"]
    seeds: int = Field(3, ge=1, description="head seeds (logistic regression is deterministic; mlp_vote: its members)")
    n_boot: int = Field(1000, ge=50, description="bootstrap replicates over queries")
    bi_model: str = "all-MiniLM-L6-v2"
    cross_model: str = "all-MiniLM-L6-v2"
    cross_max_length: int = Field(256, ge=16)
    device: str = "cpu"
    threads: int | None = Field(None, ge=1, description="torch threads; None: all cores unless the machine is busy")
    finetune: FinetuneConfig = FinetuneConfig()
    primary: tuple[str, str, str, str] = Field(
        ("cross", "mlp", "esci", "macro_f1"),
        description="the primary comparison (encoder, head, task, metric), declared before the run; every other "
                    "one is secondary and Holm-adjusted")
    controls: bool = Field(True, description="also score the shuffled-knowledge and filler controls (docs/eval.md)")
    stage: str = Field("eval-esci", description="workspace folder the results go to")
    engine: EngineSettings = Field(default_factory=EngineSettings,
                                   description="local, or ray: the encoders' cache misses on a Ray cluster (docs/ray.md)")
