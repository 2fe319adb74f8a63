// vesselgan launch --nproc N -- <command>: starts N copies of a command on this machine as the ranks of one
// data-parallel job, with the variables torchrun sets (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT), for machines without Python. SIGINT / SIGTERM are passed on to the ranks; the
// first rank that fails ends the others (SIGTERM, then SIGKILL after a grace period) and gives the exit status;
// a launcher that is killed takes its ranks with it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <thread>
#include <vector>

#include "cli.h"
#include "vesselgan/core/error.h"

namespace vg::cli {

namespace {

struct LaunchFlags {
  int64_t nproc = 0;
  int64_t master_port = 0;
  double grace_s = 10;
  std::vector<std::string> command;
};

std::vector<pid_t> g_children;  // for the signal handler

void forward_signal(int sig) {
  for (pid_t p : g_children)
    if (p > 0) ::kill(p, sig);
}

// A TCP port on loopback that nothing listens on now (the kernel's pick).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw UserError("launch: cannot open a socket to find a free port (pass --master-port)");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  close(fd);
  if (!ok) throw UserError("launch: cannot find a free port on 127.0.0.1 (pass --master-port)");
  return ntohs(a.sin_port);
}

// The exit status a shell would report for a waitpid status.
int exit_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 3;
}

int run_launch(const LaunchFlags& f) {
  if (f.nproc < 1) throw UserError("--nproc " + std::to_string(f.nproc) + " is invalid; valid: an integer >= 1");
  if (f.command.empty()) throw UserError("launch: no command after -- (e.g. vesselgan launch --nproc 2 -- vesselgan train ...)");
  const int port = f.master_port > 0 ? static_cast<int>(f.master_port) : free_port();
  // "vesselgan" means this very program, wherever it lives.
  std::vector<std::string> cmd = f.command;
  if (cmd[0] == "vesselgan") cmd[0] = "/proc/self/exe";
  std::vector<char*> argv;
  for (auto& a : cmd) argv.push_back(a.data());
  argv.push_back(nullptr);

  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  for (int64_t r = 0; r < f.nproc; ++r) {
    const std::vector<std::pair<std::string, std::string>> env = {
        {"RANK", std::to_string(r)},           {"LOCAL_RANK", std::to_string(r)},
        {"WORLD_SIZE", std::to_string(f.nproc)}, {"LOCAL_WORLD_SIZE", std::to_string(f.nproc)},
        {"MASTER_ADDR", "127.0.0.1"},           {"MASTER_PORT", std::to_string(port)}};
    const pid_t pid = fork();
    if (pid < 0) {
      forward_signal(SIGTERM);
      throw UserError("launch: cannot start rank " + std::to_string(r) + " (fork failed)");
    }
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // a killed launcher takes its ranks with it
      for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
      execvp(argv[0], argv.data());
      std::cerr << "vesselgan launch: cannot run " << f.command[0] << "\n";
      _exit(127);
    }
    g_children.push_back(pid);
  }

  int first_failure = 0;
  size_t running = g_children.size();
  auto deadline = std::chrono::steady_clock::time_point::max();
  while (running > 0) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (auto& p : g_children) {
        if (p != pid) continue;
        p = -1;
        --running;
        const int code = exit_status(status);
        if (code != 0 && first_failure == 0) {
          first_failure = code;
          const auto rank = &p - g_children.data();
          std::cerr << "vesselgan launch: rank " << rank << " exited with status " << code << "; stopping the others\n";
          forward_signal(SIGTERM);
          deadline = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                            std::chrono::duration<double>(f.grace_s));
        }
      }
      continue;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      forward_signal(SIGKILL);
      deadline = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return first_failure;
}

}  // namespace

void add_launch(CLI::App& app) {
  auto f = std::make_shared<LaunchFlags>();
  auto* cmd = app.add_subcommand(
      "launch", "Run a command as N data-parallel ranks on this machine (like torchrun --no-python)");
  cmd->add_option("--nproc", f->nproc, "ranks to start (one per GPU; on CPU, split the cores with --threads)")
      ->required();
  cmd->add_option("--master-port", f->master_port, "rendezvous port on 127.0.0.1 (default: a free one)");
  cmd->add_option("--grace", f->grace_s, "seconds the other ranks get to stop after one fails")->capture_default_str();
  cmd->add_option("command", f->command, "the command after --, e.g. -- vesselgan train --data DRIVE --out runs/a")
      ->required();
  cmd->callback([f] {
    const int code = run_launch(*f);
    if (code != 0) std::exit(code);
  });
}

}  // namespace vg::cli
