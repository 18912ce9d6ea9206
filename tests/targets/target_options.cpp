#include "target_options.h"

#include "target_seccomp.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace sdtarget {
namespace {

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr,
               "snapdump_target: %s\n"
               "usage: snapdump_target [--threads N] [--heap-mib M] [--fds] [--mappings] [--avx]\n"
               "       [--libs] [--all] [--thp] [--churn] [--sweep-mib M] [--spin-threads N] [--idle-threads N]\n"
               "       [--truncated-mapping] [--subreaper] [--seccomp MODE] [--dontfork-mib M]\n"
               "       [--untouched-mib M] [--dontfork-scatter N]\n"
               "       [--hostile-names] [--tag TEXT]\n"
               "MODE: %s\n",
               problem, kSeccompModes);
  std::exit(2);
}

std::size_t count_argument(int argc, char** argv, int& i) {
  if (i + 1 >= argc) usage((std::string("missing value for ") + argv[i]).c_str());
  const char* text = argv[++i];
  char* end = nullptr;
  errno = 0;
  unsigned long long value = std::strtoull(text, &end, 10);
  // A cap keeps a typo from asking for terabytes or thousands of threads.
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || value > 1'000'000)
    usage((std::string("bad number: ") + text).c_str());
  return static_cast<std::size_t>(value);
}

}  // namespace

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--threads") options.threads = count_argument(argc, argv, i);
    else if (flag == "--heap-mib") options.heap_mib = count_argument(argc, argv, i);
    else if (flag == "--spin-threads") options.spin_threads = count_argument(argc, argv, i);
    else if (flag == "--idle-threads") options.idle_threads = count_argument(argc, argv, i);
    else if (flag == "--dontfork-mib") options.dontfork_mib = count_argument(argc, argv, i);
    else if (flag == "--untouched-mib") options.untouched_mib = count_argument(argc, argv, i);
    else if (flag == "--dontfork-scatter") options.dontfork_scatter = count_argument(argc, argv, i);
    else if (flag == "--sweep-mib") options.sweep_mib = count_argument(argc, argv, i);
    else if (flag == "--fds") options.fds = true;
    else if (flag == "--mappings") options.mappings = true;
    else if (flag == "--avx") options.avx = true;
    else if (flag == "--libs") options.libs = true;
    else if (flag == "--thp") options.thp = true;
    else if (flag == "--churn") options.churn = true;
    else if (flag == "--truncated-mapping") options.truncated_mapping = true;
    else if (flag == "--subreaper") options.subreaper = true;
    else if (flag == "--hostile-names") options.hostile_names = true;
    // Ignored: lets a test put any bytes in the target's command line.
    else if (flag == "--tag") {
      if (i + 1 >= argc) usage("--tag needs a value");
      ++i;
    }
    else if (flag == "--seccomp") {
      if (i + 1 >= argc || !is_seccomp_mode(argv[i + 1])) usage("--seccomp needs a mode");
      options.seccomp = argv[++i];
    }
    else if (flag == "--all") options.fds = options.mappings = options.avx = options.libs = true;
    else usage(("unknown flag " + flag).c_str());
  }
  if (options.threads + options.spin_threads + options.idle_threads > 4096)
    usage("too many threads");
  return options;
}

nlohmann::json options_json(const Options& options) {
  return {{"threads", options.threads},           {"heap_mib", options.heap_mib},
          {"spin_threads", options.spin_threads}, {"idle_threads", options.idle_threads},
          {"fds", options.fds},                   {"mappings", options.mappings},
          {"truncated_mapping", options.truncated_mapping},
          {"avx", options.avx},                   {"libs", options.libs}, {"churn", options.churn},
          {"sweep_mib", options.sweep_mib},
          {"thp", options.thp},                   {"subreaper", options.subreaper},
          {"dontfork_mib", options.dontfork_mib},
          {"untouched_mib", options.untouched_mib},
          {"dontfork_scatter", options.dontfork_scatter},
          {"hostile_names", options.hostile_names},
          {"seccomp", options.seccomp}};
}

}  // namespace sdtarget
