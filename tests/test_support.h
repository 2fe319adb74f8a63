// Helpers shared by the tests: scratch folders and the DRIVE data-set location.
#pragma once
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "vesselgan/core/error.h"

namespace vg::test {

namespace fs = std::filesystem;

// A fresh, empty folder under the build tree for one test; removed when the object dies.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name)
      : path_(fs::path(VG_BINARY_DIR) / "test-scratch" / name) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Runs `fn` and returns its UserError message ("" when it did not throw one).
template <typename Fn>
std::string user_error(Fn fn) {
  try {
    fn();
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The DRIVE data set from $VESSELGAN_DRIVE. Unset: the calling test is skipped with a message (a user's
// fresh clone). Set but missing: the test fails loudly (CI must not silently skip).
#define VG_REQUIRE_DRIVE(var)                                                                       \
  const char* var##_env = std::getenv("VESSELGAN_DRIVE");                                           \
  if (var##_env == nullptr) GTEST_SKIP() << "VESSELGAN_DRIVE is not set; skipping DRIVE-backed test"; \
  const std::filesystem::path var(var##_env);                                                        \
  ASSERT_TRUE(std::filesystem::is_directory(var / "training") || std::filesystem::is_directory(var / "test") || \
              std::filesystem::is_directory(var / "testing"))                                        \
      << "VESSELGAN_DRIVE=" << var##_env << " is set but holds no DRIVE data (training/ or test/)";

// A TCP port on loopback that nothing listens on right now (for a data-parallel job's rendezvous).
inline int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

}  // namespace vg::test
