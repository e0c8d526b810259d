"""Few-step residual-shifting diffusion: schedule, embedding, loss, patch sampler."""

from .embedding import embed_timestep
from .loss import q_sample, restoration_loss, sample_timesteps
from .sampler import sample_patch
from .schedule import Schedule, ScheduleConfig

__all__ = ["Schedule", "ScheduleConfig", "embed_timestep", "q_sample", "restoration_loss",
           "sample_patch", "sample_timesteps"]
