// Running the real `vesselgan` program from a smoke test.
#pragma once
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>

#include "test_support.h"
#include "vesselgan/core/files.h"

namespace vg::test {

struct CliResult {
  int code = -1;
  std::string out, err;
};

// Runs `vesselgan <args>` with stdout / stderr captured in files of `dir`; `env` is prepended ("A=1 B=2").
inline CliResult run_vesselgan(const std::string& args, const ScratchDir& dir, const std::string& env = "") {
  const auto out = dir.path() / "stdout.txt", err = dir.path() / "stderr.txt";
  // Run inside the scratch folder, as a user runs the program in a working folder: outputs with default
  // names (evaluation/, segmented/) land there, not in the test runner's directory.
  const std::string cmd = "cd '" + dir.path().string() + "' && " + env + (env.empty() ? "" : " ") +
                          std::string(VG_CLI) + " " + args + " >" + out.string() + " 2>" + err.string() +
                          " </dev/null";
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(out);
  r.err = read_file(err);
  return r;
}

// `n` phantoms of `size` px and one test phantom, made by the program in `dir`/phantoms; the folder's path.
inline std::string make_phantoms(const ScratchDir& dir, int n, int size) {
  const auto p = dir.path() / "phantoms";
  const auto r = run_vesselgan("phantom --n " + std::to_string(n) + " --n-test 1 --size " + std::to_string(size) +
                                   " --out " + p.string(), dir);
  EXPECT_EQ(r.code, 0) << r.err;
  return p.string();
}

// `vesselgan <args>` started in the background inside `dir`, for tests that kill it at a chosen moment:
// wait_for() polls a condition on its outputs, kill() sends SIGKILL, as a crash or an impatient user would. Its
// stdout goes to a file of `dir` named after `tag`, and so does its stderr, unless `terminal`: then stderr is a
// pseudo-terminal, where the program draws its progress bar at every training step, so a test can kill it at
// a given step (err() holds what it drew). `env` is set for it ("A=1 B=2"). A process still running when the object
// dies is killed.
class CliProcess {
 public:
  CliProcess(const std::string& args, const ScratchDir& dir, const std::string& tag, bool terminal = false,
             const std::string& env = "")
      : out_(dir.path() / (tag + ".stdout.txt")), err_(dir.path() / (tag + ".stderr.txt")) {
    std::string tty;
    if (terminal) {
      terminal_ = posix_openpt(O_RDWR | O_NOCTTY);
      if (terminal_ < 0 || grantpt(terminal_) != 0 || unlockpt(terminal_) != 0) return;
      tty = ptsname(terminal_);
      fcntl(terminal_, F_SETFL, fcntl(terminal_, F_GETFL) | O_NONBLOCK);
    }
    // Everything the child needs is built before fork(): between fork() and exec() only chdir, open, dup2 and
    // exec run.
    const std::string folder = dir.path().string();
    const std::string cmd = "exec " + (env.empty() ? "" : "env " + env + " ") + std::string(VG_CLI) + " " + args + " >'" + out_.string() + "'" +
                            (terminal ? "" : " 2>'" + err_.string() + "'") + " </dev/null";
    pid_ = fork();
    if (pid_ == 0) {
      if (chdir(folder.c_str()) != 0) _exit(127);
      if (terminal) {
        const int fd = open(tty.c_str(), O_RDWR | O_NOCTTY);
        if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) _exit(127);
        close(fd);
        close(terminal_);
      }
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~CliProcess() {
    if (pid_ > 0 && !done_) kill();
    if (terminal_ >= 0) close(terminal_);
  }
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;

  bool started() const { return pid_ > 0; }

  // Polls `ready` every `poll_ms` until it holds (true), or the process exits or `timeout_s` passes (false).
  bool wait_for(const std::function<bool()>& ready, double timeout_s, int poll_ms = 5) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (std::chrono::steady_clock::now() < end) {
      if (ready()) return true;
      if (!running()) return ready();
      std::this_thread::sleep_for(std::chrono::milliseconds(poll_ms));
    }
    return false;
  }

  // SIGKILL, then reaps it. True when the signal killed it (false: it had exited on its own before).
  bool kill() {
    if (pid_ <= 0 || done_) return false;
    ::kill(pid_, SIGKILL);
    reap(0);
    return WIFSIGNALED(status_) && WTERMSIG(status_) == SIGKILL;
  }

  // Waits for it to end; its exit code (-1 when a signal ended it).
  int wait() {
    while (pid_ > 0 && !done_ && !reap(WNOHANG)) {
      drain();  // a full terminal would block it
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
  }

  bool running() {
    if (pid_ <= 0 || done_) return false;
    return !reap(WNOHANG);
  }

  std::string out() const { return read_file(out_); }
  // Its stderr so far (with `terminal`, as drawn, progress bars and all).
  std::string err() {
    if (terminal_ < 0) return read_file(err_);
    drain();
    return drawn_;
  }

 private:
  // Reads what the program drew on its terminal so far.
  void drain() {
    if (terminal_ < 0) return;
    char buf[4096];
    ssize_t n;
    while ((n = read(terminal_, buf, sizeof buf)) > 0) drawn_.append(buf, static_cast<size_t>(n));
  }

  // waitpid with `flags`; true once the process has been reaped.
  bool reap(int flags) {
    int status = 0;
    pid_t r;
    do {
      r = waitpid(pid_, &status, flags);
    } while (r < 0 && errno == EINTR);
    if (r == pid_) {
      status_ = status;
      done_ = true;
    }
    return done_ || r < 0;
  }

  std::filesystem::path out_, err_;
  int terminal_ = -1;  // the pseudo-terminal's master side, with `terminal`
  std::string drawn_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool done_ = false;
};

}  // namespace vg::test
