#include "haineifrdm/sampler.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>

#include "haineifrdm/deflicker.hpp"
#include "haineifrdm/line_scratch.hpp"
#include "haineifrdm/motion_veto.hpp"
#include "haineifrdm/noise.hpp"
#include "haineifrdm/patch_grid.hpp"
#include "haineifrdm/registration.hpp"
#include "haineifrdm/resample.hpp"
#include "haineifrdm/thread_pool.hpp"

namespace haineifrdm {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

size_t sz(int64_t v) { return static_cast<size_t>(v); }

}  // namespace

void embed_timestep(double eta, int stage, int32_t dim, float* out) {
  const int32_t half = (dim - 2) / 2;
  for (int32_t k = 0; k < half; ++k) {
    const double freq = std::exp(-std::log(10000.0) * k / half);
    const double angle = 1000.0 * eta * freq;
    out[k] = static_cast<float>(std::sin(angle));
    out[half + k] = static_cast<float>(std::cos(angle));
  }
  for (int32_t k = 2 * half; k < dim; ++k) out[k] = 0.0f;
  out[2 * half + (stage == 1 ? 0 : 1)] = 1.0f;
}

int32_t plan_batch(int32_t patch, int32_t window_channels, int64_t budget_bytes,
                   int32_t max_batch, int32_t activation_maps) {
  const int64_t px = static_cast<int64_t>(patch) * patch;
  // engine I/O buffers (x_t, window, guide, x0) plus the backend's activations
  const int64_t per_patch = (3 + window_channels + 3 + 3 + activation_maps) * px * 4;
  const int64_t fit = budget_bytes / std::max<int64_t>(per_patch, 1);
  return static_cast<int32_t>(std::clamp<int64_t>(fit, 1, std::max(max_batch, 1)));
}

Sampler::Sampler(std::shared_ptr<Backend> backend, ModelShape shape, SamplerConfig config)
    : backend_(std::move(backend)), shape_(shape), config_(std::move(config)) {
  if (!backend_) throw std::invalid_argument("Sampler needs a backend");
  if (config_.patch <= 0 || config_.patch % shape_.size_multiple != 0) {
    throw std::invalid_argument("patch size " + std::to_string(config_.patch) +
                                " must be a positive multiple of " +
                                std::to_string(shape_.size_multiple));
  }
  if (config_.overlap < 0 || config_.overlap >= config_.patch) {
    throw std::invalid_argument("overlap must be in [0, patch)");
  }
  if (config_.lowres == 0) config_.lowres = config_.patch;
  if (config_.timesteps.empty()) throw std::invalid_argument("no timesteps to sample");
  for (size_t i = 0; i < config_.timesteps.size(); ++i) {
    const int32_t t = config_.timesteps[i];
    if (t < 1 || t > static_cast<int32_t>(config_.etas.size()) ||
        (i > 0 && t >= config_.timesteps[i - 1])) {
      throw std::invalid_argument("timesteps must be decreasing and within 1..T");
    }
  }
  config_.batch = std::max(config_.batch, 1);
  pool_ = std::make_unique<ThreadPool>(config_.threads);
}

Sampler::~Sampler() = default;

void Sampler::restore(const float* window, int32_t height, int32_t width, float* out,
                      const Callbacks& cb, float* stage1_out) {
  if (height <= 0 || width <= 0) throw std::invalid_argument("frame must be at least 1x1");
  const auto t0 = Clock::now();
  timings_ = Timings{};
  const int32_t frames = 2 * shape_.radius + 1;
  const int64_t frame_px = static_cast<int64_t>(height) * width;
  const float* centre = window + sz(shape_.radius * frame_px * 3);

  // global prompt: every frame area-resized to thumb x thumb, stacked as planes
  const int32_t T = shape_.thumb;
  std::vector<float> small(sz(static_cast<int64_t>(T) * T * 3));
  std::vector<float> thumb(sz(static_cast<int64_t>(frames) * 3 * T * T));
  for (int32_t f = 0; f < frames; ++f) {
    area_resize(window + sz(f * frame_px * 3), height, width, 3, small.data(), T, T, pool_.get());
    for (int64_t i = 0; i < static_cast<int64_t>(T) * T; ++i) {
      for (int32_t c = 0; c < 3; ++c) {
        thumb[sz((static_cast<int64_t>(f) * 3 + c) * T * T + i)] = small[sz(i * 3 + c)];
      }
    }
  }
  std::vector<float> tokens(sz(static_cast<int64_t>(shape_.n_tokens) * shape_.token_dim));
  {
    const auto tb = Clock::now();
    backend_->context(thumb.data(), tokens.data());
    timings_.backend_s += seconds_since(tb);
  }

  std::vector<float> guide(sz(frame_px * 3));
  if (config_.two_stage) {
    int32_t lh = height, lw = width;
    const bool shrink = std::max(height, width) > config_.lowres;
    std::vector<float> low_window;
    const float* low = window;
    if (shrink) {
      fit_long_side(height, width, config_.lowres, lh, lw);
      const int64_t low_px = static_cast<int64_t>(lh) * lw;
      low_window.resize(sz(frames * low_px * 3));
      for (int32_t f = 0; f < frames; ++f) {
        area_resize(window + sz(f * frame_px * 3), height, width, 3,
                    low_window.data() + sz(f * low_px * 3), lh, lw, pool_.get());
      }
      low = low_window.data();
    }
    const int64_t low_px = static_cast<int64_t>(lh) * lw;
    std::vector<float> low_guide(low + sz(shape_.radius * low_px * 3),
                                 low + sz((shape_.radius + 1) * low_px * 3));
    std::vector<float> low_out(sz(low_px * 3));
    const int32_t low_shift = scaled_max_shift(std::max(lh, lw), std::max(height, width));
    run_chain(low, lh, lw, low_guide.data(), 1, low_shift, tokens, low_out.data(), cb, 0.0, 0.2);
    if (shrink) {
      bicubic_resize(low_out.data(), lh, lw, 3, guide.data(), height, width, pool_.get());
    } else {
      guide = std::move(low_out);
    }
  } else {
    std::copy(centre, centre + frame_px * 3, guide.begin());
  }
  timings_.stage1_s = seconds_since(t0);
  if (stage1_out != nullptr) std::copy(guide.begin(), guide.end(), stage1_out);
  run_chain(window, height, width, guide.data(), 2, kMaxShiftPerFrame, tokens, out, cb,
            config_.two_stage ? 0.2 : 0.0, 1.0);
  if (config_.motion_veto) {
    const auto tv = Clock::now();
    timings_.vetoed_px =
        motion_veto(window, frames, height, width, out, config_.veto, pool_.get()).vetoed;
    timings_.veto_s = seconds_since(tv);
  }
  if (config_.temporal_fill) {
    const auto tf = Clock::now();
    timings_.filled_px =
        temporal_fill(window, frames, height, width, out, config_.fill, pool_.get()).filled;
    timings_.fill_s = seconds_since(tf);
  }
  if (config_.line_scratch) {
    const auto ts = Clock::now();
    timings_.scratch_px = remove_line_scratches(window, frames, height, width, out,
                                                config_.scratch, pool_.get())
                              .pixels;
    timings_.scratch_s = seconds_since(ts);
  }
  if (config_.blotch && backend_->has_blotch()) {
    const auto tb = Clock::now();
    timings_.blotch_px = blotch_pass(*backend_, window, frames, height, width, out,
                                     config_.blotch_params, pool_.get(), timings_.backend_s);
    timings_.blotch_s = seconds_since(tb);
  }
  if (config_.deflicker) {
    const auto td = Clock::now();
    const Exposure e =
        estimate_exposure(window, frames, height, width, config_.deflicker_params, pool_.get());
    if (e.applied) {
      const float g = e.gain;
      pool_->parallel_for(frame_px * 3, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) out[i] *= g;
      });
      timings_.exposure_gain = g;
    }
    timings_.deflicker_s = seconds_since(td);
  }
  timings_.total_s = seconds_since(t0);
}

void Sampler::run_chain(const float* window, int32_t h, int32_t w, const float* guide, int stage,
                        int32_t max_shift, const std::vector<float>& tokens, float* out, const Callbacks& cb,
                        double progress_lo, double progress_hi) {
  const int32_t P = config_.patch;
  const int32_t frames = 2 * shape_.radius + 1;
  const int32_t wc = 3 * frames;
  const int64_t pp = static_cast<int64_t>(P) * P;
  const int64_t npx = static_cast<int64_t>(h) * w;
  const PatchGrid grid = plan_patches(h, w, P, config_.overlap);
  const auto n_patches = static_cast<int64_t>(grid.patches.size());
  const int32_t B = static_cast<int32_t>(std::min<int64_t>(config_.batch, n_patches));
  const std::vector<float> ramp = blend_ramp(P, config_.overlap);

  // all buffers up front: nothing is allocated inside the step loop
  std::vector<float> x(sz(npx * 3)), acc(sz(npx * 3)), wsum(sz(npx), 0.0f), noise(sz(npx * 3));
  std::vector<float> b_xt(sz(B * 3 * pp)), b_win(sz(B * wc * pp)), b_guide(sz(B * 3 * pp));
  std::vector<float> b_x0(sz(B * 3 * pp)), b_box(sz(B * 4)), b_temb(sz(B * shape_.t_emb_dim));
  std::vector<float> b_tok(sz(B * static_cast<int64_t>(tokens.size())));
  for (int32_t b = 0; b < B; ++b) std::copy(tokens.begin(), tokens.end(), b_tok.begin() + sz(b * static_cast<int64_t>(tokens.size())));

  for (const PatchRect& r : grid.patches) {  // weight sums, once
    for (int32_t py = 0; py < P && r.y + py < h; ++py) {
      for (int32_t px = 0; px < P && r.x + px < w; ++px) {
        wsum[sz(static_cast<int64_t>(r.y + py) * w + r.x + px)] += ramp[sz(py)] * ramp[sz(px)];
      }
    }
  }

  // motion compensation: one shift per (patch, frame), found once per chain
  std::vector<Shift> shifts(sz(n_patches * frames));
  if (config_.register_frames && frames > 1) {
    const auto tr = Clock::now();
    const WindowPyramid pyramid(window, frames, h, w, pool_.get());
    pool_->parallel_for(n_patches, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const PatchRect& r = grid.patches[sz(i)];
        const std::vector<Shift> s = pyramid.patch_shifts(r.y, r.x, P, max_shift);
        std::copy(s.begin(), s.end(), shifts.begin() + static_cast<std::ptrdiff_t>(i * frames));
      }
    });
    timings_.register_s += seconds_since(tr);
  }

  const std::vector<int32_t>& ts = config_.timesteps;
  const auto eta = [&](int32_t t) { return t == 0 ? 0.0 : config_.etas[sz(t - 1)]; };
  const int32_t noise_key = stage * 1000;
  const auto fill_noise = [&](int32_t step) {
    pool_->parallel_for(npx, [&](int64_t b, int64_t e) {
      gaussian_fill(config_.seed, config_.frame_index, noise_key + step, sz(b * 3), (e - b) * 3,
                    noise.data() + sz(b * 3));
    });
  };
  fill_noise(0);
  const float init_std = static_cast<float>(config_.kappa * std::sqrt(eta(ts[0])));
  pool_->parallel_for(npx * 3, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) x[sz(i)] = guide[i] + init_std * noise[sz(i)];
  });

  const int64_t batches_per_step = (n_patches + B - 1) / B;
  const double total_batches = static_cast<double>(batches_per_step * static_cast<int64_t>(ts.size()));
  int64_t batches_done = 0;

  for (size_t si = 0; si < ts.size(); ++si) {
    const int32_t t = ts[si];
    std::fill(acc.begin(), acc.end(), 0.0f);
    embed_timestep(eta(t), stage, shape_.t_emb_dim, b_temb.data());
    for (int32_t b = 1; b < B; ++b) {
      std::copy(b_temb.begin(), b_temb.begin() + shape_.t_emb_dim,
                b_temb.begin() + sz(static_cast<int64_t>(b) * shape_.t_emb_dim));
    }
    for (int64_t first = 0; first < n_patches; first += B) {
      if (cb.cancelled && cb.cancelled()) throw Cancelled();
      const int32_t nb = static_cast<int32_t>(std::min<int64_t>(B, n_patches - first));
      // extraction: one task per (patch, row)
      pool_->parallel_for(static_cast<int64_t>(nb) * P, [&](int64_t lo, int64_t hi) {
        for (int64_t task = lo; task < hi; ++task) {
          const int64_t b = task / P;
          const int32_t py = static_cast<int32_t>(task % P);
          const PatchRect& r = grid.patches[sz(first + b)];
          extract_patch_rows(window, frames, h, w, r.y, r.x, P, shifts.data() + sz((first + b) * frames),
                             py, py + 1, b_win.data() + sz(b * wc * pp));
          const int64_t sy = reflect_index(static_cast<int64_t>(r.y) + py, h);
          for (int32_t px = 0; px < P; ++px) {
            const int64_t sx = reflect_index(static_cast<int64_t>(r.x) + px, w);
            const int64_t src = (sy * w + sx) * 3;
            const int64_t dst = static_cast<int64_t>(py) * P + px;
            for (int32_t c = 0; c < 3; ++c) {
              b_xt[sz((b * 3 + c) * pp + dst)] = x[sz(src + c)];
              b_guide[sz((b * 3 + c) * pp + dst)] = guide[src + c];
            }
          }
        }
      });
      for (int32_t b = 0; b < nb; ++b) {
        const PatchRect& r = grid.patches[sz(first + b)];
        b_box[sz(b * 4 + 0)] = static_cast<float>(static_cast<double>(r.x) / w);
        b_box[sz(b * 4 + 1)] = static_cast<float>(static_cast<double>(r.y) / h);
        b_box[sz(b * 4 + 2)] = static_cast<float>(static_cast<double>(r.x + P) / w);
        b_box[sz(b * 4 + 3)] = static_cast<float>(static_cast<double>(r.y + P) / h);
      }
      DenoiseCall call;
      call.batch = nb;
      call.patch = P;
      call.window_channels = wc;
      call.x_t = b_xt.data();
      call.window = b_win.data();
      call.guide = b_guide.data();
      call.tokens = b_tok.data();
      call.box = b_box.data();
      call.t_emb = b_temb.data();
      call.x0 = b_x0.data();
      const auto tb = Clock::now();
      backend_->denoise(call);
      timings_.backend_s += seconds_since(tb);
      timings_.denoise_calls += 1;
      timings_.patches += nb;
      // accumulation: patches in order, rows in parallel (deterministic sums)
      for (int32_t b = 0; b < nb; ++b) {
        const PatchRect& r = grid.patches[sz(first + b)];
        const int32_t rows = std::min(P, h - r.y);
        const int32_t cols = std::min(P, w - r.x);
        pool_->parallel_for(rows, [&](int64_t lo, int64_t hi) {
          for (int64_t py = lo; py < hi; ++py) {
            const float wy = ramp[sz(py)];
            float* dst = acc.data() + sz(((r.y + py) * w + r.x) * 3);
            for (int32_t px = 0; px < cols; ++px) {
              const float wgt = wy * ramp[sz(px)];
              for (int32_t c = 0; c < 3; ++c) {
                dst[px * 3 + c] += wgt * b_x0[sz((b * 3 + c) * pp + py * P + px)];
              }
            }
          }
        });
      }
      timings_.bytes_moved +=
          static_cast<double>(nb) * static_cast<double>(pp) * 4.0 * (2.0 * (3 + wc + 3) + 9.0);
      ++batches_done;
      if (cb.progress) {
        cb.progress(progress_lo + (progress_hi - progress_lo) *
                                        static_cast<double>(batches_done) / total_batches);
      }
    }
    // blended clean estimate, then one sampler update on the canvas
    const int32_t s = si + 1 < ts.size() ? ts[si + 1] : 0;
    if (s == 0) {
      pool_->parallel_for(npx, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) {
          const float inv = 1.0f / wsum[sz(i)];
          for (int32_t c = 0; c < 3; ++c) out[i * 3 + c] = acc[sz(i * 3 + c)] * inv;
        }
      });
      break;
    }
    const double et = eta(t), es = eta(s);
    const auto c_xt = static_cast<float>(es / et);
    const auto c_x0 = static_cast<float>(1.0 - es / et);
    const auto std_ = static_cast<float>(config_.kappa * std::sqrt(std::max(es * (et - es) / et, 0.0)));
    fill_noise(static_cast<int32_t>(si) + 1);
    pool_->parallel_for(npx, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const float inv = 1.0f / wsum[sz(i)];
        for (int32_t c = 0; c < 3; ++c) {
          const size_t k = sz(i * 3 + c);
          x[k] = c_xt * x[k] + c_x0 * (acc[k] * inv) + std_ * noise[k];
        }
      }
    });
  }
}

}  // namespace haineifrdm
