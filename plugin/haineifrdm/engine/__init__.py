"""Inference engine: the C++ patch planner/sampler (``haineifrdm._engine``) and its Python API."""

from .._engine import blend_ramp, plan_axis, plan_patches, reflect_index

__all__ = ["blend_ramp", "plan_axis", "plan_patches", "reflect_index"]
