// A small OFX host of our own, for tests: loads a bundle the way hosts do and
// drives load -> describe -> describeInContext -> createInstance ->
// getFramesNeeded -> getRegionOfDefinition -> isIdentity -> render over a
// frame range of PFM images, writing the outputs as PFM.
//
// usage: haineifrdm-ofx-host --out DIR [--bundle NAME] [--context filter|general]
//          [--depth float|short|byte] [--components RGBA|RGB] [--negative-rowbytes]
//          [--scale S] [--threads N] [--instances M] [--abort-after-ms MS] [--alpha-ramp]
//          [--param name=value]... FRAME.pfm...
#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ofx_abi.hpp"

using namespace ofx;

namespace {

// ------------------------------------------------------------------ properties
struct Value {
  std::vector<std::string> s;
  std::vector<int> i;
  std::vector<double> d;
  std::vector<void*> p;
};

struct PropertySet {
  std::map<std::string, Value> props;
  std::mutex mutex;
};

PropertySet* P(OfxPropertySetHandle h) { return reinterpret_cast<PropertySet*>(h); }
OfxPropertySetHandle H(PropertySet* p) { return reinterpret_cast<OfxPropertySetHandle>(p); }

template <typename T, typename F>
OfxStatus set_value(OfxPropertySetHandle h, const char* name, int index, T v, F field) {
  if (!h || !name || index < 0) return kStatErrBadHandle;
  std::lock_guard<std::mutex> lock(P(h)->mutex);
  auto& vec = field(P(h)->props[name]);
  if (static_cast<size_t>(index) >= vec.size()) vec.resize(static_cast<size_t>(index) + 1);
  vec[static_cast<size_t>(index)] = v;
  return kStatOK;
}

template <typename T, typename F>
OfxStatus get_value(OfxPropertySetHandle h, const char* name, int index, T* out, F field) {
  if (!h || !name || !out) return kStatErrBadHandle;
  std::lock_guard<std::mutex> lock(P(h)->mutex);
  auto it = P(h)->props.find(name);
  if (it == P(h)->props.end()) return kStatErrUnknown;
  auto& vec = field(it->second);
  if (index < 0 || static_cast<size_t>(index) >= vec.size()) return kStatErrBadIndex;
  *out = vec[static_cast<size_t>(index)];
  return kStatOK;
}

auto fs = [](Value& v) -> std::vector<std::string>& { return v.s; };
auto fi = [](Value& v) -> std::vector<int>& { return v.i; };
auto fd = [](Value& v) -> std::vector<double>& { return v.d; };
auto fp = [](Value& v) -> std::vector<void*>& { return v.p; };

OfxStatus propSetPointer(OfxPropertySetHandle h, const char* n, int i, void* v) {
  return set_value(h, n, i, v, fp);
}
OfxStatus propSetString(OfxPropertySetHandle h, const char* n, int i, const char* v) {
  return set_value(h, n, i, std::string(v ? v : ""), fs);
}
OfxStatus propSetDouble(OfxPropertySetHandle h, const char* n, int i, double v) {
  return set_value(h, n, i, v, fd);
}
OfxStatus propSetInt(OfxPropertySetHandle h, const char* n, int i, int v) {
  return set_value(h, n, i, v, fi);
}
OfxStatus propSetPointerN(OfxPropertySetHandle h, const char* n, int c, void* const* v) {
  for (int k = 0; k < c; ++k) propSetPointer(h, n, k, v[k]);
  return kStatOK;
}
OfxStatus propSetStringN(OfxPropertySetHandle h, const char* n, int c, const char* const* v) {
  for (int k = 0; k < c; ++k) propSetString(h, n, k, v[k]);
  return kStatOK;
}
OfxStatus propSetDoubleN(OfxPropertySetHandle h, const char* n, int c, const double* v) {
  for (int k = 0; k < c; ++k) propSetDouble(h, n, k, v[k]);
  return kStatOK;
}
OfxStatus propSetIntN(OfxPropertySetHandle h, const char* n, int c, const int* v) {
  for (int k = 0; k < c; ++k) propSetInt(h, n, k, v[k]);
  return kStatOK;
}
OfxStatus propGetPointer(OfxPropertySetHandle h, const char* n, int i, void** v) {
  return get_value(h, n, i, v, fp);
}
OfxStatus propGetString(OfxPropertySetHandle h, const char* n, int i, char** v) {
  if (!h || !n || !v) return kStatErrBadHandle;
  std::lock_guard<std::mutex> lock(P(h)->mutex);
  auto it = P(h)->props.find(n);
  if (it == P(h)->props.end()) return kStatErrUnknown;
  if (i < 0 || static_cast<size_t>(i) >= it->second.s.size()) return kStatErrBadIndex;
  *v = it->second.s[static_cast<size_t>(i)].data();
  return kStatOK;
}
OfxStatus propGetDouble(OfxPropertySetHandle h, const char* n, int i, double* v) {
  return get_value(h, n, i, v, fd);
}
OfxStatus propGetInt(OfxPropertySetHandle h, const char* n, int i, int* v) {
  return get_value(h, n, i, v, fi);
}
OfxStatus propGetPointerN(OfxPropertySetHandle h, const char* n, int c, void** v) {
  for (int k = 0; k < c; ++k) {
    if (OfxStatus s = propGetPointer(h, n, k, v + k); s != kStatOK) return s;
  }
  return kStatOK;
}
OfxStatus propGetStringN(OfxPropertySetHandle h, const char* n, int c, char** v) {
  for (int k = 0; k < c; ++k) {
    if (OfxStatus s = propGetString(h, n, k, v + k); s != kStatOK) return s;
  }
  return kStatOK;
}
OfxStatus propGetDoubleN(OfxPropertySetHandle h, const char* n, int c, double* v) {
  for (int k = 0; k < c; ++k) {
    if (OfxStatus s = propGetDouble(h, n, k, v + k); s != kStatOK) return s;
  }
  return kStatOK;
}
OfxStatus propGetIntN(OfxPropertySetHandle h, const char* n, int c, int* v) {
  for (int k = 0; k < c; ++k) {
    if (OfxStatus s = propGetInt(h, n, k, v + k); s != kStatOK) return s;
  }
  return kStatOK;
}
OfxStatus propReset(OfxPropertySetHandle h, const char* n) {
  if (!h) return kStatErrBadHandle;
  std::lock_guard<std::mutex> lock(P(h)->mutex);
  P(h)->props.erase(n);
  return kStatOK;
}
OfxStatus propGetDimension(OfxPropertySetHandle h, const char* n, int* count) {
  if (!h || !count) return kStatErrBadHandle;
  std::lock_guard<std::mutex> lock(P(h)->mutex);
  auto it = P(h)->props.find(n);
  if (it == P(h)->props.end()) return kStatErrUnknown;
  const Value& v = it->second;
  *count = static_cast<int>(std::max({v.s.size(), v.i.size(), v.d.size(), v.p.size()}));
  return kStatOK;
}

const OfxPropertySuiteV1 kPropSuite = {
    propSetPointer, propSetString, propSetDouble, propSetInt, propSetPointerN, propSetStringN,
    propSetDoubleN, propSetIntN, propGetPointer, propGetString, propGetDouble, propGetInt,
    propGetPointerN, propGetStringN, propGetDoubleN, propGetIntN, propReset, propGetDimension};

// ------------------------------------------------------------------ images
struct Frame {
  int w = 0, h = 0;
  std::vector<float> rgb;    // top row first
  std::vector<float> alpha;  // top row first
};

struct Options {
  std::string out_dir, bundle = "HaineiFRDM", context = kContextFilter;
  std::string depth = kBitDepthFloat, components = kComponentRGBA;
  bool negative_rowbytes = false;
  bool alpha_ramp = false;
  int scale_div = 1, threads = 1, instances = 1, abort_after_ms = -1;
  std::vector<std::pair<std::string, std::string>> params;
  std::vector<std::string> inputs;
};

Options g_opt;
std::vector<Frame> g_frames;

struct Image {
  PropertySet props;
  std::vector<unsigned char> buffer;
  int w = 0, h = 0, channels = 4, bytes = 4;
  long stride = 0;
  bool is_output = false;
  double time = 0;
  struct Effect* effect = nullptr;
};

struct Param {
  PropertySet props;
  std::string type;
  int ival = 0;
  double dval = 0;
};

struct ParamSet {
  PropertySet props;
  std::map<std::string, std::unique_ptr<Param>> params;
};

struct Clip {
  PropertySet props;
  std::string name;
};

struct Effect {
  PropertySet props;
  ParamSet params;
  std::map<std::string, std::unique_ptr<Clip>> clips;
  std::chrono::steady_clock::time_point render_start;
  std::mutex render_mutex;
  std::map<int, Frame> outputs;
  std::mutex out_mutex;
};

Effect* E(OfxImageEffectHandle h) { return reinterpret_cast<Effect*>(h); }

float to_stored(float v, int bytes) {
  if (bytes == 1) return std::round(std::clamp(v, 0.0f, 1.0f) * 255.0f);
  if (bytes == 2) return std::round(std::clamp(v, 0.0f, 1.0f) * 65535.0f);
  return v;
}

void put(Image& img, int x, int y_top, int c, float v) {
  unsigned char* row = img.buffer.data() + static_cast<long>(y_top) * img.stride;
  const long off = static_cast<long>(x) * img.channels + c;
  if (img.bytes == 1) row[off] = static_cast<unsigned char>(to_stored(v, 1));
  else if (img.bytes == 2) reinterpret_cast<uint16_t*>(row)[off] = static_cast<uint16_t>(to_stored(v, 2));
  else reinterpret_cast<float*>(row)[off] = v;
}

float get(const Image& img, int x, int y_top, int c) {
  const unsigned char* row = img.buffer.data() + static_cast<long>(y_top) * img.stride;
  const long off = static_cast<long>(x) * img.channels + c;
  if (img.bytes == 1) return row[off] / 255.0f;
  if (img.bytes == 2) return reinterpret_cast<const uint16_t*>(row)[off] / 65535.0f;
  return reinterpret_cast<const float*>(row)[off];
}

std::mutex g_images_mutex;
std::map<PropertySet*, Image*> g_images;  // live image handles -> images

Image* make_image(Effect* effect, int w, int h, bool is_output, double t) {
  auto* img = new Image;
  {
    std::lock_guard<std::mutex> lock(g_images_mutex);
    g_images[&img->props] = img;
  }
  img->w = w;
  img->h = h;
  img->channels = g_opt.components == kComponentRGB ? 3 : 4;
  img->bytes = g_opt.depth == kBitDepthByte ? 1 : g_opt.depth == kBitDepthShort ? 2 : 4;
  img->stride = static_cast<long>(w) * img->channels * img->bytes;
  img->buffer.assign(static_cast<size_t>(img->stride) * h, 0);
  img->is_output = is_output;
  img->time = t;
  img->effect = effect;
  // memory holds rows top-down; OFX addresses bottom-up from the data pointer
  unsigned char* data;
  int row_bytes;
  if (g_opt.negative_rowbytes) {  // data = bottom row, stepping back through memory
    data = img->buffer.data() + static_cast<long>(h - 1) * img->stride;
    row_bytes = -static_cast<int>(img->stride);
  } else {  // bottom row first in memory: flip on fill/read
    data = img->buffer.data();
    row_bytes = static_cast<int>(img->stride);
  }
  propSetPointer(H(&img->props), kImagePropData, 0, data);
  const int bounds[4] = {0, 0, w, h};
  propSetIntN(H(&img->props), kImagePropBounds, 4, bounds);
  propSetIntN(H(&img->props), "OfxImagePropRegionOfDefinition", 4, bounds);
  propSetInt(H(&img->props), kImagePropRowBytes, 0, row_bytes);
  propSetString(H(&img->props), kPropPixelDepth, 0, g_opt.depth.c_str());
  propSetString(H(&img->props), kPropComponents, 0, g_opt.components.c_str());
  propSetString(H(&img->props), kPropType, 0, "OfxTypeImage");
  return img;
}

// memory row for the OFX row index y (0 = bottom)
int memory_row(const Image& img, int y_bottom_up) {
  return g_opt.negative_rowbytes ? img.h - 1 - y_bottom_up : y_bottom_up;
}

OfxStatus getPropertySet(OfxImageEffectHandle e, OfxPropertySetHandle* p) {
  if (!e || !p) return kStatErrBadHandle;
  *p = H(&E(e)->props);
  return kStatOK;
}
OfxStatus getParamSet(OfxImageEffectHandle e, OfxParamSetHandle* p) {
  if (!e || !p) return kStatErrBadHandle;
  *p = reinterpret_cast<OfxParamSetHandle>(&E(e)->params);
  return kStatOK;
}
OfxStatus clipDefine(OfxImageEffectHandle e, const char* name, OfxPropertySetHandle* p) {
  auto& clip = E(e)->clips[name];
  if (!clip) {
    clip = std::make_unique<Clip>();
    clip->name = name;
  }
  if (p) *p = H(&clip->props);
  return kStatOK;
}
OfxStatus clipGetHandle(OfxImageEffectHandle e, const char* name, OfxImageClipHandle* c,
                        OfxPropertySetHandle* p) {
  auto it = E(e)->clips.find(name);
  if (it == E(e)->clips.end()) return kStatErrUnknown;
  *c = reinterpret_cast<OfxImageClipHandle>(it->second.get());
  if (p) *p = H(&it->second->props);
  return kStatOK;
}
OfxStatus clipGetPropertySet(OfxImageClipHandle c, OfxPropertySetHandle* p) {
  *p = H(&reinterpret_cast<Clip*>(c)->props);
  return kStatOK;
}

thread_local Effect* t_effect = nullptr;  // the effect whose action runs on this thread

OfxStatus clipGetImage(OfxImageClipHandle c, OfxTime t, const OfxRectD*, OfxPropertySetHandle* out) {
  Clip* clip = reinterpret_cast<Clip*>(c);
  const int k = static_cast<int>(std::lround(t));
  if (k < 0 || k >= static_cast<int>(g_frames.size())) return kStatFailed;
  const Frame& f = g_frames[static_cast<size_t>(k)];
  Image* img = make_image(t_effect, f.w, f.h, clip->name == kOutputClip, t);
  if (!img->is_output) {
    for (int y = 0; y < f.h; ++y) {      // y counts OFX rows bottom-up
      const int top = f.h - 1 - y;       // the frame's row, top-down
      const int mem = memory_row(*img, y);
      for (int x = 0; x < f.w; ++x) {
        for (int ch = 0; ch < 3; ++ch) put(*img, x, mem, ch, f.rgb[(static_cast<size_t>(top) * f.w + x) * 3 + ch]);
        if (img->channels == 4) put(*img, x, mem, 3, f.alpha[static_cast<size_t>(top) * f.w + x]);
      }
    }
  }
  *out = H(&img->props);
  return kStatOK;
}

OfxStatus clipReleaseImage(OfxPropertySetHandle h) {
  Image* img = nullptr;
  {
    std::lock_guard<std::mutex> lock(g_images_mutex);
    auto it = g_images.find(P(h));
    if (it == g_images.end()) return kStatErrBadHandle;
    img = it->second;
    g_images.erase(it);
  }
  if (img->is_output && img->effect != nullptr) {
    Frame f;
    f.w = img->w;
    f.h = img->h;
    f.rgb.resize(static_cast<size_t>(f.w) * f.h * 3);
    f.alpha.resize(static_cast<size_t>(f.w) * f.h);
    for (int y = 0; y < f.h; ++y) {
      const int top = f.h - 1 - y;
      const int mem = memory_row(*img, y);
      for (int x = 0; x < f.w; ++x) {
        for (int ch = 0; ch < 3; ++ch) f.rgb[(static_cast<size_t>(top) * f.w + x) * 3 + ch] = get(*img, x, mem, ch);
        f.alpha[static_cast<size_t>(top) * f.w + x] = img->channels == 4 ? get(*img, x, mem, 3) : 1.0f;
      }
    }
    std::lock_guard<std::mutex> lock(img->effect->out_mutex);
    img->effect->outputs[static_cast<int>(std::lround(img->time))] = std::move(f);
  }
  delete img;
  return kStatOK;
}

OfxStatus clipGetRegionOfDefinition(OfxImageClipHandle, OfxTime, OfxRectD* r) {
  if (g_frames.empty()) return kStatFailed;
  *r = {0, 0, static_cast<double>(g_frames[0].w * g_opt.scale_div),
        static_cast<double>(g_frames[0].h * g_opt.scale_div)};
  return kStatOK;
}

int abortFn(OfxImageEffectHandle e) {
  if (g_opt.abort_after_ms < 0) return 0;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - E(e)->render_start).count();
  return ms >= g_opt.abort_after_ms ? 1 : 0;
}

OfxStatus imageMemoryAlloc(OfxImageEffectHandle, size_t n, OfxImageMemoryHandle* m) {
  *m = reinterpret_cast<OfxImageMemoryHandle>(std::malloc(n));
  return *m ? kStatOK : kStatErrMemory;
}
OfxStatus imageMemoryFree(OfxImageMemoryHandle m) {
  std::free(m);
  return kStatOK;
}
OfxStatus imageMemoryLock(OfxImageMemoryHandle m, void** p) {
  *p = m;
  return kStatOK;
}
OfxStatus imageMemoryUnlock(OfxImageMemoryHandle) { return kStatOK; }

const OfxImageEffectSuiteV1 kEffectSuite = {
    getPropertySet, getParamSet, clipDefine, clipGetHandle, clipGetPropertySet, clipGetImage,
    clipReleaseImage, clipGetRegionOfDefinition, abortFn, imageMemoryAlloc, imageMemoryFree,
    imageMemoryLock, imageMemoryUnlock};

// ------------------------------------------------------------------ parameters
ParamSet* PS(OfxParamSetHandle h) { return reinterpret_cast<ParamSet*>(h); }
Param* PA(OfxParamHandle h) { return reinterpret_cast<Param*>(h); }

OfxStatus paramDefine(OfxParamSetHandle s, const char* type, const char* name,
                      OfxPropertySetHandle* p) {
  auto& prm = PS(s)->params[name];
  if (prm) return kStatErrExists;
  prm = std::make_unique<Param>();
  prm->type = type;
  if (p) *p = H(&prm->props);
  return kStatOK;
}
OfxStatus paramGetHandle(OfxParamSetHandle s, const char* name, OfxParamHandle* h,
                         OfxPropertySetHandle* p) {
  auto it = PS(s)->params.find(name);
  if (it == PS(s)->params.end()) return kStatErrUnknown;
  *h = reinterpret_cast<OfxParamHandle>(it->second.get());
  if (p) *p = H(&it->second->props);
  return kStatOK;
}
OfxStatus paramSetGetPropertySet(OfxParamSetHandle s, OfxPropertySetHandle* p) {
  *p = H(&PS(s)->props);
  return kStatOK;
}
OfxStatus paramGetPropertySet(OfxParamHandle h, OfxPropertySetHandle* p) {
  *p = H(&PA(h)->props);
  return kStatOK;
}
OfxStatus read_param(Param* prm, va_list ap) {
  if (prm->type == kParamTypeDouble) {
    *va_arg(ap, double*) = prm->dval;
  } else {
    *va_arg(ap, int*) = prm->ival;
  }
  return kStatOK;
}
OfxStatus paramGetValue(OfxParamHandle h, ...) {
  va_list ap;
  va_start(ap, h);
  const OfxStatus s = read_param(PA(h), ap);
  va_end(ap);
  return s;
}
OfxStatus unsupported_v(OfxParamHandle, ...) { return kStatErrUnsupported; }
OfxStatus unsupported_tv(OfxParamHandle, OfxTime, ...) { return kStatErrUnsupported; }
OfxStatus unsupported_ttv(OfxParamHandle, OfxTime, OfxTime, ...) { return kStatErrUnsupported; }
OfxStatus paramGetNumKeys(OfxParamHandle, unsigned int* n) {
  *n = 0;
  return kStatOK;
}
OfxStatus paramGetKeyTime(OfxParamHandle, unsigned int, OfxTime*) { return kStatErrBadIndex; }
OfxStatus paramGetKeyIndex(OfxParamHandle, OfxTime, int, int*) { return kStatFailed; }
OfxStatus paramDeleteKey(OfxParamHandle, OfxTime) { return kStatErrBadIndex; }
OfxStatus paramDeleteAllKeys(OfxParamHandle) { return kStatOK; }
OfxStatus paramCopy(OfxParamHandle, OfxParamHandle, OfxTime, const OfxRangeD*) {
  return kStatErrUnsupported;
}
OfxStatus paramEditBegin(OfxParamSetHandle, const char*) { return kStatOK; }
OfxStatus paramEditEnd(OfxParamSetHandle) { return kStatOK; }

OfxStatus paramGetValueAtTimeImpl(OfxParamHandle h, OfxTime t, ...) {
  va_list ap;
  va_start(ap, t);
  const OfxStatus s = read_param(PA(h), ap);
  va_end(ap);
  return s;
}

const OfxParameterSuiteV1 kParamSuite = {
    paramDefine, paramGetHandle, paramSetGetPropertySet, paramGetPropertySet, paramGetValue,
    paramGetValueAtTimeImpl, unsupported_tv, unsupported_ttv, unsupported_v, unsupported_tv,
    paramGetNumKeys, paramGetKeyTime, paramGetKeyIndex, paramDeleteKey, paramDeleteAllKeys,
    paramCopy, paramEditBegin, paramEditEnd};

// ------------------------------------------------------------------ other suites
OfxStatus memoryAlloc(void*, size_t n, void** p) {
  *p = std::malloc(n);
  return *p ? kStatOK : kStatErrMemory;
}
OfxStatus memoryFree(void* p) {
  std::free(p);
  return kStatOK;
}
const OfxMemorySuiteV1 kMemoryImpl = {memoryAlloc, memoryFree};

thread_local unsigned t_thread_index = 0;
thread_local bool t_spawned = false;
OfxStatus multiThread(OfxThreadFunctionV1* fn, unsigned n, void* arg) {
  std::vector<std::thread> ts;
  for (unsigned k = 0; k < n; ++k) {
    ts.emplace_back([=] {
      t_thread_index = k;
      t_spawned = true;
      fn(k, n, arg);
    });
  }
  for (auto& t : ts) t.join();
  return kStatOK;
}
OfxStatus multiThreadNumCPUs(unsigned* n) {
  *n = std::max(1u, std::thread::hardware_concurrency());
  return kStatOK;
}
OfxStatus multiThreadIndex(unsigned* i) {
  *i = t_thread_index;
  return kStatOK;
}
int multiThreadIsSpawnedThread() { return t_spawned ? 1 : 0; }
OfxStatus mutexCreate(OfxMutexHandle* m, int) {
  *m = reinterpret_cast<OfxMutexHandle>(new std::recursive_mutex);
  return kStatOK;
}
OfxStatus mutexDestroy(const OfxMutexHandle m) {
  delete reinterpret_cast<std::recursive_mutex*>(m);
  return kStatOK;
}
OfxStatus mutexLock(const OfxMutexHandle m) {
  reinterpret_cast<std::recursive_mutex*>(m)->lock();
  return kStatOK;
}
OfxStatus mutexUnLock(const OfxMutexHandle m) {
  reinterpret_cast<std::recursive_mutex*>(m)->unlock();
  return kStatOK;
}
OfxStatus mutexTryLock(const OfxMutexHandle m) {
  return reinterpret_cast<std::recursive_mutex*>(m)->try_lock() ? kStatOK : kStatFailed;
}
const OfxMultiThreadSuiteV1 kThreadSuite = {multiThread, multiThreadNumCPUs, multiThreadIndex,
                                            multiThreadIsSpawnedThread, mutexCreate,
                                            mutexDestroy, mutexLock, mutexUnLock, mutexTryLock};

std::mutex g_msg_mutex;
OfxStatus message(void*, const char* type, const char*, const char* fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::lock_guard<std::mutex> lock(g_msg_mutex);
  std::fprintf(stderr, "message %s: %s\n", type, buf);
  return kStatOK;
}
OfxStatus setPersistentMessage(void*, const char* type, const char*, const char* fmt, ...) {
  char buf[2048];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::lock_guard<std::mutex> lock(g_msg_mutex);
  std::fprintf(stderr, "persistent %s: %s\n", type, buf);
  return kStatOK;
}
OfxStatus clearPersistentMessage(void*) { return kStatOK; }
const OfxMessageSuiteV2 kMessageSuiteV2 = {message, setPersistentMessage, clearPersistentMessage};

std::atomic<int> g_progress_updates{0};
OfxStatus progressStartV2(void*, const char*, const char*) { return kStatOK; }
OfxStatus progressStartV1(void*, const char*) { return kStatOK; }
OfxStatus progressUpdate(void*, double) {
  ++g_progress_updates;
  return kStatOK;
}
OfxStatus progressEnd(void*) { return kStatOK; }
const OfxProgressSuiteV1 kProgressV1 = {progressStartV1, progressUpdate, progressEnd};
const OfxProgressSuiteV2 kProgressV2 = {progressStartV2, progressUpdate, progressEnd};

PropertySet g_host_props;
const void* fetchSuite(OfxPropertySetHandle, const char* name, int version) {
  const std::string n = name ? name : "";
  if (n == kPropertySuite && version == 1) return &kPropSuite;
  if (n == kImageEffectSuite && version == 1) return &kEffectSuite;
  if (n == kParameterSuite && version == 1) return &kParamSuite;
  if (n == kMemorySuite && version == 1) return &kMemoryImpl;
  if (n == kMultiThreadSuite && version == 1) return &kThreadSuite;
  if (n == kMessageSuite && (version == 1 || version == 2)) return &kMessageSuiteV2;
  if (n == kProgressSuite && version == 1) return &kProgressV1;
  if (n == kProgressSuite && version == 2) return &kProgressV2;
  return nullptr;
}
OfxHost g_host = {nullptr, fetchSuite};

// ------------------------------------------------------------------ PFM files
bool read_pfm(const std::string& path, Frame& f) {
  std::ifstream in(path, std::ios::binary);
  std::string magic;
  double scale = 0;
  in >> magic >> f.w >> f.h >> scale;
  in.get();
  if (!in || (magic != "PF" && magic != "Pf") || f.w <= 0 || f.h <= 0) return false;
  const int ch = magic == "PF" ? 3 : 1;
  std::vector<float> raw(static_cast<size_t>(f.w) * f.h * ch);
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<long>(raw.size() * 4));
  if (!in) return false;
  f.rgb.resize(static_cast<size_t>(f.w) * f.h * 3);
  f.alpha.assign(static_cast<size_t>(f.w) * f.h, 1.0f);
  for (int y = 0; y < f.h; ++y) {  // PFM rows are bottom-up
    for (int x = 0; x < f.w; ++x) {
      for (int c = 0; c < 3; ++c) {
        f.rgb[(static_cast<size_t>(f.h - 1 - y) * f.w + x) * 3 + c] =
            raw[(static_cast<size_t>(y) * f.w + x) * ch + (ch == 3 ? c : 0)];
      }
    }
  }
  return true;
}

void write_pfm(const std::string& path, const std::vector<float>& top_down, int w, int h, int ch) {
  std::ofstream out(path, std::ios::binary);
  out << (ch == 3 ? "PF" : "Pf") << "\n" << w << " " << h << "\n-1.0\n";
  for (int y = h - 1; y >= 0; --y) {
    out.write(reinterpret_cast<const char*>(top_down.data() + static_cast<size_t>(y) * w * ch),
              static_cast<long>(w) * ch * 4);
  }
}

Frame downscale(const Frame& f, int k) {
  Frame o;
  o.w = std::max(1, f.w / k);
  o.h = std::max(1, f.h / k);
  o.rgb.assign(static_cast<size_t>(o.w) * o.h * 3, 0.0f);
  o.alpha.assign(static_cast<size_t>(o.w) * o.h, 0.0f);
  for (int y = 0; y < o.h; ++y) {
    for (int x = 0; x < o.w; ++x) {
      for (int dy = 0; dy < k; ++dy) {
        for (int dx = 0; dx < k; ++dx) {
          const size_t src = static_cast<size_t>(y * k + dy) * f.w + (x * k + dx);
          for (int c = 0; c < 3; ++c) o.rgb[(static_cast<size_t>(y) * o.w + x) * 3 + c] += f.rgb[src * 3 + c];
          o.alpha[static_cast<size_t>(y) * o.w + x] += f.alpha[src];
        }
      }
      for (int c = 0; c < 3; ++c) o.rgb[(static_cast<size_t>(y) * o.w + x) * 3 + c] /= static_cast<float>(k * k);
      o.alpha[static_cast<size_t>(y) * o.w + x] /= static_cast<float>(k * k);
    }
  }
  return o;
}

// ------------------------------------------------------------------ loading
std::string find_bundle(const std::string& name) {
  const char* env = std::getenv("OFX_PLUGIN_PATH");
  std::vector<std::string> roots;
  std::string all = env ? env : "";
  size_t start = 0;
  while (start <= all.size()) {
    const size_t colon = all.find(':', start);
    roots.push_back(all.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  roots.push_back("/usr/OFX/Plugins");
  const std::string wanted = name + ".ofx.bundle";
  std::vector<std::string> stack(roots.begin(), roots.end());
  while (!stack.empty()) {
    const std::string dir = stack.back();
    stack.pop_back();
    if (dir.empty()) continue;
    DIR* d = opendir(dir.c_str());
    if (!d) continue;
    while (dirent* e = readdir(d)) {
      const std::string n = e->d_name;
      if (n == "." || n == ".." || n[0] == '@') continue;
      const std::string p = dir + "/" + n;
      struct stat st {};
      if (stat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
      if (n == wanted) {
        closedir(d);
        return p + "/Contents/Linux-x86-64/" + name + ".ofx";
      }
      stack.push_back(p);
    }
    closedir(d);
  }
  return "";
}

bool parse_args(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--out") g_opt.out_dir = next();
    else if (a == "--bundle") g_opt.bundle = next();
    else if (a == "--context") g_opt.context = next() == "general" ? kContextGeneral : kContextFilter;
    else if (a == "--depth") {
      const std::string d = next();
      g_opt.depth = d == "byte" ? kBitDepthByte : d == "short" ? kBitDepthShort : kBitDepthFloat;
    } else if (a == "--components") g_opt.components = next() == "RGB" ? kComponentRGB : kComponentRGBA;
    else if (a == "--negative-rowbytes") g_opt.negative_rowbytes = true;
    else if (a == "--alpha-ramp") g_opt.alpha_ramp = true;
    else if (a == "--scale") g_opt.scale_div = std::max(1, static_cast<int>(std::lround(1.0 / std::stod(next()))));
    else if (a == "--threads") g_opt.threads = std::max(1, std::stoi(next()));
    else if (a == "--instances") g_opt.instances = std::max(1, std::stoi(next()));
    else if (a == "--abort-after-ms") g_opt.abort_after_ms = std::stoi(next());
    else if (a == "--param") {
      const std::string kv = next();
      const size_t eq = kv.find('=');
      if (eq == std::string::npos) return false;
      g_opt.params.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else if (!a.empty() && a[0] == '-') {
      return false;
    } else {
      g_opt.inputs.push_back(a);
    }
  }
  return !g_opt.out_dir.empty() && !g_opt.inputs.empty();
}

void copy_props(PropertySet& dst, PropertySet& src) {
  std::lock_guard<std::mutex> lock(src.mutex);
  dst.props = src.props;
}

}  // namespace

int main(int argc, char** argv) {
  if (!parse_args(argc, argv)) {
    std::fprintf(stderr, "usage: haineifrdm-ofx-host --out DIR [options] FRAME.pfm...\n");
    return 2;
  }
  for (const auto& path : g_opt.inputs) {
    Frame f;
    if (!read_pfm(path, f)) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 2;
    }
    if (g_opt.alpha_ramp) {  // a known alpha to check pass-through
      for (int y = 0; y < f.h; ++y) {
        for (int x = 0; x < f.w; ++x) {
          f.alpha[static_cast<size_t>(y) * f.w + x] = static_cast<float>(x) / static_cast<float>(std::max(f.w - 1, 1));
        }
      }
    }
    g_frames.push_back(g_opt.scale_div > 1 ? downscale(f, g_opt.scale_div) : f);
  }
  const std::string binary = find_bundle(g_opt.bundle);
  if (binary.empty()) {
    std::fprintf(stderr, "bundle %s.ofx.bundle not found on OFX_PLUGIN_PATH\n", g_opt.bundle.c_str());
    return 2;
  }
  void* lib = dlopen(binary.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    std::fprintf(stderr, "dlopen failed: %s\n", dlerror());
    return 2;
  }
  using CountFn = int (*)();
  using GetFn = OfxPlugin* (*)(int);
  auto count = reinterpret_cast<CountFn>(dlsym(lib, "OfxGetNumberOfPlugins"));
  auto get_plugin = reinterpret_cast<GetFn>(dlsym(lib, "OfxGetPlugin"));
  if (!count || !get_plugin || count() < 1) {
    std::fprintf(stderr, "not an OFX plugin binary\n");
    return 2;
  }
  OfxPlugin* plugin = get_plugin(0);
  if (std::string(plugin->pluginApi) != kImageEffectPluginApi || plugin->apiVersion != 1) {
    std::fprintf(stderr, "unsupported plugin API\n");
    return 2;
  }
  std::printf("plugin %s %u.%u\n", plugin->pluginIdentifier, plugin->pluginVersionMajor,
              plugin->pluginVersionMinor);
  propSetString(H(&g_host_props), kPropType, 0, kTypeImageEffectHost);
  propSetString(H(&g_host_props), kPropName, 0, "org.haineifrdm.testhost");
  g_host.host = H(&g_host_props);
  plugin->setHost(&g_host);
  auto call = [&](const char* action, Effect* e, PropertySet* in, PropertySet* out) {
    t_effect = e;
    return plugin->mainEntry(action, e, in ? H(in) : nullptr, out ? H(out) : nullptr);
  };
  if (call(kActionLoad, nullptr, nullptr, nullptr) != kStatOK) {
    std::fprintf(stderr, "load failed\n");
    return 1;
  }
  Effect descriptor;
  propSetString(H(&descriptor.props), kPluginPropFilePath, 0,
                binary.substr(0, binary.find("/Contents/")).c_str());
  if (call(kActionDescribe, &descriptor, nullptr, nullptr) != kStatOK) return 1;
  char* label = nullptr;
  propGetString(H(&descriptor.props), kPropLabel, 0, &label);
  std::printf("label %s\n", label ? label : "?");
  // describe in both contexts; instances use the one asked for
  std::map<std::string, std::unique_ptr<Effect>> in_context;
  for (const char* ctx : {kContextFilter, kContextGeneral}) {
    auto e = std::make_unique<Effect>();
    copy_props(e->props, descriptor.props);
    PropertySet in;
    propSetString(H(&in), kPropContext, 0, ctx);
    const OfxStatus s = call(kActionDescribeInContext, e.get(), &in, nullptr);
    std::printf("describeInContext %s %d clips=%zu params=%zu\n", ctx, s, e->clips.size(),
                e->params.params.size());
    if (s != kStatOK) return 1;
    in_context[ctx] = std::move(e);
  }
  Effect& desc = *in_context[g_opt.context];
  const int n = static_cast<int>(g_frames.size());
  std::vector<std::unique_ptr<Effect>> instances;
  for (int k = 0; k < g_opt.instances; ++k) {
    auto inst = std::make_unique<Effect>();
    copy_props(inst->props, desc.props);
    propSetString(H(&inst->props), kPropContext, 0, g_opt.context.c_str());
    for (auto& [name, clip] : desc.clips) {
      auto c = std::make_unique<Clip>();
      c->name = name;
      copy_props(c->props, clip->props);
      propSetString(H(&c->props), kPropPixelDepth, 0, g_opt.depth.c_str());
      propSetString(H(&c->props), kPropComponents, 0, g_opt.components.c_str());
      const double range[2] = {0, static_cast<double>(n - 1)};
      propSetDoubleN(H(&c->props), kPropFrameRange, 2, range);
      inst->clips[name] = std::move(c);
    }
    for (auto& [name, prm] : desc.params.params) {
      auto p = std::make_unique<Param>();
      p->type = prm->type;
      copy_props(p->props, prm->props);
      propGetInt(H(&p->props), kParamPropDefault, 0, &p->ival);
      propGetDouble(H(&p->props), kParamPropDefault, 0, &p->dval);
      for (auto& [pn, pv] : g_opt.params) {
        if (pn == name) {
          p->ival = std::stoi(pv);
          p->dval = std::stod(pv);
        }
      }
      inst->params.params[name] = std::move(p);
    }
    if (call(kActionCreateInstance, inst.get(), nullptr, nullptr) != kStatOK) {
      std::fprintf(stderr, "createInstance failed\n");
      return 1;
    }
    instances.push_back(std::move(inst));
  }
  std::atomic<int> next{0}, failures{0};
  std::vector<int> status(static_cast<size_t>(n), -1);
  auto worker = [&](int thread_index) {
    Effect* inst = instances[static_cast<size_t>(thread_index % g_opt.instances)].get();
    while (true) {
      const int t = next.fetch_add(1);
      if (t >= n) return;
      std::lock_guard<std::mutex> instance_lock(inst->render_mutex);  // InstanceSafe
      PropertySet in, out;
      propSetDouble(H(&in), kPropTime, 0, t);
      const double pre[2] = {static_cast<double>(t), static_cast<double>(t)};
      propSetDoubleN(H(&out), kFrameRangeSource, 2, pre);
      OfxStatus s = call(kActionGetFramesNeeded, inst, &in, &out);
      double range[2] = {0, 0};
      propGetDoubleN(H(&out), kFrameRangeSource, 2, range);
      PropertySet rin, rout;
      propSetDouble(H(&rin), kPropTime, 0, t);
      const double scale[2] = {1.0 / g_opt.scale_div, 1.0 / g_opt.scale_div};
      propSetDoubleN(H(&rin), kPropRenderScale, 2, scale);
      const OfxStatus rs = call(kActionGetRegionOfDefinition, inst, &rin, &rout);
      const Frame& f = g_frames[static_cast<size_t>(t)];
      const int window[4] = {0, 0, f.w, f.h};
      PropertySet iin, iout;
      propSetDouble(H(&iin), kPropTime, 0, t);
      propSetIntN(H(&iin), kPropRenderWindow, 4, window);
      propSetDoubleN(H(&iin), kPropRenderScale, 2, scale);
      s = call(kActionIsIdentity, inst, &iin, &iout);
      if (s == kStatOK) {  // identity: the output is the source frame
        std::lock_guard<std::mutex> lock(inst->out_mutex);
        inst->outputs[t] = f;
        status[static_cast<size_t>(t)] = 0;
        std::printf("frame %d identity frames-needed %g-%g rod-status %d\n", t, range[0], range[1], rs);
        continue;
      }
      PropertySet render_in;
      propSetDouble(H(&render_in), kPropTime, 0, t);
      propSetIntN(H(&render_in), kPropRenderWindow, 4, window);
      propSetDoubleN(H(&render_in), kPropRenderScale, 2, scale);
      propSetString(H(&render_in), "OfxImageEffectPropFieldToRender", 0, "OfxFieldNone");
      inst->render_start = std::chrono::steady_clock::now();
      s = call(kActionRender, inst, &render_in, nullptr);
      status[static_cast<size_t>(t)] = s;
      if (s != kStatOK) ++failures;
      std::printf("frame %d render %d frames-needed %g-%g\n", t, s, range[0], range[1]);
      std::fflush(stdout);
    }
  };
  std::vector<std::thread> threads;
  for (int k = 0; k < g_opt.threads; ++k) threads.emplace_back(worker, k);
  for (auto& th : threads) th.join();
  for (int t = 0; t < n; ++t) {
    for (auto& inst : instances) {
      auto it = inst->outputs.find(t);
      if (it == inst->outputs.end() || status[static_cast<size_t>(t)] != 0) continue;
      char name[64];
      std::snprintf(name, sizeof name, "/out.%04d.pfm", t);
      write_pfm(g_opt.out_dir + name, it->second.rgb, it->second.w, it->second.h, 3);
      std::snprintf(name, sizeof name, "/alpha.%04d.pfm", t);
      write_pfm(g_opt.out_dir + name, it->second.alpha, it->second.w, it->second.h, 1);
    }
  }
  for (auto& inst : instances) call(kActionDestroyInstance, inst.get(), nullptr, nullptr);
  call(kActionUnload, nullptr, nullptr, nullptr);
  std::printf("progress-updates %d\n", g_progress_updates.load());
  std::printf("done %d frames, %d failed\n", n, failures.load());
  return failures.load() == 0 ? 0 : 1;
}
