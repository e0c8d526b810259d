// pybind11 bindings: haineifrdm._engine
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "haineifrdm/patch_grid.hpp"

namespace py = pybind11;
using namespace haineifrdm;

PYBIND11_MODULE(_engine, m) {
  m.doc() = "HaineiFRDM C++ engine: patch-grid planning and the two-stage patch sampler.";

  py::register_exception<std::invalid_argument>(m, "EngineValueError", PyExc_ValueError);

  m.def("plan_axis", &plan_axis, py::arg("length"), py::arg("patch"), py::arg("overlap"),
        "Patch origins along one axis (ascending ints).");

  m.def(
      "plan_patches",
      [](int32_t height, int32_t width, int32_t patch, int32_t overlap) {
        const PatchGrid grid = plan_patches(height, width, patch, overlap);
        py::array_t<int32_t> out({static_cast<py::ssize_t>(grid.patches.size()), py::ssize_t{2}});
        auto view = out.mutable_unchecked<2>();
        for (size_t i = 0; i < grid.patches.size(); ++i) {
          view(static_cast<py::ssize_t>(i), 0) = grid.patches[i].y;
          view(static_cast<py::ssize_t>(i), 1) = grid.patches[i].x;
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
}
