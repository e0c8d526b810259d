// Counter-based Gaussian noise (Philox4x32-10 + Box-Muller).
//
// The value at (seed, frame, step, element) depends on nothing else, so any
// crop of the full-frame field equals the same crop of a field generated in
// pieces, in any order, on any number of threads.
#pragma once

#include <array>
#include <cstdint>

namespace haineifrdm {

std::array<uint32_t, 4> philox4x32(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

// Standard normal for element `index` of the field keyed by (seed, frame, step).
float gaussian_at(uint64_t seed, int64_t frame, int32_t step, uint64_t index);

// Fills out[0..count) with elements first .. first+count-1 of that field.
void gaussian_fill(uint64_t seed, int64_t frame, int32_t step, uint64_t first, int64_t count,
                   float* out);

}  // namespace haineifrdm
