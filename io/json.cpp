// The strict JSON parser and the Python-compatible writers declared in io/json.h.
#include "io/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace chainrule::io {

const Json* Json::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : as_object())
    if (k == key) return &v;
  return nullptr;
}

const char* Json::python_type() const {
  static const char* names[] = {"NoneType", "bool", "int", "float", "str", "list", "dict"};
  return names[v_.index()];
}

// ---------------------------------------------------------------- parsing
namespace {

constexpr int kMaxDepth = 512;  // a deeper header is an attack on the stack, not a checkpoint

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Parser {
 public:
  Parser(std::string_view text, bool allow_constants, size_t max_items)
      : s_(text), allow_constants_(allow_constants), max_items_(max_items) {}

  Json document() {
    Json v = value(0);
    skip_space();
    if (i_ != s_.size()) fail("Extra data", i_);
    return v;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
  bool allow_constants_;
  size_t max_items_;

  [[noreturn]] void fail(const std::string& msg, size_t pos) const {
    throw JsonError(JsonError::Syntax, msg + " at position " + std::to_string(pos));
  }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool starts(std::string_view word) const { return s_.substr(i_, word.size()) == word; }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }

  Json value(int depth) {
    skip_space();
    if (depth > kMaxDepth) fail("Nesting deeper than " + std::to_string(kMaxDepth) + " levels", i_);
    char c = peek();
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') return string();
    if (c == '-' || (c >= '0' && c <= '9')) return number();
    for (auto [word, v] : {std::pair<const char*, Json>{"null", nullptr}, {"true", true}, {"false", false}}) {
      if (starts(word)) {
        i_ += std::string_view(word).size();
        return v;
      }
    }
    for (const char* word : {"NaN", "Infinity"}) {
      if (starts(word)) return constant(word, word[0] == 'N' ? NAN : INFINITY);
    }
    fail("Expecting value", i_);
  }

  Json constant(std::string_view word, double v) {
    if (!allow_constants_) throw JsonError(JsonError::Constant, std::string(word));
    i_ += word.size();
    return v;
  }

  // A repeated key is found once the object is read: a set of the keys as they come would cost
  // more memory than the object itself (a hostile header has millions of them).
  static void refuse_duplicates(const Json::Object& members) {
    std::vector<const std::string*> keys;
    for (const auto& kv : members) keys.push_back(&kv.first);
    std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
    auto twice = std::adjacent_find(keys.begin(), keys.end(),
                                    [](const std::string* a, const std::string* b) { return *a == *b; });
    if (twice != keys.end()) throw JsonError(JsonError::DuplicateKey, **twice);
  }

  Json object(int depth) {
    ++i_;  // '{'
    Json::Object members;
    skip_space();
    if (peek() == '}') {
      ++i_;
      return members;
    }
    while (true) {
      skip_space();
      if (peek() != '"') fail("Expecting property name enclosed in double quotes", i_);
      std::string key = string().as_string();
      skip_space();
      if (peek() != ':') fail("Expecting ':' delimiter", i_);
      ++i_;
      members.emplace_back(std::move(key), value(depth + 1));
      skip_space();
      if (peek() == '}') break;
      if (peek() != ',') fail("Expecting ',' delimiter", i_);
      ++i_;
    }
    ++i_;
    refuse_duplicates(members);
    return members;
  }

  Json array(int depth) {
    ++i_;  // '['
    Json::Array items;
    skip_space();
    if (peek() == ']') {
      ++i_;
      return items;
    }
    while (true) {
      if (items.size() == max_items_)
        throw JsonError(JsonError::TooLong, "a list of more than " + std::to_string(max_items_) + " items");
      items.push_back(value(depth + 1));
      skip_space();
      if (peek() == ']') break;
      if (peek() != ',') fail("Expecting ',' delimiter", i_);
      ++i_;
    }
    ++i_;
    return items;
  }

  uint32_t hex4(size_t at) const {
    uint32_t cp = 0;
    auto r = at + 4 <= s_.size() ? std::from_chars(s_.data() + at, s_.data() + at + 4, cp, 16)
                                 : std::from_chars_result{nullptr, std::errc::invalid_argument};
    if (r.ec != std::errc() || r.ptr != s_.data() + at + 4) fail("Invalid \\uXXXX escape", at - 2);
    return cp;
  }

  // \uXXXX (i_ at the backslash), or a surrogate pair \uD83D\uDE00; a lone surrogate is no character.
  uint32_t unicode_escape() {
    const size_t start = i_;
    uint32_t cp = hex4(i_ + 2);
    i_ += 6;
    if (cp >= 0xD800 && cp < 0xDC00 && starts("\\u")) {
      uint32_t lo = hex4(i_ + 2);
      if (lo >= 0xDC00 && lo < 0xE000) {
        i_ += 6;
        return 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      }
    }
    if (cp >= 0xD800 && cp < 0xE000) fail("Invalid \\uXXXX escape (lone surrogate)", start);
    return cp;
  }

  Json string() {
    const size_t start = i_++;
    std::string out;
    while (true) {
      if (i_ >= s_.size()) fail("Unterminated string starting", start);
      char c = s_[i_];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20) fail("Invalid control character", i_);
      if (c != '\\') {
        out += c;
        ++i_;
        continue;
      }
      char e = i_ + 1 < s_.size() ? s_[i_ + 1] : '\0';
      static const std::string_view from = "\"\\/bfnrt", to = "\"\\/\b\f\n\r\t";
      if (e == 'u') {
        append_utf8(out, unicode_escape());
      } else if (e != '\0' && from.find(e) != std::string_view::npos) {
        out += to[from.find(e)];
        i_ += 2;
      } else {
        fail("Invalid \\escape", i_);
      }
    }
    ++i_;
    return out;
  }

  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?  -- an int unless it has a fraction or exponent.
  Json number() {
    const size_t start = i_;
    if (starts("-Infinity")) return constant("-Infinity", -INFINITY);
    if (peek() == '-') ++i_;
    auto digits = [&] {
      size_t from = i_;
      while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
      return i_ - from;
    };
    if (peek() == '0') ++i_;
    else if (digits() == 0) fail("Expecting value", start);
    bool integral = true;
    if (peek() == '.' && i_ + 1 < s_.size() && s_[i_ + 1] >= '0' && s_[i_ + 1] <= '9') {
      ++i_;
      digits();
      integral = false;
    }
    if (peek() == 'e' || peek() == 'E') {
      size_t save = i_++;
      if (peek() == '+' || peek() == '-') ++i_;
      if (digits() == 0) i_ = save;  // "1e" is the number 1 followed by junk, as in Python
      else integral = false;
    }
    const char *first = s_.data() + start, *last = s_.data() + i_;
    if (integral) {
      int64_t v = 0;
      if (std::from_chars(first, last, v).ec == std::errc()) return v;
    }
    double d = 0;
    std::from_chars(first, last, d);  // out of range gives +-inf or 0, like Python's float()
    return d;
  }
};

// ---------------------------------------------------------------- writing
void dump_string(std::string& out, const std::string& s, bool ascii) {
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    const char* short_escape = c == '"'    ? "\\\""
                               : c == '\\' ? "\\\\"
                               : c == '\n' ? "\\n"
                               : c == '\r' ? "\\r"
                               : c == '\t' ? "\\t"
                               : c == '\b' ? "\\b"
                               : c == '\f' ? "\\f"
                                           : nullptr;
    char buf[16];
    if (short_escape) {
      out += short_escape;
    } else if (c < 0x20 || (ascii && c == 0x7F)) {
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else if (ascii && c >= 0x80) {  // decode one UTF-8 sequence, write it as \uXXXX (pairs above BMP)
      int len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      uint32_t cp = c & (0x3F >> (len - 1));
      for (int k = 1; k < len && i + 1 < s.size(); ++k)
        cp = (cp << 6) | (static_cast<unsigned char>(s[++i]) & 0x3F);
      if (cp >= 0x10000) {
        cp -= 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", cp);
      }
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void dump(std::string& out, const Json& v, bool ascii) {
  if (v.is_null()) out += "null";
  else if (v.is_bool()) out += v.as_bool() ? "true" : "false";
  else if (v.is_int()) out += std::to_string(v.as_int());
  else if (v.is_double()) {
    double d = v.as_number();
    out += std::isnan(d) ? "NaN" : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity") : python_float_repr(d);
  } else if (v.is_string()) {
    dump_string(out, v.as_string(), ascii);
  } else if (v.is_array()) {
    out += '[';
    for (size_t k = 0; k < v.as_array().size(); ++k) {
      if (k) out += ',';
      dump(out, v.as_array()[k], ascii);
    }
    out += ']';
  } else {
    out += '{';
    bool first = true;
    for (const auto& [key, value] : v.as_object()) {
      if (!first) out += ',';
      first = false;
      dump_string(out, key, ascii);
      out += ':';
      dump(out, value, ascii);
    }
    out += '}';
  }
}

std::string repr_string(const std::string& s) {
  const char quote = s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
  std::string out(1, quote);
  for (unsigned char c : s) {
    char buf[8];
    if (c == quote || c == '\\') out += {'\\', static_cast<char>(c)};
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7F) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + quote;
}

}  // namespace

Json parse_json(std::string_view text, bool allow_constants, size_t max_items) {
  return Parser(text, allow_constants, max_items).document();
}

std::string dump_json(const Json& v, bool ascii) {
  std::string out;
  dump(out, v, ascii);
  return out;
}

std::string python_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific).ptr;
  std::string sci(buf, end);  // shortest round trip: "-1.2345e-05"
  size_t e_at = sci.find('e');
  const int exp = std::stoi(sci.substr(e_at + 1));
  if (exp < -4 || exp >= 16) return sci;  // Python's repr switches to exponent form exactly there
  std::string sign = sci[0] == '-' ? "-" : "", digits;
  for (char c : sci.substr(sign.size(), e_at - sign.size()))
    if (c != '.') digits += c;
  if (exp < 0) return sign + "0." + std::string(-exp - 1, '0') + digits;
  if (digits.size() <= static_cast<size_t>(exp) + 1)
    return sign + digits + std::string(exp + 1 - digits.size(), '0') + ".0";
  return sign + digits.substr(0, exp + 1) + "." + digits.substr(exp + 1);
}

namespace {
// Appends v's repr to out, stopping early once out is longer than limit.
void repr_into(std::string& out, const Json& v, size_t limit) {
  if (out.size() > limit) return;
  if (v.is_null()) out += "None";
  else if (v.is_bool()) out += v.as_bool() ? "True" : "False";
  else if (v.is_int()) out += std::to_string(v.as_int());
  else if (v.is_double()) out += python_float_repr(v.as_number());
  else if (v.is_string()) out += repr_string(shorten(v.as_string(), limit));
  else if (v.is_array()) {
    out += '[';
    for (size_t k = 0; k < v.as_array().size() && out.size() <= limit; ++k) {
      if (k) out += ", ";
      repr_into(out, v.as_array()[k], limit);
    }
    out += ']';
  } else {
    out += '{';
    bool first = true;
    for (const auto& [key, x] : v.as_object()) {
      if (out.size() > limit) break;
      if (!first) out += ", ";
      first = false;
      out += repr_string(shorten(key, limit)) + ": ";
      repr_into(out, x, limit);
    }
    out += '}';
  }
}
}  // namespace

std::string python_repr(const Json& v, size_t max_chars) {
  std::string out;
  repr_into(out, v, max_chars);
  return shorten(out, max_chars);
}

std::string shorten(const std::string& s, size_t max_chars) {
  if (s.size() <= max_chars) return s;
  size_t n = max_chars;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // not inside a character
  return s.substr(0, n) + "...";
}

}  // namespace chainrule::io
