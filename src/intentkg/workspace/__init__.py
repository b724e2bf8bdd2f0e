"""Workspace folders, manifests, fingerprints and lineage."""

from intentkg.workspace.manifest import Manifest, read_manifest
from intentkg.workspace.workspace import StageRun, Workspace

__all__ = ["Manifest", "StageRun", "Workspace", "read_manifest"]
