// libFuzzer target for the checkpoint loader: any bytes, read as a safetensors file and then as an
// optimizer's checkpoint, must load or be refused with std::invalid_argument -- never crash, leak,
// hang or touch memory it does not own. scripts/fuzz_loader.sh builds it (clang,
// -fsanitize=fuzzer,address,undefined) and runs it over the seed corpus in fuzz/corpus/.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "io/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace chainrule;
  try {
    SafetensorsFile f = load_buffer(data, size, "fuzz");
    for (const auto& [name, t] : f.tensors)
      if (t.dtype() == kBool)
        for (double v : t.to_vector())
          if (v != 0 && v != 1) __builtin_trap();  // a bool holding another byte is undefined behaviour
    optim::OptimizerState state = optimizer_state_from(f, "fuzz");
    (void)state;
  } catch (const std::invalid_argument&) {
    // a malformed file, refused with a message: the one allowed outcome besides loading
  }
  return 0;
}
