// A small strict JSON value, parser and compact writer for checkpoint headers: objects keep their
// order and refuse duplicate keys, ints stay ints, doubles are written as Python's repr writes them.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace chainrule::io {

class Json {
 public:
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;  // in order, keys unique

  Json() = default;  // null
  Json(std::nullptr_t) {}
  Json(bool v) : v_(v) {}
  Json(int v) : v_(int64_t{v}) {}
  Json(int64_t v) : v_(v) {}
  Json(double v) : v_(v) {}
  Json(const char* v) : v_(std::string(v)) {}
  Json(std::string v) : v_(std::move(v)) {}
  Json(Array v) : v_(std::move(v)) {}
  Json(Object v) : v_(std::move(v)) {}

  bool is_null() const { return std::holds_alternative<std::nullptr_t>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int() const { return std::holds_alternative<int64_t>(v_); }
  bool is_double() const { return std::holds_alternative<double>(v_); }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return std::holds_alternative<std::string>(v_); }
  bool is_array() const { return std::holds_alternative<Array>(v_); }
  bool is_object() const { return std::holds_alternative<Object>(v_); }

  // Typed access: std::bad_variant_access on the wrong type (check with is_* first).
  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  double as_number() const { return is_int() ? static_cast<double>(as_int()) : std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const Array& as_array() const { return std::get<Array>(v_); }
  const Object& as_object() const { return std::get<Object>(v_); }
  Object& as_object() { return std::get<Object>(v_); }

  const Json* find(std::string_view key) const;  // an object's member, or null
  // The name Python gives the type json.loads would return: "dict", "list", "str", "int", ...
  const char* python_type() const;

 private:
  std::variant<std::nullptr_t, bool, int64_t, double, std::string, Array, Object> v_;
};

// Why a text is not (strict) JSON. `detail` is Python's json message plus the position ("Expecting
// value at position 7"), the repeated key, the constant found ("NaN"), or the list that is too long.
struct JsonError : std::invalid_argument {
  enum Reason { Syntax, DuplicateKey, Constant, TooLong };
  Reason reason;
  std::string detail;
  JsonError(Reason r, std::string d) : std::invalid_argument(d), reason(r), detail(std::move(d)) {}
};

// Parses UTF-8 text. NaN, Infinity and -Infinity are JsonError::Constant unless allow_constants
// (Python's json.dumps writes them for non-finite floats). Nesting is limited to 512 levels; a list
// of more than max_items items is JsonError::TooLong (a Json value takes 40 bytes, 20 times the
// two bytes of "0," that make one: a reader that knows its lists are short refuses early).
Json parse_json(std::string_view text, bool allow_constants = false, size_t max_items = SIZE_MAX);

// Compact JSON, as Python's json.dumps(v, separators=(",", ":"), ensure_ascii=ascii) writes it.
std::string dump_json(const Json& v, bool ascii = false);

// The value as Python's repr() prints what json.loads returns: {'a': [1, 2.0, None, True]}.
// Past max_chars the text is cut and ends in "..." (a hostile value can be megabytes long).
std::string python_repr(const Json& v, size_t max_chars = std::string::npos);

// s cut to at most max_chars bytes on a character boundary, ending in "..." if it was cut.
std::string shorten(const std::string& s, size_t max_chars);

// A double as Python's repr() writes it: shortest round trip, 0.1, 1e-08, 1e+16, 3.0, inf, nan.
std::string python_float_repr(double v);

}  // namespace chainrule::io
