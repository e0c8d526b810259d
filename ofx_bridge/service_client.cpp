#include "service_client.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

namespace hfrdm {

namespace {

constexpr char kMagic[4] = {'H', 'F', 'R', 'D'};
constexpr uint16_t kVersion = 1;
enum : uint16_t { kInfo = 1, kRestore = 2, kCancel = 3, kOk = 100, kError = 101, kProgress = 102 };
constexpr uint32_t kMaxPayload = 1u << 20;

std::mutex g_start_mutex;  // one service start at a time in this process
std::atomic<unsigned> g_counter{0};

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

// Value of a top-level "key": "string" in a flat JSON object; empty if absent.
std::string json_string(const std::string& json, const std::string& key) {
  const std::string pat = "\"" + key + "\"";
  size_t p = json.find(pat);
  if (p == std::string::npos) return "";
  p = json.find(':', p + pat.size());
  if (p == std::string::npos) return "";
  p = json.find('"', p);
  if (p == std::string::npos) return "";
  std::string out;
  for (size_t i = p + 1; i < json.size(); ++i) {
    if (json[i] == '\\' && i + 1 < json.size()) {
      out += json[++i];
    } else if (json[i] == '"') {
      break;
    } else {
      out += json[i];
    }
  }
  return out;
}

double json_number(const std::string& json, const std::string& key, double fallback) {
  const std::string pat = "\"" + key + "\"";
  size_t p = json.find(pat);
  if (p == std::string::npos) return fallback;
  p = json.find(':', p + pat.size());
  if (p == std::string::npos) return fallback;
  return std::strtod(json.c_str() + p + 1, nullptr);
}

bool send_all(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t k = ::send(fd, p, n, MSG_NOSIGNAL);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

bool send_message(int fd, uint16_t type, const std::string& payload) {
  unsigned char header[12];
  std::memcpy(header, kMagic, 4);
  header[4] = static_cast<unsigned char>(kVersion & 0xff);
  header[5] = static_cast<unsigned char>(kVersion >> 8);
  header[6] = static_cast<unsigned char>(type & 0xff);
  header[7] = static_cast<unsigned char>(type >> 8);
  const auto n = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) header[8 + i] = static_cast<unsigned char>((n >> (8 * i)) & 0xff);
  return send_all(fd, header, sizeof header) && send_all(fd, payload.data(), payload.size());
}

// Reads exactly n bytes, waiting at most until `deadline`; polls `tick` every 50 ms.
bool recv_exact(int fd, void* data, size_t n, double deadline, const std::function<void()>& tick) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    pollfd pfd{fd, POLLIN, 0};
    const int r = ::poll(&pfd, 1, 50);
    if (r < 0 && errno != EINTR) return false;
    if (r <= 0) {
      if (now_s() > deadline) return false;
      if (tick) tick();
      continue;
    }
    const ssize_t k = ::recv(fd, p, n, 0);
    if (k <= 0) return false;
    p += k;
    n -= static_cast<size_t>(k);
  }
  return true;
}

bool read_message(int fd, uint16_t& type, std::string& payload, double deadline,
                  const std::function<void()>& tick) {
  unsigned char header[12];
  if (!recv_exact(fd, header, sizeof header, deadline, tick)) return false;
  if (std::memcmp(header, kMagic, 4) != 0) return false;
  type = static_cast<uint16_t>(header[6] | (header[7] << 8));
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= static_cast<uint32_t>(header[8 + i]) << (8 * i);
  if (n > kMaxPayload) return false;
  payload.assign(n, '\0');
  return n == 0 || recv_exact(fd, payload.data(), n, deadline, tick);
}

struct Shm {
  std::string name;
  void* ptr = MAP_FAILED;
  size_t size = 0;
  Shm(const std::string& n, size_t bytes) : name(n), size(bytes) {
    const int fd = ::shm_open(("/" + name).c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd < 0) throw ServiceError("cannot create shared memory: " + std::string(strerror(errno)));
    if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
      ::close(fd);
      ::shm_unlink(("/" + name).c_str());
      throw ServiceError("cannot size shared memory");
    }
    ptr = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ::close(fd);
    if (ptr == MAP_FAILED) {
      ::shm_unlink(("/" + name).c_str());
      throw ServiceError("cannot map shared memory");
    }
  }
  ~Shm() {
    if (ptr != MAP_FAILED) ::munmap(ptr, size);
    ::shm_unlink(("/" + name).c_str());
  }
  Shm(const Shm&) = delete;
  Shm& operator=(const Shm&) = delete;
};

// Segments kept between renders: a reused segment is already faulted in on both sides
// (this process and the service's mapping cache), which saves most of the transport
// time of a 2K window. Renders on other threads get other segments. A segment goes back
// to the pool only after a render that succeeded; failed or abandoned renders unlink
// theirs. The pool unlinks what it holds when the plugin is unloaded, and on first use
// removes segments left behind by plugin processes that no longer exist.
class ShmPool {
 public:
  ShmPool() { sweep_dead_processes(); }

  std::unique_ptr<Shm> acquire(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = free_.begin(); it != free_.end(); ++it) {
        if ((*it)->size == bytes) {
          std::unique_ptr<Shm> s = std::move(*it);
          free_.erase(it);
          return s;
        }
      }
    }
    return std::make_unique<Shm>(kPrefix + std::to_string(::getpid()) + "-" +
                                     std::to_string(g_counter.fetch_add(1)),
                                 bytes);
  }

  void release(std::unique_ptr<Shm> s) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(std::move(s));
    while (free_.size() > kKeep) free_.erase(free_.begin());  // oldest first
  }

 private:
  static constexpr size_t kKeep = 6;  // in + out for a few concurrent renders
  static constexpr const char* kPrefix = "haineifrdm-ofx-";

  static void sweep_dead_processes() {
    DIR* dir = ::opendir("/dev/shm");
    if (dir == nullptr) return;
    const std::string prefix = kPrefix;
    while (const dirent* e = ::readdir(dir)) {
      const std::string name = e->d_name;
      if (name.compare(0, prefix.size(), prefix) != 0) continue;
      const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
      if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
        ::shm_unlink(("/" + name).c_str());
      }
    }
    ::closedir(dir);
  }

  std::mutex mutex_;
  std::vector<std::unique_ptr<Shm>> free_;
};

ShmPool& shm_pool() {
  static ShmPool pool;
  return pool;
}

// A pooled segment for one render; back to the pool only when `keep()` was called.
class Lease {
 public:
  explicit Lease(size_t bytes) : shm_(shm_pool().acquire(bytes)) {}
  ~Lease() {
    if (keep_) shm_pool().release(std::move(shm_));
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  Shm* operator->() const { return shm_.get(); }
  void keep() { keep_ = true; }

 private:
  std::unique_ptr<Shm> shm_;
  bool keep_ = false;
};

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

}  // namespace

std::string default_socket_path() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg != nullptr && *xdg != '\0') return std::string(xdg) + "/haineifrdm/render.sock";
  return "/tmp/haineifrdm-" + std::to_string(::getuid()) + "/render.sock";
}

ServiceConfig load_config(const std::string& bundle_path) {
  ServiceConfig cfg;
  std::string path;
  if (const char* env = std::getenv("HAINEIFRDM_CONFIG")) path = env;
  if (path.empty() && !bundle_path.empty()) {
    path = bundle_path + "/Contents/Resources/haineifrdm.json";
  }
  std::string json;
  if (!path.empty()) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    json = ss.str();
  }
  cfg.python = json_string(json, "python");
  cfg.socket_path = json_string(json, "socket");
  if (const std::string m = json_string(json, "model"); !m.empty()) cfg.model = m;
  if (const std::string b = json_string(json, "backend"); !b.empty()) cfg.backend = b;
  cfg.device = json_string(json, "device");
  cfg.start_timeout_s = json_number(json, "start_timeout", cfg.start_timeout_s);
  cfg.render_timeout_s = json_number(json, "render_timeout", cfg.render_timeout_s);
  if (const char* s = std::getenv("HAINEIFRDM_SOCKET")) cfg.socket_path = s;
  if (cfg.socket_path.empty()) cfg.socket_path = default_socket_path();
  if (cfg.python.empty()) cfg.python = "python3";
  return cfg;
}

int ServiceClient::try_connect() const {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (config_.socket_path.size() >= sizeof(addr.sun_path)) {
    ::close(fd);
    return -1;
  }
  std::strncpy(addr.sun_path, config_.socket_path.c_str(), sizeof(addr.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void ServiceClient::start_service() {
  const pid_t pid = ::fork();
  if (pid < 0) throw ServiceError("cannot start the render service (fork failed)");
  if (pid == 0) {
    // child: detach, silence, exec the service; never return into the host
    ::setsid();
    const int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
    }
    std::vector<std::string> args = {config_.python, "-m", "haineifrdm.cli.main", "serve",
                                     "--socket", config_.socket_path, "--model", config_.model,
                                     "--backend", config_.backend};
    if (!config_.device.empty()) {
      args.push_back("--device");
      args.push_back(config_.device);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  // reap the intermediate child when it exits (the service keeps running after setsid)
  std::thread([pid] {
    int status = 0;
    ::waitpid(pid, &status, 0);
  }).detach();
}

int ServiceClient::connect_or_start() {
  int fd = try_connect();
  if (fd >= 0) return fd;
  std::lock_guard<std::mutex> lock(g_start_mutex);
  fd = try_connect();  // another render may have started it meanwhile
  if (fd >= 0) return fd;
  start_service();
  const double deadline = now_s() + config_.start_timeout_s;
  while (now_s() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    fd = try_connect();
    if (fd >= 0) return fd;
  }
  throw ServiceError("the render service did not start within " +
                     std::to_string(static_cast<int>(config_.start_timeout_s)) + " s (" +
                     config_.python + " -m haineifrdm.cli.main serve)");
}

void ServiceClient::restore(const std::function<void(float*)>& fill_window, int frames,
                            int height, int width, const RestoreParams& p,
                            const std::function<bool()>& aborted,
                            const std::function<void(double)>& progress,
                            const std::function<void(const float*)>& use_result) {
  const size_t in_bytes = static_cast<size_t>(frames) * height * width * 3 * sizeof(float);
  const size_t out_bytes = static_cast<size_t>(height) * width * 3 * sizeof(float);
  const std::string tag = "haineifrdm-ofx-job-" + std::to_string(::getpid()) + "-" +
                          std::to_string(g_counter.fetch_add(1));
  Lease in(in_bytes);
  Lease out(out_bytes);
  fill_window(static_cast<float*>(in->ptr));
  std::ostringstream req;
  req << "{\"id\":\"" << tag << "\",\"shm_in\":\"" << in->name << "\",\"shm_out\":\""
      << out->name << "\",\"frames\":" << frames << ",\"height\":" << height
      << ",\"width\":" << width << ",\"progress\":true,\"params\":{\"steps\":" << p.steps
      << ",\"strength\":" << p.strength << ",\"radius\":" << p.radius
      << ",\"patch\":" << p.patch << ",\"overlap\":" << p.overlap
      << ",\"two_stage\":" << (p.two_stage ? "true" : "false") << ",\"seed\":" << p.seed
      << ",\"output\":\"" << json_escape(p.output) << "\",\"frame_index\":" << p.frame_index
      << "}}";
  Fd conn(connect_or_start());
  if (!send_message(conn.get(), kRestore, req.str())) {
    throw ServiceError("the render service closed the connection");
  }
  bool cancel_sent = false;
  double deadline = now_s() + config_.render_timeout_s;
  const std::function<void()> tick = [&] {
    if (!cancel_sent && aborted && aborted()) {
      cancel_sent = true;
      deadline = std::min(deadline, now_s() + 30.0);
      const int c = try_connect();
      if (c >= 0) {
        send_message(c, kCancel, "{\"id\":\"" + tag + "\"}");
        uint16_t t;
        std::string body;
        read_message(c, t, body, now_s() + 5.0, nullptr);
        ::close(c);
      }
    }
  };
  while (true) {
    uint16_t type = 0;
    std::string body;
    if (!read_message(conn.get(), type, body, deadline, tick)) {
      throw ServiceError(now_s() > deadline ? "the render service did not answer in time"
                                            : "the render service stopped during the render");
    }
    if (type == kProgress) {
      if (progress) progress(json_number(body, "value", 0.0));
      continue;
    }
    if (type == kError) {
      const std::string msg = json_string(body, "error");
      throw ServiceError(msg.empty() ? "render failed" : msg);
    }
    if (type != kOk) throw ServiceError("unexpected reply from the render service");
    break;
  }
  use_result(static_cast<const float*>(out->ptr));
  in.keep();
  out.keep();
}

}  // namespace hfrdm
