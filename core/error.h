// Error reporting for user mistakes: CR_CHECK builds a Python-style message and throws the
// exception class that the bindings map to ValueError / IndexError / RuntimeError.
#pragma once
#include <cstdint>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace chainrule {

using Shape = std::vector<int64_t>;

// "(3, 4)", "(5,)", "()" — shapes print like Python tuples so messages read the same in C++ and Python.
std::string shape_str(const Shape& s);

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest> void append(std::ostringstream& os, const T& v, const Rest&... rest);
template <class... Rest> void append(std::ostringstream& os, const Shape& s, const Rest&... rest) {
  os << shape_str(s);
  append(os, rest...);
}
template <class T, class... Rest> void append(std::ostringstream& os, const T& v, const Rest&... rest) {
  os << v;
  append(os, rest...);
}
template <class... Args> std::string concat(const Args&... args) {
  std::ostringstream os;
  append(os, args...);
  return os.str();
}
}  // namespace detail

// What chainrule can't do yet, though it is well defined (Python: NotImplementedError): forward mode
// through an op without a tangent rule. Never used for user mistakes.
class NotImplemented : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

// Warnings (torch's TORCH_WARN): a mistake that still gives a defined result. They go to the
// handler (the bindings install one that raises a Python UserWarning), by default to stderr.
void warn(const std::string& message);
void set_warning_handler(std::function<void(const std::string&)> handler);

}  // namespace chainrule

// CR_CHECK(cond, std::invalid_argument, "matmul: expected ..., got ", a.shape(), " @ ", b.shape());
#define CR_CHECK(cond, Exc, ...)                                      \
  do {                                                                \
    if (!(cond)) throw Exc(::chainrule::detail::concat(__VA_ARGS__)); \
  } while (0)
