#include "config/config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <system_error>
#include <unordered_set>

#include <openssl/sha.h>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include "common/encoding.hpp"
#include "common/private_path.hpp"
#include "config/tls_files.hpp"
#include "schema/embedded.hpp"
#include "schema/json_schema.hpp"
#include "schema/signal_validator.hpp"

namespace schakel::config {

namespace {

using json = nlohmann::json;
using segments = std::vector<std::string>;

// Bounds that keep a hostile or broken file from exhausting the stack or memory: configuration is
// small and shallow, so these are far above anything legitimate.
constexpr std::size_t max_text_bytes = 4 * 1024 * 1024;
constexpr int max_depth = 64;
constexpr std::size_t max_nodes = 200'000;
constexpr std::size_t max_substituted_file_bytes = 1024 * 1024;
// The issue asks for 32+ character tokens, the deployment convention accepts any secret of 24+
// bytes; refusing a 24-byte token would stop a correctly configured hub, so 24 is the floor.
constexpr std::size_t min_token_chars = 24;
constexpr std::size_t min_secret_bytes = 24;

// ---------------------------------------------------------------------------------------------
// Collecting problems: every check adds to one list so a user sees all of them in one run.

class problems {
 public:
  explicit problems(std::string origin) : origin_(std::move(origin)) {}

  void add(const std::string& path, const std::string& problem) {
    std::string line = origin_ + ": ";
    if (!path.empty()) line += path + ": ";
    line += problem;
    lines_.push_back(std::move(line));
  }
  void add_at(std::size_t line, std::size_t column, const std::string& problem) {
    lines_.push_back(origin_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + problem);
  }
  bool empty() const { return lines_.empty(); }
  [[noreturn]] void raise() const {
    std::string all;
    for (const auto& l : lines_) {
      if (!all.empty()) all += '\n';
      all += l;
    }
    throw config_error(all);
  }
  void raise_if_any() const {
    if (!empty()) raise();
  }
  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
  std::vector<std::string> lines_;
};

[[noreturn]] void fail(const std::string& origin, const std::string& path, const std::string& problem) {
  problems p(origin);
  p.add(path, problem);
  p.raise();
}

std::string path_of(const segments& segs, const json& root) {
  // Indices vs. property names are told apart by the document itself.
  std::string out;
  const json* node = &root;
  for (const auto& s : segs) {
    if (node != nullptr && node->is_array()) {
      const std::size_t index = static_cast<std::size_t>(std::stoull(s));
      out = schema::join_path(out, index);
      node = index < node->size() ? &(*node)[index] : nullptr;
    } else {
      out = schema::join_path(out, s);
      if (node != nullptr && node->is_object() && node->contains(s)) {
        node = &(*node)[s];
      } else {
        node = nullptr;
      }
    }
  }
  return out;
}

std::string in_quotes(const std::string& s) {
  return "\"" + s + "\"";
}

// Only regular files (or links to them): opening a FIFO or a device could block start-up forever.
bool regular_file(const std::string& file, std::string& why) {
  std::error_code ec;
  const auto status = std::filesystem::status(file, ec);
  if (ec) {
    why = ec == std::errc::no_such_file_or_directory ? "No such file or directory" : ec.message();
    return false;
  }
  if (std::filesystem::is_directory(status)) {
    why = "is a directory";
    return false;
  }
  if (!std::filesystem::is_regular_file(status)) {
    why = "not a regular file";
    return false;
  }
  return true;
}

/** Opens a regular file for reading; on failure `why` says why (no content is ever quoted). */
bool open_regular_file(const std::string& file, std::ifstream& in, std::string& why) {
  if (!regular_file(file, why)) return false;
  errno = 0;
  in.open(file, std::ios::binary);
  if (!in) {
    why = errno != 0 ? std::strerror(errno) : "cannot open";
    return false;
  }
  return true;
}

bool read_small_file(const std::string& file, std::size_t limit, std::string& out, std::string& why) {
  std::ifstream in;
  if (!open_regular_file(file, in, why)) return false;
  std::string data;
  char buffer[8192];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    data.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (data.size() > limit) {
      why = "larger than " + std::to_string(limit) + " bytes";
      return false;
    }
  }
  if (in.bad()) {
    why = "read error";
    return false;
  }
  out = std::move(data);
  return true;
}

enum class secret_read { ok, unreadable, exposed };

/**
 * A secret held in a file (`${file:…}`, storage.password_file): small, regular, and private to the hub's
 * user, as its key files are (exposure_of). Trailing line ends are stripped. On failure `why` says why:
 * the reason it could not be read, or the exposure with the chmod that fixes it; never the content.
 */
secret_read read_secret_file(const std::string& file, std::string& value, std::string& why) {
  if (!read_small_file(file, max_substituted_file_bytes, value, why)) return secret_read::unreadable;
  if (auto exposed = exposure_of(file)) {
    value.clear();
    why = *std::move(exposed);
    return secret_read::exposed;
  }
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return secret_read::ok;
}

bool readable_file(const std::string& file, std::string& why) {
  std::ifstream in;
  return open_regular_file(file, in, why);
}

// ---------------------------------------------------------------------------------------------
// YAML → JSON. Plain scalars get YAML 1.2 core-schema types (null, true/false, decimal integers
// and floats); quoted scalars stay strings. Deliberately narrower than YAML 1.1: `yes`, `on`, `0x1F`,
// `1_000` and numbers with leading zeros such as `0012` (a BRIN, a postcode, an account) stay strings.

bool is_decimal_integer(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  if (s.size() > 1 && s[0] == '0') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_decimal_float(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  std::size_t i = 0;
  const auto digits = [&] {
    const std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - start;
  };
  const std::size_t int_start = i;
  const std::size_t int_digits = digits();
  if (int_digits > 1 && s[int_start] == '0') return false;
  bool fraction = false;
  bool exponent = false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
    fraction = true;
  }
  if (int_digits == 0 && !fraction) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (digits() == 0) return false;
    exponent = true;
  }
  return i == s.size() && (fraction || exponent);
}

json typed_plain_scalar(const std::string& s) {
  if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  if (is_decimal_integer(s)) {
    std::int64_t v = 0;
    const char* first = s.data() + (s[0] == '+' ? 1 : 0);
    const auto [ptr, ec] = std::from_chars(first, s.data() + s.size(), v);
    if (ec == std::errc() && ptr == s.data() + s.size()) return v;
    return s;  // out of range: leave it to the schema to say what it expected
  }
  if (is_decimal_float(s)) {
    const double v = std::strtod(s.c_str(), nullptr);
    if (std::isfinite(v)) return v;
  }
  return s;
}

class yaml_converter {
 public:
  explicit yaml_converter(problems& errors) : errors_(errors) {}

  json convert(const YAML::Node& node, int depth) {
    if (++nodes_ > max_nodes) throw_limit(node, "too many nodes (aliases expanding without bound?)");
    if (depth > max_depth) throw_limit(node, "nested deeper than " + std::to_string(max_depth) + " levels");
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return nullptr;
      case YAML::NodeType::Scalar: {
        const std::string& tag = node.Tag();
        // yaml-cpp tags plain scalars "?" and quoted or block scalars "!".
        if (tag == "?" || tag.empty()) return typed_plain_scalar(node.Scalar());
        return node.Scalar();
      }
      case YAML::NodeType::Sequence: {
        json out = json::array();
        for (const auto& item : node) out.push_back(convert(item, depth + 1));
        return out;
      }
      case YAML::NodeType::Map: {
        json out = json::object();
        for (const auto& entry : node) {
          const YAML::Node& key = entry.first;
          if (!key.IsScalar()) {
            errors_.add_at(line(key), column(key), "mapping keys must be plain strings");
            continue;
          }
          const std::string& name = key.Scalar();
          if (out.contains(name)) {
            errors_.add_at(line(key), column(key), "duplicate key " + in_quotes(name));
            continue;
          }
          out[name] = convert(entry.second, depth + 1);
        }
        return out;
      }
    }
    return nullptr;
  }

 private:
  static std::size_t line(const YAML::Node& n) { return static_cast<std::size_t>(n.Mark().line + 1); }
  static std::size_t column(const YAML::Node& n) { return static_cast<std::size_t>(n.Mark().column + 1); }
  [[noreturn]] void throw_limit(const YAML::Node& node, const std::string& what) {
    problems p(errors_.origin());
    p.add_at(line(node), column(node), what);
    p.raise();
  }

  problems& errors_;
  std::size_t nodes_ = 0;
};

// yaml-cpp's messages are fixed texts, but a few append the offending character or escape
// ("unknown escape character: x"); keep only the fixed part.
std::string yaml_message(const std::string& msg) {
  const auto colon = msg.find(": ");
  return colon == std::string::npos ? msg : msg.substr(0, colon);
}

// Counts documents without building them. YAML::LoadAll is not used: on some malformed inputs
// yaml-cpp 0.7 keeps producing empty documents forever (found by fuzzing), so the count is capped.
class document_counter : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// YAML forbids C0 control characters other than tab and line breaks, and DEL; refusing them up
// front gives a precise position and keeps binary garbage away from the parser.
void check_characters(const std::string& text, const std::string& origin) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n') {
      ++line;
      column = 1;
      continue;
    }
    if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7F) {
      problems p(origin);
      p.add_at(line, column, "invalid YAML: control character");
      p.raise();
    }
    ++column;
  }
}

json parse_yaml(const std::string& text, const std::string& origin) {
  check_characters(text, origin);
  std::vector<YAML::Node> documents;
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    document_counter counter;
    int count = 0;
    while (count < 2 && parser.HandleNextDocument(counter)) ++count;
    if (count > 1) fail(origin, "", "holds more than one YAML document");
    if (count == 1) documents.push_back(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    problems p(origin);
    if (e.mark.is_null()) {
      p.add("", "invalid YAML: " + yaml_message(e.msg));
    } else {
      p.add_at(static_cast<std::size_t>(e.mark.line + 1), static_cast<std::size_t>(e.mark.column + 1),
               "invalid YAML: " + yaml_message(e.msg));
    }
    p.raise();
  }
  if (documents.empty()) fail(origin, "", "the configuration is empty");
  if (documents.size() > 1) fail(origin, "", "holds more than one YAML document");
  problems errors(origin);
  yaml_converter converter(errors);
  json out = converter.convert(documents.front(), 0);
  errors.raise_if_any();
  if (out.is_null()) fail(origin, "", "the configuration is empty");
  return out;
}

// ---------------------------------------------------------------------------------------------
// JSON, with duplicate keys refused (nlohmann would silently keep the last one).

std::pair<std::size_t, std::size_t> line_column(const std::string& text, std::size_t byte) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

json parse_json(const std::string& text, const std::string& origin) {
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  bool too_deep = false;
  const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > max_depth) too_deep = true;
    switch (event) {
      case json::parse_event_t::object_start:
        keys.emplace_back();
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && parsed.is_string() && !keys.back().insert(parsed.get<std::string>()).second &&
            duplicate.empty())
          duplicate = parsed.get<std::string>();
        break;
      default:
        break;
    }
    // Stop building anything once the document is known to be refused.
    return !too_deep;
  };
  json out;
  try {
    out = json::parse(text, check, /*allow_exceptions=*/true, /*ignore_comments=*/false);
  } catch (const json::parse_error& e) {
    // nlohmann's message quotes the text it read (possibly a secret): give the position only.
    const auto [line, column] = line_column(text, e.byte == 0 ? 0 : e.byte - 1);
    problems p(origin);
    p.add_at(line, column, "invalid JSON (syntax error)");
    p.raise();
  } catch (const json::exception&) {
    // out_of_range.406: a number too large for a double (found by fuzzing); no position is known.
    fail(origin, "", "invalid JSON (number out of range)");
  }
  if (too_deep) fail(origin, "", "nested deeper than " + std::to_string(max_depth) + " levels");
  if (!duplicate.empty()) fail(origin, "", "duplicate key " + in_quotes(duplicate));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Substitution: ${VAR}, ${VAR:-default}, ${file:/path}, and $${ for a literal ${.

bool valid_variable_name(std::string_view name) {
  if (name.empty() || !(std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

class substituter {
 public:
  substituter(problems& errors, const json& root) : errors_(errors), root_(root) {}

  /** Paths of string values that were exactly one reference: candidates for typing by the schema. */
  std::vector<segments> whole_references;

  void walk(json& node, segments& at) {
    if (node.is_string()) {
      bool whole = false;
      std::string replaced;
      if (substitute(node.get_ref<const std::string&>(), at, replaced, whole)) {
        if (whole) whole_references.push_back(at);
        node = std::move(replaced);
      }
    } else if (node.is_object()) {
      for (auto& [key, child] : node.items()) {
        at.push_back(key);
        walk(child, at);
        at.pop_back();
      }
    } else if (node.is_array()) {
      for (std::size_t i = 0; i < node.size(); ++i) {
        at.push_back(std::to_string(i));
        walk(node[i], at);
        at.pop_back();
      }
    }
  }

 private:
  // Returns true when `in` contained any `$` syntax that changed it; `whole` when `in` was exactly
  // one ${…} reference.
  bool substitute(const std::string& in, const segments& at, std::string& out, bool& whole) {
    if (in.find('$') == std::string::npos) return false;
    out.clear();
    bool changed = false;
    int references = 0;
    std::size_t i = 0;
    while (i < in.size()) {
      if (in.compare(i, 3, "$${") == 0) {
        out += "${";
        i += 3;
        changed = true;
        continue;
      }
      if (in.compare(i, 2, "${") != 0) {
        out += in[i++];
        continue;
      }
      const std::size_t close = in.find('}', i + 2);
      const std::string path = path_of(at, root_);
      if (close == std::string::npos) {
        errors_.add(path, "unterminated ${ reference");
        return false;
      }
      const std::string reference = in.substr(i + 2, close - i - 2);
      std::string value;
      if (!resolve(reference, path, value)) return false;
      out += value;
      ++references;
      changed = true;
      i = close + 1;
    }
    whole = references == 1 && in.front() == '$' && in.back() == '}' && in.compare(0, 3, "$${") != 0 &&
            in.find("${", 2) == std::string::npos;
    return changed;
  }

  bool resolve(const std::string& reference, const std::string& path, std::string& value) {
    if (reference.rfind("file:", 0) == 0) {
      const std::string file = reference.substr(5);
      if (file.empty()) {
        errors_.add(path, "${file:} reference names no file");
        return false;
      }
      std::string why;
      // ${file:…} is how tokens and webhook secrets arrive: the same rule as the hub's key files.
      switch (read_secret_file(file, value, why)) {
        case secret_read::ok:
          return true;
        case secret_read::unreadable:
          errors_.add(path, "cannot read file " + file + " named by ${file:…} (" + why + ")");
          return false;
        case secret_read::exposed:
          errors_.add(path, "secret file named by ${file:…}: " + why);
          return false;
      }
      return false;
    }
    const auto sep = reference.find(":-");
    const std::string name = reference.substr(0, sep);
    if (!valid_variable_name(name)) {
      errors_.add(path, "malformed ${…} reference (expected ${NAME}, ${NAME:-default} or ${file:/path})");
      return false;
    }
    const char* env = std::getenv(name.c_str());
    if (sep != std::string::npos) {
      // As in the shell: the default also applies when the variable is set but empty.
      value = (env != nullptr && *env != '\0') ? std::string(env) : reference.substr(sep + 2);
      return true;
    }
    if (env == nullptr) {
      errors_.add(path, "environment variable " + name + " is not set");
      return false;
    }
    value = env;
    return true;
  }

  problems& errors_;
  const json& root_;
};

// A value that was exactly one ${…} reference is text; where the schema wants an integer, a
// number or a boolean there (`port: ${SCHAKEL_PORT}`), the text is read as one.
void type_substituted_values(json& doc, const std::vector<segments>& paths, const schema::json_schema& schema) {
  for (const auto& at : paths) {
    const json* sub = schema.subschema_for(doc, at);
    if (sub == nullptr || !sub->contains("type")) continue;
    const json& type = (*sub)["type"];
    const auto wants = [&](const char* t) {
      return type.is_string() ? type == t : std::find(type.begin(), type.end(), t) != type.end();
    };
    if (wants("string")) continue;
    json* value = &doc;
    for (const auto& s : at) value = value->is_array() ? &(*value)[std::stoull(s)] : &(*value)[s];
    if (!value->is_string()) continue;
    const std::string text = value->get<std::string>();
    const json typed = typed_plain_scalar(text);
    if ((typed.is_number_integer() && (wants("integer") || wants("number"))) ||
        (typed.is_number_float() && wants("number")) || (typed.is_boolean() && wants("boolean")))
      *value = typed;
  }
}

const schema::json_schema& config_schema() {
  static const schema::json_schema instance(schema::embedded_config_schema());
  return instance;
}

std::string schema_problem(const schema::schema_error& e) {
  switch (e.kind) {
    case schema::error_kind::unknown_property:
      return "unknown key " + in_quotes(e.property);
    case schema::error_kind::missing_property:
      return "missing required key " + in_quotes(e.property);
    case schema::error_kind::invalid:
      break;
  }
  return e.reason;
}

// ---------------------------------------------------------------------------------------------
// Rules the schema cannot express.

/** Milliseconds of "500ms" / "10s" / "5m" / "24h" or an integer; the schema has checked the form. */
std::chrono::milliseconds parse_duration(const json& value) {
  if (value.is_number_integer()) return std::chrono::milliseconds(value.get<std::int64_t>());
  const std::string& s = value.get_ref<const std::string&>();
  std::int64_t n = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  (void)ec;
  const std::string_view unit(ptr, static_cast<std::size_t>(s.data() + s.size() - ptr));
  if (unit == "ms") return std::chrono::milliseconds(n);
  if (unit == "s") return std::chrono::seconds(n);
  if (unit == "m") return std::chrono::minutes(n);
  return std::chrono::hours(n);
}

bool is_loopback_host(std::string host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return std::tolower(c); });
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

struct parsed_url {
  std::string scheme;
  std::string host;
  std::string port;
};

bool parse_url(const std::string& url, parsed_url& out) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos || scheme_end == 0) return false;
  out.scheme = url.substr(0, scheme_end);
  std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  const std::size_t authority_start = scheme_end + 3;
  const std::size_t authority_end = url.find_first_of("/?#", authority_start);
  std::string authority = url.substr(
      authority_start, authority_end == std::string::npos ? std::string::npos : authority_end - authority_start);
  if (const auto at = authority.rfind('@'); at != std::string::npos) authority = authority.substr(at + 1);
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return false;
    out.host = authority.substr(0, close + 1);
    const std::string rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      out.port = rest.substr(1);
    }
  } else {
    const auto colon = authority.find(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) out.port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return false;
  if (!out.port.empty()) {
    if (out.port.size() > 5 ||
        !std::all_of(out.port.begin(), out.port.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    const int p = std::stoi(out.port);
    if (p < 1 || p > 65535) return false;
  }
  return true;
}

/** %XX decoded (libpq decodes URI parameter names); a malformed escape is kept as it is. */
std::string percent_decoded(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    unsigned v = 0;
    if (s[i] == '%' && i + 2 < s.size() &&
        std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16).ptr == s.data() + i + 3) {
      out.push_back(static_cast<char>(v));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

/**
 * What is wrong with a PostgreSQL connection URL, in words that never quote it; nullopt when nothing.
 * A password in it is refused wherever libpq would find one (user:password@, ?password=, and
 * sslpassword, the client key's passphrase): URLs are logged and shown in process lists.
 */
std::optional<std::string> postgres_url_problem(const std::string& url) {
  const auto scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? std::string() : url.substr(0, scheme_end);
  if (scheme != "postgresql" && scheme != "postgres")
    return "must be a postgresql:// URL (e.g. postgresql://schakel@db.example:5432/schakel?sslmode=verify-full)";
  const std::string_view rest = std::string_view(url).substr(scheme_end + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  const std::string refusal =
      " a password: URLs are logged, so give it in storage.password_file (or SCHAKEL_DATABASE_PASSWORD_FILE), "
      "a private file";
  if (const auto at = authority.rfind('@');
      at != std::string_view::npos && authority.substr(0, at).find(':') != std::string_view::npos)
    return "carries" + refusal;
  const auto query = rest.find('?');
  if (query == std::string_view::npos) return std::nullopt;
  std::string_view params = rest.substr(query + 1);
  while (!params.empty()) {
    const std::string_view param = params.substr(0, params.find('&'));
    params.remove_prefix(std::min(params.size(), param.size() + 1));
    const std::string key = percent_decoded(param.substr(0, param.find('=')));
    const std::string value =
        param.find('=') == std::string_view::npos ? std::string() : percent_decoded(param.substr(param.find('=') + 1));
    if (key == "password" || key == "sslpassword") return "carries" + refusal + " (parameter " + key + ")";
    if (key == "sslmode") {
      static const std::set<std::string> modes{"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
      if (modes.count(value) == 0)
        return "sslmode must be one of disable, allow, prefer, require, verify-ca, verify-full";
    }
  }
  return std::nullopt;
}

/** A webhook URL's host (no brackets) and port (defaulted from the scheme), for the destination guard. */
struct webhook_host {
  bool judged = false;  ///< https, or http to loopback: other URLs are refused for their scheme already
  std::string host;
  std::uint16_t port = 0;
};

std::optional<webhook_host> webhook_target(const std::string& url) {
  parsed_url parts;
  if (!parse_url(url, parts)) return std::nullopt;
  webhook_host out;
  out.host = parts.host;
  if (out.host.size() >= 2 && out.host.front() == '[') out.host = out.host.substr(1, out.host.size() - 2);
  std::transform(out.host.begin(), out.host.end(), out.host.begin(), [](unsigned char c) { return std::tolower(c); });
  out.judged = parts.scheme == "https" || (parts.scheme == "http" && is_loopback_host(parts.host));
  if (!parts.port.empty()) {
    out.port = static_cast<std::uint16_t>(std::stoi(parts.port));
  } else {
    out.port = parts.scheme == "http" ? 80 : 443;
  }
  return out;
}

/** Every webhook the hub posts to: each subscription's, and the audit witness's. */
struct webhook_use {
  std::string path;   ///< of its url, e.g. "subscriptions[0].delivery.webhook.url"
  std::string who;    ///< "subscription \"jgz\"" or "the audit witness"
  std::string allow;  ///< where its allowlist goes
  const webhook_delivery* hook = nullptr;
};

std::vector<webhook_use> webhook_uses(const hub_config& cfg) {
  std::vector<webhook_use> out;
  for (std::size_t i = 0; i < cfg.subscriptions.size(); ++i)
    out.push_back({schema::join_path(schema::join_path("subscriptions", i), "delivery.webhook.url"),
                   "subscription \"" + cfg.subscriptions[i].name + "\"", "delivery.webhook.allow_destinations",
                   &cfg.subscriptions[i].delivery});
  if (cfg.audit.witness)
    out.push_back({"audit.witness.url", "the audit witness", "audit.witness.allow_destinations", &*cfg.audit.witness});
  return out;
}

std::string destination_refused_message(const webhook_use& use, const std::string& address, net::refusal why) {
  std::string out = use.who + " delivers to " + address + ", " + std::string(net::describe(why));
  if (why == net::refusal::own_listener) return out + "; the hub never delivers to itself, whatever is allowlisted";
  return out + " (" + std::string(net::name(why)) + "); refused unless " + use.allow +
         " lists a block that contains it";
}

/** Standard base64 (padding optional); false on any other character. */
bool base64_decoded_size(std::string_view text, std::size_t& bytes) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return false;
  for (char c : text) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/')) return false;
  }
  bytes = text.size() / 4 * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1);
  return true;
}

/**
 * "content.evidence.<key>": one property of the evidence object. The schema leaves evidence open
 * (any small scalar map), so its keys cannot come from the schema; allowing them one by one lets a
 * subscription take the two facts it needs instead of all evidence.
 */
bool evidence_key_path(const std::string& path) {
  constexpr std::string_view prefix = "content.evidence.";
  if (path.size() <= prefix.size() || path.compare(0, prefix.size(), prefix) != 0) return false;
  return std::all_of(path.begin() + static_cast<std::ptrdiff_t>(prefix.size()), path.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

bool valid_date(const std::string& d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  int y = 0, m = 0, day = 0;
  if (std::sscanf(d.c_str(), "%4d-%2d-%2d", &y, &m, &day) != 3) return false;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  return ymd.ok();
}

bool aggregate_type(const std::string& type) {
  constexpr std::string_view prefix = "nl.schakel.trend.";
  return type.size() > prefix.size() && type.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::string default_keys_dir(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::path dir = std::filesystem::absolute(data_dir, ec).lexically_normal();
  if (ec) dir = std::filesystem::path(data_dir).lexically_normal();
  // "/var/lib/schakel/" normalises to a trailing empty name: its folder is the one to name.
  if (!dir.has_filename() && dir.has_parent_path() && dir.parent_path() != dir) dir = dir.parent_path();
  if (!dir.has_filename() || dir.parent_path() == dir) return {};
  return (dir.parent_path() / (dir.filename().string() + "-keys")).string();
}

namespace {

/**
 * The directory as the kernel will find it: absolute, `..` and symlinks of its existing part resolved,
 * without a trailing separator. A containment test on spelled paths alone misses /data/../data/keys
 * and a symlink pointing into the data directory.
 */
std::filesystem::path resolved_dir(const std::string& dir) {
  std::error_code ec;
  auto p = std::filesystem::weakly_canonical(std::filesystem::absolute(dir, ec), ec);
  if (ec) p = std::filesystem::absolute(dir, ec).lexically_normal();
  if (!p.has_filename() && p.has_parent_path() && p.parent_path() != p) p = p.parent_path();
  return p;
}

/** Whether `inner` is `outer` or lies below it, by whole path components. */
bool same_or_below(const std::filesystem::path& inner, const std::filesystem::path& outer) {
  auto i = inner.begin();
  for (auto o = outer.begin(); o != outer.end(); ++o, ++i)
    if (i == inner.end() || *i != *o) return false;
  return true;
}

}  // namespace

bool types_may_overlap(const std::string& a, const std::string& b) {
  const bool a_prefix = a.ends_with('*');
  const bool b_prefix = b.ends_with('*');
  const std::string_view pa = a_prefix ? std::string_view(a).substr(0, a.size() - 1) : std::string_view(a);
  const std::string_view pb = b_prefix ? std::string_view(b).substr(0, b.size() - 1) : std::string_view(b);
  if (!a_prefix && !b_prefix) return pa == pb;
  if (a_prefix && b_prefix) return pa.starts_with(pb) || pb.starts_with(pa);
  return a_prefix ? pb.starts_with(pa) : pa.starts_with(pb);
}

namespace {

/** `YYYY-MM-DDTHH:MM:SSZ` (or a bare date, midnight UTC); nullopt when not that. */
std::optional<std::chrono::system_clock::time_point> parse_utc_time(const std::string& s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  char tail = 0;
  if (s.size() == 10) {
    if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3) return std::nullopt;
  } else if (s.size() != 20 ||
             std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2dZ%c", &y, &mo, &d, &h, &mi, &sec, &tail) != 6 ||
             s.back() != 'Z') {
    return std::nullopt;
  }
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(mo)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  return std::chrono::sys_days{ymd} + std::chrono::hours(h) + std::chrono::minutes(mi) + std::chrono::seconds(sec);
}

/** 64 hex digits to 32 bytes; empty when not that. */
std::string digest_from_hex(const std::string& hex) {
  if (hex.size() != 2 * SHA256_DIGEST_LENGTH) return {};
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    unsigned v = 0;
    const auto [ptr, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, v, 16);
    if (ec != std::errc() || ptr != hex.data() + i + 2) return {};
    out.push_back(static_cast<char>(v));
  }
  return out;
}

std::string health_types_hint(const subscription_filter& filter) {
  if (filter.types.empty()) return "no filter.types, so every type";
  for (const auto& t : filter.types) {
    for (const auto& known : health_signal_types())
      if (types_may_overlap(t, known)) return in_quotes(t) + " may carry health data";
  }
  return "";
}

class semantic_checker {
 public:
  semantic_checker(problems& errors, const json& doc) : errors_(errors), doc_(doc) {}

  hub_config build() {
    hub_config cfg;
    cfg.source_file = errors_.origin();
    if (const auto* listen = find(doc_, "listen")) build_listener(*listen, cfg.listen);
    cfg.data_dir = doc_.at("data_dir").get<std::string>();
    cfg.node = doc_.value("node", std::string());
    build_keys_dir(cfg);
    if (const auto* a = find(doc_, "audit")) {
      cfg.audit.checkpoint_interval_seconds =
          a->value("checkpoint_interval_seconds", cfg.audit.checkpoint_interval_seconds);
      cfg.audit.checkpoint_file = a->value("checkpoint_file", std::string());
      cfg.audit.node = a->value("node", std::string());
      if (const auto* w = find(*a, "witness")) build_webhook(*w, "audit.witness", cfg.audit.witness.emplace());
    }
    cfg.plugin_dir = doc_.value("plugin_dir", std::string());
    if (const auto* token = find(doc_, "admin_token")) {
      cfg.admin_token = token->get<std::string>();
      if (cfg.admin_token.size() < min_token_chars) errors_.add("admin_token", too_short_message());
    }
    if (const auto* access = find(doc_, "access")) build_access(*access, cfg.access);
    cfg.log_level = doc_.value("log_level", std::string("info"));
    if (const auto* limits = find(doc_, "limits")) build_limits(*limits, cfg.limits);
    if (const auto* connectors = find(doc_, "connectors")) {
      for (std::size_t i = 0; i < connectors->size(); ++i)
        cfg.connectors.push_back(build_connector((*connectors)[i], schema::join_path("connectors", i)));
    }
    check_certificate_mappings(cfg);
    std::set<std::string> connector_names;
    for (std::size_t i = 0; i < cfg.connectors.size(); ++i) {
      if (!connector_names.insert(cfg.connectors[i].name).second)
        errors_.add(schema::join_path(schema::join_path("connectors", i), "name"),
                    "duplicate connector name " + in_quotes(cfg.connectors[i].name));
    }
    // A token names one source: it decides which instance a POST /v1/observations belongs to, and a
    // shared token would let one system write as another.
    for (std::size_t i = 0; i < cfg.connectors.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (!cfg.connectors[i].token.empty() && cfg.connectors[i].token == cfg.connectors[j].token)
          errors_.add(schema::join_path(schema::join_path("connectors", i), "token"),
                      "the same token as " + schema::join_path("connectors", j) + "; each instance needs its own");
    // Names beginning with "schakel" are the core's own sources (e.g. schakel-alerts for referrals).
    const auto reserved = [&](const std::string& name, const std::string& at) {
      if (name.rfind("schakel", 0) == 0)
        errors_.add(schema::join_path(at, "name"), "names beginning with \"schakel\" are reserved for the hub itself");
    };
    for (std::size_t i = 0; i < cfg.connectors.size(); ++i)
      reserved(cfg.connectors[i].name, schema::join_path("connectors", i));
    // Processors share the instance namespace: a signal's source.instance names either kind.
    std::set<std::string> instance_names = connector_names;
    if (const auto* processors = find(doc_, "processors")) {
      for (std::size_t i = 0; i < processors->size(); ++i) {
        const std::string at = schema::join_path("processors", i);
        cfg.processors.push_back(build_processor((*processors)[i], at, connector_names));
        reserved(cfg.processors.back().name, at);
        if (!instance_names.insert(cfg.processors.back().name).second)
          errors_.add(schema::join_path(at, "name"), "duplicate instance name " +
                                                         in_quotes(cfg.processors.back().name) +
                                                         " (connectors and processors share one namespace)");
      }
    }
    std::set<std::string> drop_paths;
    for (std::size_t i = 0; i < cfg.connectors.size(); ++i) {
      if (!cfg.connectors[i].drop_folder) continue;
      const auto norm = std::filesystem::path(cfg.connectors[i].drop_folder->path).lexically_normal().string();
      if (!drop_paths.insert(norm).second)
        errors_.add(schema::join_path(schema::join_path(schema::join_path("connectors", i), "drop_folder"), "path"),
                    "another connector instance already watches this folder");
    }
    if (const auto* schools = find(doc_, "schools")) cfg.schools = *schools;
    if (const auto* trends = find(doc_, "trends")) {
      try {
        cfg.trends = trends::parse_settings(*trends);
      } catch (const trends::settings_error& e) {
        const std::string what = e.what();
        const auto colon = what.find(": ");
        errors_.add(what.substr(0, colon), what.substr(colon + 2));
      }
    }
    if (const auto* privacy = find(doc_, "privacy")) build_privacy_settings(*privacy, cfg.privacy);
    build_storage(find(doc_, "storage"), cfg.storage);
    if (const auto* subscriptions = find(doc_, "subscriptions")) {
      std::set<std::string> names;
      for (std::size_t i = 0; i < subscriptions->size(); ++i) {
        const std::string at = schema::join_path("subscriptions", i);
        cfg.subscriptions.push_back(build_subscription((*subscriptions)[i], at, instance_names));
        if (!names.insert(cfg.subscriptions.back().name).second)
          errors_.add(schema::join_path(at, "name"),
                      "duplicate subscription name " + in_quotes(cfg.subscriptions.back().name));
      }
    }
    check_literal_destinations(cfg);
    check_tokens_distinct(cfg);
    return cfg;
  }

 private:
  /** Each role's token is its own: the same secret as an ingest or pull token would carry both. */
  void check_tokens_distinct(const hub_config& cfg) {
    std::vector<std::pair<std::string, std::string>> others;  // digest, where
    for (std::size_t i = 0; i < cfg.connectors.size(); ++i)
      others.emplace_back(encoding::sha256(cfg.connectors[i].token),
                          schema::join_path(schema::join_path("connectors", i), "token"));
    for (std::size_t i = 0; i < cfg.subscriptions.size(); ++i)
      if (!cfg.subscriptions[i].pull_token.empty())
        others.emplace_back(encoding::sha256(cfg.subscriptions[i].pull_token),
                            schema::join_path(schema::join_path("subscriptions", i), "pull_token"));
    if (!cfg.admin_token.empty()) others.emplace_back(encoding::sha256(cfg.admin_token), "admin_token");
    for (const auto& t : cfg.access.tokens)
      for (const auto& [digest, where] : others)
        if (digest == t.sha256) errors_.add(t.at, "the same token as " + where + "; each role needs its own token");
  }

  void build_access(const json& a, access_settings& out) {
    if (const auto* hosts = find(a, "public_hosts"))
      for (std::size_t i = 0; i < hosts->size(); ++i) {
        std::string h = (*hosts)[i].get<std::string>();
        std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
        if (h.find_first_of("/ ") != std::string::npos || h.find("://") != std::string::npos)
          errors_.add(schema::join_path(schema::join_path("access", "public_hosts"), i),
                      "a host name or host:port as clients send it in Host, without a scheme or path");
        out.public_hosts.push_back(std::move(h));
      }
    if (const auto* proxies = find(a, "trusted_proxies"))
      for (std::size_t i = 0; i < proxies->size(); ++i) {
        out.trusted_proxies.push_back((*proxies)[i].get<std::string>());
        // The same strict parser as allow_destinations and the server's list, so what loads here is what it uses.
        if (std::string why; !net::parse_cidr(out.trusted_proxies.back(), &why))
          errors_.add(schema::join_path(schema::join_path("access", "trusted_proxies"), i),
                      "must be an IP address or network in CIDR notation (e.g. 10.0.0.5/32): " + why);
      }
    out.metrics_open = a.value("metrics_open", false);
    const auto* tokens = find(a, "tokens");
    if (tokens == nullptr) return;
    std::set<std::string> names;
    for (std::size_t i = 0; i < tokens->size(); ++i) {
      const json& t = (*tokens)[i];
      const std::string at = schema::join_path(schema::join_path("access", "tokens"), i);
      access_token out_token;
      out_token.at = at;
      out_token.name = t.at("name").get<std::string>();
      if (!names.insert(out_token.name).second)
        errors_.add(schema::join_path(at, "name"), "duplicate token name " + in_quotes(out_token.name));
      for (const auto& r : t.at("roles")) out_token.roles.push_back(r.get<std::string>());
      const auto* token = find(t, "token");
      const auto* digest = find(t, "sha256");
      if ((token == nullptr) == (digest == nullptr)) {
        errors_.add(at, "give exactly one of token (the secret, e.g. ${SCHAKEL_OPS_TOKEN}) and sha256 (its digest)");
      } else if (token != nullptr) {
        const std::string secret = token->get<std::string>();
        if (secret.size() < min_token_chars) errors_.add(schema::join_path(at, "token"), too_short_message());
        out_token.sha256 = encoding::sha256(secret);  // the secret itself is not kept
      } else {
        out_token.sha256 = digest_from_hex(digest->get<std::string>());
        if (out_token.sha256.empty())
          errors_.add(schema::join_path(at, "sha256"), "must be the SHA-256 of the token as 64 hex digits");
      }
      if (const auto* expires = find(t, "expires")) {
        out_token.expires = parse_utc_time(expires->get<std::string>());
        if (!out_token.expires)
          errors_.add(schema::join_path(at, "expires"),
                      "must be a UTC time YYYY-MM-DDTHH:MM:SSZ (or a date YYYY-MM-DD)");
      }
      for (std::size_t j = 0; j < out.tokens.size(); ++j)
        if (!out_token.sha256.empty() && out.tokens[j].sha256 == out_token.sha256)
          errors_.add(at, "the same token as " + out.tokens[j].at + "; give each holder a token of their own");
      out.tokens.push_back(std::move(out_token));
    }
  }

  static const json* find(const json& object, const char* key) {
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
  }

  static std::string too_short_message() {
    return "must be at least " + std::to_string(min_token_chars) + " characters";
  }

  void check_readable(const std::string& file, const std::string& path) {
    std::string why;
    if (!readable_file(file, why)) errors_.add(path, "cannot read file " + file + " (" + why + ")");
  }

  std::chrono::milliseconds duration(const json& parent, const char* key, const std::string& at,
                                     std::chrono::milliseconds fallback, bool allow_zero = false) {
    const json* value = find(parent, key);
    if (value == nullptr) return fallback;
    const auto d = parse_duration(*value);
    if (!allow_zero && d.count() == 0) errors_.add(schema::join_path(at, key), "must be greater than 0");
    return d;
  }

  void build_listener(const json& listen, listener& out) {
    out.address = listen.value("address", out.address);
    out.port = static_cast<std::uint16_t>(listen.value("port", static_cast<int>(out.port)));
    if (const auto* tls = find(listen, "tls")) {
      tls_settings t;
      t.cert_file = tls->at("cert_file").get<std::string>();
      t.key_file = tls->at("key_file").get<std::string>();
      t.client_ca_file = tls->value("client_ca_file", std::string());
      t.crl_file = tls->value("crl_file", std::string());
      check_readable(t.cert_file, "listen.tls.cert_file");
      check_readable(t.key_file, "listen.tls.key_file");
      build_client_certificates(*tls, t);
      out.tls = std::move(t);
    } else if (!is_loopback_host(out.address)) {
      errors_.add("listen.address", "listening on a non-loopback address requires listen.tls");
    }
  }

  /**
   * Mutual TLS on the listener: a CA file turns it on (required unless said otherwise, as before
   * the mode existed); a mode or a revocation list without the CA is a mistake, not a no-op.
   */
  void build_client_certificates(const json& tls, tls_settings& t) {
    const std::string mode = tls.value("client_certificates", std::string());
    if (t.client_ca_file.empty()) {
      if (!mode.empty() && mode != "off")
        errors_.add("listen.tls.client_certificates",
                    "needs listen.tls.client_ca_file, the CA that signs the clients' certificates");
      if (!t.crl_file.empty())
        errors_.add("listen.tls.crl_file", "needs listen.tls.client_ca_file, the CA whose revocations it lists");
      return;
    }
    t.client_certificates = mode == "off"        ? client_certificate_mode::off
                            : mode == "optional" ? client_certificate_mode::optional
                                                 : client_certificate_mode::required;
    std::string why;
    if (!readable_file(t.client_ca_file, why)) {
      errors_.add("listen.tls.client_ca_file", "cannot read file " + t.client_ca_file + " (" + why + ")");
      return;
    }
    if (auto problem = certificate_file_problem(t.client_ca_file)) {
      errors_.add("listen.tls.client_ca_file", *problem);
      return;
    }
    if (t.crl_file.empty()) return;
    if (!readable_file(t.crl_file, why))
      errors_.add("listen.tls.crl_file", "cannot read file " + t.crl_file + " (" + why + ")");
    else if (auto problem = crl_file_problem(t.crl_file, t.client_ca_file))
      errors_.add("listen.tls.crl_file", *problem);
  }

  /** connectors[].client_certificate: exactly one of subject, san_dns, san_uri. */
  std::optional<certificate_match> build_certificate_match(const json& c, const std::string& at) {
    std::vector<certificate_match> given;
    if (const auto* subject = find(c, "subject")) {
      if (auto canonical = canonical_subject(subject->get<std::string>()))
        given.push_back({certificate_match::field::subject, *canonical});
      else
        errors_.add(schema::join_path(at, "subject"),
                    "is not a distinguished name in RFC 2253 form (e.g. \"CN=somtoday-export,O=School\")");
    }
    if (const auto* dns = find(c, "san_dns")) {
      std::string name = dns->get<std::string>();
      // DNS names compare without regard to case; the peer's are lower-cased the same way.
      for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      given.push_back({certificate_match::field::san_dns, name});
    }
    if (const auto* uri = find(c, "san_uri"))
      given.push_back({certificate_match::field::san_uri, uri->get<std::string>()});
    if (given.size() != 1) {
      if (given.size() > 1 || c.empty()) errors_.add(at, "give exactly one of subject, san_dns, san_uri");
      return std::nullopt;
    }
    return given.front();
  }

  /** A certificate speaks for one instance only, and only where the listener asks for certificates. */
  void check_certificate_mappings(const hub_config& cfg) {
    const bool asked = cfg.listen.tls && cfg.listen.tls->client_certificates != client_certificate_mode::off;
    for (std::size_t i = 0; i < cfg.connectors.size(); ++i) {
      const auto& match = cfg.connectors[i].client_certificate;
      if (!match) continue;
      const std::string at = schema::join_path(schema::join_path("connectors", i), "client_certificate");
      if (!asked)
        errors_.add(at,
                    "the listener asks for no client certificate: set listen.tls.client_ca_file (and "
                    "client_certificates optional or required)");
      for (std::size_t j = 0; j < i; ++j)
        if (cfg.connectors[j].client_certificate == match)
          errors_.add(at, "the same certificate as " + schema::join_path("connectors", j) +
                              "; a certificate must speak for one instance only");
    }
  }

  void build_limits(const json& limits_json, limit_settings& out) {
    out.max_body_bytes = limits_json.value("max_body_bytes", out.max_body_bytes);
    out.max_header_bytes = limits_json.value("max_header_bytes", out.max_header_bytes);
    out.read_timeout = duration(limits_json, "read_timeout", "limits", out.read_timeout);
    out.max_connections = limits_json.value("max_connections", out.max_connections);
    out.max_connections_per_address = limits_json.value("max_connections_per_address", out.max_connections_per_address);
    out.max_outbox_depth = limits_json.value("max_outbox_depth", out.max_outbox_depth);
  }

  connector_instance build_connector(const json& c, const std::string& at) {
    connector_instance out;
    out.name = c.at("name").get<std::string>();
    out.plugin = c.at("plugin").get<std::string>();
    out.token = c.value("token", std::string());
    if (const auto* cert = find(c, "client_certificate"))
      out.client_certificate = build_certificate_match(*cert, schema::join_path(at, "client_certificate"));
    if (find(c, "token") != nullptr) {
      if (out.token.size() < min_token_chars) errors_.add(schema::join_path(at, "token"), too_short_message());
    } else if (find(c, "client_certificate") == nullptr) {
      errors_.add(at, "needs a token, a client_certificate, or both: something must authenticate its source");
    }
    if (const auto* settings = find(c, "settings")) out.settings = *settings;
    if (const auto* drop = find(c, "drop_folder")) {
      const std::string dat = schema::join_path(at, "drop_folder");
      drop_folder_settings d;
      d.path = drop->at("path").get<std::string>();
      d.poll_interval = duration(*drop, "poll_interval", dat, d.poll_interval);
      d.settle = duration(*drop, "settle", dat, d.settle, true);
      d.max_file_bytes = drop->value("max_file_bytes", d.max_file_bytes);
      d.retention_days = drop->value("retention_days", d.retention_days);
      out.drop_folder = std::move(d);
    }
    if (const auto* bsn = find(c, "bsn")) build_bsn(*bsn, schema::join_path(at, "bsn"), out.bsn);
    return out;
  }

  bool known_field(const std::string& path) const {
    const auto& known = schema::signal_field_paths();
    return std::find(known.begin(), known.end(), path) != known.end() || evidence_key_path(path);
  }

  void build_bsn(const json& b, const std::string& at, bsn_settings& out) {
    if (const auto* keys = find(b, "keys")) {
      for (const auto& [field, use] : keys->items()) {
        if (!known_field(field)) errors_.add(schema::join_path(at, "keys"), "unknown signal field " + in_quotes(field));
        out.keys.emplace_back(field, use.get<std::string>());
      }
    }
    out.exempt = b.value("exempt", std::vector<std::string>{});
    for (std::size_t i = 0; i < out.exempt.size(); ++i) {
      if (!known_field(out.exempt[i]))
        errors_.add(schema::join_path(schema::join_path(at, "exempt"), i),
                    "unknown signal field " + in_quotes(out.exempt[i]));
    }
  }

  /**
   * The `storage` section (docs/storage.md, "PostgreSQL"). The URL is checked here, without libpq, so
   * check-config refuses what would be refused at connect time; its value is never quoted back.
   */
  void build_storage(const json* st, storage_settings& out) {
    const std::string engine = st != nullptr ? st->value("engine", std::string("sqlite")) : std::string("sqlite");
    if (engine != "postgres") {
      // An engine that takes no URL must not silently ignore one: the operator meant something by it.
      if (st != nullptr)
        for (const char* key : {"url", "password_file", "pool_size"})
          if (find(*st, key) != nullptr)
            errors_.add(schema::join_path("storage", key), "only used with engine postgres (engine is sqlite)");
      return;
    }
    out.engine = storage_engine::postgres;
    out.url = st->value("url", std::string());
    out.pool_size = st->value("pool_size", out.pool_size);
    if (out.url.empty()) {
      errors_.add("storage.url", "required with engine postgres (e.g. postgresql://schakel@db.example/schakel)");
    } else if (auto problem = postgres_url_problem(out.url)) {
      errors_.add("storage.url", *problem);
    }
    std::string at = "storage.password_file";
    if (const auto* file = find(*st, "password_file")) {
      out.password_file = file->get<std::string>();
    } else if (const char* env = std::getenv("SCHAKEL_DATABASE_PASSWORD_FILE"); env != nullptr && *env != '\0') {
      out.password_file = env;
      at += " (from SCHAKEL_DATABASE_PASSWORD_FILE)";
    }
    if (out.password_file.empty()) return;
    std::string why;
    switch (read_secret_file(out.password_file, out.password, why)) {
      case secret_read::ok:
        if (out.password.empty()) errors_.add(at, "the file " + out.password_file + " is empty");
        break;
      case secret_read::unreadable:
        errors_.add(at, "cannot read file " + out.password_file + " (" + why + ")");
        break;
      case secret_read::exposed:
        errors_.add(at, why);
        break;
    }
  }

  /**
   * Keys apart from data: whoever holds a backup of the data directory and the hub key can reverse
   * every BSN hash (there are only about 9×10⁷ valid BSNs), so the two may not share a tree.
   */
  void build_keys_dir(hub_config& cfg) {
    if (const auto* keys = find(doc_, "keys_dir")) {
      cfg.keys_dir = keys->get<std::string>();
    } else {
      cfg.keys_dir = default_keys_dir(cfg.data_dir);
      if (cfg.keys_dir.empty()) {
        errors_.add("keys_dir", "data_dir " + in_quotes(cfg.data_dir) +
                                    " has no parent to put the default keys directory beside it; name keys_dir");
        cfg.keys_dir = cfg.data_dir;  // never empty, as promised; the config is refused anyway
        return;
      }
    }
    const auto keys = resolved_dir(cfg.keys_dir);
    const auto data = resolved_dir(cfg.data_dir);
    const std::string why = "; a backup of the data directory would then hold the key that reverses its BSN hashes";
    if (same_or_below(keys, data)) {
      errors_.add("keys_dir", in_quotes(cfg.keys_dir) + (keys == data ? " is data_dir " : " is inside data_dir ") +
                                  in_quotes(cfg.data_dir) + why + "; choose a directory outside it (default " +
                                  in_quotes(default_keys_dir(cfg.data_dir)) + ")");
    } else if (same_or_below(data, keys)) {
      errors_.add("keys_dir", in_quotes(cfg.keys_dir) + " holds data_dir " + in_quotes(cfg.data_dir) + why +
                                  "; choose a directory beside it (default " +
                                  in_quotes(default_keys_dir(cfg.data_dir)) + ")");
    }
  }

  void build_privacy_settings(const json& p, privacy_settings& out) {
    out.hub_key_file = p.value("hub_key_file", std::string());
    if (const auto* retention = find(p, "retention")) {
      out.retention.default_signal_days = retention->value("default_signal_days", out.retention.default_signal_days);
      out.retention.audit_days = retention->value("audit_days", out.retention.audit_days);
      if (const auto* rules = find(*retention, "signals")) {
        for (const auto& r : *rules)
          out.retention.signal_days.emplace_back(r.at("types").get<std::string>(), r.at("days").get<std::int64_t>());
      }
    }
  }

  processor_instance build_processor(const json& p, const std::string& at, const std::set<std::string>& connectors) {
    processor_instance out;
    out.name = p.at("name").get<std::string>();
    out.plugin = p.at("plugin").get<std::string>();
    out.inputs = p.value("inputs", std::vector<std::string>{});
    for (std::size_t i = 0; i < out.inputs.size(); ++i) {
      if (connectors.count(out.inputs[i]) == 0)
        errors_.add(schema::join_path(schema::join_path(at, "inputs"), i),
                    "no connector instance named " + in_quotes(out.inputs[i]));
    }
    if (const auto* settings = find(p, "settings")) out.settings = *settings;
    return out;
  }

  subscription build_subscription(const json& s, const std::string& at, const std::set<std::string>& connectors) {
    subscription out;
    out.name = s.at("name").get<std::string>();
    out.partner = s.at("partner").get<std::string>();
    if (const auto* filter = find(s, "filter")) {
      const std::string fat = schema::join_path(at, "filter");
      out.filter.types = filter->value("types", std::vector<std::string>{});
      out.filter.domains = filter->value("domains", std::vector<std::string>{});
      out.filter.schools = filter->value("schools", std::vector<std::string>{});
      out.filter.instances = filter->value("instances", std::vector<std::string>{});
      if (const auto* min = find(*filter, "min_severity")) {
        out.filter.min_severity = parse_severity(min->get<std::string>());
        if (!out.filter.min_severity)
          errors_.add(schema::join_path(fat, "min_severity"), "must be one of info, attention, concern, urgent");
      }
      for (std::size_t i = 0; i < out.filter.instances.size(); ++i) {
        if (connectors.count(out.filter.instances[i]) == 0)
          errors_.add(schema::join_path(schema::join_path(fat, "instances"), i),
                      "no connector or processor instance named " + in_quotes(out.filter.instances[i]));
      }
    }
    out.fields = s.at("fields").get<std::vector<std::string>>();
    if (const auto* pull = find(s, "pull_token")) {
      out.pull_token = pull->get<std::string>();
      if (out.pull_token.size() < min_token_chars)
        errors_.add(schema::join_path(at, "pull_token"), too_short_message());
      // Only anonymised trends may be pulled by a partner; row-level data goes out signed, by webhook.
      if (const auto* privacy = find(s, "privacy"); privacy == nullptr || privacy->value("identity", "") != "aggregate")
        errors_.add(schema::join_path(at, "pull_token"), "only an aggregate subscription may pull (GET /v1/trends)");
    }
    const auto& known = schema::signal_field_paths();
    std::set<std::string> seen;
    for (std::size_t i = 0; i < out.fields.size(); ++i) {
      const std::string fpath = schema::join_path(schema::join_path(at, "fields"), i);
      if (std::find(known.begin(), known.end(), out.fields[i]) == known.end() && !evidence_key_path(out.fields[i])) {
        errors_.add(fpath, "unknown signal field " + in_quotes(out.fields[i]) + " (see docs/signal-schema.md)");
      } else if (!seen.insert(out.fields[i]).second) {
        errors_.add(fpath, "field " + in_quotes(out.fields[i]) + " listed twice");
      }
    }
    build_policy(s.at("privacy"), schema::join_path(at, "privacy"), out);
    build_delivery(s.at("delivery"), schema::join_path(at, "delivery"), out.delivery);
    return out;
  }

  /**
   * The combinations a privacy officer would refuse, refused before anything runs (docs/privacy.md).
   * The gate checks the same at run time; this makes the mistake visible at check-config.
   */
  void build_policy(const json& p, const std::string& at, subscription& sub) {
    privacy_policy& out = sub.privacy;
    out.identity = p.at("identity").get<std::string>();
    out.purpose = p.at("purpose").get<std::string>();
    out.legal_basis = p.value("legal_basis", std::string());
    out.health_ground = p.value("health_ground", std::string());
    out.basis_reference = p.value("basis_reference", std::string());
    out.consent_framework = p.value("consent_framework", out.consent_framework);
    out.audience = p.value("audience", out.audience);
    if (const auto* keys = find(p, "pseudonym_keys")) {
      for (std::size_t i = 0; i < keys->size(); ++i) {
        const auto& k = (*keys)[i];
        const std::string kat = schema::join_path(schema::join_path(at, "pseudonym_keys"), i);
        pseudonym_key key;
        key.id = k.at("id").get<std::string>();
        key.file = k.at("file").get<std::string>();
        key.active_from = k.value("active_from", std::string());
        key.retire_after = k.value("retire_after", std::string());
        check_readable(key.file, schema::join_path(kat, "file"));
        if (!key.active_from.empty() && !valid_date(key.active_from))
          errors_.add(schema::join_path(kat, "active_from"), "is not a calendar date");
        if (!key.retire_after.empty() && !valid_date(key.retire_after))
          errors_.add(schema::join_path(kat, "retire_after"), "is not a calendar date");
        if (!key.active_from.empty() && !key.retire_after.empty() && key.retire_after < key.active_from)
          errors_.add(schema::join_path(kat, "retire_after"), "is before active_from");
        for (const auto& earlier : out.pseudonym_keys) {
          if (earlier.id == key.id)
            errors_.add(schema::join_path(kat, "id"), "key id " + in_quotes(key.id) + " used twice");
        }
        out.pseudonym_keys.push_back(std::move(key));
      }
    }
    const bool lists_student_key =
        std::find(sub.fields.begin(), sub.fields.end(), "subject.student_key") != sub.fields.end() ||
        std::find(sub.fields.begin(), sub.fields.end(), "subject") != sub.fields.end();
    const std::string sub_at = at.substr(0, at.rfind('.'));
    const std::string fields_at = schema::join_path(sub_at, "fields");
    if (out.identity == "identified") {
      if (out.legal_basis.empty())
        errors_.add(schema::join_path(at, "legal_basis"),
                    "an identified subscription needs a legal basis (AVG art. 6): consent, legal_obligation, "
                    "public_task or vital_interest");
    } else if (out.identity == "pseudonymous") {
      if (out.legal_basis.empty())
        errors_.add(schema::join_path(at, "legal_basis"),
                    "pseudonymous data is still personal data: a legal basis (AVG art. 6) is required");
      if (out.pseudonym_keys.empty())
        errors_.add(schema::join_path(at, "pseudonym_keys"), "a pseudonymous subscription needs at least one key");
      if (lists_student_key)
        errors_.add(fields_at,
                    "a pseudonymous subscription may not list subject.student_key (or all of subject): "
                    "it receives subject.pseudonym instead");
      // The source system's record number is the same for every partner: two partners could join
      // their pseudonyms through it.
      if (std::find(sub.fields.begin(), sub.fields.end(), "source.record_id") != sub.fields.end() ||
          std::find(sub.fields.begin(), sub.fields.end(), "source") != sub.fields.end())
        errors_.add(fields_at,
                    "a pseudonymous subscription may not list source.record_id (or all of source): "
                    "it would link pseudonyms across partners");
    } else if (out.identity == "aggregate") {
      if (lists_student_key)
        errors_.add(fields_at, "an aggregate subscription may not list subject.student_key (or all of subject)");
      if (sub.filter.types.empty())
        errors_.add(
            schema::join_path(at, "identity"),
            "an aggregate subscription must name its types in filter.types, all aggregate (nl.schakel.trend.*); "
            "without them it would match row-level signals about one student");
      for (std::size_t i = 0; i < sub.filter.types.size(); ++i) {
        if (!aggregate_type(sub.filter.types[i]))
          errors_.add(schema::join_path(schema::join_path(schema::join_path(sub_at, "filter"), "types"), i),
                      "type " + in_quotes(sub.filter.types[i]) +
                          " is row-level (about one student); an aggregate subscription takes only nl.schakel.trend.*");
      }
    }
    if (out.identity != "pseudonymous" && !out.pseudonym_keys.empty())
      errors_.add(schema::join_path(at, "pseudonym_keys"), "only pseudonymous subscriptions use pseudonym keys");
    // Staff's free text stays inside the school: only the school's own systems may list it, and a
    // school system is tied to its schools so it cannot receive another school's notes.
    if (out.audience == "school") {
      if (out.identity != "identified")
        errors_.add(schema::join_path(at, "audience"),
                    "audience school is the school's own staff: its identity must be identified");
      if (sub.filter.schools.empty())
        errors_.add(schema::join_path(at, "audience"),
                    "an audience school subscription must name its schools in filter.schools");
    } else {
      for (std::size_t i = 0; i < sub.fields.size(); ++i)
        if (sub.fields[i] == "content.note")
          errors_.add(schema::join_path(fields_at, i),
                      "content.note is school-internal free text: only a subscription with privacy.audience "
                      "school may list it");
    }
    if (out.identity != "aggregate" && may_carry_health_data(sub.filter) && out.legal_basis != "consent" &&
        out.health_ground.empty())
      errors_.add(
          schema::join_path(at, "health_ground"),
          "this subscription may receive health-category signals (AVG art. 9: " + health_types_hint(sub.filter) +
              "); it needs consent as its legal basis or an art. 9 ground (explicit_consent, vital_interest, "
              "substantial_public_interest, health_care) — or narrow filter.types");
  }

  /**
   * A webhook URL whose host is a literal address is judged here, at every load (serve included):
   * nothing about it can change at run time. Host names are resolved by check-config only.
   */
  void check_literal_destinations(const hub_config& cfg) {
    const auto listeners = listen_endpoints(cfg.listen);
    for (const auto& use : webhook_uses(cfg)) {
      const auto target = webhook_target(use.hook->url);
      if (!target || !target->judged) continue;  // build_webhook reported the URL already
      const auto address = net::parse_ip(target->host);
      if (!address) continue;
      const auto why = net::check_destination(*address, target->port, destination_policy_of(*use.hook, listeners));
      if (why != net::refusal::none) errors_.add(use.path, destination_refused_message(use, target->host, why));
    }
  }

  /** A partner's webhook: delivery.webhook of a subscription, or audit.witness. */
  void build_webhook(const json& hook, const std::string& hat, webhook_delivery& out) {
    out.url = hook.at("url").get<std::string>();
    out.secret = hook.at("secret").get<std::string>();
    out.ca_file = hook.value("ca_file", std::string());
    if (const auto* tls = find(hook, "tls")) build_client_tls(*tls, schema::join_path(hat, "tls"), out);
    // Neither the URL (it may carry a token) nor the secret is ever quoted back.
    parsed_url url;
    if (!parse_url(out.url, url)) {
      errors_.add(schema::join_path(hat, "url"), "is not an absolute http(s) URL with a host");
    } else if (url.scheme == "http") {
      if (!is_loopback_host(url.host))
        errors_.add(schema::join_path(hat, "url"), "plain http is allowed only to a loopback host; use https");
    } else if (url.scheme != "https") {
      errors_.add(schema::join_path(hat, "url"), "must use https (or http to a loopback host)");
    }
    // "whsec_" + base64 is the Standard Webhooks form; any other value of 24+ bytes is used as the
    // key as it is (the SCHAKEL_* convention: a secret variable holds any value of 24+ bytes).
    std::size_t secret_bytes = 0;
    if (out.secret.rfind("whsec_", 0) == 0) {
      if (!base64_decoded_size(std::string_view(out.secret).substr(6), secret_bytes) || secret_bytes < min_secret_bytes)
        errors_.add(schema::join_path(hat, "secret"),
                    "starts with \"whsec_\" but is not followed by the base64 of at least " +
                        std::to_string(min_secret_bytes) + " bytes");
    } else if (out.secret.size() < min_secret_bytes) {
      errors_.add(schema::join_path(hat, "secret"), "must be at least " + std::to_string(min_secret_bytes) +
                                                        " bytes, or \"whsec_\" followed by the base64 of at least " +
                                                        std::to_string(min_secret_bytes) + " bytes");
    }
    if (!out.ca_file.empty()) check_readable(out.ca_file, schema::join_path(hat, "ca_file"));
    if (const auto* allow = find(hook, "allow_destinations")) {
      for (std::size_t i = 0; i < allow->size(); ++i) {
        const std::string entry = (*allow)[i].get<std::string>();
        std::string why;
        if (auto block = net::parse_cidr(entry, &why)) {
          out.allow_destinations.push_back(*block);
        } else {
          errors_.add(schema::join_path(schema::join_path(hat, "allow_destinations"), i), in_quotes(entry) + " " + why);
        }
      }
    }
  }

  void build_delivery(const json& d, const std::string& at, webhook_delivery& out) {
    build_webhook(d.at("webhook"), schema::join_path(at, "webhook"), out);
    if (const auto* batch = find(d, "batch")) {
      out.batched = true;
      out.batch_max_events = batch->value("max_events", out.batch_max_events);
      out.batch_linger = duration(*batch, "linger", schema::join_path(at, "batch"), out.batch_linger, true);
    }
    if (const auto* retry = find(d, "retry")) {
      const std::string rat = schema::join_path(at, "retry");
      out.max_attempts = retry->value("max_attempts", out.max_attempts);
      const auto age =
          duration(*retry, "max_age", rat, std::chrono::duration_cast<std::chrono::milliseconds>(out.max_age));
      // Round up so "500ms" does not become zero seconds.
      out.max_age = std::chrono::ceil<std::chrono::seconds>(age);
      out.initial_backoff = duration(*retry, "initial_backoff", rat, out.initial_backoff);
      out.max_backoff = duration(*retry, "max_backoff", rat, out.max_backoff);
      if (out.initial_backoff > out.max_backoff)
        errors_.add(schema::join_path(rat, "initial_backoff"), "must not exceed max_backoff");
    }
    out.request_timeout = duration(d, "request_timeout", at, out.request_timeout);
    out.lanes = d.value("lanes", out.lanes);
  }

  /** delivery.webhook.tls: the CA that verifies the partner, and the certificate the hub presents to it. */
  void build_client_tls(const json& tls, const std::string& at, webhook_delivery& out) {
    if (const auto* ca = find(tls, "ca_file")) {
      if (!out.ca_file.empty())
        errors_.add(schema::join_path(at, "ca_file"),
                    "the partner's CA is already given as webhook.ca_file; give it once");
      out.ca_file = ca->get<std::string>();
    }
    out.client_certificate_file = tls.value("client_certificate_file", std::string());
    out.client_key_file = tls.value("client_key_file", std::string());
    const std::string cert_at = schema::join_path(at, "client_certificate_file");
    const std::string key_at = schema::join_path(at, "client_key_file");
    if (out.client_certificate_file.empty() != out.client_key_file.empty()) {
      errors_.add(out.client_key_file.empty() ? key_at : cert_at,
                  "client_certificate_file and client_key_file go together");
      return;
    }
    if (out.client_certificate_file.empty()) return;
    std::string why;
    if (!readable_file(out.client_certificate_file, why))
      errors_.add(cert_at, "cannot read file " + out.client_certificate_file + " (" + why + ")");
    else if (auto problem = certificate_file_problem(out.client_certificate_file))
      errors_.add(cert_at, *problem);
    if (!readable_file(out.client_key_file, why)) {
      errors_.add(key_at, "cannot read file " + out.client_key_file + " (" + why + ")");
      return;
    }
    // Whoever reads the key can present the hub's certificate to the partner: a secret like any other.
    if (auto exposed = exposure_of(out.client_key_file)) {
      errors_.add(key_at, *exposed);
      return;
    }
    if (auto problem = key_file_problem(out.client_key_file, out.client_certificate_file))
      errors_.add(key_at, *problem);
  }

  problems& errors_;
  const json& doc_;
};

bool looks_like_json(const std::string& text) {
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    return c == '{';
  }
  return false;
}

}  // namespace

const std::vector<std::string>& health_signal_types() {
  // Types whose signals are health data (AVG art. 9) by what they say: sick absence and what derives
  // from it, JGZ reports, observations pointing at health, and matches (that the JGZ has a concern
  // is itself health information). A connector can still mark any other signal as health data; the
  // gate checks each signal's governance.data_category at run time too.
  static const std::vector<std::string> types = {
      "nl.schakel.attendance.sick*", "nl.schakel.attendance.mazl.*", "nl.schakel.jgz.*",
      "nl.schakel.observation.*",    "nl.schakel.match.detected",
  };
  return types;
}

bool may_carry_health_data(const subscription_filter& filter) {
  if (filter.types.empty()) return true;
  for (const auto& t : filter.types) {
    for (const auto& known : health_signal_types())
      if (types_may_overlap(t, known)) return true;
  }
  return false;
}

namespace {

hub_config load(const std::string& text_in, const std::string& origin) {
  if (text_in.size() > max_text_bytes) fail(origin, "", "larger than " + std::to_string(max_text_bytes) + " bytes");
  // A UTF-8 byte order mark is legal at the start of either format; neither parser wants it.
  const std::string text = text_in.rfind("\xEF\xBB\xBF", 0) == 0 ? text_in.substr(3) : text_in;

  json doc = looks_like_json(text) ? parse_json(text, origin) : parse_yaml(text, origin);

  // Substitution first, so the schema sees the values the daemon will use.
  {
    problems errors(origin);
    // Substitution replaces strings with strings, so the shape `subst` reads paths from is stable.
    substituter subst(errors, doc);
    segments at;
    subst.walk(doc, at);
    errors.raise_if_any();
    type_substituted_values(doc, subst.whole_references, config_schema());
  }

  {
    problems errors(origin);
    for (const auto& e : config_schema().validate(doc)) {
      const std::string& where = e.kind == schema::error_kind::invalid ? e.path : e.parent;
      errors.add(where, schema_problem(e));
    }
    errors.raise_if_any();
  }

  problems errors(origin);
  semantic_checker checker(errors, doc);
  hub_config cfg = checker.build();
  errors.raise_if_any();
  return cfg;
}

}  // namespace

const char* const admin_token_hint =
    "admin_token is deprecated and goes in the next release; it holds every admin role. Move it to access.tokens, "
    "e.g. `- {name: admin, roles: [operator, privacy_officer, linker, trends, metrics], token: "
    "${SCHAKEL_ADMIN_TOKEN}}` (better: one token per person, with only the roles they need), and give the CLI "
    "--token-file";

std::vector<std::string> access_warnings(const hub_config& cfg, std::chrono::system_clock::time_point now) {
  std::vector<std::string> out;
  for (const auto& t : cfg.access.tokens) {
    if (!t.expires) continue;
    if (*t.expires <= now)
      out.push_back(t.at + " (" + t.name + ") has expired and is refused; remove it or give it a new token");
    else if (*t.expires - now <= std::chrono::days(14))
      out.push_back(t.at + " (" + t.name +
                    ") expires within 14 days; add its successor now (two tokens may hold a role)");
  }
  return out;
}

hub_config load_config_text(const std::string& text, const std::string& origin) {
  try {
    return load(text, origin);
  } catch (const config_error&) {
    throw;
  } catch (const nlohmann::json::exception&) {
    // Every check above should have caught a bad document first; this keeps a missed case a clean
    // refusal instead of an unexplained crash. The library's text is not used: it can quote values.
    throw config_error(origin + ": invalid configuration (unexpected structure)");
  }
}

hub_config load_config_file(const std::filesystem::path& file) {
  std::string text;
  std::string why;
  errno = 0;
  if (!read_small_file(file.string(), max_text_bytes, text, why))
    throw config_error(file.string() + ": cannot read configuration file (" + why + ")");
  hub_config cfg = load_config_text(text, file.string());
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(file, ec);
  cfg.config_dir = (ec ? file : absolute).parent_path().string();
  return cfg;
}

std::vector<net::listen_endpoint> listen_endpoints(const listener& listen) {
  std::vector<net::listen_endpoint> out;
  if (listen.port == 0) return out;
  const auto address = net::parse_ip(listen.address == "localhost" ? "127.0.0.1" : listen.address);
  if (address) out.push_back({*address, listen.port});
  return out;
}

net::destination_policy destination_policy_of(const webhook_delivery& delivery,
                                              std::vector<net::listen_endpoint> own_listeners) {
  net::destination_policy policy;
  policy.allow = delivery.allow_destinations;
  policy.local_addresses = net::local_addresses_for(own_listeners);
  policy.own_listeners = std::move(own_listeners);
  return policy;
}

destination_report check_destination_names(const hub_config& cfg) {
  destination_report report;
  const auto listeners = listen_endpoints(cfg.listen);
  for (const auto& use : webhook_uses(cfg)) {
    const auto target = webhook_target(use.hook->url);
    if (!target || !target->judged || net::parse_ip(target->host)) continue;  // literals were judged at load
    std::string error;
    const auto addresses = net::resolve_host(target->host, &error);
    if (addresses.empty()) {
      report.warnings.push_back(use.path + ": " + use.who + ": host " + target->host + " does not resolve here (" +
                                error + "); its addresses are checked at each delivery");
      continue;
    }
    const auto policy = destination_policy_of(*use.hook, listeners);
    for (const auto& a : addresses) {
      const auto why = net::check_destination(a, target->port, policy);
      if (why != net::refusal::none)
        report.errors.push_back(use.path + ": " +
                                destination_refused_message(use, target->host + " (" + net::to_string(a) + ")", why));
    }
  }
  return report;
}

}  // namespace schakel::config
