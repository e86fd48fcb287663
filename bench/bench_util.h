// Timing helpers shared by the benchmarks: DataScript's bench method (a warm-up, then the median
// of several samples, each running the body repeatedly for at least a minimum time).
#pragma once

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace datahike::bench {

inline double NowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Median ms per run of fn over `samples` samples of at least min_ms each, after warmup_ms.
inline double Bench(const std::function<void()>& fn, double warmup_ms, double min_ms, int samples) {
  auto run = [&](double dur) {
    double t0 = NowMs(), t;
    int n = 0;
    do {
      fn();
      ++n;
      t = NowMs();
    } while (t - t0 < dur);
    return (t - t0) / n;
  };
  run(warmup_ms);
  std::vector<double> xs;
  for (int i = 0; i < samples; ++i) xs.push_back(run(min_ms));
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace datahike::bench
