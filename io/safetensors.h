// The safetensors file format (https://huggingface.co/docs/safetensors), written atomically and read
// with strict validation; the one implementation behind C++'s chainrule::save/load and Python's cr.save/load.
//
//   8 bytes    N, the header's length (unsigned little-endian)
//   N bytes    UTF-8 JSON: {name: {"dtype": "F32"|"F64"|"I64"|"BOOL", "shape": [...],
//              "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}}
//              (padded with spaces so the data starts 8-byte aligned, as the safetensors package does)
//   the rest   every tensor's bytes, little-endian, row-major; offsets count from the data's start
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace chainrule {

// Ordered name -> tensor pairs (the type of nn::StateDict and optim::TensorDict).
using TensorDict = std::vector<std::pair<std::string, Tensor>>;
// The file's "__metadata__": ordered string -> string pairs.
using Metadata = std::vector<std::pair<std::string, std::string>>;

struct SafetensorsFile {
  TensorDict tensors;  // in the header's order; each tensor owns its memory
  Metadata metadata;
};

// Writes the tensors (any layout; their data, not their history) and the metadata to `path`:
// first to a fresh temporary file beside it, fsynced, then renamed over `path`, then the directory
// is fsynced. A failure removes the temporary file and leaves an existing `path` untouched.
// Errors: std::invalid_argument for a name used twice or "__metadata__"; std::system_error for I/O.
void save_file(const TensorDict& tensors, const std::string& path, const Metadata& metadata = {});

// Reads a safetensors file of F32/F64/I64/BOOL tensors. Every header field is checked before
// anything is allocated; a malformed file is std::invalid_argument("load: <path>: <what is wrong>"),
// and so is a path that is not a regular file (a FIFO, /dev/zero). Each tensor is read straight
// into its own memory: the peak is about the file's size. Nothing in the file is ever executed.
// I/O errors (a missing file, a directory: EISDIR) are std::system_error.
SafetensorsFile load_file(const std::string& path);

// The same, for a whole file already in memory (the fuzz target, fuzz/load_fuzzer.cpp, calls this);
// `name` stands for the path in messages.
SafetensorsFile load_buffer(const void* data, size_t size, const std::string& name);

// Throws std::invalid_argument("load: <path>: <msg>"), the form of every malformed-file error.
[[noreturn]] void throw_bad_file(const std::string& path, const std::string& msg);

}  // namespace chainrule
