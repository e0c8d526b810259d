// pybind11 bindings: haineifrdm._engine
//
// Python backends (PyTorch, ONNX Runtime, TensorRT sessions) implement the C++
// Backend interface through PyBackend: an object with methods
//   context(thumb: ndarray[1, C, T, T]) -> ndarray[1, N, D]
//   denoise(x_t, window, guide, tokens, box, t_emb) -> ndarray[B, 3, P, P]
// The arrays passed in are views of engine buffers, valid only during the call.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <string>

#include "haineifrdm/block_motion.hpp"
#include "haineifrdm/blotch.hpp"
#include "haineifrdm/deflicker.hpp"
#include "haineifrdm/line_scratch.hpp"
#include "haineifrdm/motion_veto.hpp"
#include "haineifrdm/noise.hpp"
#include "haineifrdm/patch_grid.hpp"
#include "haineifrdm/registration.hpp"
#include "haineifrdm/resample.hpp"
#include "haineifrdm/sampler.hpp"
#include "haineifrdm/temporal_fill.hpp"

namespace py = pybind11;
using namespace haineifrdm;

namespace {

using FArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

py::array view(const float* data, std::vector<py::ssize_t> shape) {
  // a no-copy view (backends must not keep or modify it); the capsule base keeps
  // pybind11 from copying
  // (leaked on purpose: a static py::object must not be destroyed after Python finalises)
  static int anchor = 0;
  static auto* owner = new py::capsule(static_cast<void*>(&anchor), [](void*) {});
  return py::array(py::dtype::of<float>(), std::move(shape), {}, data, *owner);
}

void copy_result(const py::handle& result, const std::vector<py::ssize_t>& shape, float* dst,
                 const char* what) {
  FArray arr = py::cast<FArray>(result);
  if (arr.ndim() != static_cast<py::ssize_t>(shape.size())) {
    throw std::runtime_error(std::string("backend ") + what + " returned " +
                             std::to_string(arr.ndim()) + " dimensions, expected " +
                             std::to_string(shape.size()));
  }
  for (size_t i = 0; i < shape.size(); ++i) {
    if (arr.shape(static_cast<py::ssize_t>(i)) != shape[i]) {
      throw std::runtime_error(std::string("backend ") + what + " returned a wrong shape");
    }
  }
  std::memcpy(dst, arr.data(), static_cast<size_t>(arr.size()) * sizeof(float));
}

class PyBackend : public Backend {
 public:
  PyBackend(py::object obj, ModelShape shape)
      : obj_(std::move(obj)), shape_(shape),
        has_blotch_(py::hasattr(obj_, "has_blotch") && obj_.attr("has_blotch").cast<bool>()) {}
  ~PyBackend() override {
    py::gil_scoped_acquire gil;
    obj_ = py::object();
  }

  void context(const float* thumb, float* tokens) override {
    py::gil_scoped_acquire gil;
    const py::ssize_t c = 3 * (2 * shape_.radius + 1);
    py::object r = obj_.attr("context")(view(thumb, {1, c, shape_.thumb, shape_.thumb}));
    copy_result(r, {1, shape_.n_tokens, shape_.token_dim}, tokens, "context");
  }

  void denoise(const DenoiseCall& k) override {
    py::gil_scoped_acquire gil;
    const py::ssize_t b = k.batch, p = k.patch;
    py::object r = obj_.attr("denoise")(
        view(k.x_t, {b, 3, p, p}), view(k.window, {b, k.window_channels, p, p}),
        view(k.guide, {b, 3, p, p}), view(k.tokens, {b, shape_.n_tokens, shape_.token_dim}),
        view(k.box, {b, 4}), view(k.t_emb, {b, shape_.t_emb_dim}));
    copy_result(r, {b, 3, p, p}, k.x0, "denoise");
  }

  bool has_blotch() const override { return has_blotch_; }

  void blotch(const BlotchCall& k) override {
    py::gil_scoped_acquire gil;
    py::object r = obj_.attr("blotch")(view(k.window_q, {1, k.window_channels, k.height, k.width}));
    copy_result(r, {1, 3, k.height, k.width}, k.offset, "blotch");
  }

 private:
  py::object obj_;
  ModelShape shape_;
  bool has_blotch_ = false;
};

struct PySampler {
  std::unique_ptr<Sampler> sampler;
  ModelShape shape;
};

FArray contiguous(const py::array& a) { return FArray::ensure(a); }

// Throws unless `w` is a window [F, H, W, 3].
void require_window(const FArray& w) {
  if (w.ndim() != 4 || w.shape(3) != 3) throw std::invalid_argument("window must be [F, H, W, 3]");
}

// A copy of `restored` [H, W, 3] for an engine pass to edit, checked against its window
// `w` [F, H, W, 3].
py::array_t<float> restored_copy(const FArray& w, const py::array& restored) {
  FArray r = contiguous(restored);
  require_window(w);
  if (r.ndim() != 3 || r.shape(0) != w.shape(1) || r.shape(1) != w.shape(2) || r.shape(2) != 3) {
    throw std::invalid_argument("restored must be [H, W, 3], the size of the window's frames");
  }
  py::array_t<float> out(r.request().shape);
  std::memcpy(out.mutable_data(), r.data(), static_cast<size_t>(r.size()) * sizeof(float));
  return out;
}

// Runs an engine pass fn(window, frames, h, w, out) over `w` [F, H, W, 3] and `out`
// [H, W, 3] without the GIL; returns what fn returns.
template <class Fn>
auto run_pass(const FArray& w, py::array_t<float>& out, Fn fn) {
  py::gil_scoped_release release;
  return fn(w.data(), static_cast<int32_t>(w.shape(0)), static_cast<int32_t>(w.shape(1)),
            static_cast<int32_t>(w.shape(2)), out.mutable_data());
}

}  // namespace

PYBIND11_MODULE(_engine, m) {
  m.doc() = "HaineiFRDM C++ engine: patch-grid planning and the two-stage patch sampler.";

  py::register_exception<std::invalid_argument>(m, "EngineValueError", PyExc_ValueError);
  py::register_exception<Cancelled>(m, "RestoreCancelled", PyExc_RuntimeError);

  m.def("plan_axis", &plan_axis, py::arg("length"), py::arg("patch"), py::arg("overlap"),
        "Patch origins along one axis (ascending ints).");

  m.def(
      "plan_patches",
      [](int32_t height, int32_t width, int32_t patch, int32_t overlap) {
        const PatchGrid grid = plan_patches(height, width, patch, overlap);
        py::array_t<int32_t> out({static_cast<py::ssize_t>(grid.patches.size()), py::ssize_t{2}});
        auto v = out.mutable_unchecked<2>();
        for (size_t i = 0; i < grid.patches.size(); ++i) {
          v(static_cast<py::ssize_t>(i), 0) = grid.patches[i].y;
          v(static_cast<py::ssize_t>(i), 1) = grid.patches[i].x;
        }
        return out;
      },
      py::arg("height"), py::arg("width"), py::arg("patch"), py::arg("overlap"),
      "Patch origins as an int32 array [N, 2] of (y, x), row-major.");

  m.def(
      "blend_ramp",
      [](int32_t patch, int32_t overlap) {
        const std::vector<float> ramp = blend_ramp(patch, overlap);
        py::array_t<float> out(static_cast<py::ssize_t>(ramp.size()));
        std::copy(ramp.begin(), ramp.end(), out.mutable_data());
        return out;
      },
      py::arg("patch"), py::arg("overlap"), "1-D raised-cosine blending ramp, float32 [patch].");

  m.def("reflect_index", &reflect_index, py::arg("i"), py::arg("n"),
        "Mirror index into [0, n) (numpy 'reflect').");

  m.def(
      "noise_field",
      [](uint64_t seed, int64_t frame, int32_t step, int64_t first, int64_t count) {
        py::array_t<float> out(count);
        gaussian_fill(seed, frame, step, static_cast<uint64_t>(first), count, out.mutable_data());
        return out;
      },
      py::arg("seed"), py::arg("frame"), py::arg("step"), py::arg("first"), py::arg("count"),
      "Elements first..first+count-1 of the counter-based N(0,1) field (seed, frame, step).");

  m.def(
      "embed_timestep",
      [](double eta, int stage, int32_t dim) {
        py::array_t<float> out(dim);
        embed_timestep(eta, stage, dim, out.mutable_data());
        return out;
      },
      py::arg("eta"), py::arg("stage"), py::arg("dim") = 64);

  m.def("plan_batch", &plan_batch, py::arg("patch"), py::arg("window_channels"),
        py::arg("budget_bytes"), py::arg("max_batch"), py::arg("activation_maps"),
        "Largest patch batch whose buffers fit the byte budget.");

  using Resampler = void (*)(const float*, int32_t, int32_t, int32_t, float*, int32_t, int32_t,
                             ThreadPool*);
  const auto bind_resampler = [&m](const char* name, Resampler fn, const char* doc) {
    m.def(
        name,
        [fn](const py::array& img, int32_t oh, int32_t ow) {
          FArray a = contiguous(img);
          if (a.ndim() != 3) throw std::invalid_argument("image must be [H, W, C]");
          py::array_t<float> out({static_cast<py::ssize_t>(oh), static_cast<py::ssize_t>(ow),
                                  a.shape(2)});
          fn(a.data(), static_cast<int32_t>(a.shape(0)), static_cast<int32_t>(a.shape(1)),
             static_cast<int32_t>(a.shape(2)), out.mutable_data(), oh, ow, nullptr);
          return out;
        },
        py::arg("image"), py::arg("height"), py::arg("width"), doc);
  };
  bind_resampler("area_resize", &area_resize, "Area (adaptive-average) resize of [H, W, C].");
  bind_resampler("bicubic_resize", &bicubic_resize,
                 "Bicubic resize of [H, W, C] (A = -0.75, align_corners = False).");

  m.attr("MAX_SHIFT_PER_FRAME") = kMaxShiftPerFrame;
  m.def("scaled_max_shift", &scaled_max_shift, py::arg("side"), py::arg("full_side"),
        "Motion search range for frames downscaled from long side full_side to side.");
  m.def(
      "estimate_exposure",
      [](const py::array& window, float dead_zone) {
        FArray w = contiguous(window);
        require_window(w);
        DeflickerParams p;
        p.dead_zone = dead_zone;
        Exposure e;
        {
          py::gil_scoped_release release;
          e = estimate_exposure(w.data(), static_cast<int32_t>(w.shape(0)),
                                static_cast<int32_t>(w.shape(1)), static_cast<int32_t>(w.shape(2)),
                                p, nullptr);
        }
        py::dict d;
        d["gain"] = e.gain;
        d["change"] = e.change;
        d["frames_used"] = e.frames_used;
        d["applied"] = e.applied;
        return d;
      },
      py::arg("window"), py::kw_only(), py::arg("dead_zone") = DeflickerParams{}.dead_zone,
      "The deflicker's estimate (deflicker.hpp) for the centre of `window` [F, H, W, 3]: "
      "{gain, change, frames_used, applied}; the sampler multiplies its result by gain "
      "when applied.");
  m.def(
      "block_motion",
      [](const py::array& centre, const py::array& neighbour, int32_t block, int32_t max_shift) {
        FArray c = contiguous(centre);
        FArray n = contiguous(neighbour);
        if (c.ndim() != 3 || c.shape(2) != 3) throw std::invalid_argument("centre must be [H, W, 3]");
        if (n.ndim() != 3 || n.shape(0) != c.shape(0) || n.shape(1) != c.shape(1) || n.shape(2) != 3) {
          throw std::invalid_argument("neighbour must be [H, W, 3], the size of centre");
        }
        if (block < 4 || max_shift < 0) throw std::invalid_argument("block >= 4 and max_shift >= 0");
        const auto h = static_cast<int32_t>(c.shape(0)), w = static_cast<int32_t>(c.shape(1));
        const int32_t rows = (h + block - 1) / block, cols = (w + block - 1) / block;
        py::array_t<int32_t> out({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols),
                                  static_cast<py::ssize_t>(3)});
        int32_t* o = out.mutable_data();
        {
          py::gil_scoped_release release;
          const Grey gc = make_grey(c.data(), h, w), gn = make_grey(n.data(), h, w);
          for (int32_t i = 0; i < rows; ++i) {
            for (int32_t j = 0; j < cols; ++j) {
              const Motion mv = square_motion(gc, gn, i * block, j * block,
                                              std::min((i + 1) * block, h),
                                              std::min((j + 1) * block, w), max_shift);
              int32_t* cell = o + (static_cast<ptrdiff_t>(i) * cols + j) * 3;
              cell[0] = mv.dy;
              cell[1] = mv.dx;
              cell[2] = mv.found ? 1 : 0;
            }
          }
        }
        return out;
      },
      py::arg("centre"), py::arg("neighbour"), py::kw_only(), py::arg("block") = 32,
      py::arg("max_shift") = 72,
      "Block motion (block_motion.hpp): [rows, cols, 3] int32 (dy, dx, found) per block-px "
      "square of `centre` [H, W, 3]; neighbour(p + (dy, dx)) shows what centre shows at p.");
  m.def(
      "motion_veto",
      [](const py::array& window, const py::array& restored, int32_t block, int32_t max_shift,
         int32_t min_shift, float tau, int32_t protect, float column, int32_t scratch_width,
         bool subpixel) {
        FArray w = contiguous(window);
        py::array_t<float> out = restored_copy(w, restored);
        VetoParams p;
        p.block = block;
        p.max_shift = max_shift;
        p.min_shift = min_shift;
        p.tau = tau;
        p.protect = protect;
        p.column = column;
        p.scratch_width = scratch_width;
        p.subpixel = subpixel;
        const VetoStats st = run_pass(w, out, [&](const float* win, int32_t f, int32_t h,
                                                  int32_t wd, float* o) {
          return haineifrdm::motion_veto(win, f, h, wd, o, p, nullptr);
        });
        return py::make_tuple(out, st.changed, st.vetoed);
      },
      py::arg("window"), py::arg("restored"), py::kw_only(), py::arg("block") = VetoParams{}.block,
      py::arg("max_shift") = VetoParams{}.max_shift, py::arg("min_shift") = VetoParams{}.min_shift,
      py::arg("tau") = VetoParams{}.tau,
      py::arg("protect") = VetoParams{}.protect,
      py::arg("column") = VetoParams{}.column,
      py::arg("scratch_width") = VetoParams{}.scratch_width,
      py::arg("subpixel") = VetoParams{}.subpixel,
      "(restored with moving content given back, changed px, vetoed px): the sampler's first "
      "pass after the network (motion_veto.hpp) on `restored` [H, W, 3], the centre of "
      "`window` [F, H, W, 3].");
  m.def(
      "temporal_fill",
      [](const py::array& window, const py::array& restored, float tau, float agree,
         int32_t margin, int32_t refine, float keep, bool detect, float detect_tau,
         int32_t detect_frames, int32_t detect_min_px, float detect_contrast,
         int32_t detect_search, float detect_found, float detect_standout,
         int32_t detect_standout_px, float detect_grow, int32_t detect_grow_px,
         int32_t confirm_frames, float faint, int32_t vote_frames, float grow_contrast,
         float weak, int32_t unjudged_px, float detect_spike, int32_t detect_spike_px,
         int32_t detect_search_wide, int32_t weak_frames, float keep_grey) {
        FArray w = contiguous(window);
        py::array_t<float> out = restored_copy(w, restored);
        FillParams p;
        p.tau = tau;
        p.agree = agree;
        p.margin = margin;
        p.refine = refine;
        p.keep = keep;
        p.detect = detect;
        p.detect_tau = detect_tau;
        p.detect_frames = detect_frames;
        p.detect_min_px = detect_min_px;
        p.detect_contrast = detect_contrast;
        p.detect_search = detect_search;
        p.detect_found = detect_found;
        p.detect_standout = detect_standout;
        p.detect_standout_px = detect_standout_px;
        p.detect_grow = detect_grow;
        p.detect_grow_px = detect_grow_px;
        p.confirm_frames = confirm_frames;
        p.faint = faint;
        p.vote_frames = vote_frames;
        p.grow_contrast = grow_contrast;
        p.weak = weak;
        p.unjudged_px = unjudged_px;
        p.detect_spike = detect_spike;
        p.detect_spike_px = detect_spike_px;
        p.detect_search_wide = detect_search_wide;
        p.weak_frames = weak_frames;
        p.keep_grey = keep_grey;
        const FillStats st = run_pass(w, out, [&](const float* win, int32_t f, int32_t h,
                                                  int32_t wd, float* o) {
          return haineifrdm::temporal_fill(win, f, h, wd, o, p, nullptr);
        });
        return py::make_tuple(out, st.regions, st.filled, st.unseen);
      },
      py::arg("window"), py::arg("restored"), py::kw_only(), py::arg("tau") = FillParams{}.tau,
      py::arg("agree") = FillParams{}.agree, py::arg("margin") = FillParams{}.margin,
      py::arg("refine") = FillParams{}.refine, py::arg("keep") = FillParams{}.keep,
      py::arg("detect") = FillParams{}.detect, py::arg("detect_tau") = FillParams{}.detect_tau,
      py::arg("detect_frames") = FillParams{}.detect_frames,
      py::arg("detect_min_px") = FillParams{}.detect_min_px,
      py::arg("detect_contrast") = FillParams{}.detect_contrast,
      py::arg("detect_search") = FillParams{}.detect_search,
      py::arg("detect_found") = FillParams{}.detect_found,
      py::arg("detect_standout") = FillParams{}.detect_standout,
      py::arg("detect_standout_px") = FillParams{}.detect_standout_px,
      py::arg("detect_grow") = FillParams{}.detect_grow,
      py::arg("detect_grow_px") = FillParams{}.detect_grow_px,
      py::arg("confirm_frames") = FillParams{}.confirm_frames,
      py::arg("faint") = FillParams{}.faint,
      py::arg("vote_frames") = FillParams{}.vote_frames,
      py::arg("grow_contrast") = FillParams{}.grow_contrast,
      py::arg("weak") = FillParams{}.weak,
      py::arg("unjudged_px") = FillParams{}.unjudged_px,
      py::arg("detect_spike") = FillParams{}.detect_spike,
      py::arg("detect_spike_px") = FillParams{}.detect_spike_px,
      py::arg("detect_search_wide") = FillParams{}.detect_search_wide,
      py::arg("weak_frames") = FillParams{}.weak_frames,
      py::arg("keep_grey") = FillParams{}.keep_grey,
      "(restored with its defects refilled from the frames that show them, regions, pixels "
      "filled, unseen pixels the network left): the sampler's temporal fill "
      "(temporal_fill.hpp) on `restored` [H, W, 3], the centre of `window` [F, H, W, 3].");
  m.def(
      "remove_line_scratches",
      [](const py::array& window, const py::array& restored, float threshold,
         float detect_quantile, int32_t persist, int32_t median_width, int32_t max_width,
         int32_t flank_gap, int32_t wide_run, float wide_lift, int32_t side, float side_tol,
         int32_t flank_px, float flank_share) {
        FArray w = contiguous(window);
        py::array_t<float> out = restored_copy(w, restored);
        ScratchParams p;
        p.threshold = threshold;
        p.detect_quantile = detect_quantile;
        p.persist = persist;
        p.median_width = median_width;
        p.max_width = max_width;
        p.flank_gap = flank_gap;
        p.wide_run = wide_run;
        p.wide_lift = wide_lift;
        p.side = side;
        p.side_tol = side_tol;
        p.flank_px = flank_px;
        p.flank_share = flank_share;
        const ScratchStats st = run_pass(w, out, [&](const float* win, int32_t f, int32_t h,
                                                     int32_t wd, float* o) {
          return haineifrdm::remove_line_scratches(win, f, h, wd, o, p, nullptr);
        });
        return py::make_tuple(out, st.columns, st.pixels);
      },
      py::arg("window"), py::arg("restored"), py::kw_only(),
      py::arg("threshold") = ScratchParams{}.threshold,
      py::arg("detect_quantile") = ScratchParams{}.detect_quantile,
      py::arg("persist") = ScratchParams{}.persist,
      py::arg("median_width") = ScratchParams{}.median_width,
      py::arg("max_width") = ScratchParams{}.max_width,
      py::arg("flank_gap") = ScratchParams{}.flank_gap,
      py::arg("wide_run") = ScratchParams{}.wide_run,
      py::arg("wide_lift") = ScratchParams{}.wide_lift,
      py::arg("side") = ScratchParams{}.side,
      py::arg("side_tol") = ScratchParams{}.side_tol,
      py::arg("flank_px") = ScratchParams{}.flank_px,
      py::arg("flank_share") = ScratchParams{}.flank_share,
      "(restored with persistent vertical scratches solved out of the degraded centre, "
      "scratch columns, pixels solved): the sampler's line-scratch pass (line_scratch.hpp) on "
      "`restored` [H, W, 3], the centre of `window` [F, H, W, 3].");
  m.def(
      "blotch_input",
      [](const py::array& window) {
        FArray w = contiguous(window);
        require_window(w);
        const auto f = static_cast<int32_t>(w.shape(0));
        BlotchInput in;
        {
          py::gil_scoped_release release;
          in = haineifrdm::blotch_input(w.data(), f, static_cast<int32_t>(w.shape(1)),
                                        static_cast<int32_t>(w.shape(2)), nullptr);
        }
        py::array_t<float> out({py::ssize_t{1}, static_cast<py::ssize_t>(3 * f),
                                static_cast<py::ssize_t>(in.ph), static_cast<py::ssize_t>(in.pw)});
        std::memcpy(out.mutable_data(), in.window_q.data(), in.window_q.size() * sizeof(float));
        return out;
      },
      py::arg("window"),
      "The blotch graph's input for `window` [F, H, W, 3]: every frame area-downscaled by 4, "
      "edge-padded to multiples of 8, planar float32 [1, 3F, h, w] (blotch.hpp).");
  m.def(
      "window_camera_shift",
      [](const py::array& window) {
        FArray w = contiguous(window);
        require_window(w);
        py::gil_scoped_release release;
        return haineifrdm::window_camera_shift(w.data(), static_cast<int32_t>(w.shape(0)),
                                               static_cast<int32_t>(w.shape(1)),
                                               static_cast<int32_t>(w.shape(2)), nullptr);
      },
      py::arg("window"),
      "The largest whole-frame camera shift (px) between the centre of `window` "
      "[F, H, W, 3] and its other frames: the blotch pass's still-camera gate (blotch.hpp).");
  m.def(
      "apply_blotch_offset",
      [](const py::array& window, const py::array& restored, const py::array& offset,
         float min_offset) {
        FArray w = contiguous(window);
        py::array_t<float> out = restored_copy(w, restored);
        const auto f = static_cast<int32_t>(w.shape(0));
        const auto h = static_cast<int32_t>(w.shape(1));
        const auto wd = static_cast<int32_t>(w.shape(2));
        const BlotchInput in = blotch_layout(h, wd);
        FArray o = contiguous(offset);
        if (o.ndim() != 4 || o.shape(0) != 1 || o.shape(1) != 3 || o.shape(2) != in.ph ||
            o.shape(3) != in.pw) {
          throw std::invalid_argument("offset must be [1, 3, " + std::to_string(in.ph) + ", " +
                                      std::to_string(in.pw) + "] for this window");
        }
        BlotchParams p;
        p.min_offset = min_offset;
        const float* centre = w.data() + static_cast<size_t>(f / 2) * static_cast<size_t>(h) *
                                             static_cast<size_t>(wd) * 3;
        int64_t px = 0;
        {
          py::gil_scoped_release release;
          px = haineifrdm::apply_blotch_offset(centre, h, wd, in, o.data(), out.mutable_data(), p,
                                               nullptr);
        }
        return py::make_tuple(out, px);
      },
      py::arg("window"), py::arg("restored"), py::arg("offset"), py::kw_only(),
      py::arg("min_offset") = BlotchParams{}.min_offset,
      "(restored with the blotch graph's `offset` [1, 3, h, w] subtracted, pixels changed): "
      "the sampler's blotch pass (blotch.hpp) on `restored` [H, W, 3], the centre of `window` "
      "[F, H, W, 3] (pixels the earlier passes changed are left).");
  m.def(
      "patch_shifts",
      [](const py::array& window, int32_t y, int32_t x, int32_t size, int32_t max_shift) {
        FArray w = contiguous(window);
        require_window(w);
        const auto frames = static_cast<int32_t>(w.shape(0));
        std::vector<Shift> shifts;
        {
          py::gil_scoped_release release;
          const WindowPyramid pyr(w.data(), frames, static_cast<int32_t>(w.shape(1)),
                                  static_cast<int32_t>(w.shape(2)), nullptr);
          shifts = pyr.patch_shifts(y, x, size, max_shift);
        }
        py::array_t<int32_t> out({static_cast<py::ssize_t>(frames), py::ssize_t{2}});
        auto v = out.mutable_unchecked<2>();
        for (py::ssize_t f = 0; f < frames; ++f) {
          v(f, 0) = shifts[static_cast<size_t>(f)].dy;
          v(f, 1) = shifts[static_cast<size_t>(f)].dx;
        }
        return out;
      },
      py::arg("window"), py::arg("y"), py::arg("x"), py::arg("size"), py::arg("max_shift"),
      "Per-frame (dy, dx) int32 [F, 2] lining each frame of `window` [F, H, W, 3] up with its "
      "centre frame over the size x size patch at (y, x); the sampler's motion compensation.");
  m.def(
      "extract_patch",
      [](const py::array& window, int32_t y, int32_t x, int32_t size, const py::array& shifts) {
        FArray w = contiguous(window);
        require_window(w);
        py::array_t<int32_t, py::array::c_style | py::array::forcecast> s(shifts);
        const auto frames = static_cast<int32_t>(w.shape(0));
        if (s.ndim() != 2 || s.shape(0) != frames || s.shape(1) != 2) {
          throw std::invalid_argument("shifts must be int [F, 2]");
        }
        if (size <= 0) throw std::invalid_argument("size must be positive");
        std::vector<Shift> sh(static_cast<size_t>(frames));
        for (int32_t f = 0; f < frames; ++f) sh[static_cast<size_t>(f)] = Shift{s.at(f, 0), s.at(f, 1)};
        py::array_t<float> out({static_cast<py::ssize_t>(3 * frames), static_cast<py::ssize_t>(size),
                                static_cast<py::ssize_t>(size)});
        extract_patch_rows(w.data(), frames, static_cast<int32_t>(w.shape(1)),
                           static_cast<int32_t>(w.shape(2)), y, x, size, sh.data(), 0, size,
                           out.mutable_data());
        return out;
      },
      py::arg("window"), py::arg("y"), py::arg("x"), py::arg("size"), py::arg("shifts"),
      "The size x size patch at (y, x) of every frame read through its shift (reflect "
      "padding), planar float32 [3F, size, size]: the network's window input.");

  py::class_<PySampler>(m, "Sampler")
      .def(py::init([](py::object backend, int32_t radius, int32_t thumb, int32_t n_tokens,
                       int32_t token_dim, int32_t t_emb_dim, int32_t size_multiple,
                       int32_t patch, int32_t overlap, int32_t lowres, bool two_stage,
                       bool register_frames, bool motion_veto, bool temporal_fill, bool line_scratch, bool deflicker, bool blotch, float blotch_min_offset, int32_t blotch_still_px, std::vector<int32_t> timesteps, std::vector<double> etas, double kappa,
                       uint64_t seed, int32_t batch, int32_t threads) {
             ModelShape shape{radius, thumb, n_tokens, token_dim, t_emb_dim, size_multiple};
             SamplerConfig cfg;
             cfg.patch = patch;
             cfg.overlap = overlap;
             cfg.lowres = lowres;
             cfg.two_stage = two_stage;
             cfg.register_frames = register_frames;
             cfg.motion_veto = motion_veto;
             cfg.temporal_fill = temporal_fill;
             cfg.line_scratch = line_scratch;
             cfg.deflicker = deflicker;
             cfg.blotch = blotch;
             cfg.blotch_params.min_offset = blotch_min_offset;
             cfg.blotch_params.still_px = blotch_still_px;
             cfg.timesteps = std::move(timesteps);
             cfg.etas = std::move(etas);
             cfg.kappa = kappa;
             cfg.seed = seed;
             cfg.batch = batch;
             cfg.threads = threads;
             auto be = std::make_shared<PyBackend>(std::move(backend), shape);
             return PySampler{std::make_unique<Sampler>(be, shape, cfg), shape};
           }),
           py::arg("backend"), py::kw_only(), py::arg("radius"), py::arg("thumb"),
           py::arg("n_tokens"), py::arg("token_dim"), py::arg("t_emb_dim"),
           py::arg("size_multiple"), py::arg("patch"), py::arg("overlap"), py::arg("lowres"),
           py::arg("two_stage"), py::arg("register_frames"), py::arg("motion_veto") = false, py::arg("temporal_fill") = false, py::arg("line_scratch") = false, py::arg("deflicker") = false, py::arg("blotch") = false,
           py::arg("blotch_min_offset") = BlotchParams{}.min_offset,
           py::arg("blotch_still_px") = BlotchParams{}.still_px, py::arg("timesteps"), py::arg("etas"), py::arg("kappa"),
           py::arg("seed"), py::arg("batch"), py::arg("threads") = 0)
      .def(
          "restore",
          [](PySampler& self, const py::array& window, int64_t frame_index,
             std::function<void(double)> progress, std::function<bool()> cancelled,
             bool return_stage1) -> py::object {
            FArray w = contiguous(window);
            const int32_t frames = 2 * self.shape.radius + 1;
            if (w.ndim() != 4 || w.shape(0) != frames || w.shape(3) != 3) {
              throw std::invalid_argument("window must be float32 [" + std::to_string(frames) +
                                          ", H, W, 3]");
            }
            const auto h = static_cast<int32_t>(w.shape(1));
            const auto wd = static_cast<int32_t>(w.shape(2));
            py::array_t<float> out({static_cast<py::ssize_t>(h), static_cast<py::ssize_t>(wd), py::ssize_t{3}});
            py::array_t<float> s1;
            if (return_stage1) s1 = py::array_t<float>(out.request().shape);
            float* out_ptr = out.mutable_data();
            float* s1_ptr = return_stage1 ? s1.mutable_data() : nullptr;
            Callbacks cb;
            if (progress) {
              cb.progress = [progress](double v) {
                py::gil_scoped_acquire gil;
                progress(v);
              };
            }
            if (cancelled) {
              cb.cancelled = [cancelled]() {
                py::gil_scoped_acquire gil;
                return cancelled();
              };
            }
            {
              py::gil_scoped_release release;
              SamplerConfig& cfg = const_cast<SamplerConfig&>(self.sampler->config());
              cfg.frame_index = frame_index;
              self.sampler->restore(w.data(), h, wd, out_ptr, cb, s1_ptr);
            }
            if (return_stage1) return py::make_tuple(out, s1);
            return std::move(out);
          },
          py::arg("window"), py::arg("frame_index") = 0, py::arg("progress") = nullptr,
          py::arg("cancelled") = nullptr, py::arg("return_stage1") = false,
          "Restore the centre frame of `window` [2r+1, H, W, 3]; GIL released while running.")
      .def_property_readonly("timings", [](const PySampler& self) {
        const Timings& t = self.sampler->timings();
        py::dict d;
        d["backend_s"] = t.backend_s;
        d["total_s"] = t.total_s;
        d["stage1_s"] = t.stage1_s;
        d["register_s"] = t.register_s;
        d["veto_s"] = t.veto_s;
        d["vetoed_px"] = t.vetoed_px;
        d["fill_s"] = t.fill_s;
        d["filled_px"] = t.filled_px;
        d["scratch_s"] = t.scratch_s;
        d["scratch_px"] = t.scratch_px;
        d["blotch_s"] = t.blotch_s;
        d["blotch_px"] = t.blotch_px;
        d["deflicker_s"] = t.deflicker_s;
        d["exposure_gain"] = t.exposure_gain;
        d["denoise_calls"] = t.denoise_calls;
        d["patches"] = t.patches;
        d["bytes_moved"] = t.bytes_moved;
        return d;
      });
}
