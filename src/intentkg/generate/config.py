"""Generate configuration, from YAML (``intentkg generate -c generate.yaml``) or CLI flags.

Example::

    backend:
      name: llama_cpp                 # llama_cpp | transformers | openai | vllm | a plugin
      model: gemma3-270m              # bundled alias, local path, or Hugging Face name
      options: {n_threads: 4}         # passed to the backend (see docs/generate.md)
    template: auto                    # auto: qa_chat for chat models, qa_fewshot otherwise
    relations: [used_for_function, xWant]   # default: all 15
    extra_relations:
      used_for_hobby:
        question: {co_buy: What hobby are they for?, search_buy: What hobby is it for?}
        cue: {co_buy: They are both used for the hobby of, search_buy: The product is used for the hobby of}
    sampling: {temperature: 0.8, top_p: 0.95, n: 1, max_tokens: 48, seed: 0}
    selection: {limit: 40, kinds: [co_buy, search_buy]}
    few_shot: {per_prompt: 2, rotate: true, domain: true}   # worked answers drawn per behaviour
    granularity: behavior             # or product_type: one prompt per type, shared by its products
    engine: local                     # or ray: the calls on a Ray cluster's actor pool (docs/ray.md)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from intentkg.config_file import load_yaml_model
from intentkg.engine.settings import EngineSettings
from intentkg.llm.protocol import SamplingParams


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BackendSettings(_Strict):
    name: str = "llama_cpp"
    model: str = "gemma3-270m"
    options: dict[str, Any] = Field(default_factory=dict, description="keyword options of the backend")


class SamplingSettings(_Strict):
    temperature: float = Field(0.8, ge=0)
    top_p: float = Field(0.95, gt=0, le=1)
    top_k: int | None = Field(None, ge=0, description="None: the backend's default")
    min_p: float | None = Field(None, ge=0, le=1)
    repeat_penalty: float | None = Field(None, gt=0)
    n: int = Field(1, ge=1, le=64, description="samples per prompt")
    max_tokens: int = Field(48, ge=1)
    seed: int = 0
    stop: list[str] | None = Field(None, description="None: the template's stop sequences")
    logprobs: bool = True

    def params(self, template_stop: tuple[str, ...]) -> SamplingParams:
        stop = tuple(self.stop) if self.stop is not None else tuple(template_stop)
        return SamplingParams(temperature=self.temperature, top_p=self.top_p, top_k=self.top_k, min_p=self.min_p,
                              repeat_penalty=self.repeat_penalty, max_tokens=self.max_tokens, n=self.n,
                              seed=self.seed, stop=stop, logprobs=self.logprobs)


class SelectionSettings(_Strict):
    limit: int | None = Field(None, ge=1, description="at most this many behaviours, balanced by kind and category")
    kinds: list[Literal["co_buy", "search_buy"]] | None = None
    categories: list[str] | None = None
    seed: int = 0


class FewShotSettings(_Strict):
    per_prompt: int = Field(2, ge=0, le=8, description="worked answers a prompt shows, from the relation's pool")
    rotate: bool = Field(True, description="draw them per behaviour (false: the first of each kind, every prompt)")
    domain: bool = Field(True, description="prefer pool examples that share words with the behaviour")
    groups: int = Field(0, ge=0, description="draw them per group of behaviours (this many groups, by a hash "
                                             "of the behaviour) so a group's prompts share the few-shot block; "
                                             "0: per behaviour")


class GenerateConfig(_Strict):
    backend: BackendSettings = BackendSettings()
    template: str = Field("auto", description="qa_fewshot, qa_chat, a YAML path, or auto")
    relations: list[str] | None = Field(None, description="relation names; None: every relation in the schema")
    relations_file: Path | None = None
    extra_relations: dict[str, dict[str, Any]] = Field(default_factory=dict)
    sampling: SamplingSettings = SamplingSettings()
    selection: SelectionSettings = SelectionSettings()
    few_shot: FewShotSettings = FewShotSettings()
    granularity: Literal["behavior", "product_type"] = Field(
        "behavior", description="product_type: one prompt per product type (from the catalogue, else the "
                                "title), its answer shared by every behaviour whose product has that type")
    batch_size: int | None = Field(None, ge=1, description="requests per cache commit; None: the backend's choice")
    max_items: int = Field(10, ge=1, description="list items kept per answer")
    max_text_chars: int = Field(150, ge=10, description="titles and queries are cut to this length in prompts")
    max_failed_fraction: float = Field(0.0, ge=0, le=1, description="fail the stage above this share of failed calls")
    engine: EngineSettings = Field(default_factory=EngineSettings,
                                   description="local, or ray: the calls on a cluster's actors (docs/ray.md)")


def load_config(path: str | Path) -> GenerateConfig:
    path = Path(path)
    config = load_yaml_model(path, GenerateConfig, "docs/generate.md")
    if config.relations_file is not None and not config.relations_file.is_absolute():
        config.relations_file = path.parent / config.relations_file
    if config.template not in ("auto", "qa_fewshot", "qa_chat") and not Path(config.template).is_absolute():
        candidate = path.parent / config.template
        if candidate.exists():
            config.template = str(candidate)
    return config
