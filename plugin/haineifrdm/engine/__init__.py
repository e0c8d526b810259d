"""Inference engine: the C++ two-stage patch sampler (``haineifrdm._engine``) and its Python API."""

from .._engine import blend_ramp, noise_field, plan_axis, plan_patches, reflect_index
from .backends import OnnxRuntimeBackend, TorchBackend
from .restorer import (
    OUTPUTS,
    RestoreCancelled,
    Restorer,
    RestoreResult,
    defect_matte,
    make_backend,
)

__all__ = [
    "OUTPUTS",
    "OnnxRuntimeBackend",
    "RestoreCancelled",
    "RestoreResult",
    "Restorer",
    "TorchBackend",
    "blend_ramp",
    "defect_matte",
    "make_backend",
    "noise_field",
    "plan_axis",
    "plan_patches",
    "reflect_index",
]
