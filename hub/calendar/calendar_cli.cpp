#include "calendar/calendar_cli.hpp"

#include <algorithm>
#include <string>

namespace schakel::calendar {

namespace chr = std::chrono;

int calendar_check(const std::vector<std::string>& files, std::ostream& out, std::ostream& err) {
  if (files.empty()) {
    err << "calendar check: no files given\n";
    return 1;
  }
  int rc = 0;
  for (const auto& f : files) {
    school_calendar cal;
    try {
      load_calendar_file(f, cal);
    } catch (const calendar_error& e) {
      err << e.what() << '\n';
      rc = 1;
      continue;
    }
    out << f << ": ok, " << cal.holiday_count() << (cal.holiday_count() == 1 ? " holiday, " : " holidays, ")
        << cal.study_day_count() << (cal.study_day_count() == 1 ? " study day" : " study days") << '\n';
  }
  return rc;
}

namespace {

chr::sys_days monday_on_or_before(chr::sys_days d) {
  return d - (chr::weekday{d} - chr::Monday);  // weekday difference is always 0..6
}

// ISO 8601 week number: the week belongs to the year of its Thursday.
unsigned iso_week(chr::sys_days monday) {
  const chr::sys_days thursday = monday + chr::days{3};
  const chr::year y = chr::year_month_day{thursday}.year();
  const chr::sys_days jan1{y / chr::January / 1};
  return static_cast<unsigned>((thursday - jan1).count() / 7 + 1);
}

}  // namespace

int calendar_show(const calendar_registry& registry, std::string_view brin, std::string_view vestiging,
                  chr::sys_days from, chr::sys_days to, std::ostream& out) {
  std::string id(brin);
  id.append(vestiging);
  const school_calendar* cal = registry.find(brin, vestiging);
  if (!cal) {
    out << "school " << id << ": no calendar configured";
    if (!vestiging.empty()) out << " (looked up " << id << ", then " << brin << ")";
    out << '\n';
    return 1;
  }
  if (to < from) {
    out << "calendar show: --to is before --from\n";
    return 1;
  }
  const bool own = registry.find_exact(id) == cal;
  out << "school " << id;
  if (!own) out << " (calendar of " << brin << ")";
  out << ": school weeks " << format_date(from) << " .. " << format_date(to) << '\n';

  for (chr::sys_days monday = monday_on_or_before(from); monday <= to; monday += chr::weeks{1}) {
    const chr::sys_days friday = monday + chr::days{4};
    int school_days = 0;
    for (chr::sys_days d = monday; d <= friday; d += chr::days{1}) {
      if (cal->is_school_day(d)) ++school_days;
    }
    out << format_date(monday) << "  W";
    const unsigned wk = iso_week(monday);
    if (wk < 10) out << '0';
    out << wk << "  ";
    if (school_days == 0)
      out << "skipped (no school days)";
    else
      out << school_days << (school_days == 1 ? " school day" : " school days");

    bool first = true;
    for (const auto& off : cal->days_off()) {
      if (off.to < monday || off.from > friday) continue;
      const chr::sys_days a = std::max(off.from, monday), b = std::min(off.to, friday);
      out << (first ? "  off: " : "; ") << (off.name.empty() ? "(unnamed)" : off.name) << ' ' << format_date(a);
      if (b != a) out << ".." << format_date(b);
      if (off.study_day) out << " (study day)";
      first = false;
    }
    out << '\n';
  }
  return 0;
}

}  // namespace schakel::calendar
