// HaineiFRDM Restore: a thin OFX image-effect plugin. It gathers the temporal
// window from the host, sends it to the local render service (haineifrdm serve)
// and writes the restored frame back. No Python, PyTorch or CUDA is loaded into
// the host; every failure becomes an OFX status and a message, never a crash.
#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "ofx_abi.hpp"
#include "service_client.hpp"

#define HFRDM_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

using namespace ofx;

OfxHost* g_host = nullptr;
const OfxPropertySuiteV1* g_prop = nullptr;
const OfxImageEffectSuiteV1* g_effect = nullptr;
const OfxParameterSuiteV1* g_param = nullptr;
const OfxMessageSuiteV2* g_msg2 = nullptr;
const OfxMessageSuiteV1* g_msg1 = nullptr;
const OfxProgressSuiteV2* g_prog2 = nullptr;
const OfxProgressSuiteV1* g_prog1 = nullptr;
std::string g_bundle_path;

constexpr const char* kPluginId = "org.haineifrdm.Restore";

// ------------------------------------------------------------------ parameters
// Declared up front: name, label, hint.
struct ParamNames {
  static constexpr const char* quality = "quality";
  static constexpr const char* strength = "strength";
  static constexpr const char* radius = "radius";
  static constexpr const char* patch = "patchSize";
  static constexpr const char* overlap = "overlap";
  static constexpr const char* two_stage = "twoStage";
  static constexpr const char* seed = "seed";
  static constexpr const char* output = "output";
  static constexpr const char* device = "device";
};

struct Instance {
  OfxImageEffectHandle effect = nullptr;
  OfxImageClipHandle source = nullptr;
  OfxImageClipHandle output = nullptr;
  OfxParamHandle quality = nullptr, strength = nullptr, radius = nullptr, patch = nullptr,
                 overlap = nullptr, two_stage = nullptr, seed = nullptr, out_mode = nullptr,
                 device = nullptr;
};

struct Values {
  hfrdm::RestoreParams restore;  // what the service needs
  std::string device;            // "", "cpu" or "cuda": where a newly started service runs
};

// ------------------------------------------------------------------ helpers

template <typename T>
T fetch(const char* name, int version) {
  return g_host ? static_cast<T>(g_host->fetchSuite(g_host->host, name, version)) : nullptr;
}

int get_int(OfxPropertySetHandle props, const char* name, int index, int fallback) {
  int v = fallback;
  return g_prop->propGetInt(props, name, index, &v) == kStatOK ? v : fallback;
}

double get_double(OfxPropertySetHandle props, const char* name, int index, double fallback) {
  double v = fallback;
  return g_prop->propGetDouble(props, name, index, &v) == kStatOK ? v : fallback;
}

std::string get_string(OfxPropertySetHandle props, const char* name, int index = 0) {
  char* v = nullptr;
  if (g_prop->propGetString(props, name, index, &v) != kStatOK || v == nullptr) return "";
  return std::string(v);  // copied at once: the host owns the pointer
}

void show_error(OfxImageEffectHandle effect, const std::string& text) {
  if (g_msg2 != nullptr) {
    g_msg2->setPersistentMessage(effect, kMessageError, "", "HaineiFRDM: %s", text.c_str());
  } else if (g_msg1 != nullptr) {
    g_msg1->message(effect, kMessageError, "", "HaineiFRDM: %s", text.c_str());
  }
}

void clear_error(OfxImageEffectHandle effect) {
  if (g_msg2 != nullptr) g_msg2->clearPersistentMessage(effect);
}

Instance* instance_of(OfxImageEffectHandle effect) {
  OfxPropertySetHandle props = nullptr;
  if (g_effect->getPropertySet(effect, &props) != kStatOK) return nullptr;
  void* data = nullptr;
  g_prop->propGetPointer(props, kPropInstanceData, 0, &data);
  return static_cast<Instance*>(data);
}

Values read_values(const Instance& in, OfxTime t) {
  int q = 2, r = 2, patch = 256, overlap = 32, two = 1, seed = 0, out = 0, dev = 0;
  double strength = 1.0;
  g_param->paramGetValueAtTime(in.quality, t, &q);
  g_param->paramGetValueAtTime(in.strength, t, &strength);
  g_param->paramGetValueAtTime(in.radius, t, &r);
  g_param->paramGetValueAtTime(in.patch, t, &patch);
  g_param->paramGetValueAtTime(in.overlap, t, &overlap);
  g_param->paramGetValueAtTime(in.two_stage, t, &two);
  g_param->paramGetValueAtTime(in.seed, t, &seed);
  g_param->paramGetValueAtTime(in.out_mode, t, &out);
  g_param->paramGetValueAtTime(in.device, t, &dev);
  static constexpr int kSteps[] = {1, 2, 4};
  static constexpr const char* kOutputs[] = {"restored", "matte", "difference"};
  static constexpr const char* kDevices[] = {"", "cpu", "cuda"};
  Values v;
  hfrdm::RestoreParams& p = v.restore;
  p.steps = kSteps[std::clamp(q, 0, 2)];
  p.strength = std::clamp(strength, 0.0, 1.0);
  p.radius = std::clamp(r, 0, 3);
  p.patch = std::max(64, (patch / 8) * 8);
  p.overlap = std::clamp(overlap, 0, p.patch / 2);
  p.two_stage = two != 0;
  p.seed = seed;
  p.output = kOutputs[std::clamp(out, 0, 2)];
  p.frame_index = std::lround(t);
  v.device = kDevices[std::clamp(dev, 0, 2)];
  return v;
}

void frame_range(const Instance& in, double& first, double& last) {
  OfxPropertySetHandle props = nullptr;
  first = -1e9;
  last = 1e9;
  if (g_effect->clipGetPropertySet(in.source, &props) == kStatOK) {
    first = get_double(props, kPropFrameRange, 0, first);
    last = get_double(props, kPropFrameRange, 1, last);
  }
}

// ------------------------------------------------------------------ images

struct ImageView {
  OfxPropertySetHandle handle = nullptr;
  const unsigned char* data = nullptr;
  OfxRectI bounds{0, 0, 0, 0};
  long row_bytes = 0;
  int channels = 4;
  int bytes = 4;  // per channel
  ~ImageView() {
    if (handle != nullptr) g_effect->clipReleaseImage(handle);
  }
  int width() const { return bounds.x2 - bounds.x1; }
  int height() const { return bounds.y2 - bounds.y1; }
};

bool fetch_image(OfxImageClipHandle clip, OfxTime t, ImageView& img) {
  if (g_effect->clipGetImage(clip, t, nullptr, &img.handle) != kStatOK || !img.handle) {
    img.handle = nullptr;
    return false;
  }
  void* ptr = nullptr;
  g_prop->propGetPointer(img.handle, kImagePropData, 0, &ptr);
  img.data = static_cast<const unsigned char*>(ptr);
  img.bounds = {get_int(img.handle, kImagePropBounds, 0, 0),
                get_int(img.handle, kImagePropBounds, 1, 0),
                get_int(img.handle, kImagePropBounds, 2, 0),
                get_int(img.handle, kImagePropBounds, 3, 0)};
  img.row_bytes = get_int(img.handle, kImagePropRowBytes, 0, 0);
  const std::string depth = get_string(img.handle, kPropPixelDepth);
  const std::string comps = get_string(img.handle, kPropComponents);
  img.bytes = depth == kBitDepthByte ? 1 : depth == kBitDepthShort ? 2 : 4;
  img.channels = comps == kComponentRGB ? 3 : 4;
  if (depth != kBitDepthByte && depth != kBitDepthShort && depth != kBitDepthFloat) return false;
  return img.data != nullptr && img.width() > 0 && img.height() > 0;
}

float sample(const ImageView& img, int x, int y, int c) {
  const unsigned char* row = img.data + static_cast<long>(y - img.bounds.y1) * img.row_bytes;
  const long off = static_cast<long>(x - img.bounds.x1) * img.channels + c;
  if (img.bytes == 1) return row[off] / 255.0f;
  if (img.bytes == 2) return reinterpret_cast<const uint16_t*>(row)[off] / 65535.0f;
  return reinterpret_cast<const float*>(row)[off];
}

// RGB of `img` over `rect` as float [h, w, 3], top row first (OFX rows go bottom-up).
void to_rgb(const ImageView& img, const OfxRectI& rect, float* dst) {
  const int w = rect.x2 - rect.x1, h = rect.y2 - rect.y1;
  for (int i = 0; i < h; ++i) {
    const int y = std::clamp(rect.y2 - 1 - i, img.bounds.y1, img.bounds.y2 - 1);
    for (int j = 0; j < w; ++j) {
      const int x = std::clamp(rect.x1 + j, img.bounds.x1, img.bounds.x2 - 1);
      for (int c = 0; c < 3; ++c) dst[(static_cast<long>(i) * w + j) * 3 + c] = sample(img, x, y, c);
    }
  }
}

// ------------------------------------------------------------------ actions

OfxStatus on_load() {
  g_prop = fetch<const OfxPropertySuiteV1*>(kPropertySuite, 1);
  g_effect = fetch<const OfxImageEffectSuiteV1*>(kImageEffectSuite, 1);
  g_param = fetch<const OfxParameterSuiteV1*>(kParameterSuite, 1);
  g_msg2 = fetch<const OfxMessageSuiteV2*>(kMessageSuite, 2);
  g_msg1 = g_msg2 ? nullptr : fetch<const OfxMessageSuiteV1*>(kMessageSuite, 1);
  g_prog2 = fetch<const OfxProgressSuiteV2*>(kProgressSuite, 2);
  g_prog1 = g_prog2 ? nullptr : fetch<const OfxProgressSuiteV1*>(kProgressSuite, 1);
  return (g_prop && g_effect && g_param) ? kStatOK : kStatErrMissingHostFeature;
}

OfxStatus describe(OfxImageEffectHandle effect) {
  OfxPropertySetHandle props = nullptr;
  if (g_effect->getPropertySet(effect, &props) != kStatOK) return kStatErrBadHandle;
  g_prop->propSetString(props, kPropLabel, 0, "HaineiFRDM Restore");
  g_prop->propSetString(props, kPluginPropGrouping, 0, "HaineiFRDM");
  g_prop->propSetString(props, kPropPluginDescription, 0,
                        "Diffusion-based film restoration: removes dust, dirt, scratches, "
                        "blotches and flicker while keeping grain.");
  g_prop->propSetString(props, kPropSupportedContexts, 0, kContextFilter);
  g_prop->propSetString(props, kPropSupportedContexts, 1, kContextGeneral);
  g_prop->propSetString(props, kPropSupportedPixelDepths, 0, kBitDepthFloat);
  g_prop->propSetString(props, kPropSupportedPixelDepths, 1, kBitDepthShort);
  g_prop->propSetString(props, kPropSupportedPixelDepths, 2, kBitDepthByte);
  g_prop->propSetInt(props, kPropSupportsTiles, 0, 0);
  g_prop->propSetInt(props, kPropTemporalClipAccess, 0, 1);
  g_prop->propSetInt(props, kPluginPropHostFrameThreading, 0, 0);
  g_prop->propSetInt(props, kPluginPropFieldRenderTwiceAlways, 0, 0);
  g_prop->propSetString(props, kPluginRenderThreadSafety, 0, kRenderInstanceSafe);
  return kStatOK;
}

void define_clip(OfxImageEffectHandle effect, const char* name, bool temporal) {
  OfxPropertySetHandle props = nullptr;
  if (g_effect->clipDefine(effect, name, &props) != kStatOK) return;
  g_prop->propSetString(props, kPropSupportedComponents, 0, kComponentRGBA);
  g_prop->propSetString(props, kPropSupportedComponents, 1, kComponentRGB);
  g_prop->propSetInt(props, kPropSupportsTiles, 0, 0);
  if (temporal) g_prop->propSetInt(props, kPropTemporalClipAccess, 0, 1);
}

OfxPropertySetHandle define_param(OfxParamSetHandle set, const char* type, const char* name,
                                  const char* label, const char* hint) {
  OfxPropertySetHandle props = nullptr;
  if (g_param->paramDefine(set, type, name, &props) != kStatOK) return nullptr;
  g_prop->propSetString(props, kPropLabel, 0, label);
  g_prop->propSetString(props, kParamPropHint, 0, hint);
  return props;
}

void int_range(OfxPropertySetHandle p, int def, int lo, int hi, int dlo, int dhi) {
  if (!p) return;
  g_prop->propSetInt(p, kParamPropDefault, 0, def);
  g_prop->propSetInt(p, kParamPropMin, 0, lo);
  g_prop->propSetInt(p, kParamPropMax, 0, hi);
  g_prop->propSetInt(p, kParamPropDisplayMin, 0, dlo);
  g_prop->propSetInt(p, kParamPropDisplayMax, 0, dhi);
}

void choice(OfxPropertySetHandle p, int def, std::initializer_list<const char*> options) {
  if (!p) return;
  int i = 0;
  for (const char* o : options) g_prop->propSetString(p, kParamPropChoiceOption, i++, o);
  g_prop->propSetInt(p, kParamPropDefault, 0, def);
}

OfxStatus describe_in_context(OfxImageEffectHandle effect) {
  define_clip(effect, kSourceClip, true);
  define_clip(effect, kOutputClip, false);
  OfxParamSetHandle set = nullptr;
  if (g_effect->getParamSet(effect, &set) != kStatOK) return kStatErrBadHandle;
  choice(define_param(set, kParamTypeChoice, ParamNames::quality, "Quality",
                      "Diffusion steps: Preview = 1, Normal = 2, Final = 4"),
         2, {"Preview", "Normal", "Final"});
  OfxPropertySetHandle s = define_param(set, kParamTypeDouble, ParamNames::strength, "Strength",
                                        "0 = untouched input, 1 = full restoration");
  if (s) {
    g_prop->propSetDouble(s, kParamPropDefault, 0, 1.0);
    g_prop->propSetDouble(s, kParamPropMin, 0, 0.0);
    g_prop->propSetDouble(s, kParamPropMax, 0, 1.0);
    g_prop->propSetDouble(s, kParamPropDisplayMin, 0, 0.0);
    g_prop->propSetDouble(s, kParamPropDisplayMax, 0, 1.0);
  }
  int_range(define_param(set, kParamTypeInteger, ParamNames::radius, "Temporal radius",
                         "Neighbour frames used on each side (window = 2r + 1)"),
            2, 0, 3, 0, 3);
  int_range(define_param(set, kParamTypeInteger, ParamNames::patch, "Patch size",
                         "Side of the square patches the network sees (multiple of 8)"),
            256, 64, 1024, 128, 512);
  int_range(define_param(set, kParamTypeInteger, ParamNames::overlap, "Overlap",
                         "Pixels neighbouring patches share and blend"),
            32, 0, 256, 0, 128);
  OfxPropertySetHandle b = define_param(set, kParamTypeBoolean, ParamNames::two_stage,
                                        "Two-stage", "Low-resolution pass first as global guide");
  if (b) g_prop->propSetInt(b, kParamPropDefault, 0, 1);
  int_range(define_param(set, kParamTypeInteger, ParamNames::seed, "Seed",
                         "Noise seed: the same seed gives the same result"),
            0, 0, 2147483647, 0, 1000);
  choice(define_param(set, kParamTypeChoice, ParamNames::output, "Output",
                      "Restored image, defect matte (what changed) or signed difference"),
         0, {"Restored", "Defect matte", "Difference"});
  choice(define_param(set, kParamTypeChoice, ParamNames::device, "Device",
                      "Where the render service runs the network when it starts"),
         0, {"Auto", "CPU", "GPU"});
  return kStatOK;
}

OfxStatus create_instance(OfxImageEffectHandle effect) {
  auto inst = std::make_unique<Instance>();
  inst->effect = effect;
  g_effect->clipGetHandle(effect, kSourceClip, &inst->source, nullptr);
  g_effect->clipGetHandle(effect, kOutputClip, &inst->output, nullptr);
  OfxParamSetHandle set = nullptr;
  g_effect->getParamSet(effect, &set);
  g_param->paramGetHandle(set, ParamNames::quality, &inst->quality, nullptr);
  g_param->paramGetHandle(set, ParamNames::strength, &inst->strength, nullptr);
  g_param->paramGetHandle(set, ParamNames::radius, &inst->radius, nullptr);
  g_param->paramGetHandle(set, ParamNames::patch, &inst->patch, nullptr);
  g_param->paramGetHandle(set, ParamNames::overlap, &inst->overlap, nullptr);
  g_param->paramGetHandle(set, ParamNames::two_stage, &inst->two_stage, nullptr);
  g_param->paramGetHandle(set, ParamNames::seed, &inst->seed, nullptr);
  g_param->paramGetHandle(set, ParamNames::output, &inst->out_mode, nullptr);
  g_param->paramGetHandle(set, ParamNames::device, &inst->device, nullptr);
  if (!inst->source || !inst->output || !inst->quality || !inst->strength || !inst->radius ||
      !inst->patch || !inst->overlap || !inst->two_stage || !inst->seed || !inst->out_mode ||
      !inst->device) {
    return kStatErrBadHandle;
  }
  OfxPropertySetHandle props = nullptr;
  g_effect->getPropertySet(effect, &props);
  g_prop->propSetPointer(props, kPropInstanceData, 0, inst.release());
  return kStatOK;
}

OfxStatus destroy_instance(OfxImageEffectHandle effect) {
  Instance* inst = instance_of(effect);
  OfxPropertySetHandle props = nullptr;
  g_effect->getPropertySet(effect, &props);
  g_prop->propSetPointer(props, kPropInstanceData, 0, nullptr);
  delete inst;
  return kStatOK;
}

OfxStatus frames_needed(OfxImageEffectHandle effect, OfxPropertySetHandle in_args,
                        OfxPropertySetHandle out_args) {
  Instance* inst = instance_of(effect);
  if (!inst) return kStatErrBadHandle;
  const double t = get_double(in_args, kPropTime, 0, 0.0);
  const Values v = read_values(*inst, t);
  double first = 0, last = 0;
  frame_range(*inst, first, last);
  const int r = v.restore.radius;
  const double range[2] = {std::max(first, t - r), std::min(last, t + r)};
  g_prop->propSetDoubleN(out_args, kFrameRangeSource, 2, range);
  return kStatOK;
}

OfxStatus region_of_definition(OfxImageEffectHandle effect, OfxPropertySetHandle in_args,
                               OfxPropertySetHandle out_args) {
  Instance* inst = instance_of(effect);
  if (!inst) return kStatErrBadHandle;
  OfxRectD rod{};
  if (g_effect->clipGetRegionOfDefinition(inst->source, get_double(in_args, kPropTime, 0, 0),
                                          &rod) != kStatOK) {
    return kStatReplyDefault;
  }
  const double r[4] = {rod.x1, rod.y1, rod.x2, rod.y2};
  g_prop->propSetDoubleN(out_args, kPropRegionOfDefinition, 4, r);
  return kStatOK;
}

OfxStatus is_identity(OfxImageEffectHandle effect, OfxPropertySetHandle in_args,
                      OfxPropertySetHandle out_args) {
  Instance* inst = instance_of(effect);
  if (!inst) return kStatErrBadHandle;
  const double t = get_double(in_args, kPropTime, 0, 0.0);
  double strength = 1.0;
  g_param->paramGetValueAtTime(inst->strength, t, &strength);
  if (strength > 0.0) return kStatReplyDefault;
  g_prop->propSetString(out_args, kPropName, 0, kSourceClip);
  g_prop->propSetDouble(out_args, kPropTime, 0, t);
  return kStatOK;
}

OfxStatus render(OfxImageEffectHandle effect, OfxPropertySetHandle in_args) {
  Instance* inst = instance_of(effect);
  if (!inst) return kStatErrBadHandle;
  const double t = get_double(in_args, kPropTime, 0, 0.0);
  const OfxRectI win{get_int(in_args, kPropRenderWindow, 0, 0),
                     get_int(in_args, kPropRenderWindow, 1, 0),
                     get_int(in_args, kPropRenderWindow, 2, 0),
                     get_int(in_args, kPropRenderWindow, 3, 0)};
  const Values v = read_values(*inst, t);
  const hfrdm::RestoreParams& p = v.restore;
  double first = 0, last = 0;
  frame_range(*inst, first, last);

  ImageView centre;
  if (!fetch_image(inst->source, t, centre)) {
    show_error(effect, "no source image at this frame");
    return kStatFailed;
  }
  ImageView out;
  if (!fetch_image(inst->output, t, out)) return kStatFailed;
  const OfxRectI area = centre.bounds;  // full frame (tiles are off), at this render scale
  const int w = area.x2 - area.x1, h = area.y2 - area.y1;
  const int frames = 2 * p.radius + 1;
  // neighbours: fetched up front (edge clamp to the centre where one is missing)
  std::vector<std::unique_ptr<ImageView>> neighbours;
  std::vector<const ImageView*> sources;
  for (int k = -p.radius; k <= p.radius; ++k) {
    const double tk = std::clamp(t + k, first, last);
    auto nb = std::make_unique<ImageView>();
    const bool ok = tk != t && fetch_image(inst->source, tk, *nb) &&
                    nb->width() == centre.width() && nb->height() == centre.height();
    sources.push_back(ok ? nb.get() : &centre);
    neighbours.push_back(std::move(nb));
  }
  if (g_effect->abort(effect)) return kStatFailed;
  const auto fill = [&](float* dst) {  // straight into the service's shared memory
    for (int f = 0; f < frames; ++f) {
      to_rgb(*sources[static_cast<size_t>(f)], area, dst + static_cast<size_t>(f) * w * h * 3);
    }
  };

  hfrdm::ServiceConfig cfg = hfrdm::load_config(g_bundle_path);
  if (!v.device.empty()) cfg.device = v.device;
  void* prog_handle = effect;
  if (g_prog2) g_prog2->progressStart(prog_handle, "HaineiFRDM Restore", "haineifrdm.render");
  else if (g_prog1) g_prog1->progressStart(prog_handle, "HaineiFRDM Restore");
  const auto progress = [&](double value) {
    if (g_prog2) g_prog2->progressUpdate(prog_handle, value);
    else if (g_prog1) g_prog1->progressUpdate(prog_handle, value);
  };
  const auto end_progress = [&] {
    if (g_prog2) g_prog2->progressEnd(prog_handle);
    else if (g_prog1) g_prog1->progressEnd(prog_handle);
  };
  // write the render window straight from the service's result; alpha (RGBA) passes
  // through from the source
  const auto write_output = [&](const float* result) {
    const int ox1 = std::max(win.x1, out.bounds.x1), ox2 = std::min(win.x2, out.bounds.x2);
    const int oy1 = std::max(win.y1, out.bounds.y1), oy2 = std::min(win.y2, out.bounds.y2);
    for (int y = oy1; y < oy2; ++y) {
      unsigned char* row = const_cast<unsigned char*>(out.data) +
                           static_cast<long>(y - out.bounds.y1) * out.row_bytes;
      const int i = std::clamp(area.y2 - 1 - y, 0, h - 1);  // top-down result row
      for (int x = ox1; x < ox2; ++x) {
        const int j = std::clamp(x - area.x1, 0, w - 1);
        for (int c = 0; c < out.channels; ++c) {
          float value;
          if (c < 3) {
            value = result[(static_cast<size_t>(i) * w + j) * 3 + c];
          } else {
            const int sx = std::clamp(x, centre.bounds.x1, centre.bounds.x2 - 1);
            const int sy = std::clamp(y, centre.bounds.y1, centre.bounds.y2 - 1);
            value = centre.channels == 4 ? sample(centre, sx, sy, 3) : 1.0f;
          }
          const long off = static_cast<long>(x - out.bounds.x1) * out.channels + c;
          if (out.bytes == 1) {
            row[off] =
                static_cast<unsigned char>(std::lround(std::clamp(value, 0.0f, 1.0f) * 255.0f));
          } else if (out.bytes == 2) {
            reinterpret_cast<uint16_t*>(row)[off] =
                static_cast<uint16_t>(std::lround(std::clamp(value, 0.0f, 1.0f) * 65535.0f));
          } else {
            reinterpret_cast<float*>(row)[off] = value;
          }
        }
      }
    }
  };
  try {
    hfrdm::ServiceClient client(cfg);
    client.restore(fill, frames, h, w, p, [&] { return g_effect->abort(effect) != 0; },
                   progress, write_output);
  } catch (const std::exception& e) {
    end_progress();
    if (g_effect->abort(effect)) return kStatFailed;
    show_error(effect, e.what());
    return kStatFailed;
  }
  end_progress();
  clear_error(effect);
  return kStatOK;
}

OfxStatus main_entry(const char* action, const void* handle, OfxPropertySetHandle in_args,
                     OfxPropertySetHandle out_args) {
  try {
    auto effect = static_cast<OfxImageEffectHandle>(const_cast<void*>(handle));
    const std::string a = action ? action : "";
    if (a == kActionLoad) return on_load();
    if (!g_prop || !g_effect || !g_param) return kStatErrMissingHostFeature;
    if (a == kActionDescribe) return describe(effect);
    if (a == kActionDescribeInContext) return describe_in_context(effect);
    if (a == kActionCreateInstance) return create_instance(effect);
    if (a == kActionDestroyInstance) return destroy_instance(effect);
    if (a == kActionGetFramesNeeded) return frames_needed(effect, in_args, out_args);
    if (a == kActionGetRegionOfDefinition) return region_of_definition(effect, in_args, out_args);
    if (a == kActionIsIdentity) return is_identity(effect, in_args, out_args);
    if (a == kActionRender) return render(effect, in_args);
    if (a == kActionUnload) return kStatOK;
    return kStatReplyDefault;
  } catch (const std::bad_alloc&) {
    return kStatErrMemory;
  } catch (...) {
    return kStatFailed;  // nothing may cross into the host
  }
}

// The bundle holding this binary (<bundle>/Contents/<arch>/HaineiFRDM.ofx), found with dladdr
// so that Contents/Resources/haineifrdm.json is found whatever the host reports.
std::string locate_bundle() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&locate_bundle), &info) == 0 || !info.dli_fname) return "";
  std::string path = info.dli_fname;
  for (int i = 0; i < 3; ++i) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return "";
    path.erase(slash);
  }
  return path;
}

void set_host(OfxHost* host) {
  g_host = host;  // no OFX calls here (the standard forbids them in setHost)
  if (g_bundle_path.empty()) g_bundle_path = locate_bundle();
}

OfxPlugin g_plugin = {kImageEffectPluginApi, 1, kPluginId, 1, 0, &set_host, &main_entry};

}  // namespace

HFRDM_EXPORT int OfxGetNumberOfPlugins(void) { return 1; }

HFRDM_EXPORT OfxPlugin* OfxGetPlugin(int nth) { return nth == 0 ? &g_plugin : nullptr; }
