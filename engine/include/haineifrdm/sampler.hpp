// The two-stage patch sampler.
//
// Stage 1: the window is area-downscaled so its long side fits `lowres`, the
// residual-shifting chain runs on it (in patches if needed) with the degraded
// centre frame as guide, and the result is bicubic-upscaled to full size: the
// global residual guide. Stage 2: the chain runs over overlapping full-size
// patches; at every step the network's clean-image predictions are blended on
// one FP32 canvas with raised-cosine weights and the sampler update is applied
// once on the canvas, with noise from one counter-based field keyed by (seed,
// frame, step). Last, optionally, the motion veto (motion_veto.hpp) gives changed
// pixels whose content an adjacent frame shows displaced back to the centre frame,
// the temporal fill (temporal_fill.hpp) refills each remaining defect from the
// frames that show it, found by motion, the line-scratch pass (line_scratch.hpp) solves persistent vertical scratches out
// of the degraded centre frame, the blotch pass (blotch.hpp) subtracts the blotch
// graph's offset where the backend has that graph, and the deflicker scales the result to the window's
// mean exposure.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <vector>

#include "haineifrdm/backend.hpp"
#include "haineifrdm/blotch.hpp"
#include "haineifrdm/deflicker.hpp"
#include "haineifrdm/line_scratch.hpp"
#include "haineifrdm/motion_veto.hpp"
#include "haineifrdm/temporal_fill.hpp"

namespace haineifrdm {

class ThreadPool;

struct ModelShape {
  int32_t radius = 2;
  int32_t thumb = 128;
  int32_t n_tokens = 16;
  int32_t token_dim = 64;
  int32_t t_emb_dim = 64;
  int32_t size_multiple = 8;
};

struct SamplerConfig {
  int32_t patch = 256;
  int32_t overlap = 32;
  int32_t lowres = 0;  // stage-1 long side; 0 = patch
  bool two_stage = true;
  bool register_frames = false;  // motion-compensate each patch's window (registration.hpp)
  bool motion_veto = false;      // give moving content back after stage 2 (motion_veto.hpp)
  VetoParams veto;
  bool temporal_fill = false;    // refill defects from the frames that show them (temporal_fill.hpp)
  FillParams fill;
  bool line_scratch = false;     // take persistent vertical scratches out (line_scratch.hpp)
  ScratchParams scratch;
  bool blotch = false;           // subtract the blotch graph's offset, if the backend has one
  BlotchParams blotch_params;    // (blotch.hpp)
  bool deflicker = false;        // bring the result to the window's exposure (deflicker.hpp)
  DeflickerParams deflicker_params;
  std::vector<int32_t> timesteps;  // decreasing trained steps to visit, e.g. {4, 3, 2, 1}
  std::vector<double> etas;        // eta_1 .. eta_T
  double kappa = 0.08;
  uint64_t seed = 0;
  int64_t frame_index = 0;
  int32_t batch = 4;    // patches per backend call
  int32_t threads = 0;  // 0 = hardware concurrency
};

struct Callbacks {
  std::function<void(double)> progress;   // 0..1, after every backend batch
  std::function<bool()> cancelled;        // polled between batches; true stops
};

class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("restore cancelled") {}
};

struct Timings {
  double backend_s = 0;   // time inside Backend calls
  double total_s = 0;
  double stage1_s = 0;    // thumbnail + context + stage 1 + upscale
  double register_s = 0;  // motion compensation (both stages)
  double veto_s = 0;      // the motion veto
  int64_t vetoed_px = 0;  // pixels it gave back to the centre frame
  double fill_s = 0;      // the temporal fill
  int64_t filled_px = 0;  // pixels it filled from other frames
  double scratch_s = 0;     // the line-scratch pass
  int64_t scratch_px = 0;   // pixels it solved for
  double blotch_s = 0;      // the blotch graph and pass
  int64_t blotch_px = 0;    // pixels it took a blotch offset out of
  double deflicker_s = 0;     // the exposure estimate
  double exposure_gain = 1;   // the gain applied to the result (1 = none)
  int64_t denoise_calls = 0;
  int64_t patches = 0;
  double bytes_moved = 0;  // extraction + accumulation traffic, for GB/s
};

// Noise-level + stage embedding (FP32, computed in double then rounded);
// identical to haineifrdm.diffusion.embed_timestep.
void embed_timestep(double eta, int stage, int32_t dim, float* out);

// Largest batch (1..max_batch) whose engine buffers plus the backend's working set
// (`activation_maps` float feature maps of the patch per image) fit in `budget_bytes`.
int32_t plan_batch(int32_t patch, int32_t window_channels, int64_t budget_bytes,
                   int32_t max_batch, int32_t activation_maps);

class Sampler {
 public:
  Sampler(std::shared_ptr<Backend> backend, ModelShape shape, SamplerConfig config);
  ~Sampler();

  // window: [2r+1, H, W, 3] float32 interleaved; out: [H, W, 3].
  // stage1_out (optional, [H, W, 3]): the upscaled stage-1 guide, for inspection.
  void restore(const float* window, int32_t height, int32_t width, float* out,
               const Callbacks& cb, float* stage1_out = nullptr);

  const Timings& timings() const { return timings_; }
  const SamplerConfig& config() const { return config_; }

 private:
  struct Work;
  void run_chain(const float* window, int32_t h, int32_t w, const float* guide, int stage,
                 int32_t max_shift, const std::vector<float>& tokens, float* out, const Callbacks& cb,
                 double progress_lo, double progress_hi);

  std::shared_ptr<Backend> backend_;
  ModelShape shape_;
  SamplerConfig config_;
  std::unique_ptr<ThreadPool> pool_;
  Timings timings_;
};

}  // namespace haineifrdm
