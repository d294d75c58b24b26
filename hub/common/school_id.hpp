#pragma once
// How the hub names a school: the SDK's rules (the signal schema's subject.school), so calendars,
// consent records, links, enrolment and trend settings accept exactly the schools connectors accept.

#include <string>
#include <string_view>

#include "schakel/sdk/school_id.hpp"

namespace schakel {

using sdk::is_brin;
using sdk::is_school_id;
using sdk::is_vestiging;

/**
 * Some exports write BRIN and vestiging as one code ("12AB00"): when `vestiging` is empty and `brin`
 * is such a code, moves its last two digits to `vestiging`.
 */
inline void split_combined_school_code(std::string& brin, std::string& vestiging) {
  if (brin.size() == 6 && vestiging.empty() && is_vestiging(std::string_view(brin).substr(4))) {
    vestiging = brin.substr(4);
    brin.resize(4);
  }
}

}  // namespace schakel
