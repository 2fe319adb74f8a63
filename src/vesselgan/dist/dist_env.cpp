#include "vesselgan/dist/dist_env.h"

#include <cstdlib>
#include <limits>

#include "vesselgan/core/error.h"

namespace vg {

namespace {

std::optional<std::string> from_process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

// An integer variable in [lo, hi]; a missing one is `fallback` (nullopt: required).
int64_t integer_var(const EnvLookup& get, const std::string& name, int64_t lo, int64_t hi,
                    std::optional<int64_t> fallback, const std::string& valid) {
  const auto text = get(name);
  if (!text) {
    if (fallback) return *fallback;
    throw UserError("environment variable " + name + " is not set; a data-parallel run needs it (" + valid + ")");
  }
  size_t used = 0;
  int64_t value = 0;
  try {
    value = std::stoll(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text->size() || value < lo || value > hi)
    throw UserError("environment variable " + name + "=\"" + *text + "\" is invalid; valid: " + valid);
  return value;
}

}  // namespace

DistEnv read_dist_env(const EnvLookup& lookup) {
  const EnvLookup get = lookup ? lookup : EnvLookup(from_process_env);
  DistEnv env;
  constexpr int64_t kMaxRanks = 1 << 20;
  env.timeout = std::chrono::seconds(integer_var(get, "VESSELGAN_DIST_TIMEOUT", 1, 24 * 3600, 300,
                                                 "whole seconds in 1..86400"));
  env.world_size = integer_var(get, "WORLD_SIZE", 1, kMaxRanks, 1, "an integer >= 1, the number of processes");
  if (env.world_size == 1 && !get("RANK")) return env;
  const std::string rank_range = "an integer in 0.." + std::to_string(env.world_size - 1) + " (WORLD_SIZE is " +
                                 std::to_string(env.world_size) + ")";
  env.rank = integer_var(get, "RANK", 0, env.world_size - 1, std::nullopt, rank_range);
  env.local_rank = integer_var(get, "LOCAL_RANK", 0, env.world_size - 1, 0, rank_range);
  const auto addr = get("MASTER_ADDR");
  env.master_addr = addr ? *addr : "";
  if (env.world_size > 1 && env.master_addr.empty())
    throw UserError("environment variable MASTER_ADDR is not set; a data-parallel run needs the host of rank 0 "
                    "(e.g. MASTER_ADDR=127.0.0.1 on one machine)");
  env.master_port = integer_var(get, "MASTER_PORT", 1, 65535, env.world_size > 1 ? std::nullopt : std::optional<int64_t>(0),
                                "a TCP port in 1..65535 that rank 0 can listen on");
  env.agent_store = get("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
  env.restart_count = integer_var(get, "TORCHELASTIC_RESTART_COUNT", 0, std::numeric_limits<int32_t>::max(), 0,
                                  "an integer >= 0");
  return env;
}

}  // namespace vg
