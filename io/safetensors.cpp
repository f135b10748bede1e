// safetensors reading (validate the whole header, then read each tensor's bytes once) and atomic
// writing; see io/safetensors.h for the layout.
#include "io/safetensors.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <set>
#include <stdexcept>
#include <system_error>

#include "io/json.h"

namespace chainrule {

using io::Json;

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "chainrule's safetensors I/O copies tensor bytes as they are: it needs a little-endian host"
#endif

namespace {

// ---------------------------------------------------------------- the dtype table
struct DtypeInfo {
  const char* name;  // safetensors' name
  Dtype dtype;
  uint64_t size;  // bytes per element
};
constexpr DtypeInfo kDtypes[] = {
    {"F32", kFloat32, 4}, {"F64", kFloat64, 8}, {"I64", kInt64, 8}, {"BOOL", kBool, 1}};

const DtypeInfo* dtype_named(const Json& name) {
  for (const DtypeInfo& d : kDtypes)
    if (name.is_string() && name.as_string() == d.name) return &d;
  return nullptr;
}

const DtypeInfo& dtype_info(Dtype dtype) {
  for (const DtypeInfo& d : kDtypes)
    if (d.dtype == dtype) return d;
  throw std::invalid_argument(std::string("save: unsupported dtype ") + dtype_name(dtype));
}

constexpr uint64_t kMaxHeader = 100'000'000;  // as the safetensors package: larger is a corrupt length
const char* const kMetadataKey = "__metadata__";
constexpr size_t kReprChars = 200;  // a hostile value is quoted in a message only this far
constexpr size_t kMaxDims = 64;     // as the kernels (core/kernels.h); no list in a valid header is longer

// ---------------------------------------------------------------- file descriptors
[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

struct File {  // owns a file descriptor: closes it on scope exit
  int fd = -1;
  explicit File(int fd) : fd(fd) {}
  File(File&& other) noexcept : fd(other.fd) { other.fd = -1; }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File() {
    if (fd >= 0) ::close(fd);
  }
};

void write_all(int fd, const char* data, size_t n, const std::string& what) {
  while (n > 0) {
    ssize_t k = ::write(fd, data, n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) throw_errno(what);
    data += k;
    n -= static_cast<size_t>(k);
  }
}

// Reads exactly n bytes at offset; false if the file ends first.
bool read_at(int fd, char* data, uint64_t n, uint64_t offset, const std::string& what) {
  while (n > 0) {
    ssize_t k = ::pread(fd, data, n, static_cast<off_t>(offset));
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) throw_errno(what);
    if (k == 0) return false;
    data += k;
    n -= static_cast<uint64_t>(k);
    offset += static_cast<uint64_t>(k);
  }
  return true;
}

// Where a file's bytes come from: a descriptor (pread straight into each tensor, so nothing is read
// twice or held whole) or a buffer already in memory (the fuzz target's input).
struct Source {
  int fd = -1;
  const char* data = nullptr;
  uint64_t size = 0;  // the file's size

  // Reads exactly n bytes at offset into dst; false if the source ends first.
  bool read(char* dst, uint64_t n, uint64_t offset, const std::string& what) const {
    if (fd >= 0) return read_at(fd, dst, n, offset, what);
    if (offset > size || n > size - offset) return false;
    if (n) std::memcpy(dst, data + offset, n);
    return true;
  }
};

// ---------------------------------------------------------------- atomic write
struct Chunk {
  const char* data;
  size_t size;
};

// Makes a rename durable: the new directory entry is on disk once its directory is synced.
void fsync_directory(const std::string& dir) {
  File d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd >= 0) ::fsync(d.fd);  // best effort, as the rename itself already happened
}

// Temporary files are named ".<target>.tmp.<pid>.<random hex>", so a later save of the same target
// can tell its own leftovers from anything else in the directory.
std::string temp_prefix(const std::string& base) { return "." + base + ".tmp."; }

// A save killed (SIGKILL, power loss) between creating its temporary file and renaming it leaves the
// file behind; repeated kills filled disks (14 kills, 1.96 GB beside a 200 MB checkpoint). Before
// writing, a save removes the leftovers of saves of the same target: those whose process is gone,
// and those untouched for an hour (a pid reused since; a live save writes continuously). Temporaries
// of live saves are kept: removing one would make that save fail. So are the earlier
// ".<target>.<12 hex>.tmp" names, which carry no pid, until they are an hour old.
void remove_stale_temps(const std::string& dir, const std::string& base) {
  namespace fs = std::filesystem;
  const std::string prefix = temp_prefix(base), legacy = "." + base + ".";
  const auto now = fs::file_time_type::clock::now();
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    auto all = [](auto first, auto last, int (*pred)(int)) {
      return std::all_of(first, last, [pred](char c) { return pred(static_cast<unsigned char>(c)) != 0; });
    };
    bool ours = false, dead = false;
    if (name.compare(0, prefix.size(), prefix) == 0) {
      const std::string rest = name.substr(prefix.size());  // "<pid>.<hex>"
      const size_t dot = rest.find('.');
      ours = dot != std::string::npos && dot > 0 && dot < 10 &&
             all(rest.begin(), rest.begin() + dot, ::isdigit) && dot + 1 < rest.size() &&
             all(rest.begin() + dot + 1, rest.end(), ::isxdigit);
      const long pid = ours ? std::stol(rest.substr(0, dot)) : 0;
      if (ours && pid == ::getpid()) continue;  // another thread of this process may be saving
      dead = ours && pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
    } else if (name.size() == legacy.size() + 16 && name.compare(0, legacy.size(), legacy) == 0 &&
               name.compare(name.size() - 4, 4, ".tmp") == 0) {
      ours = all(name.begin() + legacy.size(), name.end() - 4, ::isxdigit);
    }
    if (!ours || !it->is_regular_file(ec)) continue;
    const auto modified = fs::last_write_time(it->path(), ec);
    const bool old = !ec && now - modified > std::chrono::hours(1);
    if (dead || old) fs::remove(it->path(), ec);  // best effort: the save itself must not fail on it
    ec.clear();
  }
}

// O_EXCL on a fresh random name beside the target, so the umask sets its permissions as open() would.
File create_temp(const std::string& dir, const std::string& base, std::string& name) {
  std::random_device rd;
  char hex[16];
  while (true) {
    std::snprintf(hex, sizeof hex, "%06x%06x", rd() & 0xFFFFFF, rd() & 0xFFFFFF);
    name =
        (std::filesystem::path(dir) / (temp_prefix(base) + std::to_string(::getpid()) + "." + hex)).string();
    File f{::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)};
    if (f.fd >= 0) return f;
    if (errno != EEXIST) throw_errno("save: " + name);
  }
}

// The chunks land in `path` all at once or not at all: temp file, fsync, rename, fsync the directory.
void write_atomically(const std::string& path, const std::vector<Chunk>& chunks) {
  std::filesystem::path target = std::filesystem::absolute(path);
  const std::string dir = target.parent_path().string(), what = "save: " + path;
  std::string tmp;
  remove_stale_temps(dir, target.filename().string());
  File f = create_temp(dir, target.filename().string(), tmp);
  try {
    for (const Chunk& c : chunks) write_all(f.fd, c.data, c.size, what);
    if (::fsync(f.fd) != 0) throw_errno(what);
    int fd = f.fd;
    f.fd = -1;
    if (::close(fd) != 0) throw_errno(what);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) throw_errno(what);
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  fsync_directory(dir);
}

// ---------------------------------------------------------------- the header
Json entry_json(const DtypeInfo& d, const Shape& shape, uint64_t begin, uint64_t end) {
  Json::Array dims(shape.begin(), shape.end());
  return Json::Object{{"dtype", d.name},
                      {"shape", std::move(dims)},
                      {"data_offsets", Json::Array{static_cast<int64_t>(begin), static_cast<int64_t>(end)}}};
}

// {"__metadata__": {...}, name: entry, ...}, compact, padded with spaces to a multiple of 8 after
// the 8-byte length.
std::string header_text(const TensorDict& tensors, const Metadata& metadata) {
  Json::Object header;
  if (!metadata.empty()) {
    Json::Object m;
    for (const auto& [k, v] : metadata) m.emplace_back(k, v);
    header.emplace_back(kMetadataKey, std::move(m));
  }
  std::set<std::string> names;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == kMetadataKey)
      throw std::invalid_argument("save: the name '__metadata__' is reserved by the safetensors format");
    if (!names.insert(name).second)
      throw std::invalid_argument("save: two tensors would be stored under the name '" + name + "'");
    if (!t.defined()) throw std::invalid_argument("save: tensor '" + name + "' is undefined");
    const DtypeInfo& d = dtype_info(t.dtype());
    uint64_t bytes = static_cast<uint64_t>(t.numel()) * d.size;
    header.emplace_back(name, entry_json(d, t.shape(), offset, offset + bytes));
    offset += bytes;
  }
  std::string text = io::dump_json(header);
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');
  return text;
}

// ---------------------------------------------------------------- validation
[[noreturn]] void bad(const std::string& path, const std::string& msg) { throw_bad_file(path, msg); }

// Python's UTF-8 decoder's verdict: "" if valid, else its reason; `at` is the offending byte.
std::string utf8_error(const std::string& s, size_t& at) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    at = i;
    unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    if (len == 0) return "invalid start byte";
    // the second byte's range excludes overlong forms, surrogates and code points past U+10FFFF
    unsigned lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80, hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
    for (int k = 1; k < len; ++k) {
      if (i + k >= s.size()) return "unexpected end of data";
      unsigned b = p[i + k];
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return "invalid continuation byte";
    }
    i += len;
  }
  return "";
}

Json parse_header(const std::string& path, const std::string& text) {
  size_t at = 0;
  std::string reason = utf8_error(text, at);
  if (!reason.empty())
    bad(path, "header is not valid UTF-8 (" + reason + " at byte " + std::to_string(at) + ")");
  try {
    Json header = io::parse_json(text, false, kMaxDims);
    if (!header.is_object())
      bad(path, std::string("header is not a JSON object (got a JSON ") + header.python_type() + ")");
    return header;
  } catch (const io::JsonError& e) {
    if (e.reason == io::JsonError::DuplicateKey)
      bad(path, "header has the key '" + io::shorten(e.detail, kReprChars) + "' twice");
    if (e.reason == io::JsonError::TooLong)
      bad(path, "header has " + e.detail + " (a shape has at most " + std::to_string(kMaxDims) +
                    " dimensions, data_offsets 2)");
    if (e.reason == io::JsonError::Constant)
      bad(path, "header is not valid JSON (it contains " + e.detail + ")");
    bad(path, "header is not valid JSON (" + e.detail + ")");
  }
}

// Removes "__metadata__" from the header and returns it, checked to map strings to strings.
Metadata take_metadata(const std::string& path, Json::Object& header) {
  auto it =
      std::find_if(header.begin(), header.end(), [](const auto& kv) { return kv.first == kMetadataKey; });
  if (it == header.end()) return {};
  Json m = std::move(it->second);
  header.erase(it);
  if (m.is_null()) return {};
  Metadata out;
  bool ok = m.is_object();
  for (const auto& [k, v] : ok ? m.as_object() : Json::Object{}) {
    ok = ok && v.is_string();
    if (ok) out.emplace_back(k, v.as_string());
  }
  if (!ok) bad(path, "__metadata__ must be an object mapping strings to strings");
  return out;
}

struct Entry {
  std::string name;
  const DtypeInfo* dtype;
  Shape shape;
  uint64_t begin, end;
};

bool is_count(const Json& v) { return v.is_int() && v.as_int() >= 0; }

// Bytes of a tensor of this shape, or false if that overflows 64 bits.
bool byte_count(const Shape& shape, uint64_t item, uint64_t& bytes) {
  bytes = item;
  if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return bytes = 0, true;
  for (int64_t d : shape)
    if (__builtin_mul_overflow(bytes, static_cast<uint64_t>(d), &bytes)) return false;
  return true;
}

// One entry's fields: exactly dtype, shape and data_offsets, each well-formed and consistent.
Entry check_entry(const std::string& path, const std::string& name, const Json& e, uint64_t size) {
  const std::string key = io::shorten(name, kReprChars);
  if (!e.is_object()) bad(path, "entry for '" + key + "' is not an object");
  std::string missing, extra;
  for (const char* field : {"data_offsets", "dtype", "shape"})  // sorted, as the messages list them
    if (!e.find(field)) missing += (missing.empty() ? "" : ", ") + std::string(field);
  std::set<std::string> unknown;
  for (const auto& [k, v] : e.as_object())
    if (k != "dtype" && k != "shape" && k != "data_offsets") unknown.insert(k);
  for (const auto& k : unknown) extra += (extra.empty() ? "" : ", ") + k;
  if (!missing.empty()) bad(path, "entry for '" + key + "' lacks " + missing);
  if (!extra.empty())
    bad(path, "entry for '" + key + "' has unknown fields " + io::shorten(extra, kReprChars));
  const Json &dtype = *e.find("dtype"), &shape = *e.find("shape"), &offsets = *e.find("data_offsets");
  const DtypeInfo* d = dtype_named(dtype);
  if (!d)
    bad(path, "unknown dtype " + io::python_repr(dtype, kReprChars) + " for '" + key +
                  "' (chainrule reads F32, F64, I64, BOOL)");
  if (!shape.is_array() || !std::all_of(shape.as_array().begin(), shape.as_array().end(), is_count))
    bad(path, "shape of '" + key + "' must be a list of non-negative ints, got " +
                  io::python_repr(shape, kReprChars));
  if (!offsets.is_array() || offsets.as_array().size() != 2 || !is_count(offsets.as_array()[0]) ||
      !is_count(offsets.as_array()[1]))
    bad(path, "data_offsets of '" + key + "' must be [begin, end] with non-negative ints, got " +
                  io::python_repr(offsets, kReprChars));
  Entry out{name,
            d,
            {},
            static_cast<uint64_t>(offsets.as_array()[0].as_int()),
            static_cast<uint64_t>(offsets.as_array()[1].as_int())};
  for (const Json& dim : shape.as_array()) out.shape.push_back(dim.as_int());
  const std::string range = io::python_repr(offsets, kReprChars);
  if (out.begin > out.end)
    bad(path, "data_offsets " + range + " of '" + key + "' are out of order (begin > end)");
  if (out.end > size)
    bad(path, "data_offsets " + range + " of '" + key + "' run past the end of the data (" +
                  std::to_string(size) + " bytes): the file is truncated");
  uint64_t need = 0;
  bool fits = byte_count(out.shape, d->size, need);
  if (!fits || out.end - out.begin != need)
    bad(path, "'" + key + "' has shape " + io::shorten(shape_str(out.shape), kReprChars) + " of " + d->name +
                  " (" + (fits ? std::to_string(need) : "more than 2^64") + " bytes) but data_offsets " +
                  range + " span " + std::to_string(out.end - out.begin) + " bytes");
  // An empty tensor still gets strides, the products of its sizes: they must fit in int64.
  int64_t strides = 1;
  for (int64_t dim : out.shape)
    if (__builtin_mul_overflow(strides, std::max<int64_t>(dim, 1), &strides))
      bad(path, "'" + key + "' has shape " + io::shorten(shape_str(out.shape), kReprChars) +
                    ", too large for a tensor (its non-zero sizes multiply past 2^63)");
  return out;
}

// The ranges tile the data exactly: no overlap, no gap, nothing unused at the end (the order of
// the keys in the header does not matter).
void check_tiling(const std::string& path, std::vector<const Entry*> order, uint64_t size) {
  std::stable_sort(order.begin(), order.end(), [](const Entry* a, const Entry* b) {
    return std::tie(a->begin, a->end) < std::tie(b->begin, b->end);
  });
  uint64_t pos = 0;
  std::string prev;
  for (const Entry* e : order) {
    std::string range = "[" + std::to_string(e->begin) + ", " + std::to_string(e->end) + "]";
    if (e->begin < pos)
      bad(path, "the data of '" + io::shorten(e->name, kReprChars) + "' " + range + " overlaps that of '" +
                    io::shorten(prev, kReprChars) + "'");
    if (e->begin > pos)
      bad(path, "gap of " + std::to_string(e->begin - pos) + " bytes before the data of '" +
                    io::shorten(e->name, kReprChars) + "' " + range);
    pos = e->end;
    prev = e->name;
  }
  if (pos != size) bad(path, std::to_string(size - pos) + " bytes after the last tensor belong to no tensor");
}

Tensor read_tensor(const std::string& path, const Source& src, const Entry& e, uint64_t data_start) {
  Tensor t = empty(e.shape, e.dtype->dtype);
  char* dst = static_cast<char*>(t.raw_data());
  if (!src.read(dst, e.end - e.begin, data_start + e.begin, "load: " + path))
    bad(path, "the file ended early (was it changed while being read?)");
  if (e.dtype->dtype == kBool &&
      std::any_of(dst, dst + (e.end - e.begin), [](char b) { return b != 0 && b != 1; }))
    bad(path, "BOOL tensor '" + io::shorten(e.name, kReprChars) + "' holds bytes other than 0 and 1");
  return t;
}

// Validates the whole header against the source's size, then reads each tensor straight into its
// own memory: the peak is the tensors plus the header, never the file twice.
SafetensorsFile load_from(const Source& src, const std::string& path) {
  const uint64_t file_size = src.size;
  if (file_size < 8)
    bad(path, "file too short for a safetensors file (" + std::to_string(file_size) +
                  " bytes; the header length alone takes 8)");
  unsigned char length[8];
  if (!src.read(reinterpret_cast<char*>(length), 8, 0, "load: " + path)) bad(path, "the file ended early");
  uint64_t n = 0;
  for (int k = 7; k >= 0; --k) n = (n << 8) | length[k];
  if (n > file_size - 8)
    bad(path, "header length " + std::to_string(n) + " is larger than the file (" +
                  std::to_string(file_size - 8) +
                  " bytes after the length): truncated or not a safetensors file");
  if (n > kMaxHeader)
    bad(path, "header length " + std::to_string(n) + " exceeds the limit of " + std::to_string(kMaxHeader) +
                  " bytes");
  std::string text(n, '\0');
  if (!src.read(text.data(), n, 8, "load: " + path)) bad(path, "the file ended early");

  Json header = parse_header(path, text);
  std::string().swap(text);
  SafetensorsFile out;
  out.metadata = take_metadata(path, header.as_object());
  const uint64_t data_start = 8 + n, size = file_size - data_start;
  std::vector<Entry> entries;
  for (const auto& [key, e] : header.as_object()) entries.push_back(check_entry(path, key, e, size));
  header = Json();
  std::vector<const Entry*> order;
  for (const Entry& e : entries) order.push_back(&e);
  check_tiling(path, order, size);
  for (const Entry& e : entries) out.tensors.emplace_back(e.name, read_tensor(path, src, e, data_start));
  return out;
}

// What a path that is not a regular file is, for the message refusing it.
const char* file_kind(mode_t mode) {
  return S_ISFIFO(mode)   ? "a FIFO"
         : S_ISCHR(mode)  ? "a character device"
         : S_ISBLK(mode)  ? "a block device"
         : S_ISSOCK(mode) ? "a socket"
                          : "something other than a regular file";
}

}  // namespace

// ---------------------------------------------------------------- the API
void throw_bad_file(const std::string& path, const std::string& msg) {
  throw std::invalid_argument("load: " + path + ": " + msg);
}

void save_file(const TensorDict& tensors, const std::string& path, const Metadata& metadata) {
  if (path.find('\0') != std::string::npos)  // the file would be written under the path's first part
    throw std::invalid_argument("save: embedded null byte in the path " + io::python_repr(path, kReprChars));
  const std::string header = header_text(tensors, metadata);  // validates before anything is written
  const uint64_t n = header.size();
  char length[8];
  for (int k = 0; k < 8; ++k) length[k] = static_cast<char>((n >> (8 * k)) & 0xFF);
  std::vector<Tensor> dense;  // keeps the contiguous copies alive while they are written
  std::vector<Chunk> chunks{{length, 8}, {header.data(), header.size()}};
  for (const auto& [name, t] : tensors) {
    dense.push_back(t.detach().contiguous());
    const Tensor& c = dense.back();
    size_t bytes = static_cast<size_t>(c.numel()) * dtype_info(c.dtype()).size;
    if (bytes) chunks.push_back({static_cast<const char*>(c.raw_data()), bytes});
  }
  write_atomically(path, chunks);
}

// Only regular files are read: a FIFO would block (open() itself waits for a writer, hence
// O_NONBLOCK) and /dev/zero would never end.
SafetensorsFile load_file(const std::string& path) {
  if (path.find('\0') != std::string::npos)  // open() would stop at it and read another file
    throw std::invalid_argument("load: embedded null byte in the path " + io::python_repr(path, kReprChars));
  File f{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  if (f.fd < 0) throw_errno("load: " + path);
  struct stat st{};
  if (::fstat(f.fd, &st) != 0) throw_errno("load: " + path);
  if (S_ISDIR(st.st_mode)) {
    errno = EISDIR;
    throw_errno("load: " + path);
  }
  if (!S_ISREG(st.st_mode))
    bad(path, std::string("expected a checkpoint file, got ") + file_kind(st.st_mode));
  return load_from(Source{f.fd, nullptr, static_cast<uint64_t>(st.st_size)}, path);
}

SafetensorsFile load_buffer(const void* data, size_t size, const std::string& name) {
  return load_from(Source{-1, static_cast<const char*>(data), size}, name);
}

}  // namespace chainrule
