#include "generator.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

namespace schakel::attendance_bench {

namespace {

constexpr int lessons_per_day = 7;
constexpr std::uint8_t full_day = (1u << lessons_per_day) - 1;

/** splitmix64: small, fast and the same on every platform (std distributions are not). */
class prng {
 public:
  explicit prng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /** Uniform in [0, 1). */
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /** Uniform in [lo, hi]. */
  int between(int lo, int hi) { return lo + static_cast<int>(unit() * (hi - lo + 1)); }
  bool chance(double p) { return unit() < p; }
  /** Knuth's method: fine for the small means used here. */
  int poisson(double mean) {
    const double limit = std::exp(-mean);
    double p = 1.0;
    int k = 0;
    do {
      ++k;
      p *= unit();
    } while (p > limit);
    return k - 1;
  }

 private:
  std::uint64_t state_;
};

std::uint8_t lesson_mask(int from, int to) {
  std::uint8_t m = 0;
  for (int l = from; l <= to; ++l) m = static_cast<std::uint8_t>(m | (1u << (l - 1)));
  return m;
}

/** Places one student's absences; `taken` holds the lessons already absent per school day. */
class placer {
 public:
  placer(prng& rng, std::vector<absence_row>& rows, int student, int days)
      : rng_(rng), rows_(rows), student_(student), taken_(static_cast<std::size_t>(days), 0) {}

  /** A sick episode of `length` consecutive school days on days that hold nothing yet. */
  void sick_episode(int length, const char* code) {
    const int days = static_cast<int>(taken_.size());
    length = std::min(length, days);
    for (int attempt = 0; attempt < 20; ++attempt) {
      const int start = rng_.between(0, days - length);
      bool free = true;
      // One free day either side too, so that two episodes never merge into one report.
      for (int d = std::max(0, start - 1); d <= std::min(days - 1, start + length); ++d) free = free && taken_[d] == 0;
      if (!free) continue;
      for (int d = start; d < start + length; ++d) {
        taken_[d] = full_day;
        rows_.push_back({d, student_, 1, lessons_per_day, code, 0});
      }
      return;
    }
  }

  /** `lessons` consecutive lessons on some school day, first lesson in [first_lo, first_hi]. */
  bool lessons(int lessons, int first_lo, int first_hi, const char* code) {
    const int days = static_cast<int>(taken_.size());
    first_hi = std::min(first_hi, lessons_per_day - lessons + 1);
    for (int attempt = 0; attempt < 20; ++attempt) {
      const int d = rng_.between(0, days - 1);
      const int from = rng_.between(first_lo, first_hi);
      const int to = from + lessons - 1;
      const std::uint8_t m = lesson_mask(from, to);
      if (taken_[d] & m) continue;
      taken_[d] = static_cast<std::uint8_t>(taken_[d] | m);
      rows_.push_back({d, student_, static_cast<std::uint8_t>(from), static_cast<std::uint8_t>(to), code, 0});
      return true;
    }
    return false;
  }

 private:
  prng& rng_;
  std::vector<absence_row>& rows_;
  int student_;
  std::vector<std::uint8_t> taken_;
};

std::string two(unsigned v) {
  return std::string(1, static_cast<char>('0' + v / 10)) + static_cast<char>('0' + v % 10);
}

/** dd-mm-jjjj, as the magister-like export writes dates. */
std::string dutch_date(std::chrono::sys_days d) {
  const std::chrono::year_month_day ymd{d};
  return two(static_cast<unsigned>(ymd.day())) + "-" + two(static_cast<unsigned>(ymd.month())) + "-" +
         std::to_string(static_cast<int>(ymd.year()));
}

}  // namespace

year generate_year(const year_options& o, const calendar::school_calendar& calendar) {
  if (o.students <= 0 || o.classes <= 0) throw std::invalid_argument("students and classes must be positive");
  year y;
  for (auto d = o.first_day; d <= o.last_day; d += std::chrono::days{1})
    if (calendar.is_school_day(d)) y.school_days.push_back(d);
  if (y.school_days.empty()) throw std::invalid_argument("no school day between first_day and last_day");
  const int days = static_cast<int>(y.school_days.size());

  prng rng(o.seed);
  const int per_class = (o.students + o.classes - 1) / o.classes;
  const int classes_per_year = std::max(1, o.classes / 6);
  for (int s = 0; s < o.students; ++s) {
    const int c = s / per_class;
    student st;
    st.number = std::to_string(100001 + s);
    st.leerjaar = std::min(6, c / classes_per_year + 1);
    st.class_name = std::to_string(st.leerjaar) + static_cast<char>('A' + c % classes_per_year);
    st.chronic_truant = rng.chance(o.chronic_truant_share);
    st.long_sick = rng.chance(o.long_sick_share);
    y.students.push_back(std::move(st));
  }

  for (int s = 0; s < o.students; ++s) {
    placer p(rng, y.rows, s, days);
    // Whole days first, so that lessons never land on a sick day.
    if (y.students[s].long_sick) p.sick_episode(rng.between(8, 15), "Z");
    for (int n = rng.poisson(o.sick_episodes); n > 0; --n) p.sick_episode(rng.between(1, 3), "Z");
    for (int n = rng.poisson(o.authorised_rows); n > 0; --n)
      p.lessons(rng.between(1, 3), 1, lessons_per_day, rng.chance(0.2) ? "MED" : "G");
    for (int n = rng.poisson(o.unauthorised_rows); n > 0; --n) p.lessons(rng.between(1, 2), 1, lessons_per_day, "O");
    for (int n = rng.poisson(o.late_rows); n > 0; --n) p.lessons(1, 1, rng.chance(0.7) ? 1 : lessons_per_day, "TL");
    if (y.students[s].chronic_truant) {
      const int target = rng.between(35, 45);
      int lessons = 0;
      for (int guard = 0; lessons < target && guard < 200; ++guard) {
        const int n = std::min(rng.between(1, 3), target - lessons);
        if (p.lessons(n, 1, lessons_per_day, "O")) lessons += n;
      }
    }
  }

  std::sort(y.rows.begin(), y.rows.end(), [](const absence_row& a, const absence_row& b) {
    if (a.day != b.day) return a.day < b.day;
    if (a.student != b.student) return a.student < b.student;
    return a.lesson_from < b.lesson_from;
  });
  std::uint32_t id = 1;
  for (auto& r : y.rows) r.record_id = id++;
  return y;
}

std::vector<std::pair<std::string, std::size_t>> year::rows_by_code() const {
  std::map<std::string, std::size_t> counts;
  for (const auto& r : rows) ++counts[r.code];
  return {counts.begin(), counts.end()};
}

std::string csv_header() {
  return "Stamnummer;Datum;Lesuur;Absentiecode;Klas;Leerjaar;Registratie-id\n";
}

std::string csv_line(const year& y, const absence_row& r) {
  const auto& st = y.students[static_cast<std::size_t>(r.student)];
  std::string lesson = std::to_string(r.lesson_from);
  if (r.lesson_to != r.lesson_from) {
    lesson += '-';
    lesson += std::to_string(r.lesson_to);
  }
  std::string line;
  line.reserve(64);
  line += st.number;
  line += ';';
  line += dutch_date(y.school_days[static_cast<std::size_t>(r.day)]);
  line += ';';
  line += lesson;
  line += ';';
  line += r.code;
  line += ';';
  line += st.class_name;
  line += ';';
  line += std::to_string(st.leerjaar);
  line += ";R";
  line += std::to_string(10000000 + r.record_id);
  line += '\n';
  return line;
}

std::vector<export_file> weekly_exports(const year& y) {
  using namespace std::chrono;
  std::vector<export_file> out;
  sys_days current_monday{};
  std::size_t next_row = 0;
  for (std::size_t d = 0; d < y.school_days.size(); ++d) {
    const sys_days day = y.school_days[d];
    const sys_days monday = day - (weekday{day} - Monday);
    if (out.empty() || monday != current_monday) {
      current_monday = monday;
      out.push_back({"week-" + calendar::format_date(monday) + ".csv", csv_header()});
    }
    for (; next_row < y.rows.size() && y.rows[next_row].day == static_cast<std::int32_t>(d); ++next_row)
      out.back().body += csv_line(y, y.rows[next_row]);
  }
  return out;
}

std::vector<export_file> daily_exports(const year& y) {
  std::vector<export_file> out;
  std::size_t next_row = 0;
  for (std::size_t d = 0; d < y.school_days.size(); ++d) {
    out.push_back({"day-" + calendar::format_date(y.school_days[d]) + ".csv", csv_header()});
    for (; next_row < y.rows.size() && y.rows[next_row].day == static_cast<std::int32_t>(d); ++next_row)
      out.back().body += csv_line(y, y.rows[next_row]);
  }
  return out;
}

export_file single_export(const year& y) {
  export_file f{"year-" + calendar::format_date(y.school_days.front()) + ".csv", csv_header()};
  f.body.reserve(y.rows.size() * 48);
  for (const auto& r : y.rows) f.body += csv_line(y, r);
  return f;
}

}  // namespace schakel::attendance_bench
