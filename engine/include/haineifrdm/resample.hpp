// Resampling of interleaved float images (HWC, C channels).
//
// area_resize matches PyTorch's adaptive average pooling (F.interpolate
// mode="area"): output pixel i averages input [floor(i*in/out), ceil((i+1)*in/out)).
// bicubic_resize matches F.interpolate(mode="bicubic", align_corners=False):
// cubic convolution with A = -0.75, edge samples clamped.
#pragma once

#include <cstdint>

namespace haineifrdm {

class ThreadPool;

void area_resize(const float* src, int32_t h, int32_t w, int32_t c, float* dst, int32_t oh,
                 int32_t ow, ThreadPool* pool);

void bicubic_resize(const float* src, int32_t h, int32_t w, int32_t c, float* dst, int32_t oh,
                    int32_t ow, ThreadPool* pool);

// (h', w') with max(h', w') == side, aspect kept, each >= 1 (rounded like Python's round).
void fit_long_side(int32_t h, int32_t w, int32_t side, int32_t& oh, int32_t& ow);

}  // namespace haineifrdm
