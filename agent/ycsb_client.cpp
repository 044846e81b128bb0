// A YCSB-style Redis client in the guest: redis-benchmark draws keys only
// uniformly, so this client loads `records` keys and then runs YCSB core
// workload A/B/C's read/update mix with YCSB's key choice (workloads/ycsb.hpp),
// over `clients` blocking TCP connections (one thread each), timing every
// operation. RESP is spoken directly: SET for load and update, GET for read.
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <thread>

#include "agent/tasks.hpp"
#include "workloads/ycsb.hpp"

namespace vtmm::agent {
namespace {

constexpr uint16_t kPort = 6379;
namespace ycsb = vtmm::workloads::ycsb;
using Clock = std::chrono::steady_clock;

// The initramfs configures no network: redis-server's TCP needs lo up.
void loopback_up() {
  const int s = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) throw std::runtime_error("socket for lo failed");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
      ::close(s);
      throw std::runtime_error(std::string("cannot bring lo up: ") + std::strerror(errno));
    }
  }
  ::close(s);
}

// One RESP connection; replies are read whole before the next request.
class Conn {
 public:
  explicit Conn(double timeout_s) {
    const auto t0 = Clock::now();
    for (;;) {
      fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(kPort);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) break;
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
      if (std::chrono::duration<double>(Clock::now() - t0).count() > timeout_s)
        throw std::runtime_error("cannot connect to redis-server on 127.0.0.1:6379");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  void set(const std::string& key, const std::string& value) {
    out_.clear();
    out_ += "*3\r\n$3\r\nSET\r\n";
    bulk(key);
    bulk(value);
    send();
    const std::string line = read_line();
    if (line != "+OK")
      throw std::runtime_error("SET: unexpected reply '" + line.substr(0, 40) + "'");
  }
  // Bytes of the value, or -1 for a missing key.
  long get(const std::string& key) {
    out_.clear();
    out_ += "*2\r\n$3\r\nGET\r\n";
    bulk(key);
    send();
    const std::string line = read_line();
    if (line.empty() || line[0] != '$')
      throw std::runtime_error("GET: unexpected reply '" + line.substr(0, 40) + "'");
    const long n = std::stol(line.substr(1));
    if (n < 0) return -1;
    fill(static_cast<size_t>(n) + 2);
    pos_ += static_cast<size_t>(n) + 2;
    return n;
  }

 private:
  void bulk(const std::string& s) {
    out_ += '$';
    out_ += std::to_string(s.size());
    out_ += "\r\n";
    out_ += s;
    out_ += "\r\n";
  }
  void send() {
    for (size_t at = 0; at < out_.size();) {
      const ssize_t n = ::send(fd_, out_.data() + at, out_.size() - at, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("redis connection closed (send)");
      at += static_cast<size_t>(n);
    }
  }
  void fill(size_t need) {  // until `need` unread bytes are buffered
    if (pos_ > 0 && pos_ == in_.size()) in_.clear(), pos_ = 0;
    while (in_.size() - pos_ < need) {
      char buf[65536];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("redis connection closed (recv)");
      in_.append(buf, static_cast<size_t>(n));
    }
  }
  std::string read_line() {
    for (;;) {
      const size_t at = in_.find("\r\n", pos_);
      if (at != std::string::npos) {
        std::string line = in_.substr(pos_, at - pos_);
        pos_ = at + 2;
        return line;
      }
      fill(in_.size() - pos_ + 1);
    }
  }
  int fd_ = -1;
  std::string out_, in_;
  size_t pos_ = 0;
};

struct Latencies {
  std::vector<uint32_t> read_us, update_us;
  uint64_t misses = 0;
};

// Nearest-rank percentile of sorted samples, in ms.
double pct_ms(const std::vector<uint32_t>& s, double p) {
  if (s.empty()) return 0;
  size_t i = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(s.size())));
  i = std::clamp<size_t>(i, 1, s.size()) - 1;
  return s[i] / 1000.0;
}

void stop_server(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
}

std::string value_of(Rng& rng, uint32_t bytes) {
  std::string v(bytes, ' ');
  for (char& c : v) c = static_cast<char>(' ' + rng.below(95));  // printable, as YCSB's values
  return v;
}

// Per operation kind: count, rate and latency percentiles (sorts the samples).
void add_latency_values(Values& v, Latencies& all, double secs) {
  for (auto [name, s] : {std::pair<const char*, std::vector<uint32_t>*>{"read", &all.read_us},
                         {"update", &all.update_us}}) {
    std::sort(s->begin(), s->end());
    const std::string n = name;
    double sum = 0;
    for (uint32_t x : *s) sum += x;
    v.emplace_back(n + "_ops", static_cast<double>(s->size()));
    v.emplace_back(n + "_rps", static_cast<double>(s->size()) / secs);
    v.emplace_back(n + "_avg_latency_ms",
                   s->empty() ? 0 : sum / static_cast<double>(s->size()) / 1000.0);
    v.emplace_back(n + "_p50_latency_ms", pct_ms(*s, 50));
    v.emplace_back(n + "_p95_latency_ms", pct_ms(*s, 95));
    v.emplace_back(n + "_p99_latency_ms", pct_ms(*s, 99));
    v.emplace_back(n + "_p999_latency_ms", pct_ms(*s, 99.9));
    v.emplace_back(n + "_max_latency_ms", s->empty() ? 0 : s->back() / 1000.0);
  }
}

// The key distribution the guest really drew: the hottest key's share and
// the top 10 % of keys' share of `ops` requests.
void add_key_shares(Values& v, const std::vector<std::atomic<uint32_t>>& hits, double ops) {
  std::vector<uint32_t> h(hits.size());
  for (size_t i = 0; i < h.size(); ++i) h[i] = hits[i].load();
  std::sort(h.begin(), h.end(), std::greater<>());
  double top10 = 0;
  const size_t tenth = std::max<size_t>(1, h.size() / 10);
  for (size_t i = 0; i < tenth; ++i) top10 += h[i];
  v.emplace_back("top_key_share", h[0] / ops);
  v.emplace_back("top10pct_keys_share", top10 / ops);
}

Values run_phase(const YcsbParams& p, double load_s) {
  const ycsb::KeyChooser chooser(ycsb::parse_distribution(p.distribution), p.records, p.seed);
  const double read_share = ycsb::read_proportion(p.workload);
  std::vector<std::atomic<uint32_t>> hits(p.records);
  std::vector<Latencies> lat(p.clients);
  std::vector<std::string> errors(p.clients);
  std::vector<std::thread> threads;
  const auto t0 = Clock::now();
  for (uint32_t t = 0; t < p.clients; ++t) {
    const uint64_t ops = p.operations / p.clients + (t < p.operations % p.clients ? 1 : 0);
    threads.emplace_back([&, t, ops] {
      try {
        Conn c(10);
        Rng rng(derived_seed(p.seed, t + 1));  // one stream per client
        std::string value = value_of(rng, p.value_bytes);
        auto& L = lat[t];
        L.read_us.reserve(ops);
        L.update_us.reserve(ops);
        for (uint64_t i = 0; i < ops; ++i) {
          const bool read = rng.uniform() < read_share;
          const uint64_t k = chooser.next(rng);
          hits[k].fetch_add(1, std::memory_order_relaxed);
          const std::string key = ycsb::key_name(k);
          const auto s = Clock::now();
          if (read) {
            if (c.get(key) != static_cast<long>(p.value_bytes)) ++L.misses;
          } else {
            std::memcpy(value.data(), &i,
                        std::min<size_t>(8, value.size()));  // a new value each update
            c.set(key, value);
          }
          const auto us =
              std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - s).count();
          (read ? L.read_us : L.update_us)
              .push_back(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
        }
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  for (const auto& e : errors)
    if (!e.empty()) throw std::runtime_error("ycsb client: " + e);
  Latencies all;
  for (auto& L : lat) {
    all.read_us.insert(all.read_us.end(), L.read_us.begin(), L.read_us.end());
    all.update_us.insert(all.update_us.end(), L.update_us.begin(), L.update_us.end());
    all.misses += L.misses;
  }
  Values v;
  add_latency_values(v, all, secs);
  add_key_shares(v, hits, static_cast<double>(p.operations));
  const double ops = static_cast<double>(p.operations);
  v.emplace_back("read_misses", static_cast<double>(all.misses));
  v.emplace_back("records", static_cast<double>(p.records));
  v.emplace_back("load_s", load_s);
  v.emplace_back("load_rps", static_cast<double>(p.records) / load_s);
  v.emplace_back("requests", ops);
  v.emplace_back("wall_s", secs);
  v.emplace_back("throughput", ops / secs);
  if (all.misses)
    throw std::runtime_error("ycsb client: " + std::to_string(all.misses) +
                             " reads found no value");
  return v;
}

// Load phase: records split over the clients, SET in index order per client.
double load(const YcsbParams& p) {
  const auto t0 = Clock::now();
  std::vector<std::string> errors(p.clients);
  std::vector<std::thread> threads;
  for (uint32_t t = 0; t < p.clients; ++t)
    threads.emplace_back([&, t] {
      try {
        Conn c(60);
        Rng rng(derived_seed(p.seed, p.clients + t + 1));
        const std::string value = value_of(rng, p.value_bytes);
        for (uint64_t k = t; k < p.records; k += p.clients) c.set(ycsb::key_name(k), value);
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  for (auto& th : threads) th.join();
  for (const auto& e : errors)
    if (!e.empty()) throw std::runtime_error("ycsb load: " + e);
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

Values run_ycsb(const YcsbParams& p) {
  try {
    ycsb::parse_distribution(p.distribution);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("ycsb: distribution ") + e.what());
  }
  ycsb::read_proportion(p.workload);
  if (p.records == 0 || p.operations == 0 || p.clients == 0 || p.value_bytes == 0)
    throw std::runtime_error("ycsb: zero parameter");
  loopback_up();
  const pid_t server =
      spawn_process({"/usr/bin/redis-server", "--port", std::to_string(kPort), "--bind",
                     "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"},
                    "/tmp/redis-server.log");
  set_workload_pid(server);
  try {
    const double load_s = load(p);
    Values v = run_phase(p, load_s);
    stop_server(server);
    return v;
  } catch (...) {
    stop_server(server);
    throw;
  }
}

}  // namespace vtmm::agent
