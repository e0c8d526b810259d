// The one interface every inference backend implements (PyTorch, ONNX Runtime,
// TensorRT). The sampler never knows which one it drives.
#pragma once

#include <cstdint>

namespace haineifrdm {

// Buffers of one denoiser call; all float32, NCHW, contiguous, owned by the engine.
struct DenoiseCall {
  int64_t batch = 0;
  int64_t patch = 0;            // P
  int64_t window_channels = 0;  // 3 * (2r + 1)
  const float* x_t = nullptr;     // [B, 3, P, P]
  const float* window = nullptr;  // [B, 3(2r+1), P, P]
  const float* guide = nullptr;   // [B, 3, P, P]
  const float* tokens = nullptr;  // [B, N, D]
  const float* box = nullptr;     // [B, 4]
  const float* t_emb = nullptr;   // [B, E]
  float* x0 = nullptr;            // [B, 3, P, P] (written by the backend)
};

// Buffers of one call of the optional blotch graph (batch of one; see blotch.hpp).
struct BlotchCall {
  int64_t window_channels = 0;     // 3 * (2r + 1)
  int64_t height = 0, width = 0;   // h, w of the quarter-size, padded window
  const float* window_q = nullptr;  // [1, 3(2r+1), h, w]
  float* offset = nullptr;          // [1, 3, h, w] (written by the backend)
};

class Backend {
 public:
  virtual ~Backend() = default;
  // thumb [1, 3(2r+1), T, T] -> tokens [1, N, D] (written into `tokens`)
  virtual void context(const float* thumb, float* tokens) = 0;
  virtual void denoise(const DenoiseCall& call) = 0;
  // The blotch graph is optional: backends without it keep these defaults.
  virtual bool has_blotch() const { return false; }
  virtual void blotch(const BlotchCall& /*call*/) {}
};

}  // namespace haineifrdm
