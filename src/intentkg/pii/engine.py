"""The Presidio analyzer that scrubs queries, built once per process.

Without a model it runs on a blank spaCy English pipeline (a tokenizer, no weights; lemmas are the
lower-cased words, so Presidio's context words still count) with Presidio's e-mail, card, US SSN,
IP and phone (phonenumbers) recognisers and ours (:mod:`intentkg.pii.recognisers`).

A model-based recogniser plugs in when you have its weights on disk, named by the environment
variable ``INTENTKG_PII_MODEL``:

``spacy:<installed package or folder>`` (e.g. ``spacy:en_core_web_lg``): the pipeline's PERSON
entities become ``[PERSON]`` through Presidio's spaCy recogniser. (Presidio's GLiNER and
transformers recognisers would plug in the same way; they are not wired because their usual
checkpoints load pickled PyTorch weights.)

Nothing is downloaded: a model that is not on disk is a configuration error. Every stage that keys
queries (ingest, lookup, serving, evaluation) must run with the same setting, or scrubbed keys differ.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from intentkg.errors import ConfigError

MODEL_ENV = "INTENTKG_PII_MODEL"
PRESIDIO_ENTITIES = ["EMAIL_ADDRESS", "CREDIT_CARD", "US_SSN", "IP_ADDRESS", "PHONE_NUMBER"]
OUR_ENTITIES = ["STREET_ADDRESS", "PO_BOX", "ACCOUNT_NUMBER", "PERSON"]

_lock = threading.Lock()
_engines: dict[str, object] = {}


def model_setting() -> str:
    return os.environ.get(MODEL_ENV, "").strip()


def analyzer(model: str | None = None):
    """The shared :class:`presidio_analyzer.AnalyzerEngine` for ``model`` (default: the environment's)."""
    model = model_setting() if model is None else model
    with _lock:
        if model not in _engines:
            _engines[model] = _build(model)
        return _engines[model]


def _lower_lemma_component():
    from spacy.language import Language

    if not Language.has_factory("intentkg_lower_lemma"):
        @Language.component("intentkg_lower_lemma")
        def lower_lemma(doc):
            for token in doc:
                token.lemma_ = token.lower_
            return doc
    return "intentkg_lower_lemma"


def _spacy_pipeline(model: str):
    import spacy

    if not model:
        nlp = spacy.blank("en")
    else:
        name = model.split(":", 1)[1]
        if not (spacy.util.is_package(name) or Path(name).exists()):
            raise ConfigError(f"{MODEL_ENV}={model!r}: no spaCy pipeline {name!r} is installed or on disk; "
                              "install the model package or give its folder (intentkg never downloads one)")
        nlp = spacy.load(name)
    if "lemmatizer" not in nlp.pipe_names:
        nlp.add_pipe(_lower_lemma_component())
    return nlp


def _build(model: str):
    from intentkg.pii import recognisers as ours
    from intentkg.pii.presidio import (AnalyzerEngine, CreditCardRecognizer, IpRecognizer, RecognizerRegistry,
                                       SpacyNlpEngine, SpacyRecognizer, UsSsnRecognizer)

    kind = model.split(":", 1)[0] if model else ""
    if kind not in ("", "spacy"):
        raise ConfigError(f"{MODEL_ENV}={model!r} is not understood: use spacy:<package or folder>, or leave it unset")

    class _Engine(SpacyNlpEngine):
        def load(self) -> None:  # never spacy.cli.download
            self.nlp = {"en": _spacy_pipeline(model)}

    nlp_engine = _Engine()
    nlp_engine.load()
    registry = RecognizerRegistry(supported_languages=["en"])
    for recogniser in (ours.OfflineEmailRecognizer(), CreditCardRecognizer(), UsSsnRecognizer(), IpRecognizer(),
                       ours.GatedPhoneRecognizer(), ours.PhoneShapeRecognizer(), ours.StreetAddressRecognizer(),
                       ours.PoBoxRecognizer(), ours.AccountNumberRecognizer(), ours.SelfNamedPersonRecognizer()):
        registry.add_recognizer(recogniser)
    if kind == "spacy":
        registry.add_recognizer(SpacyRecognizer(supported_entities=["PERSON"]))
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=["en"])


RULES_VERSION = 1  # raise when a change to the recognisers or rules changes what is scrubbed


def description(model: str | None = None) -> dict:
    """What scrubs queries in this process, for stage fingerprints and manifests: a change re-runs ingest."""
    return {"engine": "presidio", "rules_version": RULES_VERSION,
            "model": (model_setting() if model is None else model) or None}
