#include "trends/model.hpp"

namespace schakel::trends {

std::string_view to_string(window_kind k) {
  switch (k) {
    case window_kind::week:
      return "week";
    case window_kind::month:
      return "month";
    case window_kind::year_to_date:
      return "year_to_date";
  }
  return "week";
}

std::string_view to_string(level l) {
  switch (l) {
    case level::school:
      return "school";
    case level::leerjaar:
      return "leerjaar";
    case level::class_group:
      return "class";
  }
  return "school";
}

}  // namespace schakel::trends
