"""HaineiFRDM: diffusion-based film restoration that keeps grain.

Public entry points live in submodules: :mod:`haineifrdm.model` (the network),
:mod:`haineifrdm.diffusion` (the residual-shifting schedule and samplers),
:mod:`haineifrdm.contract` (the network's input/output contract).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("haineifrdm")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
