// Printing a snapshot for people (text) and for scripts (JSON). Every name goes through the
// rules of name_escape.h: text escapes what a terminal would act on, JSON keeps bytes that are
// not UTF-8 in a KEY_base64 member. The per-record functions are what the whole-snapshot ones
// are made of; the unit tests and the printer fuzzer call them with records of their own.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "snapdump/snapshot.h"

namespace snapdump::cli {

nlohmann::json snapshot_to_json(const Snapshot& snapshot);
void print_snapshot(std::FILE* out, const Snapshot& snapshot);

nlohmann::json process_json(const ProcessInfo& process);
nlohmann::json thread_json(const ThreadEntry& thread);
nlohmann::json region_json(const Region& region);
nlohmann::json handle_json(const HandleEntry& handle);

void print_process(std::FILE* out, const ProcessInfo& process);
void print_thread(std::FILE* out, const ThreadEntry& thread);
void print_module(std::FILE* out, const Region& region);  // nothing unless region.elf
void print_region(std::FILE* out, const Region& region);
void print_handle(std::FILE* out, const HandleEntry& handle);

// Prints text (a handle's details, a text stream, a token) line by line after `indent`, each
// line escaped but for its tabs, so that the text keeps its shape and nothing in it reaches the
// terminal raw.
// `separator` ends a line: '\n', or NUL for the NUL-separated command line and environment.
void print_lines(std::FILE* out, std::string_view text, char separator, const char* indent);
// A handle's "key: value" detail lines, indented under the handle's line.
void print_details(std::FILE* out, const std::string& details);

}  // namespace snapdump::cli
