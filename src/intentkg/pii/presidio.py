"""Presidio, imported without the optional engines it loads whenever they are installed.

``presidio_analyzer`` imports transformers (and with it torch), stanza and gliner at import time if
they are installed, for NLP engines and recognisers intentkg does not use: tens of seconds of
start-up on a loaded machine, before a server's first request or a CLI command. While Presidio is
imported those packages are reported missing (a meta-path finder, removed right after); packages
that were already imported are left alone, and anything imported later imports normally.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
import threading

OPTIONAL = ("transformers", "torch", "stanza", "gliner")
_lock = threading.Lock()


class _SkipOptional(importlib.abc.MetaPathFinder):
    def __init__(self, names: set[str]):
        self.names = names

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.names:
            raise ModuleNotFoundError(f"{name} is skipped while Presidio is imported", name=name)
        return None


def _import():
    with _lock:
        if "presidio_analyzer" in sys.modules:
            return
        finder = _SkipOptional({n for n in OPTIONAL if n not in sys.modules})
        sys.meta_path.insert(0, finder)
        try:
            importlib.import_module("presidio_analyzer")
            importlib.import_module("presidio_analyzer.predefined_recognizers")
        finally:
            sys.meta_path.remove(finder)


_import()

from presidio_analyzer import AnalyzerEngine, LocalRecognizer, RecognizerRegistry, RecognizerResult  # noqa: E402
from presidio_analyzer.nlp_engine import SpacyNlpEngine  # noqa: E402
from presidio_analyzer.predefined_recognizers import (CreditCardRecognizer, EmailRecognizer, IpRecognizer,  # noqa: E402
                                                      PhoneRecognizer, SpacyRecognizer, UsSsnRecognizer)

__all__ = ["AnalyzerEngine", "CreditCardRecognizer", "EmailRecognizer", "IpRecognizer", "LocalRecognizer",
           "PhoneRecognizer", "RecognizerRegistry", "RecognizerResult", "SpacyNlpEngine", "SpacyRecognizer",
           "UsSsnRecognizer"]
