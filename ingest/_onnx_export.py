"""The embedder's ONNX files: exported once from the local model, checked, cached.

:func:`ensure_export` gives the ONNX file for a backend: from the cache
folder keyed by the weights' hash, the tool versions and the CPU's int8
kernels (:func:`_model_key`), or exported there at first use, into a
private folder renamed into place so that a concurrent process sees the
whole export or none. Each exported graph is checked against the torch
model on :data:`_CHECK_TEXTS` before it is kept; an int8 graph that fails
on this CPU is dropped and ``onnx-int8`` runs as ``onnx`` (docs/TRAPS.md).
Nothing is downloaded. Used by ``ingest/_embedder.py``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

__all__ = ["Backend", "ensure_export", "load_sentence_transformer"]

# The embedder's logger: export and fallback messages read as the embedder's.
logger = logging.getLogger("ragseal.ingest._embedder")

Backend = Literal["torch", "onnx", "onnx-int8"]

#: Bumped whenever the exported graph or its quantization changes.
_EXPORT_FORMAT = 2
#: Written beside ``model.onnx`` when the int8 graph failed its check on this CPU.
_INT8_REJECTED = "int8-rejected.json"
#: Minimum cosine to the torch vectors for an export to be kept (per text).
_MIN_COSINE: dict[str, float] = {"onnx": 0.999, "onnx-int8": 0.97}
_CHECK_TEXTS = (
    "The employee's annual salary was raised by ten percent.",
    "ok",
    "Heavy rain is expected in the mountains tomorrow, with snow above 1,500 metres "
    "and strong winds along the ridges; roads may close at short notice.",
    "[PERSON_1] signed the contract on [DATE_TIME] in Zürich — 中文 text.",
)

def load_sentence_transformer(path: Path):  # type: ignore[no-untyped-def]
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


@contextlib.contextmanager
def _root_logger_quiet() -> Iterator[None]:
    """onnxruntime's quantizer logs through the *root* logger (``logging.warning``),
    which runs ``basicConfig()`` on an unconfigured root and prints to stderr.
    A NullHandler for the duration keeps the application's logging untouched."""
    root = logging.getLogger()
    guard = logging.NullHandler() if not root.handlers else None
    if guard is not None:
        root.addHandler(guard)
    try:
        yield
    finally:
        if guard is not None:
            root.removeHandler(guard)


def _model_key(path: Path) -> str:
    """Hash of the weights, config and tool versions: a new model or a new
    exporter gets a new folder, never a stale file."""
    import onnxruntime
    import torch

    digest = hashlib.sha256()
    for name in ("config.json", "tokenizer.json", "sentence_bert_config.json", "modules.json"):
        file = path / name
        if file.is_file():
            digest.update(file.read_bytes())
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        with weights.open("rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
    digest.update(f"{_EXPORT_FORMAT}|{torch.__version__}|{onnxruntime.__version__}".encode())
    digest.update(_int8_kernel_tag().encode())
    return digest.hexdigest()[:24]


def _int8_kernel_tag() -> str:
    """The CPU features that decide ONNX Runtime's int8 kernels: a cache exported
    (and checked) on a VNNI machine is not taken for one without."""
    import platform

    flags: set[str] = set()
    with contextlib.suppress(OSError):
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace")
        for line in cpuinfo.splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                break
    wanted = ("avx512_vnni", "avx_vnni", "avx512bw", "avx2", "amx_int8")
    return platform.machine() + ":" + ",".join(f for f in wanted if f in flags)


def ensure_export(path: Path, cache_dir: Path, backend: Backend) -> tuple[Path, Backend]:
    """The ONNX file for ``backend``, exported into the cache at first use, and the
    backend it really is (``onnx`` where int8 failed its check on this CPU)."""
    target = cache_dir / _model_key(path)
    found = _cached(target, backend)
    if found is not None:
        return found
    cache_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    started = time.perf_counter()
    # Export into a private folder, then rename: a concurrent process either
    # sees the finished folder or none.
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=cache_dir))
    try:
        _export(path, work)
        try:
            os.replace(work, target)
        except OSError:
            if _cached(target, backend) is None:  # an older partial folder: replace it
                shutil.rmtree(target, ignore_errors=True)
                os.replace(work, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    logger.info("embedding model exported to ONNX",
                extra={"ms": round((time.perf_counter() - started) * 1000)})
    found = _cached(target, backend)
    if found is None:
        raise RuntimeError("Embedder: the ONNX export left no model file")
    return found


def _cached(target: Path, backend: Backend) -> tuple[Path, Backend] | None:
    if backend == "onnx-int8":
        if (target / "model-int8.onnx").is_file():
            return target / "model-int8.onnx", "onnx-int8"
        if not (target / _INT8_REJECTED).is_file():
            return None
        logger.warning("int8 ONNX model rejected on this CPU, using fp32 ONNX",
                       extra={"backend": "onnx"})
    if (target / "model.onnx").is_file():
        return target / "model.onnx", "onnx"
    return None


def _export(path: Path, out: Path) -> None:
    """Write ``model.onnx`` and ``model-int8.onnx`` into ``out``, each checked
    against the torch model on :data:`_CHECK_TEXTS`."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    st = load_sentence_transformer(path)
    transformer = st[0].auto_model.eval()
    config = transformer.config

    class _Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    raw = out / "raw.onnx"
    sample = torch.ones(2, 16, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # TracerWarnings about shapes: checked below
        torch.onnx.export(
            _Pooled(), (sample, sample, torch.zeros_like(sample)), str(raw),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["embedding"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes,
                          "token_type_ids": axes, "embedding": {0: "batch"}},
            opset_version=17, dynamo=False,
        )
    fused = optimizer.optimize_model(
        str(raw), model_type="bert", num_heads=int(config.num_attention_heads),
        hidden_size=int(config.hidden_size), opt_level=1,
    )
    fused.save_model_to_file(str(out / "model.onnx"))
    raw.unlink()
    with _root_logger_quiet():
        quantize_dynamic(
            str(out / "model.onnx"), str(out / "model-int8.onnx"),
            weight_type=QuantType.QInt8, per_channel=True,
            # Per-tensor int8 on every op (the default) lost too much: cosine 0.86.
            op_types_to_quantize=["MatMul", "Attention"],
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    reference = st.encode(list(_CHECK_TEXTS), normalize_embeddings=True,
                          convert_to_numpy=True, show_progress_bar=False)
    tokenizer = st.tokenizer
    feeds = {k: np.asarray(v, dtype=np.int64) for k, v in tokenizer(
        list(_CHECK_TEXTS), padding=True, truncation=True, max_length=st.max_seq_length,
        return_tensors="np").items()}
    feeds.setdefault("token_type_ids", np.zeros_like(feeds["input_ids"]))
    for backend, name in (("onnx", "model.onnx"), ("onnx-int8", "model-int8.onnx")):
        session = ort.InferenceSession(str(out / name), providers=["CPUExecutionProvider"])
        vectors = session.run(None, feeds)[0]
        cosine = float((vectors * reference).sum(axis=1).min())
        if cosine < _MIN_COSINE[backend] and backend == "onnx-int8":
            del session
            (out / name).unlink()
            (out / _INT8_REJECTED).write_text(json.dumps({"cosine": round(cosine, 4)}))
        elif cosine < _MIN_COSINE[backend]:
            raise RuntimeError(f"Embedder: {name} disagrees with torch (cosine {cosine:.4f})")
