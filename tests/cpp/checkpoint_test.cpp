// Checkpoints (io/): the strict JSON, the safetensors layout and every validation error, atomic
// writes (fsync and rename are interposed below to watch and break them), and save/load round
// trips of state dicts, modules and optimizers, including files written by the earlier Python cr.save.
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "io/checkpoint.h"
#include "io/json.h"
#include "nn/functional.h"
#include "nn/layers.h"
#include "tests/cpp/test_util.h"

using namespace chainrule;
using namespace chainrule::test_util;
namespace fs = std::filesystem;
using io::Json;

// ---------------------------------------------------------------- interposed fsync / rename
// The library calls these through the executable's symbols, so the tests can record the order of
// the durable steps of a save and make one of them fail.
namespace {
std::vector<std::string> g_events;
std::string g_renamed_from;
bool g_record = false, g_fail_fsync = false;
}  // namespace

extern "C" int fsync(int fd) {
  static auto real = reinterpret_cast<int (*)(int)>(dlsym(RTLD_NEXT, "fsync"));
  if (g_record) {
    struct stat st{};
    ::fstat(fd, &st);
    g_events.push_back(S_ISDIR(st.st_mode) ? "fsync dir" : "fsync file");
  }
  if (g_fail_fsync) {
    errno = EIO;
    return -1;
  }
  return real(fd);
}

extern "C" int rename(const char* from, const char* to) noexcept {
  static auto real = reinterpret_cast<int (*)(const char*, const char*)>(dlsym(RTLD_NEXT, "rename"));
  if (g_record) {
    bool beside = fs::path(from).parent_path() == fs::absolute(to).parent_path();
    g_events.push_back(std::string("rename ") + (beside ? "beside" : "elsewhere"));
    g_renamed_from = from;
  }
  return real(from, to);
}

namespace {

// A fresh empty directory per test, removed afterwards.
class Checkpoint : public ::testing::Test {
 protected:
  fs::path dir;
  void SetUp() override {
    dir = fs::temp_directory_path() / ("chainrule_ckpt_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  void TearDown() override {
    g_record = g_fail_fsync = false;
    g_events.clear();
    fs::remove_all(dir);
  }
  std::string path(const std::string& name) const { return (dir / name).string(); }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

std::string read_bytes(const std::string& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}
void write_bytes(const std::string& p, const std::string& data) {
  std::ofstream(p, std::ios::binary) << data;
}

// A safetensors file from header text and data bytes (length = the header's unless given).
std::string raw_file(const std::string& header, const std::string& data = "", int64_t length = -1) {
  uint64_t n = length < 0 ? header.size() : static_cast<uint64_t>(length);
  std::string out(8, '\0');
  for (int k = 0; k < 8; ++k) out[k] = static_cast<char>((n >> (8 * k)) & 0xFF);
  return out + header + data;
}

void expect_same(const Tensor& a, const Tensor& b) {
  ASSERT_TRUE(a.defined() && b.defined());
  EXPECT_EQ(a.dtype(), b.dtype());
  EXPECT_EQ(a.shape(), b.shape());
  EXPECT_EQ(a.to_vector(), b.to_vector());
}

void expect_same(const TensorDict& a, const TensorDict& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].first, b[i].first);
    expect_same(a[i].second, b[i].second);
  }
}

TensorDict sample_state() {
  manual_seed(0);
  return {{"layer.weight", randn({3, 4})},
          {"layer.bias", randn({4}, kFloat64)},
          {"steps", tensor({1, -2, 3}, {3}, kInt64)},
          {"mask", tensor({1, 0, 0, 1}, {2, 2}, kBool)},
          {"scalar", scalar_tensor(2.5)},
          {"empty", zeros({0, 5})}};
}

fs::path data_dir() { return fs::path(__FILE__).parent_path().parent_path() / "data"; }

}  // namespace

// ---------------------------------------------------------------- JSON
TEST(Json, ParsesAndWritesCompactlyKeepingOrderAndIntsApartFromDoubles) {
  Json v = io::parse_json(R"( {"b": [1, -2.5e3, 0.1, true, null], "a": {"x\n": "\u00e9\ud83d\ude00"}} )");
  EXPECT_EQ(io::dump_json(v),
            "{\"b\":[1,-2500.0,0.1,true,null],\"a\":{\"x\\n\":\"\xC3\xA9\xF0\x9F\x98\x80\"}}");
  EXPECT_EQ(io::dump_json(v, true), R"({"b":[1,-2500.0,0.1,true,null],"a":{"x\n":"\u00e9\ud83d\ude00"}})");
  EXPECT_TRUE(v.find("b")->as_array()[0].is_int());
  EXPECT_TRUE(v.find("b")->as_array()[1].is_double());
  EXPECT_EQ(io::python_repr(v),
            "{'b': [1, -2500.0, 0.1, True, None], 'a': {'x\\n': '\xC3\xA9\xF0\x9F\x98\x80'}}");
  EXPECT_EQ(io::python_repr(Json("it's")), "\"it's\"");
}

TEST(Json, DoublesAreWrittenAsPythonsReprWritesThem) {
  const std::pair<double, const char*> cases[] = {{0.1, "0.1"},
                                                  {1e-8, "1e-08"},
                                                  {1e16, "1e+16"},
                                                  {1e15, "1000000000000000.0"},
                                                  {0.0001, "0.0001"},
                                                  {1e-5, "1e-05"},
                                                  {-0.0, "-0.0"},
                                                  {3.0, "3.0"},
                                                  {1.0 / 3, "0.3333333333333333"},
                                                  {2.5e-300, "2.5e-300"},
                                                  {12345678901234567.0, "1.2345678901234568e+16"}};
  for (auto [v, want] : cases) EXPECT_EQ(io::python_float_repr(v), want);
  EXPECT_EQ(io::dump_json(Json::Array{INFINITY, -INFINITY}), "[Infinity,-Infinity]");
}

TEST(Json, IsStrict) {
  auto error = [](const std::string& text) { return Thrown<io::JsonError>([&] { io::parse_json(text); }); };
  EXPECT_EQ(error(R"({"a": 1, "a": 2})"), "a");  // the repeated key
  EXPECT_EQ(error("[NaN]"), "NaN");
  EXPECT_EQ(error("[-Infinity]"), "-Infinity");
  EXPECT_EQ(error(R"({"a": {)"), "Expecting property name enclosed in double quotes at position 7");
  EXPECT_EQ(error("[1,]"), "Expecting value at position 3");
  EXPECT_EQ(error("01"), "Extra data at position 1");
  EXPECT_EQ(error("\"a\tb\""), "Invalid control character at position 2");
  EXPECT_EQ(error(R"("\ud800")"), "Invalid \\uXXXX escape (lone surrogate) at position 1");
  EXPECT_TRUE(Contains(error(std::string(100000, '[')), "Nesting deeper than 512 levels"));
  EXPECT_TRUE(std::isnan(io::parse_json("NaN", true).as_number()));
  EXPECT_EQ(io::parse_json("-Infinity", true).as_number(), -INFINITY);
}

// ---------------------------------------------------------------- flat state dicts
TEST_F(Checkpoint, FlatRoundTripKeepsNamesOrderDtypesShapesAndValues) {
  TensorDict sd = sample_state();
  sd.emplace_back("transposed", Iota({2, 3}).t());  // a strided view is stored as its values
  save(sd, path("m.safetensors"));
  TensorDict back;
  load(back, path("m.safetensors"));
  expect_same(back, sd);
  EXPECT_EQ(back[4].second.dim(), 0);
  EXPECT_FALSE(back[0].second.requires_grad());
}

TEST_F(Checkpoint, FileLayoutIsSafetensors) {
  save(TensorDict{{"a", tensor({1.0, 2.0}, {2}, kFloat32)}, {"b", tensor({7}, {1}, kInt64)}}, path("f"));
  std::string bytes = read_bytes(path("f"));
  std::string header = R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}})";
  header.append((8 - (8 + header.size()) % 8) % 8, ' ');  // data 8-byte aligned
  float f[2] = {1.0f, 2.0f};
  int64_t i = 7;
  std::string data = std::string(reinterpret_cast<char*>(f), 8) + std::string(reinterpret_cast<char*>(&i), 8);
  EXPECT_EQ(bytes, raw_file(header, data));
}

TEST_F(Checkpoint, LoadedTensorsOwnTheirMemory) {
  save(TensorDict{{"x", arange(0, 6, 1, kFloat32)}}, path("own"));
  TensorDict back;
  load(back, path("own"));
  save(TensorDict{{"x", zeros({6})}}, path("own"));
  EXPECT_EQ(back[0].second.to_vector(), (std::vector<double>{0, 1, 2, 3, 4, 5}));
}

TEST_F(Checkpoint, MetadataRoundTripsInOrder) {
  save_file({{"w", ones({1})}}, path("meta"), {{"z", "last"}, {"a", "é \"quoted\"\n"}});
  SafetensorsFile f = load_file(path("meta"));
  EXPECT_EQ(f.metadata, (Metadata{{"z", "last"}, {"a", "é \"quoted\"\n"}}));
}

TEST_F(Checkpoint, RefusedSavesWriteNothing) {
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { save(TensorDict{{"__metadata__", ones({1})}}, path("x")); }),
            "save: the name '__metadata__' is reserved by the safetensors format");
  EXPECT_EQ(
      Thrown<std::invalid_argument>([&] { save(TensorDict{{"a", ones({1})}, {"a", ones({1})}}, path("x")); }),
      "save: two tensors would be stored under the name 'a'");
  EXPECT_TRUE(files().empty());
}

TEST_F(Checkpoint, IoErrorsAreSystemErrors) {
  try {
    load_file(path("missing"));
    FAIL() << "no error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_TRUE(Contains(e.what(), "load: " + path("missing")));
  }
  try {
    load_file(dir.string());
    FAIL() << "no error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), EISDIR);
    EXPECT_TRUE(StartsWith(e.what(), "load: " + dir.string()));
  }
  EXPECT_THROW(save(TensorDict{}, path("no/such/dir/x")), std::system_error);
}

// ---------------------------------------------------------------- validation: one case per message
namespace {
const std::string kGoodHeader =
    R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "I64", "shape": [1], "data_offsets": [8, 16]}})";
const std::string kGoodData(16, '\0');

struct Corrupt {
  const char* name;
  std::string bytes, message;
};

std::vector<Corrupt> corrupt_cases() {
  auto one = [](const std::string& entry, const std::string& data = "") {
    return raw_file("{\"a\": " + entry + "}", data);
  };
  auto st = [](const std::string& structure, const std::string& rest = "", const std::string& data = "") {
    Json meta = Json::Object{{"chainrule.structure", structure}};
    return raw_file("{\"__metadata__\": " + io::dump_json(meta) + rest + "}", data);
  };
  auto repeat = [](const std::string& part, int n) {
    std::string out;
    for (int k = 0; k < n; ++k) out += part;
    return out;
  };
  return {
      {"empty file", "", "file too short for a safetensors file (0 bytes; the header length alone takes 8)"},
      {"7 bytes", std::string(7, '\x01'), "file too short for a safetensors file (7 bytes"},
      {"length past the end", raw_file(kGoodHeader, kGoodData, 10000),
       "header length 10000 is larger than the file (" + std::to_string(kGoodHeader.size() + 16) +
           " bytes after the length): truncated or not a safetensors file"},
      {"huge length", std::string(8, '\xff') + "{}",
       "header length 18446744073709551615 is larger than the file"},
      {"over the cap", raw_file("{}", std::string(100000002, ' '), 100000001),
       "header length 100000001 exceeds the limit of 100000000 bytes"},
      {"not UTF-8", raw_file("{\"\xff\xfe\": 1}"),
       "header is not valid UTF-8 (invalid start byte at byte 2)"},
      {"truncated UTF-8", raw_file("{\"\xc3"),
       "header is not valid UTF-8 (unexpected end of data at byte 2)"},
      {"surrogate in UTF-8", raw_file("\"\xed\xa0\x80\""),
       "header is not valid UTF-8 (invalid continuation byte"},
      {"invalid JSON", raw_file("{\"a\": {"), "header is not valid JSON (Expecting property name"},
      {"NaN", raw_file("{\"a\": NaN}"), "header is not valid JSON (it contains NaN)"},
      {"not an object", raw_file("[1, 2]"), "header is not a JSON object (got a JSON list)"},
      {"deep list", raw_file(std::string(100000, '[') + std::string(100000, ']')),
       "header is not valid JSON (Nesting deeper than 512 levels"},
      {"huge dim",
       one(R"({"dtype": "F32", "shape": [)" + std::string(400, '9') + R"(], "data_offsets": [0, 4]})"),
       "shape of 'a' must be a list of non-negative ints, got ["},
      {"many dims",
       one(R"({"dtype": "F32", "shape": [1)" + repeat(",1", 64) + R"(], "data_offsets": [0, 4]})"),
       "header has a list of more than 64 items (a shape has at most 64 dimensions, data_offsets 2)"},
      {"duplicate key", raw_file("{\"a\": 1, \"a\": 2}"), "header has the key 'a' twice"},
      {"nested duplicate", raw_file("{\"a\": {\"dtype\": 1, \"dtype\": 2}}"),
       "header has the key 'dtype' twice"},
      {"entry not an object", one("[1]"), "entry for 'a' is not an object"},
      {"missing fields", one(R"({"dtype": "F32"})"), "entry for 'a' lacks data_offsets, shape"},
      {"unknown fields", one(R"({"dtype": "F32", "shape": [0], "data_offsets": [0, 0], "z": 1, "y": 2})"),
       "entry for 'a' has unknown fields y, z"},
      {"unknown dtype", one(R"({"dtype": "Q8", "shape": [0], "data_offsets": [0, 0]})"),
       "unknown dtype 'Q8' for 'a' (chainrule reads F32, F64, I64, BOOL)"},
      {"dtype not a string", one(R"({"dtype": 4, "shape": [0], "data_offsets": [0, 0]})"),
       "unknown dtype 4 for 'a'"},
      {"negative dim", one(R"({"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]})", kGoodData.substr(8)),
       "shape of 'a' must be a list of non-negative ints, got [-2]"},
      {"float dim", one(R"({"dtype": "F32", "shape": [2.0], "data_offsets": [0, 8]})", kGoodData.substr(8)),
       "shape of 'a' must be a list of non-negative ints, got [2.0]"},
      {"bool dim", one(R"({"dtype": "F32", "shape": [true], "data_offsets": [0, 4]})"), "got [True]"},
      {"bad offsets", one(R"({"dtype": "F32", "shape": [2], "data_offsets": [0]})"),
       "data_offsets of 'a' must be [begin, end] with non-negative ints, got [0]"},
      {"reversed offsets",
       one(R"({"dtype": "F32", "shape": [2], "data_offsets": [8, 0]})", kGoodData.substr(8)),
       "data_offsets [8, 0] of 'a' are out of order (begin > end)"},
      {"past the end", raw_file(kGoodHeader, kGoodData.substr(4)),
       "data_offsets [8, 16] of 'b' run past the end of the data (12 bytes): the file is truncated"},
      {"shape vs bytes",
       one(R"({"dtype": "F32", "shape": [3], "data_offsets": [0, 8]})", kGoodData.substr(8)),
       "'a' has shape (3,) of F32 (12 bytes) but data_offsets [0, 8] span 8 bytes"},
      {"overflowing shape",
       one(R"({"dtype": "F64", "shape": [4294967296, 4294967296, 2], "data_offsets": [0, 8]})",
           kGoodData.substr(8)),
       "'a' has shape (4294967296, 4294967296, 2) of F64 (more than 2^64 bytes) but data_offsets [0, 8] span "
       "8 bytes"},
      {"overlap",
       raw_file(
           R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})",
           std::string(12, '\0')),
       "the data of 'b' [4, 12] overlaps that of 'a'"},
      {"gap",
       raw_file(
           R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "I64", "shape": [1], "data_offsets": [12, 20]}})",
           std::string(20, '\0')),
       "gap of 4 bytes before the data of 'b' [12, 20]"},
      {"unused tail", raw_file(kGoodHeader, kGoodData + "junk"),
       "4 bytes after the last tensor belong to no tensor"},
      {"metadata not str->str", raw_file(R"({"__metadata__": {"k": 1}})"),
       "__metadata__ must be an object mapping strings to strings"},
      {"bool bytes",
       raw_file(R"({"m": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}})", "\x01\x02"),
       "BOOL tensor 'm' holds bytes other than 0 and 1"},
      // the optimizer's structure, read by load(OptimizerState&)
      {"structure not JSON", st("{"), "__metadata__['chainrule.structure'] is not valid JSON"},
      {"structure version", st(R"({"version": 9, "root": {}})"), "is not a version-1 chainrule structure"},
      {"structure missing tensor",
       st(R"({"version": 1, "root": {"dict": [["state", {"dict": [[0, {"dict": [["step", {"tensor": "w"}]]}]]}], ["param_groups", []]]}})"),
       "the structure refers to a tensor 'w' that the file does not hold"},
      {"structure not an optimizer's", st(R"({"version": 1, "root": {"dict": [["epoch", 3]]}})"),
       "expected an optimizer's state dict in __metadata__['chainrule.structure'], got no 'state'"},
  };
}
}  // namespace

TEST_F(Checkpoint, EveryMalformedFileIsAClearInvalidArgument) {
  for (const Corrupt& c : corrupt_cases()) {
    SCOPED_TRACE(c.name);
    write_bytes(path("bad"), c.bytes);
    std::string msg = Thrown<std::invalid_argument>([&] {
      optim::OptimizerState s;
      c.message.find("structure") != std::string::npos || c.message.find("optimizer") != std::string::npos
          ? load(s, path("bad"))
          : (void)load_file(path("bad"));
    });
    EXPECT_TRUE(StartsWith(msg, "load: " + path("bad") + ": "));
    EXPECT_TRUE(Contains(msg, c.message));
  }
}

TEST_F(Checkpoint, ValidFilesTheSafetensorsPackageWrites) {
  write_bytes(path("ok"), raw_file(kGoodHeader, kGoodData));
  EXPECT_EQ(load_file(path("ok")).tensors.size(), 2u);
  // key order in the header doesn't matter; empty tensors may share an offset
  write_bytes(path("swapped"), raw_file(R"({"b": {"dtype": "I64", "shape": [1], "data_offsets": [8, 16]},
      "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "e": {"dtype": "F64", "shape": [0, 3], "data_offsets": [0, 0]}})",
                                        kGoodData));
  TensorDict t = load_file(path("swapped")).tensors;
  EXPECT_EQ(t[0].first, "b");
  EXPECT_EQ(t[2].second.shape(), (Shape{0, 3}));
}

TEST_F(Checkpoint, EveryTruncationOfARealFileIsRefused) {
  save(sample_state(), path("full"));
  const std::string bytes = read_bytes(path("full"));
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    write_bytes(path("cut"), bytes.substr(0, cut));
    EXPECT_THROW(load_file(path("cut")), std::invalid_argument) << cut;
  }
}

// ---------------------------------------------------------------- atomic writes
TEST_F(Checkpoint, SaveFsyncsTheTempFileRenamesItBesideTheTargetThenFsyncsTheDirectory) {
  g_record = true;
  save(TensorDict{{"w", ones({2})}}, path("a.safetensors"));
  g_record = false;
  EXPECT_EQ(g_events, (std::vector<std::string>{"fsync file", "rename beside", "fsync dir"}));
  EXPECT_EQ(files(), std::vector<std::string>{"a.safetensors"});
}

TEST_F(Checkpoint, AFailedFsyncKeepsTheOldFileAndLeavesNoTempFile) {
  save(TensorDict{{"w", ones({1000})}}, path("ckpt"));
  const std::string before = read_bytes(path("ckpt"));
  g_fail_fsync = true;
  EXPECT_THROW(save(TensorDict{{"w", zeros({1000})}}, path("ckpt")), std::system_error);
  g_fail_fsync = false;
  EXPECT_EQ(read_bytes(path("ckpt")), before);
  EXPECT_EQ(files(), std::vector<std::string>{"ckpt"});
}

TEST_F(Checkpoint, AWriteThatRunsOutOfSpaceKeepsTheOldFileAndLeavesNoTempFile) {
  save(TensorDict{{"w", ones({100})}}, path("ckpt"));
  const std::string before = read_bytes(path("ckpt"));
  rlimit old{};
  ::getrlimit(RLIMIT_FSIZE, &old);
  rlimit small = old;
  small.rlim_cur = 4096;  // a disk that fills up after 4 KiB
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  ::setrlimit(RLIMIT_FSIZE, &small);
  std::string msg =
      Thrown<std::system_error>([&] { save(TensorDict{{"w", zeros({100000})}}, path("ckpt")); });
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_TRUE(StartsWith(msg, "save: " + path("ckpt")));
  EXPECT_EQ(read_bytes(path("ckpt")), before);
  EXPECT_EQ(files(), std::vector<std::string>{"ckpt"});
}

TEST_F(Checkpoint, SavedFilesHaveOrdinaryPermissions) {
  save(TensorDict{{"w", ones({1})}}, path("perm"));
  mode_t umask = ::umask(0);
  ::umask(umask);
  EXPECT_EQ(fs::status(path("perm")).permissions(), static_cast<fs::perms>(0666 & ~umask));
}

// ---------------------------------------------------------------- modules
namespace {
std::shared_ptr<nn::Sequential> mlp() {
  return std::make_shared<nn::Sequential>(std::vector<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(3, 4), std::make_shared<nn::Tanh>(), std::make_shared<nn::Linear>(4, 2)});
}
}  // namespace

TEST_F(Checkpoint, ModuleRoundTrip) {
  manual_seed(1);
  auto a = mlp();
  manual_seed(2);
  auto b = mlp();
  save(*a, path("model.safetensors"));
  load(*b, path("model.safetensors"));
  expect_same(b->state_dict(), a->state_dict());
  // flat, under the module's own names (what torch's load_state_dict expects)
  EXPECT_EQ(load_file(path("model.safetensors")).tensors[0].first, "0.weight");
  EXPECT_TRUE(load_file(path("model.safetensors")).metadata.empty());
}

TEST_F(Checkpoint, ModuleLoadChecksNamesAndShapes) {
  save(TensorDict{{"weight", zeros({2, 2})}}, path("wrong"));
  nn::Linear lin(3, 2);
  EXPECT_THROW(load(lin, path("wrong")), std::exception);
}

// ---------------------------------------------------------------- optimizers
namespace {
// Adam (amsgrad, non-default betas) after three steps on two param groups.
std::unique_ptr<optim::Adam> trained_adam(nn::Module& model) {
  auto params = model.parameters();
  std::vector<optim::ParamGroup> groups(2);
  groups[0].params = {params[0], params[1]};
  groups[1].params = {params[2], params[3]};
  groups[1].options.set("lr", 0.01);
  auto opt =
      std::make_unique<optim::Adam>(groups, optim::AdamOptions(0.003).betas({0.8, 0.99}).amsgrad(true));
  Tensor x = linspace(-1.0, 1.0, 15).reshape({5, 3});
  for (int i = 0; i < 3; ++i) {
    opt->zero_grad();
    mean(pow(model(x), 2)).backward();
    opt->step();
  }
  return opt;
}

void expect_same(const optim::OptimizerState& a, const optim::OptimizerState& b) {
  ASSERT_EQ(a.state.size(), b.state.size());
  for (const auto& [i, st] : a.state) expect_same(st.entries(), b.state.at(i).entries());
  ASSERT_EQ(a.param_groups.size(), b.param_groups.size());
  for (size_t g = 0; g < a.param_groups.size(); ++g) {
    EXPECT_EQ(a.param_groups[g].params, b.param_groups[g].params);
    const auto &x = a.param_groups[g].options.entries(), &y = b.param_groups[g].options.entries();
    ASSERT_EQ(x.size(), y.size());
    for (size_t k = 0; k < x.size(); ++k) {
      EXPECT_EQ(x[k].first, y[k].first);
      EXPECT_EQ(x[k].second.kind, y[k].second.kind);
      EXPECT_EQ(x[k].second.a, y[k].second.a);
      EXPECT_EQ(x[k].second.b, y[k].second.b);
    }
  }
}
}  // namespace

TEST_F(Checkpoint, OptimizerRoundTripRestoresStateAndHyperparameters) {
  manual_seed(3);
  auto model = mlp();
  auto opt = trained_adam(*model);
  save(*opt, path("opt.safetensors"));
  manual_seed(3);
  auto model2 = mlp();
  optim::Adam fresh(model2->parameters(), optim::AdamOptions());
  std::vector<optim::ParamGroup> groups(2);
  auto p = model2->parameters();
  groups[0].params = {p[0], p[1]};
  groups[1].params = {p[2], p[3]};
  optim::Adam opt2(groups, optim::AdamOptions());
  load(opt2, path("opt.safetensors"));
  auto want = opt->state_dict();
  want.optimizer.clear();  // the file holds no name, as PyTorch's state dicts don't
  auto got = opt2.state_dict();
  got.optimizer.clear();
  expect_same(got, want);
}

TEST_F(Checkpoint, OptimizerFileIsTheNestedStructurePythonWrites) {
  optim::OptimizerState s;
  optim::ParamState st;
  st.set("step", scalar_tensor(2.0, kFloat32));
  st.set("momentum_buffer", ones({2}));
  s.state[0] = st;
  optim::OptimizerState::Group g;
  g.options.set("lr", 0.1).set("betas", optim::Hyper::pair(0.9, 0.999)).set_flag("nesterov", true);
  g.options.set("weight_decay", 0.0);
  g.params = {0, 1};
  s.param_groups.push_back(g);
  save(s, path("opt"));
  SafetensorsFile f = load_file(path("opt"));
  EXPECT_EQ(f.tensors[0].first, "state.0.step");
  EXPECT_EQ(f.tensors[1].first, "state.0.momentum_buffer");
  ASSERT_EQ(f.metadata.size(), 1u);
  EXPECT_EQ(f.metadata[0].first, "chainrule.structure");
  EXPECT_EQ(
      f.metadata[0].second,
      R"({"version":1,"root":{"dict":[["state",{"dict":[[0,{"dict":[["step",{"tensor":"state.0.step"}],)"
      R"(["momentum_buffer",{"tensor":"state.0.momentum_buffer"}]]}]]}],["param_groups",[{"dict":[["lr",0.1],)"
      R"(["betas",{"tuple":[0.9,0.999]}],["nesterov",true],["weight_decay",0.0],["params",[0,1]]]}]]]}})");
  optim::OptimizerState back;
  load(back, path("opt"));
  expect_same(back, s);
}

TEST_F(Checkpoint, LoadsOptimizerFilesTheEarlierPythonCrSaveWrote) {
  // chainrule's Adam with a scheduler's initial_lr and a user's "name" in a group
  optim::OptimizerState adam;
  load(adam, (data_dir() / "old_adam_optimizer.safetensors").string());
  ASSERT_EQ(adam.param_groups.size(), 2u);
  EXPECT_EQ(adam.param_groups[0].params, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(adam.param_groups[0].options.number("lr"), 0.0015);
  EXPECT_EQ(adam.param_groups[0].options.number("initial_lr"), 0.003);
  EXPECT_EQ(adam.param_groups[0].options.pair("betas"), std::make_pair(0.8, 0.99));
  EXPECT_TRUE(adam.param_groups[1].options.flag("amsgrad"));
  EXPECT_FALSE(adam.param_groups[0].options.has("name"));  // a string: not a hyperparameter
  EXPECT_EQ(adam.state.at(3).get("step").item(), 3.0);
  EXPECT_EQ(adam.state.at(0).get("exp_avg").shape(), (Shape{4, 3}));
  // ... and it loads into an Adam of the same shape
  manual_seed(1);
  auto model = mlp();
  auto p = model->parameters();
  std::vector<optim::ParamGroup> groups(2);
  groups[0].params = {p[0], p[1]};
  groups[1].params = {p[2], p[3]};
  optim::Adam opt(groups, optim::AdamOptions());
  load(opt, (data_dir() / "old_adam_optimizer.safetensors").string());
  EXPECT_EQ(opt.param_groups()[1].options.number("lr"), 0.005);
  load(*model, (data_dir() / "old_adam_model.safetensors").string());

  // torch's SGD state: "foreach": None and "fused": None are skipped, flags and numbers kept
  optim::OptimizerState sgd;
  load(sgd, (data_dir() / "old_torch_sgd_optimizer.safetensors").string());
  EXPECT_FALSE(sgd.param_groups[0].options.has("foreach"));
  EXPECT_EQ(sgd.param_groups[0].options.number("dampening"), 0.0);  // an int in the file
  EXPECT_TRUE(sgd.param_groups[0].options.flag("nesterov"));
  Tensor w = zeros({3, 2}).set_requires_grad(), b = zeros({2}).set_requires_grad();
  optim::SGD torch_sgd({w, b}, optim::SGDOptions().momentum(0.5));
  load(torch_sgd, (data_dir() / "old_torch_sgd_optimizer.safetensors").string());
  EXPECT_EQ(torch_sgd.param_groups()[0].options.number("momentum"), 0.9);
  EXPECT_EQ(torch_sgd.param_groups()[0].options.number("weight_decay"), 1e-4);
  EXPECT_TRUE(torch_sgd.find_state(w));
}

TEST_F(Checkpoint, FlatFileIsNotAnOptimizerState) {
  save(TensorDict{{"w", ones({1})}}, path("flat"));
  optim::OptimizerState s;
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([&] { load(s, path("flat")); }),
                       "expected an optimizer's state dict (a file with "
                       "__metadata__['chainrule.structure']), got a flat state dict"));
}

// ---------------------------------------------------------------- hostile paths and files
TEST_F(Checkpoint, OnlyRegularFilesAreRead) {
  EXPECT_EQ(Thrown<std::invalid_argument>([] { load_file("/dev/zero"); }),
            "load: /dev/zero: expected a checkpoint file, got a character device");
  // A FIFO with no writer: open() alone would wait forever. The child gives up after 20 s (SIGALRM).
  ASSERT_EQ(::mkfifo(path("pipe").c_str(), 0600), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::alarm(20);
    try {
      load_file(path("pipe"));
    } catch (const std::invalid_argument& e) {
      ::_exit(std::string(e.what()) == "load: " + path("pipe") + ": expected a checkpoint file, got a FIFO"
                  ? 0
                  : 2);
    } catch (...) {
    }
    ::_exit(3);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
}

TEST_F(Checkpoint, APathWithANullByteIsRefusedNotCutShort) {
  save(TensorDict{{"w", ones({1})}}, path("a"));
  const std::string bad = path("a") + std::string(1, '\0') + "b";
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { load_file(bad); }), "load: embedded null byte"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { save(TensorDict{{"w", zeros({1})}}, bad); }),
                         "save: embedded null byte"));
  EXPECT_EQ(load_file(path("a")).tensors[0].second.to_vector(), std::vector<double>{1});
}

TEST_F(Checkpoint, LoadBufferReadsAFileHeldInMemoryAsLoadFileReadsIt) {
  save(sample_state(), path("m"));
  const std::string bytes = read_bytes(path("m"));
  SafetensorsFile f = load_buffer(bytes.data(), bytes.size(), "in memory");
  expect_same(f.tensors, load_file(path("m")).tensors);
  EXPECT_EQ(
      Thrown<std::invalid_argument>([&] { load_buffer(bytes.data(), 7, "in memory"); }),
      "load: in memory: file too short for a safetensors file (7 bytes; the header length alone takes 8)");
  for (size_t cut = 8; cut < bytes.size(); cut += 3)
    EXPECT_THROW(load_buffer(bytes.data(), cut, "cut"), std::invalid_argument) << cut;
}

TEST_F(Checkpoint, MessagesQuoteHostileValuesOnlySoFar) {
  const std::string big(1000000, 'x');
  for (const std::string& header :
       {"{\"" + big + "\": 1}",
        R"({"a": {"dtype": ")" + big + R"(", "shape": [1], "data_offsets": [0, 4]}})"}) {
    write_bytes(path("long"), raw_file(header, std::string(4, '\0')));
    std::string msg = Thrown<std::invalid_argument>([&] { load_file(path("long")); });
    EXPECT_LT(msg.size(), 1000u);
    EXPECT_TRUE(Contains(msg, "xxx..."));
  }
  EXPECT_EQ(io::shorten("\xC3\xA9\xC3\xA9", 3), "\xC3\xA9...");  // never half a character
}

namespace {
// This process's peak resident memory (VmHWM: a forked child's starts at its size when forked).
double peak_rss_mb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024;
  return -1;
}
}  // namespace

// A load holds the tensors and the header, never the file twice (measured in a child process).
TEST_F(Checkpoint, PeakMemoryOfALoadIsAboutTheFileSize) {
  // 56 MB, each tensor above the 16 MiB that freed buffers may wait in for reuse (core/tensor.cpp),
  // so the load's buffers are fresh pages the peak sees, not ones this process already touched
  save(TensorDict{{"a", zeros({8000000})}, {"b", ones({3000000}, kFloat64)}}, path("big"));
  const double file_mb = static_cast<double>(fs::file_size(path("big"))) / (1 << 20);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    double before = peak_rss_mb();
    SafetensorsFile f = load_file(path("big"));
    double mb = peak_rss_mb() - before;
    (void)!::write(fds[1], &mb, sizeof mb);
    ::_exit(0);
  }
  ::close(fds[1]);
  double mb = -1;
  ASSERT_EQ(::read(fds[0], &mb, sizeof mb), static_cast<ssize_t>(sizeof mb));
  ::close(fds[0]);
  ::waitpid(child, nullptr, 0);
  EXPECT_GT(mb, 0.9 * file_mb);        // the measurement sees the tensors ...
  EXPECT_LT(mb, 1.25 * file_mb + 16);  // ... and nothing like a second copy
}

// ---------------------------------------------------------------- leftovers of killed saves
TEST_F(Checkpoint, ASaveRemovesTheTemporariesDeadSavesOfTheSameTargetLeft) {
  pid_t dead = ::fork();
  if (dead == 0) ::_exit(0);
  ::waitpid(dead, nullptr, 0);
  pid_t alive = ::fork();
  if (alive == 0) {
    ::pause();
    ::_exit(0);
  }
  const std::string d = std::to_string(dead), a = std::to_string(alive);
  const std::vector<std::string> stale = {".ckpt.tmp." + d + ".a1b2c3d4e5f6", ".ckpt.0123456789ab.tmp"};
  std::vector<std::string> kept = {".ckpt.tmp." + a + ".0123456789ab", ".ckpt.fedcba987654.tmp",
                                   ".other.tmp." + d + ".a1b2c3d4e5f6", ".ckpt.tmp.x.abc", "ckpt.tmp"};
  const std::string live = kept[0];
  for (const auto& name : stale) write_bytes(path(name), "x");
  for (const auto& name : kept) write_bytes(path(name), "x");
  const auto two_hours_ago = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(path(stale[1]), two_hours_ago);  // no pid in the name: stale once old
  save(TensorDict{{"w", ones({3})}}, path("ckpt"));
  kept.push_back("ckpt");
  std::sort(kept.begin(), kept.end());
  EXPECT_EQ(files(), kept);
  fs::last_write_time(path(live), two_hours_ago);  // the live pid's, untouched for hours: pid reused
  save(TensorDict{{"w", ones({3})}}, path("ckpt"));
  EXPECT_FALSE(fs::exists(path(live)));
  ::kill(alive, SIGKILL);
  ::waitpid(alive, nullptr, 0);
}

TEST_F(Checkpoint, ATempFileIsNamedAfterTheTargetAndTheProcess) {
  g_record = true;  // the interposed rename records its source
  save(TensorDict{{"w", ones({2})}}, path("a.safetensors"));
  g_record = false;
  ASSERT_FALSE(g_renamed_from.empty());
  const std::string name = fs::path(g_renamed_from).filename().string();
  const std::string prefix = ".a.safetensors.tmp." + std::to_string(::getpid()) + ".";
  EXPECT_TRUE(StartsWith(name, prefix));
  EXPECT_EQ(name.size(), prefix.size() + 12);
}

// ---------------------------------------------------------------- the fuzz target's seed corpus
// Every file in fuzz/corpus/ (valid files cr.save wrote, hostile ones, and whatever the fuzzer found)
// loads, or is refused with the message its kind deserves.
TEST(LoadFuzzCorpus, EveryFileLoadsOrIsRefusedClearly) {
  const fs::path corpus = fs::path(__FILE__).parent_path().parent_path().parent_path() / "fuzz" / "corpus";
  const std::pair<const char*, const char*> expected[] = {
      {"truncated_", "load: fuzz: "},
      {"huge_header_length", "is larger than the file"},
      {"header_length_past_end", "is larger than the file"},
      {"deep_header", "Nesting deeper than 512 levels"},
      {"deep_structure", "Nesting deeper than 512 levels"},
      {"dtype_", "unknown dtype"},
      {"overlapping_offsets", "overlaps that of 'a'"},
      {"offsets_reversed", "out of order"},
      {"offsets_past_end", "run past the end of the data"},
      {"offsets_huge", "data_offsets of 'a' must be [begin, end] with non-negative ints"},
      {"gap_and_tail", "gap of 4 bytes"},
      {"shape_overflow", "more than 2^64 bytes"},
      {"shape_huge", "span 4 bytes"},
      {"shape_negative", "must be a list of non-negative ints"},
      {"shape_empty_but_huge", "too large for a tensor (its non-zero sizes multiply past 2^63)"},
      {"shape_too_many_dims", "list of more than 64 items"},
      {"bool_byte_2", "holds bytes other than 0 and 1"},
      {"not_utf8", "not valid UTF-8"},
      {"duplicate_key", "the key 'a' twice"},
      {"nan", "it contains NaN"},
      {"metadata_not_strings", "mapping strings to strings"},
      {"structure_bad_node", "got a malformed node at the root"},
      {"structure_missing_tensor", "does not hold"},
      {"structure_bad_state_key", "the state key 'x9'"},
      {"structure_params_not_list", "without a list 'params'"},
      {"crash-", "load: fuzz: "},  // the fuzzer's findings, fixed
      {"slow-", "load: fuzz: "},
      {"oom-", "load: fuzz: "},
  };
  int files = 0;
  for (const auto& entry : fs::directory_iterator(corpus)) {
    const std::string name = entry.path().filename().string(), bytes = read_bytes(entry.path().string());
    SCOPED_TRACE(name);
    ++files;
    auto load_all = [&] {
      SafetensorsFile f = load_buffer(bytes.data(), bytes.size(), "fuzz");
      if (name.find("optimizer") != std::string::npos || name.find("structure") != std::string::npos)
        optimizer_state_from(f, "fuzz");
    };
    if (name.rfind("valid_", 0) == 0) {
      EXPECT_NO_THROW(load_all());
      continue;
    }
    const char* want = nullptr;
    for (const auto& [prefix, message] : expected)
      if (name.rfind(prefix, 0) == 0) want = message;
    ASSERT_TRUE(want) << "a corpus file of no known kind";
    std::string msg = Thrown<std::invalid_argument>(load_all);
    EXPECT_TRUE(StartsWith(msg, "load: fuzz: "));
    EXPECT_TRUE(Contains(msg, want));
  }
  EXPECT_GE(files, 30);
}
