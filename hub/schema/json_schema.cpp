#include "schema/json_schema.hpp"

#include <cstdint>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <utility>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace schakel::schema {

namespace {

using json = nlohmann::json;

// valijson's `format: date-time` check compiles a std::regex on every call, which would dominate
// the hot path; every schema here pairs the format with an equivalent `pattern`, so the copy given
// to valijson drops `format` (the original keeps it for readers and other tools). `$id` is dropped
// too so valijson never tries to resolve references against a remote base URI.
void strip_for_valijson(json& node, bool root) {
  if (node.is_object()) {
    if (auto it = node.find("format"); it != node.end() && it->is_string()) node.erase(it);
    if (root) node.erase("$id");
    for (auto& [key, child] : node.items()) {
      (void)key;
      strip_for_valijson(child, false);
    }
  } else if (node.is_array()) {
    for (auto& child : node) strip_for_valijson(child, false);
  }
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The text between the last pair of single quotes of a valijson message (a property name).
std::string quoted_name(const std::string& description) {
  const auto close = description.rfind('\'');
  if (close == std::string::npos || close == 0) return {};
  const auto open = description.rfind('\'', close - 1);
  if (open == std::string::npos) return {};
  return description.substr(open + 1, close - open - 1);
}

std::string scalar_text(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::string number_text(const json* schema, const char* key) {
  if (schema == nullptr) return "the allowed limit";
  const auto it = schema->find(key);
  return it == schema->end() ? std::string("the allowed limit") : it->dump();
}

std::string type_reason(const json* schema) {
  if (schema == nullptr) return "has the wrong type";
  const auto it = schema->find("type");
  if (it == schema->end()) return "has the wrong type";
  auto article = [](const std::string& t) {
    return (t == "integer" || t == "object" || t == "array") ? "an " + t : "a " + t;
  };
  if (it->is_string()) return "must be " + article(it->get<std::string>());
  std::string out = "must be ";
  const std::size_t n = it->size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += (i + 1 == n) ? " or " : ", ";
    out += article((*it)[i].get<std::string>());
  }
  return out;
}

std::string count_reason(const std::string& description, const char* what, std::string_view more_marker) {
  // "… no more than N …" / "… no fewer than N …": N is a schema limit, never a document value.
  const bool at_most = description.find(more_marker) != std::string::npos;
  std::string digits;
  for (char c : description)
    if (c >= '0' && c <= '9') digits += c;
  if (!at_most && digits == "1") return "must not be empty";
  return std::string(at_most ? "must have at most " : "must have at least ") + digits + " " + what;
}

}  // namespace

std::string join_path(std::string_view parent, std::string_view property) {
  if (parent.empty()) return std::string(property);
  std::string out(parent);
  out += '.';
  out += property;
  return out;
}

std::string join_path(std::string_view parent, std::size_t index) {
  std::string out(parent);
  out += '[';
  out += std::to_string(index);
  out += ']';
  return out;
}

struct json_schema::impl {
  json document;
  valijson::Schema compiled;
  // valijson::Validator caches compiled regexes in a plain map, so one instance must not be shared
  // between threads; a small pool keeps each warm cache reusable without a global lock around
  // validation itself.
  mutable std::mutex pool_mutex;
  mutable std::vector<std::unique_ptr<valijson::Validator>> pool;

  class lease {
   public:
    explicit lease(const impl& owner) : owner_(owner) {
      {
        std::lock_guard lock(owner_.pool_mutex);
        if (!owner_.pool.empty()) {
          validator_ = std::move(owner_.pool.back());
          owner_.pool.pop_back();
        }
      }
      if (!validator_) validator_ = std::make_unique<valijson::Validator>();
    }
    ~lease() {
      std::lock_guard lock(owner_.pool_mutex);
      owner_.pool.push_back(std::move(validator_));
    }
    lease(const lease&) = delete;
    lease& operator=(const lease&) = delete;
    valijson::Validator& operator*() { return *validator_; }

   private:
    const impl& owner_;
    std::unique_ptr<valijson::Validator> validator_;
  };

  const json* resolve(const json* node) const {
    // Follow local references only ("#/definitions/…"); a bounded loop guards against cycles.
    for (int hops = 0; node != nullptr && node->is_object() && hops < 16; ++hops) {
      const auto ref = node->find("$ref");
      if (ref == node->end() || !ref->is_string()) break;
      const std::string& target = ref->get_ref<const std::string&>();
      if (!starts_with(target, "#")) return nullptr;
      try {
        const json::json_pointer pointer(target.substr(1));
        node = document.contains(pointer) ? &document.at(pointer) : nullptr;
      } catch (const json::exception&) {
        return nullptr;
      }
    }
    return node;
  }

  const json* child_schema(const json* node, const std::string& property) const {
    node = resolve(node);
    if (node == nullptr || !node->is_object()) return nullptr;
    if (const auto props = node->find("properties"); props != node->end() && props->is_object()) {
      if (const auto it = props->find(property); it != props->end()) return resolve(&*it);
    }
    if (const auto extra = node->find("additionalProperties"); extra != node->end() && extra->is_object())
      return resolve(&*extra);
    return nullptr;
  }

  const json* item_schema(const json* node, std::size_t index) const {
    node = resolve(node);
    if (node == nullptr || !node->is_object()) return nullptr;
    const auto items = node->find("items");
    if (items == node->end()) return nullptr;
    if (items->is_object()) return resolve(&*items);
    if (items->is_array() && index < items->size()) return resolve(&(*items)[index]);
    if (const auto extra = node->find("additionalItems"); extra != node->end() && extra->is_object())
      return resolve(&*extra);
    return nullptr;
  }

  void collect_paths(const json* node, const std::string& prefix, std::vector<std::string>& out, int depth) const {
    node = resolve(node);
    if (node == nullptr || !node->is_object() || depth > 32) return;
    const auto props = node->find("properties");
    if (props == node->end() || !props->is_object()) return;
    for (const auto& [name, child] : props->items()) {
      const std::string path = join_path(prefix, name);
      out.push_back(path);
      collect_paths(&child, path, out, depth + 1);
    }
  }

  schema_error convert(const valijson::ValidationResults::Error& error, const json& instance) const;
};

json_schema::json_schema(const nlohmann::json& schema_document) : impl_(std::make_unique<impl>()) {
  impl_->document = schema_document;
  json for_valijson = schema_document;
  strip_for_valijson(for_valijson, true);
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    valijson::adapters::NlohmannJsonAdapter adapter(for_valijson);
    parser.populateSchema(adapter, impl_->compiled);
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("invalid JSON schema: ") + e.what());
  }
}

json_schema::json_schema(std::string_view schema_text)
    : json_schema([&] {
        try {
          return json::parse(schema_text);
        } catch (const json::parse_error& e) {
          throw std::invalid_argument(std::string("JSON schema is not valid JSON: ") + e.what());
        }
      }()) {}

json_schema::~json_schema() = default;
json_schema::json_schema(json_schema&&) noexcept = default;
json_schema& json_schema::operator=(json_schema&&) noexcept = default;

const nlohmann::json& json_schema::document() const {
  return impl_->document;
}

namespace {

/** Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size()) return false;
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static constexpr std::uint32_t min_for_length[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_for_length[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

/**
 * The path of the first string or key that is not valid UTF-8, or nullopt. valijson's length checks
 * walk UTF-8 without bounds checks (a truncated sequence reads past the string: a fuzz find), so no
 * such string may reach it. nlohmann's parser already refuses them; YAML and substituted values
 * need this check.
 */
std::optional<std::string> invalid_utf8_at(const nlohmann::json& j, const std::string& path) {
  if (j.is_string()) {
    if (!valid_utf8(j.get_ref<const std::string&>())) return path;
  } else if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!valid_utf8(it.key())) return path;
      if (auto bad = invalid_utf8_at(it.value(), join_path(path, it.key()))) return bad;
    }
  } else if (j.is_array()) {
    for (std::size_t i = 0; i < j.size(); ++i)
      if (auto bad = invalid_utf8_at(j[i], join_path(path, i))) return bad;
  }
  return std::nullopt;
}

}  // namespace

bool json_schema::is_valid(const nlohmann::json& document) const {
  if (invalid_utf8_at(document, "")) return false;
  impl::lease validator(*impl_);
  valijson::adapters::NlohmannJsonAdapter adapter(document);
  return (*validator).validate(impl_->compiled, adapter, nullptr);
}

const nlohmann::json* json_schema::subschema_for(const nlohmann::json& instance,
                                                 const std::vector<std::string>& path_segments) const {
  const json* schema = impl_->resolve(&impl_->document);
  const json* value = &instance;
  for (const auto& segment : path_segments) {
    if (schema == nullptr) return nullptr;
    if (value != nullptr && value->is_array()) {
      std::size_t index = 0;
      try {
        index = static_cast<std::size_t>(std::stoull(segment));
      } catch (const std::exception&) {
        return nullptr;
      }
      schema = impl_->item_schema(schema, index);
      value = index < value->size() ? &(*value)[index] : nullptr;
    } else {
      schema = impl_->child_schema(schema, segment);
      if (value != nullptr && value->is_object()) {
        const auto it = value->find(segment);
        value = it == value->end() ? nullptr : &*it;
      } else {
        value = nullptr;
      }
    }
  }
  return schema;
}

std::vector<std::string> json_schema::property_paths() const {
  std::vector<std::string> out;
  impl_->collect_paths(&impl_->document, "", out, 0);
  return out;
}

schema_error json_schema::impl::convert(const valijson::ValidationResults::Error& error, const json& instance) const {
  // Rebuild the path from valijson's context ("<root>", "[content]", "[2]"), walking the instance so
  // an array index is told apart from a property that happens to be named "2".
  std::string path;
  const json* schema = resolve(&document);
  const json* value = &instance;
  for (std::size_t i = 1; i < error.context.size(); ++i) {
    const std::string& raw = error.context[i];
    const std::string segment =
        (raw.size() >= 2 && raw.front() == '[' && raw.back() == ']') ? raw.substr(1, raw.size() - 2) : raw;
    if (value != nullptr && value->is_array()) {
      std::size_t index = 0;
      for (char c : segment) index = index * 10 + static_cast<std::size_t>(c - '0');
      path = join_path(path, index);
      schema = item_schema(schema, index);
      value = index < value->size() ? &(*value)[index] : nullptr;
    } else {
      path = join_path(path, segment);
      schema = child_schema(schema, segment);
      if (value != nullptr && value->is_object()) {
        const auto it = value->find(segment);
        value = it == value->end() ? nullptr : &*it;
      } else {
        value = nullptr;
      }
    }
  }
  schema = resolve(schema);

  const std::string& d = error.description;
  schema_error out;
  out.path = path;
  if (starts_with(d, "Missing required property")) {
    out.kind = error_kind::missing_property;
    out.parent = path;
    out.property = quoted_name(d);
    out.path = join_path(path, out.property);
    out.reason = "required property missing";
  } else if (starts_with(d, "Object contains a property that could not be validated")) {
    out.kind = error_kind::unknown_property;
    out.parent = path;
    out.property = quoted_name(d);
    out.path = join_path(path, out.property);
    out.reason = "unknown property";
  } else if (starts_with(d, "Failed to match against any enum values")) {
    std::string reason = "must be one of ";
    if (schema != nullptr && schema->contains("enum") && (*schema)["enum"].is_array()) {
      bool first = true;
      for (const auto& option : (*schema)["enum"]) {
        if (!first) reason += ", ";
        reason += scalar_text(option);
        first = false;
      }
    } else {
      reason += "the allowed values";
    }
    out.reason = reason;
  } else if (starts_with(d, "Failed to match expected value set by 'const'")) {
    out.reason = (schema != nullptr && schema->contains("const")) ? "must be " + scalar_text((*schema)["const"])
                                                                  : "must be the fixed value";
  } else if (starts_with(d, "Value type not permitted")) {
    out.reason = type_reason(schema);
  } else if (starts_with(d, "Failed to match regex")) {
    if (schema != nullptr && schema->contains("x-pattern-hint") && (*schema)["x-pattern-hint"].is_string()) {
      out.reason = "must be " + (*schema)["x-pattern-hint"].get<std::string>();
    } else if (schema != nullptr && schema->value("format", "") == "date-time") {
      out.reason = "must be an RFC 3339 date-time";
    } else if (schema != nullptr && schema->contains("pattern")) {
      out.reason = "must match pattern " + scalar_text((*schema)["pattern"]);
    } else {
      out.reason = "has the wrong format";
    }
  } else if (starts_with(d, "String should be a valid date-time")) {
    out.reason = "must be an RFC 3339 date-time";
  } else if (starts_with(d, "String should be")) {
    out.reason = count_reason(d, "characters", "no more than");
  } else if (starts_with(d, "Array should contain")) {
    out.reason = count_reason(d, "items", "no more than");
  } else if (starts_with(d, "Object should have")) {
    out.reason = count_reason(d, "properties", "no more than");
  } else if (starts_with(d, "Expected number less than or equal to")) {
    out.reason = "must be at most " + number_text(schema, "maximum");
  } else if (starts_with(d, "Expected number less than")) {
    out.reason = "must be less than " + number_text(schema, "exclusiveMaximum");
  } else if (starts_with(d, "Expected number greater than or equal to")) {
    out.reason = "must be at least " + number_text(schema, "minimum");
  } else if (starts_with(d, "Expected number greater than")) {
    out.reason = "must be greater than " + number_text(schema, "exclusiveMinimum");
  } else if (d.find("uniqueness") != std::string::npos) {
    out.reason = "items must be unique";
  } else if (d.find("multiple of") != std::string::npos) {
    out.reason = "must be a multiple of " + number_text(schema, "multipleOf");
  } else if (d.find("anyOf") != std::string::npos || d.find("oneOf") != std::string::npos ||
             d.find("exactly one") != std::string::npos) {
    out.reason = "does not match any of the allowed forms";
  } else {
    // Any other valijson message is generic; never pass it through, it might quote something.
    out.reason = "is invalid";
  }
  return out;
}

std::vector<schema_error> json_schema::validate(const nlohmann::json& document, std::size_t max_errors) const {
  if (auto bad = invalid_utf8_at(document, "")) return {schema_error{*bad, "is not valid UTF-8"}};
  if (is_valid(document)) return {};
  valijson::ValidationResults results;
  {
    impl::lease validator(*impl_);
    valijson::adapters::NlohmannJsonAdapter adapter(document);
    (*validator).validate(impl_->compiled, adapter, &results);
  }
  std::vector<schema_error> out;
  for (const auto& error : results) {
    const std::string& d = error.description;
    // Summaries of a child's failure ("Failed to validate against schema associated with property
    // name …", "… item #3 …") repeat what the child already reported.
    if (starts_with(d, "Failed to validate against schema associated with") ||
        starts_with(d, "Failed to validate item #") || starts_with(d, "Failed to validate against child schema") ||
        starts_with(d, "Failed to validate against additional properties schema") ||
        starts_with(d, "Failed to validate against dependent schema") ||
        starts_with(d, "Failed to validate against a conditional schema"))
      continue;
    schema_error converted = impl_->convert(error, document);
    bool duplicate = false;
    for (const auto& seen : out) duplicate = duplicate || seen == converted;
    if (!duplicate) out.push_back(std::move(converted));
    if (out.size() >= max_errors) break;
  }
  if (out.empty()) out.push_back({"", "is invalid"});
  return out;
}

}  // namespace schakel::schema
