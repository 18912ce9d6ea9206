// `snapdump demo`: the README's main job on a built-in default.
#pragma once

namespace snapdump::cli {

// Runs the bundled demo process, captures and shows it, stops it. Returns the exit code.
int run_demo();

}  // namespace snapdump::cli
