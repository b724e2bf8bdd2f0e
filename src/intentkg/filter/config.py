"""Filter configuration: what to score and how (the stage fingerprint) plus the default operating point.

Loaded from YAML (``intentkg filter -w ws --config filter.yaml``); every key is optional::

    rules:
      min_words: 1
      max_words: 20
      echo_max_edits: 2
    generic:
      min_heads: 6
    completeness:
      scorer: auto            # auto | generation | llama | none
    similarity:
      embedder: all-MiniLM-L6-v2
    dedup:
      lexical_threshold: 0.8
      semantic_threshold: 0.92
    critic:
      path: models/critic     # a folder saved by train-critic (docs/filter.md, "Critic folder")
    thresholds:               # the operating point; changing it never re-scores
      min_plausibility: 0.5

Everything except ``thresholds`` is part of the stage fingerprint: change it and the next run
re-scores. ``thresholds`` only decides which stored rows are kept (see :mod:`intentkg.filter.view`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from intentkg.config_file import load_yaml_model
from intentkg.engine.settings import EngineSettings
from intentkg.operating_point import OperatingPoint

# The 15 COSMO relation types (docs/filter.md); users add their own with rules.extra_relations.
COSMO_RELATIONS = (
    "used_for_function", "used_for_event", "used_for_audience", "used_in_location", "used_in_body",
    "used_with", "xIs_a", "xWant", "xInterested_in", "capable_of", "is_a", "used_as", "used_on",
    "used_by", "used_to",
)

DANGLING_WORDS = (
    "a", "an", "the", "and", "or", "but", "nor", "of", "to", "for", "with", "in", "on", "at", "by",
    "from", "into", "onto", "about", "as", "because", "that", "which", "who", "whose", "while",
    "when", "if", "than", "their", "his", "her", "its", "your", "my", "our", "is", "are", "was",
    "were", "be", "been", "could", "would", "should", "such", "very",
)  # not "can", "will", "like", "more": "a watering can", "things they like" are complete

# Whole-tail patterns (matched against the normalised tail, see rules.normalize) that give no reason.
CIRCULAR_PATTERNS = (
    r"(because )?(they|he|she|i|you|we|customers?|people|someone|the (customer|buyer|person|user)s?)"
    r"( (just|really|simply|both|all))? (like|likes|liked|love|loves|loved|want|wants|wanted|need|needs|needed|"
    r"prefer|prefers|preferred|enjoy|enjoys|enjoyed)( to (buy|have|use|get|own))?"
    r"( (it|them|this|that|these|those|both|the products?|the items?|each other))?( (a lot|very much|so much))?",
    r"(for )?(the same|that|this|some|a|no|any|other|similar) reasons?",
    r"(it is|it s|they are|its|because it is|because they are) (good|great|nice|useful|needed|necessary|"
    r"related|similar|popular|the same|compatible|a good (product|deal|choice))",
    r"(they|these|the products?|the items?|both) (go|goes|work|works|belong|are used|are bought|are sold)"
    r"( well)? together",
    r"personal (preference|choice|taste)",
    r"to (buy|purchase|get|have|own|use) (it|them|both|this|that|the products?|the items?)",
    r"(it|they) (is|are|was|were) on sale",
)

# Words that carry no reason on their own: a tail made only of these is an empty reason.
FILLER_WORDS = (
    "it", "its", "they", "them", "their", "this", "that", "these", "those", "he", "she", "him", "her",
    "i", "me", "you", "we", "us", "one", "ones", "someone", "something", "anything", "everything",
    "a", "an", "the", "and", "or", "of", "to", "for", "with", "in", "on", "at", "by", "as", "so",
    "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "have", "has", "had",
    "use", "used", "uses", "using", "usage", "buy", "buys", "bought", "buying", "purchase", "purchased",
    "get", "gets", "got", "need", "needs", "needed", "want", "wants", "wanted", "like", "likes", "liked",
    "make", "makes", "go", "goes", "together", "same", "similar", "other", "another", "reason",
    "reasons", "purpose", "purposes", "thing", "things", "stuff", "product", "products", "item", "items",
    "because", "both", "also", "just", "very", "really", "can", "could", "will", "would", "should",
    "good", "nice", "great", "customer", "customers", "people", "person", "user", "users",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RulesConfig(_Strict):
    min_words: int = Field(1, ge=0, description="fewer words -> too_short")
    min_chars: int = Field(3, ge=0, description="fewer characters -> too_short")
    max_words: int = Field(20, ge=1, description="more words -> too_long")
    max_chars: int = Field(160, ge=1, description="more characters -> too_long")
    dangling_words: list[str] = Field(list(DANGLING_WORDS), description="a tail ending in one -> incomplete")
    echo_max_edits: int = Field(2, ge=0, description="edit distance at or below which a tail echoes its source")
    echo_max_edit_ratio: float = Field(
        0.2, ge=0, le=1, description="allowed edits are also capped at this share of the source length")
    echo_containment: bool = Field(
        False, description="also flag tails of 2+ words that appear verbatim inside the title or query")
    circular_patterns: list[str] = Field(list(CIRCULAR_PATTERNS), description="regexes over the whole tail")
    filler_words: list[str] = Field(list(FILLER_WORDS), description="a tail of only these -> empty_reason")
    restatement: bool = Field(True, description="flag tails that name the product itself (restates_product)")
    copies: bool = Field(True, description="flag copies of the worked answers the prompt showed (copied_example)")
    copy_max_edit_ratio: float = Field(0.15, ge=0, le=1, description="edits (share of length) still a copy")
    copy_max_extra_words: int = Field(2, ge=0, description="words around a worked answer still a copy")
    relations: list[str] | None = Field(
        list(COSMO_RELATIONS), description="known relations; null accepts any identifier-like name")
    extra_relations: list[str] = Field(default_factory=list, description="added to relations")


class GenericConfig(_Strict):
    enabled: bool = True
    min_heads: int = Field(6, ge=2, description="distinct heads a tail needs before it can be generic")
    min_head_share: float = Field(
        0.0, ge=0, le=1, description="... and at least this share of all distinct heads")
    min_groups: int = Field(4, ge=1, description="distinct product types among those heads")
    min_entropy_bits: float = Field(
        2.0, ge=0, description="entropy (bits) of the product-type distribution of its heads")
    min_spread: float = Field(
        0.5, ge=0, le=1, description="entropy / log2(heads): 1 when every head is of its own type")
    max_supported_share: float = Field(
        0.5, ge=0, le=1, description="at most this share of its heads may name a word of the tail")


class RepeatedAnswersConfig(_Strict):
    """The same whole answer for prompts about unrelated products (repeated_answers.py)."""

    enabled: bool = True
    min_prompts: int = Field(3, ge=2, description="different prompts (request keys) that got the answer")
    min_groups: int = Field(3, ge=1, description="distinct product types among their products")


class AgreementConfig(_Strict):
    """Agreement between the samples of one prompt (agreement.py); needs sampling.n >= min_samples.

    Off by default: on esci-dev with Gemma 3 270M (n=3, temperature 0.8) samples rarely named the
    same tail, so it rejected 92% of candidates, good ones included, and what it kept was no better
    (docs/filter.md, "Measured on esci-dev")."""

    enabled: bool = False
    min_samples: int = Field(2, ge=2, description="prompts with fewer samples are not checked")
    min_share: float = Field(0.5, gt=0, le=1, description="share of the samples that must name the tail")


class CompletenessConfig(_Strict):
    scorer: Literal["auto", "generation", "llama", "none"] = Field(
        "auto", description="auto: generation log-probs when recorded, else the llama.cpp scorer; "
                            "generation: only recorded log-probs; llama: always re-score; none: skip")
    model_path: Path | None = Field(None, description="GGUF file; default: the bundled Gemma 3 270M")
    prefix_template: str = Field(
        "Why a shopper buys it ({relation}):", description="text the tail is scored after; {relation}")
    end_text: str = Field(".\n", description="appended to the tail so unfinished phrases score low")
    batch_tails: int = Field(16, ge=1, le=256, description="tails decoded together (llama.cpp sequences)")
    batch_tokens: int = Field(512, ge=64, description="tokens per decode call (and the context size)")
    max_tail_tokens: int = Field(48, ge=4, description="longer tails are cut (and score what remains)")
    n_threads: int | None = Field(None, ge=1, description="default: all cores")
    extra_buffers: bool = Field(
        False, description="let llama.cpp repack weights (AMX/AVX); off because AMX crashes in some VMs")


class SimilarityConfig(_Strict):
    enabled: bool = True
    min_relatedness: float | None = Field(
        0.2, ge=-1, le=1, description="a tail whose cosine to every source text is below this is "
                                      "unrelated_to_behavior (null: off)")
    embedder: str = Field("all-MiniLM-L6-v2", description="bundled name or a sentence-transformers folder")
    batch_size: int = Field(128, ge=1)
    chunk_texts: int = Field(8192, ge=64, description="texts embedded per step (progress + memory)")
    device: str = "cpu"


class DedupConfig(_Strict):
    lexical: bool = True
    lexical_threshold: float = Field(0.8, gt=0, le=1, description="Jaccard of character n-grams")
    ngram: int = Field(3, ge=1, description="character n-gram size for MinHash")
    num_perm: int = Field(64, ge=8, le=512, description="MinHash permutations (index memory: 4 B each per tail)")
    semantic: bool = True
    semantic_threshold: float = Field(0.92, gt=0, le=1, description="embedding cosine")
    semantic_bands: int = Field(24, ge=1, description="random-hyperplane LSH bands (more: higher recall)")
    semantic_band_bits: int = Field(16, ge=8, le=64, multiple_of=8, description="hyperplane bits per band")
    max_bucket: int = Field(200, ge=2, description="LSH buckets larger than this pair each member with the first "
                                                    "max_bucket members only (skipped pairs are counted)")
    ignore_relation: bool = Field(False, description="treat the same tail under two relations as a duplicate")
    scope: Literal["behavior", "global"] = Field(
        "global", description="behavior: per behaviour only; global: also across behaviours with the same head")


class CriticConfig(_Strict):
    path: Path | None = Field(None, description="critic folder (docs/filter.md); none: leave columns null")
    student: Path | None = Field(
        None, description="a GGUF language model (the distilled student) whose yes/no answers score plausibility "
                          "and typicality instead of a critic folder (filter/student_critic.py)")
    student_threads: int | None = Field(None, ge=1, description="llama.cpp threads of the student critic")
    batch_size: int = Field(32, ge=1)
    max_length: int | None = Field(None, ge=8, description="default: the folder's intentkg_critic.json, else 256")
    device: str = "cpu"
    skip_flagged: bool = Field(False, description="do not score rows with rule flags (saves time)")
    skip_duplicates: bool = Field(False, description="do not score rows folded into a representative")


# The operating point is one object for every stage (intentkg.operating_point); the filter config's
# ``thresholds:`` section is the workspace's default one.
Thresholds = OperatingPoint


class FilterConfig(_Strict):
    rules: RulesConfig = RulesConfig()
    generic: GenericConfig = GenericConfig()
    repeated: RepeatedAnswersConfig = RepeatedAnswersConfig()
    agreement: AgreementConfig = AgreementConfig()
    completeness: CompletenessConfig = CompletenessConfig()
    similarity: SimilarityConfig = SimilarityConfig()
    dedup: DedupConfig = DedupConfig()
    critic: CriticConfig = CriticConfig()
    thresholds: OperatingPoint = OperatingPoint()
    batch_rows: int = Field(65536, ge=16, description="candidates per record batch")
    duckdb_memory_limit: str = Field("2GB", description="DuckDB spills to disk beyond this")
    engine: EngineSettings = Field(default_factory=EngineSettings,
                                   description="local, or ray: the per-row steps on a Ray cluster (docs/ray.md)")

    def fingerprint_config(self) -> dict:
        """The part of the config that changes scores (everything but the operating point and the engine)."""
        return self.model_dump(mode="json", exclude={"thresholds", "engine"})


def load_config(path: str | Path | None) -> FilterConfig:
    if path is None:
        return FilterConfig()
    return load_yaml_model(path, FilterConfig, "docs/filter.md")
