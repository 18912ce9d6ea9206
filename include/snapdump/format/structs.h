// MDMP on-disk structures, x64 layout: little-endian, packed to 4 bytes exactly as the Windows
// SDK declares them (#include <pshpack4.h> in minidumpapiset.h). Every size and the offsets
// readers depend on are static_asserted against the documented values, so a layout mistake
// fails the build instead of producing a dump nobody can read.
#pragma once

#include <cstddef>
#include <cstdint>

namespace snapdump::format {

#pragma pack(push, 4)

struct LocationDescriptor {  // MINIDUMP_LOCATION_DESCRIPTOR
  uint32_t data_size;
  uint32_t rva;
};

struct LocationDescriptor64 {  // MINIDUMP_LOCATION_DESCRIPTOR64
  uint64_t data_size;
  uint64_t rva;
};

struct Header {  // MINIDUMP_HEADER
  uint32_t signature;
  uint32_t version;
  uint32_t number_of_streams;
  uint32_t stream_directory_rva;
  uint32_t checksum;
  uint32_t time_date_stamp;
  uint64_t flags;
};

struct Directory {  // MINIDUMP_DIRECTORY
  uint32_t stream_type;
  LocationDescriptor location;
};

struct MemoryDescriptor {  // MINIDUMP_MEMORY_DESCRIPTOR
  uint64_t start_of_memory_range;
  LocationDescriptor memory;
};

struct MemoryDescriptor64 {  // MINIDUMP_MEMORY_DESCRIPTOR64
  uint64_t start_of_memory_range;
  uint64_t data_size;
};

struct Memory64ListHeader {  // MINIDUMP_MEMORY64_LIST without its array
  uint64_t number_of_memory_ranges;
  uint64_t base_rva;
};

struct Thread {  // MINIDUMP_THREAD
  uint32_t thread_id;
  uint32_t suspend_count;
  uint32_t priority_class;
  uint32_t priority;
  uint64_t teb;
  MemoryDescriptor stack;
  LocationDescriptor thread_context;
};

struct ThreadEx {  // MINIDUMP_THREAD_EX
  uint32_t thread_id;
  uint32_t suspend_count;
  uint32_t priority_class;
  uint32_t priority;
  uint64_t teb;
  MemoryDescriptor stack;
  LocationDescriptor thread_context;
  MemoryDescriptor backing_store;
};

struct FixedFileInfo {  // VS_FIXEDFILEINFO
  uint32_t signature;
  uint32_t struc_version;
  uint32_t file_version_ms, file_version_ls;
  uint32_t product_version_ms, product_version_ls;
  uint32_t file_flags_mask, file_flags, file_os, file_type, file_subtype;
  uint32_t file_date_ms, file_date_ls;
};

struct Module {  // MINIDUMP_MODULE
  uint64_t base_of_image;
  uint32_t size_of_image;
  uint32_t checksum;
  uint32_t time_date_stamp;
  uint32_t module_name_rva;
  FixedFileInfo version_info;
  LocationDescriptor cv_record;
  LocationDescriptor misc_record;
  uint64_t reserved0;
  uint64_t reserved1;
};

struct UnloadedModuleListHeader {  // MINIDUMP_UNLOADED_MODULE_LIST
  uint32_t size_of_header;
  uint32_t size_of_entry;
  uint32_t number_of_entries;
};

struct UnloadedModule {  // MINIDUMP_UNLOADED_MODULE
  uint64_t base_of_image;
  uint32_t size_of_image;
  uint32_t checksum;
  uint32_t time_date_stamp;
  uint32_t module_name_rva;
};

struct CpuInformationX86 {
  uint32_t vendor_id[3];
  uint32_t version_information;
  uint32_t feature_information;
  uint32_t amd_extended_cpu_features;
};

struct SystemInfo {  // MINIDUMP_SYSTEM_INFO
  uint16_t processor_architecture;
  uint16_t processor_level;
  uint16_t processor_revision;
  uint8_t number_of_processors;
  uint8_t product_type;
  uint32_t major_version;
  uint32_t minor_version;
  uint32_t build_number;
  uint32_t platform_id;
  uint32_t csd_version_rva;
  uint16_t suite_mask;
  uint16_t reserved2;
  CpuInformationX86 cpu;  // the X86 member of the CPU_INFORMATION union (24 bytes)
};

struct Exception {  // MINIDUMP_EXCEPTION
  uint32_t exception_code;
  uint32_t exception_flags;
  uint64_t exception_record;
  uint64_t exception_address;
  uint32_t number_parameters;
  uint32_t unused_alignment;
  uint64_t exception_information[15];
};

struct ExceptionStream {  // MINIDUMP_EXCEPTION_STREAM
  uint32_t thread_id;
  uint32_t alignment;
  Exception exception_record;
  LocationDescriptor thread_context;
};

struct SystemTime {  // SYSTEMTIME
  uint16_t year, month, day_of_week, day, hour, minute, second, milliseconds;
};

struct TimeZoneInformation {  // TIME_ZONE_INFORMATION
  int32_t bias;
  char16_t standard_name[32];
  SystemTime standard_date;
  int32_t standard_bias;
  char16_t daylight_name[32];
  SystemTime daylight_date;
  int32_t daylight_bias;
};

struct XStateFeature {  // XSTATE_FEATURE
  uint32_t offset;
  uint32_t size;
};

struct XStateConfigFeatureMscInfo {  // XSTATE_CONFIG_FEATURE_MSC_INFO
  uint32_t size_of_info;
  uint32_t context_size;
  uint64_t enabled_features;
  XStateFeature features[64];
};

struct MiscInfo5 {  // MINIDUMP_MISC_INFO_5 (the earlier versions are its prefixes)
  uint32_t size_of_info;
  uint32_t flags1;
  uint32_t process_id;
  uint32_t process_create_time;  // seconds since 1970
  uint32_t process_user_time;    // seconds
  uint32_t process_kernel_time;  // seconds
  // MINIDUMP_MISC_INFO_2
  uint32_t processor_max_mhz;
  uint32_t processor_current_mhz;
  uint32_t processor_mhz_limit;
  uint32_t processor_max_idle_state;
  uint32_t processor_current_idle_state;
  // MINIDUMP_MISC_INFO_3
  uint32_t process_integrity_level;
  uint32_t process_execute_flags;
  uint32_t protected_process;
  uint32_t time_zone_id;
  TimeZoneInformation time_zone;
  // MINIDUMP_MISC_INFO_4
  char16_t build_string[260];
  char16_t dbg_bld_str[40];
  // MINIDUMP_MISC_INFO_5
  XStateConfigFeatureMscInfo xstate_data;
  uint32_t process_cookie;
};

struct MemoryInfoListHeader {  // MINIDUMP_MEMORY_INFO_LIST
  uint32_t size_of_header;
  uint32_t size_of_entry;
  uint64_t number_of_entries;
};

struct MemoryInfo {  // MINIDUMP_MEMORY_INFO
  uint64_t base_address;
  uint64_t allocation_base;
  uint32_t allocation_protect;
  uint32_t alignment1;
  uint64_t region_size;
  uint32_t state;
  uint32_t protect;
  uint32_t type;
  uint32_t alignment2;
};

struct ThreadInfoListHeader {  // MINIDUMP_THREAD_INFO_LIST
  uint32_t size_of_header;
  uint32_t size_of_entry;
  uint32_t number_of_entries;
};

struct ThreadInfo {  // MINIDUMP_THREAD_INFO
  uint32_t thread_id;
  uint32_t dump_flags;
  uint32_t dump_error;
  uint32_t exit_status;
  uint64_t create_time;  // FILETIME: 100 ns since 1601
  uint64_t exit_time;
  uint64_t kernel_time;  // 100 ns units
  uint64_t user_time;
  uint64_t start_address;
  uint64_t affinity;
};

struct ThreadName {  // MINIDUMP_THREAD_NAME
  uint32_t thread_id;
  uint64_t rva_of_thread_name;  // RVA64
};

struct HandleDataStreamHeader {  // MINIDUMP_HANDLE_DATA_STREAM
  uint32_t size_of_header;
  uint32_t size_of_descriptor;
  uint32_t number_of_descriptors;
  uint32_t reserved;
};

struct HandleDescriptor2 {  // MINIDUMP_HANDLE_DESCRIPTOR_2 (the first 32 bytes: _DESCRIPTOR)
  uint64_t handle;
  uint32_t type_name_rva;
  uint32_t object_name_rva;
  uint32_t attributes;
  uint32_t granted_access;
  uint32_t handle_count;
  uint32_t pointer_count;
  uint32_t object_info_rva;
  uint32_t reserved0;
};

struct HandleObjectInformation {  // MINIDUMP_HANDLE_OBJECT_INFORMATION
  uint32_t next_info_rva;
  uint32_t info_type;
  uint32_t size_of_info;
};

struct TokenInfoListHeader {  // MINIDUMP_TOKEN_INFO_LIST
  uint32_t token_list_size;
  uint32_t token_list_entries;
  uint32_t list_header_size;
  uint32_t element_header_size;
};

struct TokenInfoHeader {  // MINIDUMP_TOKEN_INFO_HEADER
  uint32_t token_size;
  uint32_t token_id;
  uint64_t token_handle;
};

struct M128A {
  uint64_t low;
  int64_t high;
};

struct ContextAmd64 {  // CONTEXT (AMD64)
  uint64_t p1_home, p2_home, p3_home, p4_home, p5_home, p6_home;
  uint32_t context_flags;
  uint32_t mx_csr;
  uint16_t seg_cs, seg_ds, seg_es, seg_fs, seg_gs, seg_ss;
  uint32_t eflags;
  uint64_t dr0, dr1, dr2, dr3, dr6, dr7;
  uint64_t rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi;
  uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
  uint64_t rip;
  uint8_t flt_save[512];  // XMM_SAVE_AREA32: the FXSAVE image
  M128A vector_register[26];
  uint64_t vector_control;
  uint64_t debug_control;
  uint64_t last_branch_to_rip, last_branch_from_rip;
  uint64_t last_exception_to_rip, last_exception_from_rip;
};

struct ContextChunk {  // CONTEXT_CHUNK
  int32_t offset;
  uint32_t length;
};

struct ContextEx {  // CONTEXT_EX: follows a CONTEXT in the XState form
  ContextChunk all;
  ContextChunk legacy;
  ContextChunk xstate;
};

struct CvInfoElfHeader {  // Breakpad's MDCVInfoELF, followed by the build-id bytes
  uint32_t cv_signature;
};

// Breakpad's LinuxDsoDebug stream: MDRawDebug64, then the main program's dynamic section. Not
// packed in Breakpad: the padding is written out here so the 4-byte packing above keeps it.
struct LinkMap64 {  // MDRawLinkMap64: one entry of the dynamic linker's link_map list
  uint64_t addr;    // l_addr: the load bias
  uint32_t name;    // RVA of a MINIDUMP_STRING: l_name
  uint32_t padding;
  uint64_t ld;      // l_ld: the module's dynamic section
};

struct Debug64 {  // MDRawDebug64: the dynamic linker's r_debug
  uint32_t version;
  uint32_t map;  // RVA of dso_count LinkMap64 entries
  uint32_t dso_count;
  uint32_t padding;
  uint64_t brk;
  uint64_t ldbase;
  uint64_t dynamic;  // address of the main program's dynamic section
};

#pragma pack(pop)

static_assert(sizeof(LocationDescriptor) == 8);
static_assert(sizeof(LinkMap64) == 24 && offsetof(LinkMap64, ld) == 16);
static_assert(sizeof(Debug64) == 40 && offsetof(Debug64, brk) == 16 && offsetof(Debug64, dynamic) == 32);
static_assert(sizeof(LocationDescriptor64) == 16);
static_assert(sizeof(Header) == 32);
static_assert(sizeof(Directory) == 12);
static_assert(sizeof(MemoryDescriptor) == 16);
static_assert(sizeof(MemoryDescriptor64) == 16);
static_assert(sizeof(Memory64ListHeader) == 16);
static_assert(sizeof(Thread) == 48);
static_assert(offsetof(Thread, stack) == 24 && offsetof(Thread, thread_context) == 40);
static_assert(sizeof(ThreadEx) == 64);
static_assert(sizeof(FixedFileInfo) == 52);
static_assert(sizeof(Module) == 108);
static_assert(offsetof(Module, module_name_rva) == 20 && offsetof(Module, cv_record) == 76);
static_assert(sizeof(UnloadedModuleListHeader) == 12);
static_assert(sizeof(UnloadedModule) == 24);
static_assert(sizeof(SystemInfo) == 56);
static_assert(offsetof(SystemInfo, platform_id) == 20 && offsetof(SystemInfo, csd_version_rva) == 24);
static_assert(sizeof(Exception) == 152);
static_assert(sizeof(ExceptionStream) == 168);
static_assert(sizeof(TimeZoneInformation) == 172);
static_assert(sizeof(XStateConfigFeatureMscInfo) == 528);
static_assert(offsetof(MiscInfo5, processor_max_mhz) == 24);         // MISC_INFO is 24 bytes
static_assert(offsetof(MiscInfo5, process_integrity_level) == 44);   // MISC_INFO_2 is 44
static_assert(offsetof(MiscInfo5, build_string) == 232);             // MISC_INFO_3 is 232
static_assert(offsetof(MiscInfo5, xstate_data) == 832);              // MISC_INFO_4 is 832
static_assert(sizeof(MiscInfo5) == 1364);
static_assert(sizeof(MemoryInfoListHeader) == 16);
static_assert(sizeof(MemoryInfo) == 48);
static_assert(sizeof(ThreadInfoListHeader) == 12);
static_assert(sizeof(ThreadInfo) == 64);
static_assert(sizeof(ThreadName) == 12);
static_assert(sizeof(HandleDataStreamHeader) == 16);
static_assert(sizeof(HandleDescriptor2) == 40);
static_assert(sizeof(HandleObjectInformation) == 12);
static_assert(sizeof(TokenInfoListHeader) == 16);
static_assert(sizeof(TokenInfoHeader) == 16);
static_assert(sizeof(ContextAmd64) == 1232);
static_assert(offsetof(ContextAmd64, context_flags) == 48 && offsetof(ContextAmd64, eflags) == 68);
static_assert(offsetof(ContextAmd64, rax) == 120 && offsetof(ContextAmd64, rip) == 248);
static_assert(offsetof(ContextAmd64, flt_save) == 256 && offsetof(ContextAmd64, vector_register) == 768);
static_assert(sizeof(ContextEx) == 24);

inline constexpr uint32_t kMiscInfoSize = 24, kMiscInfo2Size = 44, kMiscInfo3Size = 232,
                          kMiscInfo4Size = 832, kMiscInfo5Size = 1364;

}  // namespace snapdump::format
