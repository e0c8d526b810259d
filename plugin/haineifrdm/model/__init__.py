"""The HaineiFRDM network: :func:`create_model`, presets, weights I/O."""

from .network import PRESETS, HaineiFRDM, ModelConfig, count_parameters, create_model
from .weights import load_model, save_model

__all__ = ["PRESETS", "HaineiFRDM", "ModelConfig", "count_parameters", "create_model",
           "load_model", "save_model"]
