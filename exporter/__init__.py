"""PyTorch -> ONNX -> FP16 -> TensorRT, with validation and ``manifest.json``.

Installed as ``haineifrdm.exporter``.
"""

from .manifest import MANIFEST_NAME, build_manifest, model_hash, read_manifest

__all__ = ["MANIFEST_NAME", "build_manifest", "model_hash", "read_manifest"]
