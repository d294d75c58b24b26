// libFuzzer target: parse_consent_request on arbitrary JSON text must never crash, hang or leak. A
// refusal must name a field ("<field>: <why>"); an accepted request must survive the stored form.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "privacy/consent.hpp"

namespace {

bool names_a_field(const std::string& error) {
  for (const std::string_view field : {"body", "school", "student_key", "birth_date", "kind", "given_by", "partner",
                                       "purpose", "given_on", "expires_on"}) {
    if (error.size() > field.size() + 2 && error.compare(0, field.size(), field) == 0 &&
        error.compare(field.size(), 2, ": ") == 0) {
      return true;
    }
  }
  // "<name>: unknown field" echoes only a short lowercase field name.
  return error.ends_with(": unknown field");
}

}  // namespace

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return 0;

  std::string error;
  const auto request = schakel::privacy::parse_consent_request(body, "2026-11-23", error);
  if (!request) {
    if (!names_a_field(error)) std::abort();
    return 0;
  }
  if (!error.empty()) std::abort();
  // What the API accepts, the store must be able to read back unchanged.
  const auto stored = schakel::privacy::to_json(request->record);
  const auto back = schakel::privacy::consent_from_json(stored);
  if (!back || schakel::privacy::to_json(*back) != stored) std::abort();
  // And the rule must give an answer for it without tripping over anything.
  schakel::privacy::delivery_question q;
  q.partner = request->record.partner;
  q.purpose = request->record.purpose;
  q.needs_consent = true;
  q.objection_applies = true;
  q.date = "2026-11-23";
  (void)schakel::privacy::evaluate({request->record}, q);
  return 0;
}
