"""LLM backends behind one small protocol (:mod:`intentkg.llm.protocol`) and a registry."""

from intentkg.llm.protocol import Backend, Completion, ModelInfo, Request, Result, SamplingParams
from intentkg.llm.registry import available, create, register

__all__ = ["Backend", "Completion", "ModelInfo", "Request", "Result", "SamplingParams", "available", "create",
           "register"]
