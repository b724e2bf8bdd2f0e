"""The one atomic writer: whole files or nothing, and a planted link is replaced, never written through."""

from __future__ import annotations

import json
import os

import pytest

from intentkg import atomic_file


def test_write_replaces_the_whole_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "sub" / "value.json"
    atomic_file.write_json(target, {"a": 1})
    atomic_file.write_json(target, {"a": "ü"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"a": "ü"}
    assert os.listdir(target.parent) == ["value.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "table.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_file.replacing(target) as tmp:
            tmp.write_text("half of the new")
            raise RuntimeError("crash while writing")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["table.txt"]


def test_a_planted_link_is_replaced_not_followed(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    inside = tmp_path / "ws" / "kg"
    inside.mkdir(parents=True)
    (inside / "explorer.html").symlink_to(outside)
    atomic_file.write_text(inside / "explorer.html", "<html>")
    assert outside.read_text() == "precious"
    assert not (inside / "explorer.html").is_symlink() and (inside / "explorer.html").read_text() == "<html>"


def test_new_files_get_the_usual_permissions(tmp_path):
    path = atomic_file.write_text(tmp_path / "f.txt", "x")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_folder_is_replaced_whole_or_kept(tmp_path):
    target = tmp_path / "model"
    target.mkdir()
    (target / "old.bin").write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_file.replacing_folder(target) as staging:
            (staging / "half.safetensors").write_text("half")
            raise RuntimeError("killed while saving")
    assert os.listdir(target) == ["old.bin"] and os.listdir(tmp_path) == ["model"]
    with atomic_file.replacing_folder(target) as staging:
        (staging / "new.safetensors").write_text("new")
    assert os.listdir(target) == ["new.safetensors"] and os.listdir(tmp_path) == ["model"]
