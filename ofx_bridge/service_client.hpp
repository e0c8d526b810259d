// Client of the HaineiFRDM render service (haineifrdm serve): Unix socket for
// messages, POSIX shared memory for pixels. Starts the service on demand.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace hfrdm {

struct ServiceConfig {
  std::string socket_path;  // where the service listens
  std::string python;       // interpreter that runs `-m haineifrdm.cli.main serve`
  std::string model = "default";
  std::string backend = "auto";
  std::string device;       // "", "cpu" or "cuda"
  double start_timeout_s = 120.0;
  double render_timeout_s = 1800.0;
};

// Reads $HAINEIFRDM_CONFIG or <bundle>/Contents/Resources/haineifrdm.json
// (keys: python, socket, model, backend, device); fills defaults.
ServiceConfig load_config(const std::string& bundle_path);

std::string default_socket_path();

struct RestoreParams {
  int steps = 4;
  double strength = 1.0;
  int radius = 2;
  int patch = 256;
  int overlap = 32;
  bool two_stage = true;
  int seed = 0;
  std::string output = "restored";
  long frame_index = 0;
};

class ServiceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ServiceClient {
 public:
  explicit ServiceClient(ServiceConfig config) : config_(std::move(config)) {}

  // `fill_window` writes float32 [frames, height, width, 3] (top row first) straight into
  // the shared memory the service reads; `use_result` reads the result [height, width, 3]
  // straight from the shared memory the service wrote (valid only during the call).
  // `aborted` is polled while waiting (true sends CANCEL); `progress` gets 0..1.
  void restore(const std::function<void(float*)>& fill_window, int frames, int height,
               int width, const RestoreParams& params, const std::function<bool()>& aborted,
               const std::function<void(double)>& progress,
               const std::function<void(const float*)>& use_result);

 private:
  int connect_or_start();
  int try_connect() const;
  void start_service();
  ServiceConfig config_;
};

}  // namespace hfrdm
