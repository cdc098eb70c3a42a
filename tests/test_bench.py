"""The benchmark harness keeps working: a small smoke run (figures are for `python -m eval.bench`, not tests)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eval.bench.run import cpu, recall
from rag.config import Settings
from rag.pipeline import Assistant
from rag.store import ChromaStore
from rag.types import Chunk
from tests.conftest import ROOT


def test_the_cpu_model_and_its_encoder_flags_are_recorded(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(
        "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8481C\n"
        "flags\t\t: fpu avx2 avx512f amx_tile amx_bf16\n",
        encoding="utf-8",
    )
    found = cpu(info)
    assert found == {"cpu": "Intel(R) Xeon(R) Platinum 8481C", "cpu_flags": ["avx2", "avx512f", "amx_tile", "amx_bf16"]}
    assert cpu(tmp_path / "missing")["cpu_flags"] == []  # not Linux: no flags, no error


def test_hnsw_recall_counts_an_identical_copy_as_found_and_a_worse_chunk_as_missed(tmp_path: Path) -> None:
    """`recall` on a real (embedded) Chroma collection of four chunks, two of them identical."""
    ids = ["a", "a-copy", "b", "c"]
    vecs = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [0.8, 0.6, 0, 0], [0, 0, 1, 0]], dtype=np.float32)
    store = ChromaStore(tmp_path, "recall", "m", create=True)
    store.add([Chunk(cid, "d", i, i + 1, "x") for i, cid in enumerate(ids)], vecs, "v1")
    queries = np.array([[1, 0, 0, 0], [0.8, 0.6, 0, 0], [1, 0, 0, 0]], dtype=np.float32)
    sims = queries @ vecs.T
    # The third query's reference ranks b second (as if "a-copy" were another chunk), so the
    # store's "a-copy" there is a miss; the first two references are the vectors' own.
    sims[2] = [1.0, 0.5, 0.9, 0.0]
    ties, by_id = recall(store, queries, sims, ids, 2)
    # 1: both copies; 2: b, then one of the two equal copies: either is right; 3: half missed.
    assert ties == round((1.0 + 1.0 + 0.5) / 3, 4)
    # By id, the second query counts its copy only where argsort ranked that same copy second.
    assert by_id in (round((1.0 + 0.5 + 0.5) / 3, 4), round((1.0 + 1.0 + 0.5) / 3, 4))


@pytest.mark.slow
def test_bench_quick_run_measures_every_row(settings: Settings, tmp_path: Path) -> None:
    out = tmp_path / "bench"
    env = {**os.environ, "RAG_CACHE_DIR": str(settings.cache_dir)}
    keep = tmp_path / "kept"
    cmd = [sys.executable, "-m", "eval.bench", "--quick", "--scale", "300", "--out", str(out), "--keep", str(keep)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    res = json.loads((out / "bench.json").read_text(encoding="utf-8"))
    idx, srv = res["indexing"], res["serving"]
    assert idx["raw_encoder_chunks_per_s"] > 0 and idx["ours"]["chunks"] > 20 and idx["ours"]["vs_raw_encoder"] > 0
    assert idx["langchain"]["chunks"] > 20 and idx["langchain"]["chunks_per_s"] > 0
    for impl in ("ours", "langchain"):
        s = srv[impl]
        assert 0 < s["search_ms"]["p50"] <= s["search_ms"]["p95"] <= s["search_ms"]["p99"]
        assert s["cold_first_s"] > 0 and s["peak_rss_mb"] > 100
    assert 0 < srv["ours"]["answer_ms"]["p50"] <= srv["ours"]["answer_ms"]["p95"]
    assert 0 < srv["ours"]["retrieve_ms"]["p50"] <= srv["ours"]["retrieve_ms"]["p95"]  # the first stage alone
    busy = srv["while_indexing"]  # answers while another process adds 30 chunks to the served index
    assert busy["busy_answers"] >= 1 and busy["index_seconds"] > 0
    assert busy["chunks_before_after"][1] >= busy["chunks_before_after"][0] + 20
    assert 0 < busy["busy_answer_ms"]["p50"] <= busy["busy_answer_ms"]["p95"]
    (scale,) = res["scale"]
    assert scale["chunks"] >= 300 and scale["disk_mb"] > 0 and 0.5 <= scale["hnsw_recall@10"] <= 1.0
    assert Assistant(dataclasses.replace(settings, data_dir=keep / "data300")).store().count() == scale["chunks"]
    again = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert again.returncode == 2 and "nothing is overwritten" in again.stderr, again.stderr
    table = (out / "bench.md").read_text(encoding="utf-8")
    assert "| retrieval p50 (ms) |" in table and "scale.png" in table and (out / "scale.png").stat().st_size > 1000
    assert "| retrieval p50 (ms) |" in done.stdout and "while `rag index` adds 30 chunks" in table
    assert res["machine"]["cpu"] and isinstance(res["machine"]["cpu_flags"], list)
