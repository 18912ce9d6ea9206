# snapdump_precompile(TARGET HEADER...): the C++ sources of TARGET get the system HEADERs
# (written without angle brackets: fmt/format.h, string) precompiled once for the target.
#
# Why: the suite builds the whole tree twice (normal and ASan+UBSan) plus the fuzzers within
# CI's time on 2 cores, and most of a file's compile time is the same few heavy headers (fmt,
# nlohmann-json, CLI11, GoogleTest, the standard library) parsed again for every file. Only
# library headers go in: a project header would make every file depend on it, and a C header
# such as <linux/...> can clash with glibc's in files that did not ask for it.
function(snapdump_precompile target)
  set(headers "")
  foreach(header IN LISTS ARGN)
    list(APPEND headers "$<$<COMPILE_LANGUAGE:CXX>:<${header}$<ANGLE-R>>")
  endforeach()
  target_precompile_headers(${target} PRIVATE ${headers})
endfunction()
