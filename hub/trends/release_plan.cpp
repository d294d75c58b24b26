#include "trends/release_plan.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "trends/disclosure.hpp"

namespace schakel::trends {

using nlohmann::json;

namespace {

constexpr std::string_view total_category = "total";

double round_to(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

std::string text_at(const json& row, std::size_t i) {
  return row.is_array() && row.size() > i && row[i].is_string() ? row[i].get<std::string>() : std::string();
}

/** Whether a measure kind is released for a window kind (distributions have no year to date). */
bool released_for(measure_kind mk, window_kind wk) {
  return !(mk == measure_kind::distribution && wk == window_kind::year_to_date);
}

/** Where a student counts in one window: one class (or none) and its leerjaar. */
struct placement {
  std::string klass;
  int leerjaar = 0;
  std::string observed;  // of the row that decided it
  std::size_t week = 0;
};

/** What one window holds: every counted student's placement and, per measure, their value. */
struct window_view {
  std::unordered_map<std::uint32_t, placement> where;
  // per measure (config order): student -> hours (hours), 1 (students) or category index + 1 (distribution)
  std::vector<std::unordered_map<std::uint32_t, double>> value;
};

/** The finest unit the enrolment knows: a class, or students without one in a leerjaar ("" class). */
struct unit {
  std::string klass;
  int leerjaar = 0;
  auto operator<=>(const unit&) const = default;
};

class planner {
 public:
  explicit planner(const release_input& in) : in_(in), s_(*in.config) {
    index_students();
    class_leerjaar_from_enrolment();
  }

  std::vector<planned_cell> run();

 private:
  void index_students();
  void class_leerjaar_from_enrolment();
  const window_view& view(const window& w);
  int leerjaar_of(const placement& p) const;
  bool in_group(const placement& p, const group_def& g) const;
  std::vector<std::uint32_t> members(const window& w, std::size_t measure, const group_def& g,
                                     const std::string& category, double& value);
  std::vector<std::size_t> points_of(const window& w, std::size_t measure, const std::vector<std::uint32_t>& who) const;
  std::int64_t students_on(const std::string& klass, const std::string& day) const;
  std::int64_t denominator(const group_def& g, const std::string& day) const;
  std::vector<group_def> groups() const;
  std::string_view block_check(std::size_t window_index, const group_def& g,
                               const std::vector<std::uint32_t>& students);
  const std::vector<int>& unit_in_window(std::size_t window_index);

  const release_input& in_;
  const settings& s_;
  std::unordered_map<std::string, std::uint32_t> id_;
  std::size_t students_ = 0;
  std::map<std::string, int> class_leerjaar_;
  std::map<std::string, window_view> views_;
  // Auditor points: students 0 … students_-1 for counts; then one per (hours measure, student, week):
  // hours add up over weeks while distinct students do not, so a student's hours of each week are a
  // point of their own (two weekly totals share no point; the year to date is their sum).
  std::map<std::tuple<std::size_t, std::uint32_t, std::size_t>, std::size_t> hour_point_;

  // The blocks of this release: which groups are released (their denominators are public), and per
  // window of this release who is counted in any released cell.
  std::vector<group_def> released_groups_;
  std::vector<std::vector<char>> counted_;
  std::string day_;                      // the last day of this release's windows: every denominator is taken on it
  std::vector<unit> units_;              // enrolled classes, then class-less units as met
  std::vector<std::int64_t> unit_size_;  // enrolled students on day_
  std::vector<std::vector<int>> unit_by_window_;  // per window of this release: student -> unit (-1: not counted)
};

void planner::index_students() {
  for (const auto& wd : in_.week_data) {
    if (!wd.contains("m") || !wd["m"].is_object()) continue;
    for (const auto& [name, rows] : wd["m"].items()) {
      for (const auto& r : rows) {
        const std::string ref = text_at(r, 2);
        if (!id_.contains(ref)) id_.emplace(ref, static_cast<std::uint32_t>(id_.size()));
        const std::string c = text_at(r, 0);
        if (!c.empty() && !class_leerjaar_.contains(c) && r[1].is_number_integer())
          class_leerjaar_[c] = r[1].get<int>();
      }
    }
  }
  students_ = id_.size();
}

void planner::class_leerjaar_from_enrolment() {
  // The enrolment names a class's leerjaar authoritatively; a row's subject only fills in classes it lacks.
  for (const auto& [c, e] : in_.enrolment.items()) class_leerjaar_[c] = e.value("leerjaar", 0);
}

const window_view& planner::view(const window& w) {
  const std::string key = std::string(to_string(w.kind)) + "/" + w.key;
  if (const auto it = views_.find(key); it != views_.end()) return it->second;
  window_view v;
  v.value.resize(s_.measures.size());
  const std::string first = format_day(w.first), last = format_day(w.last);
  // Per measure and student, the latest distribution row: (observed, week) decides.
  std::vector<std::unordered_map<std::uint32_t, std::pair<std::string, std::size_t>>> latest(s_.measures.size());
  for (std::size_t wi = 0; wi < in_.weeks.size(); ++wi) {
    const std::string monday = format_day(in_.weeks[wi]);
    if (monday < first || monday > last) continue;
    const json& wd = in_.week_data[wi];
    if (!wd.contains("m")) continue;
    for (std::size_t mi = 0; mi < s_.measures.size(); ++mi) {
      const auto& m = s_.measures[mi];
      const auto rows = wd["m"].find(m.name);
      if (rows == wd["m"].end()) continue;
      for (const auto& r : *rows) {
        const auto sid = id_.at(text_at(r, 2));
        const std::string observed = text_at(r, 4);
        // One class per window: the latest row wins (a later week, then a later time, then the larger
        // class name so that rows sealed without a time still decide the same way every time).
        placement p{text_at(r, 0), r[1].is_number_integer() ? r[1].get<int>() : 0, observed, wi};
        auto [it, inserted] = v.where.try_emplace(sid, p);
        if (!inserted) {
          const auto& q = it->second;
          if (std::tie(p.week, p.observed, p.klass) > std::tie(q.week, q.observed, q.klass)) it->second = p;
        }
        switch (m.kind) {
          case measure_kind::students:
            v.value[mi][sid] = 1;
            break;
          case measure_kind::hours:
            if (r[3].is_number()) v.value[mi][sid] += r[3].get<double>();
            break;
          case measure_kind::distribution: {
            const auto cat = std::find(m.categories.begin(), m.categories.end(), text_at(r, 3));
            if (cat == m.categories.end()) break;
            auto [lt, fresh] = latest[mi].try_emplace(sid, observed, wi);
            if (fresh || std::tie(wi, observed) >= std::tie(lt->second.second, lt->second.first)) {
              lt->second = {observed, wi};
              v.value[mi][sid] = static_cast<double>(cat - m.categories.begin()) + 1;
            }
            break;
          }
        }
      }
    }
  }
  return views_.emplace(key, std::move(v)).first->second;
}

int planner::leerjaar_of(const placement& p) const {
  if (!p.klass.empty()) {
    const auto it = class_leerjaar_.find(p.klass);
    if (it != class_leerjaar_.end()) return it->second;
  }
  return p.leerjaar;
}

bool planner::in_group(const placement& p, const group_def& g) const {
  switch (g.lvl) {
    case level::school:
      return true;
    case level::leerjaar:
      return leerjaar_of(p) == g.leerjaar;
    case level::class_group:
      return !p.klass.empty() && p.klass == g.klass;
  }
  return false;
}

std::vector<std::uint32_t> planner::members(const window& w, std::size_t mi, const group_def& g,
                                            const std::string& category, double& value) {
  const auto& v = view(w);
  const auto& m = s_.measures[mi];
  double wanted = 0;
  if (m.kind == measure_kind::distribution && category != total_category) {
    const auto it = std::find(m.categories.begin(), m.categories.end(), category);
    wanted = static_cast<double>(it - m.categories.begin()) + 1;
  }
  std::vector<std::uint32_t> out;
  value = 0;
  for (const auto& [sid, x] : v.value[mi]) {
    if (x <= 0) continue;
    if (wanted > 0 && x != wanted) continue;
    if (!in_group(v.where.at(sid), g)) continue;
    out.push_back(sid);
    value += m.kind == measure_kind::hours ? x : 1;
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::size_t> planner::points_of(const window& w, std::size_t mi,
                                            const std::vector<std::uint32_t>& who) const {
  if (s_.measures[mi].kind != measure_kind::hours) return {who.begin(), who.end()};
  std::vector<std::size_t> out;
  const std::string first = format_day(w.first), last = format_day(w.last);
  for (std::size_t wi = 0; wi < in_.weeks.size(); ++wi) {
    const std::string monday = format_day(in_.weeks[wi]);
    if (monday < first || monday > last) continue;
    for (auto sid : who)
      if (const auto it = hour_point_.find({mi, sid, wi}); it != hour_point_.end()) out.push_back(it->second);
  }
  return out;
}

std::int64_t planner::students_on(const std::string& klass, const std::string& day) const {
  if (!in_.enrolment.contains(klass)) return -1;
  std::int64_t n = -1;
  for (const auto& h : in_.enrolment[klass].value("history", json::array()))
    if (h.value("from", "") <= day) n = h.value("students", std::int64_t{-1});
  return n;
}

std::int64_t planner::denominator(const group_def& g, const std::string& day) const {
  std::int64_t total = 0;
  for (const auto& [c, l] : class_leerjaar_) {
    if (g.lvl == level::leerjaar && l != g.leerjaar) continue;
    if (g.lvl == level::class_group && c != g.klass) continue;
    const auto n = students_on(c, day);
    if (n < 0) return -1;
    total += n;
  }
  return total;
}

std::vector<group_def> planner::groups() const {
  std::vector<group_def> out;
  const auto wants = [&](level l) { return std::find(s_.levels.begin(), s_.levels.end(), l) != s_.levels.end(); };
  if (wants(level::school)) out.push_back({level::school, 0, ""});
  if (wants(level::leerjaar)) {
    std::set<int> lj;
    for (const auto& [c, l] : class_leerjaar_)
      if (l > 0) lj.insert(l);
    for (int l : lj) out.push_back({level::leerjaar, l, ""});
  }
  if (wants(level::class_group))
    for (const auto& [c, l] : class_leerjaar_) out.push_back({level::class_group, l, c});
  return out;
}

/**
 * The block rule for one more released cell (group `g`, window `wi` of this release, `students`):
 * the released groups split the enrolled students into blocks (units in the same released groups),
 * each known in size; a block in which anyone is counted must keep at least k not counted, in every
 * window. Otherwise "all of 1A" or "all but 3 of 1A" follows from, e.g., leerjaar 1 and class 1B.
 * On success the cell is recorded as released.
 */
std::string_view planner::block_check(std::size_t wi, const group_def& g, const std::vector<std::uint32_t>& students) {
  auto groups = released_groups_;
  if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
  auto& counted = counted_[wi];
  std::vector<std::uint32_t> added;
  for (auto sid : students)
    if (!counted[sid]) added.push_back(sid);
  for (auto sid : added) counted[sid] = 1;

  const auto unit_in = [](const unit& u, const group_def& grp) {
    switch (grp.lvl) {
      case level::school:
        return true;
      case level::leerjaar:
        return u.leerjaar == grp.leerjaar;
      case level::class_group:
        return !u.klass.empty() && u.klass == grp.klass;
    }
    return false;
  };
  // Units in the same released groups form one block; a unit in none is not public and is skipped.
  std::map<std::vector<char>, std::size_t> block_of_signature;
  std::vector<std::size_t> block(units_.size());
  std::vector<char> is_public;
  for (std::size_t u = 0; u < units_.size(); ++u) {
    std::vector<char> sig(groups.size());
    for (std::size_t i = 0; i < groups.size(); ++i) sig[i] = unit_in(units_[u], groups[i]) ? 1 : 0;
    const bool pub = std::find(sig.begin(), sig.end(), 1) != sig.end();
    const auto [it, fresh] = block_of_signature.try_emplace(std::move(sig), block_of_signature.size());
    if (fresh) is_public.push_back(pub ? 1 : 0);
    block[u] = it->second;
  }
  std::vector<std::int64_t> enrolled(block_of_signature.size(), 0);
  for (std::size_t u = 0; u < units_.size(); ++u) enrolled[block[u]] += unit_size_[u];
  bool ok = true;
  for (std::size_t w = 0; ok && w < counted_.size(); ++w) {
    std::vector<std::int64_t> in_block(enrolled.size(), 0);
    const auto& where = unit_in_window(w);
    for (std::size_t sid = 0; sid < students_; ++sid)
      if (counted_[w][sid] && where[sid] >= 0) ++in_block[block[static_cast<std::size_t>(where[sid])]];
    for (std::size_t b = 0; b < enrolled.size(); ++b)
      if (is_public[b] && in_block[b] > 0 && enrolled[b] - in_block[b] < s_.k) ok = false;
  }
  if (!ok) {
    for (auto sid : added) counted[sid] = 0;
    return reason::complement_secondary;
  }
  released_groups_ = std::move(groups);
  return {};
}

const std::vector<int>& planner::unit_in_window(std::size_t wi) {
  auto& where = unit_by_window_[wi];
  if (!where.empty() || students_ == 0) return where;
  where.assign(students_, -1);
  for (const auto& [sid, p] : view(in_.windows[wi]).where) {
    const unit u{p.klass, leerjaar_of(p)};
    auto it = std::find(units_.begin(), units_.end(), u);
    if (it == units_.end()) {
      // Students without a class (or of a class the enrolment lacks): a unit with no enrolled students.
      units_.push_back(u);
      unit_size_.push_back(0);
      it = units_.end() - 1;
    }
    where[sid] = static_cast<int>(it - units_.begin());
  }
  return where;
}

std::vector<planned_cell> planner::run() {
  if (in_.windows.empty()) return {};
  day_ = format_day(in_.windows.front().last);
  const auto gs = groups();

  // Candidates, coarse first: year to date, month, week; school, leerjaar, class; total, categories.
  struct candidate_ref {
    std::size_t window;  // index into in_.windows
    std::size_t measure;
    group_def g;
    std::string category;
  };
  std::vector<candidate_ref> order;
  for (const auto kind : {window_kind::year_to_date, window_kind::month, window_kind::week})
    for (std::size_t wi = 0; wi < in_.windows.size(); ++wi) {
      if (in_.windows[wi].kind != kind) continue;
      for (const auto lvl : {level::school, level::leerjaar, level::class_group})
        for (std::size_t mi = 0; mi < s_.measures.size(); ++mi) {
          const auto& m = s_.measures[mi];
          if (!released_for(m.kind, kind)) continue;
          std::vector<std::string> cats{""};
          if (m.kind == measure_kind::distribution) {
            cats = {std::string(total_category)};
            cats.insert(cats.end(), m.categories.begin(), m.categories.end());
          }
          for (const auto& g : gs)
            if (g.lvl == lvl)
              for (const auto& c : cats) order.push_back({wi, mi, g, c});
        }
    }

  std::vector<planned_cell> out;
  out.reserve(order.size());
  std::vector<std::vector<std::uint32_t>> sets;
  for (const auto& c : order) {
    planned_cell p;
    p.win = in_.windows[c.window];
    p.m = &s_.measures[c.measure];
    p.g = c.g;
    p.category = c.category;
    sets.push_back(members(p.win, c.measure, c.g, c.category, p.value));
    p.denominator = denominator(c.g, day_);
    out.push_back(std::move(p));
  }

  if (s_.noise && !in_.noise_decides_on_exact) {
    if (!in_.noise) throw std::invalid_argument("plan_release: noise is configured but no noise source was given");
    // Every cell one student can move in this release shares the release's epsilon (sequential
    // composition); the groups of one level are disjoint (parallel composition).
    std::size_t per_student = 0;
    for (const auto& m : s_.measures)
      for (const auto& w : in_.windows)
        if (released_for(m.kind, w.kind)) per_student += m.kind == measure_kind::distribution ? 2 : 1;
    per_student *= s_.levels.size();
    const double cell_epsilon =
        s_.noise->epsilon_per_release / static_cast<double>(std::max<std::size_t>(per_student, 1));
    for (auto& p : out) {
      // Only public facts and the noisy value decide: the enrolment, then what the noise made of the
      // value. Deciding on the noisy value is post-processing and costs no budget.
      if (p.denominator < 0) {
        p.hub_reason = reason::no_enrolment;
      } else if (p.denominator < s_.k) {
        p.hub_reason = reason::group_below_k;
      }
      if (!p.hub_reason.empty()) continue;
      const bool hours = p.m->kind == measure_kind::hours;
      const double sensitivity =
          hours ? p.m->max_hours_per_week * static_cast<double>(((p.win.last - p.win.first).count() + 1) / 7) : 1.0;
      const double exact = hours ? round_to(p.value, 1) : p.value;
      double noisy = in_.noise(cell_id(p.win, *p.m, p.g, p.category), p.m->kind, exact, sensitivity / cell_epsilon);
      if (!hours) {
        noisy = std::clamp(std::round(noisy), 0.0, static_cast<double>(p.denominator));
        if (noisy > 0 && noisy < s_.k) {
          p.hub_reason = reason::below_k;
        } else if (noisy > 0 && static_cast<double>(p.denominator) - noisy < s_.k) {
          p.hub_reason = reason::complement_below_k;
        }
      }
      if (!p.hub_reason.empty()) continue;
      p.released = true;
      p.noisy = true;
      p.value = noisy;
    }
    return out;
  }

  // Exact values: every student is a point of their own (and so is each week of their hours), so every
  // atom is a set of students across all measures and window kinds.
  disclosure_auditor auditor(s_.k);
  std::vector<std::string> names(students_);
  for (const auto& [ref, sid] : id_) names[sid] = ref;
  for (const auto& n : names) auditor.add_point({n});
  for (std::size_t mi = 0; mi < s_.measures.size(); ++mi) {
    if (s_.measures[mi].kind != measure_kind::hours) continue;
    for (std::size_t wi = 0; wi < in_.week_data.size(); ++wi) {
      const json& wd = in_.week_data[wi];
      if (!wd.contains("m") || !wd["m"].contains(s_.measures[mi].name)) continue;
      for (const auto& r : wd["m"][s_.measures[mi].name]) {
        const auto sid = id_.at(text_at(r, 2));
        if (r[3].is_number() && r[3].get<double>() > 0 && !hour_point_.contains({mi, sid, wi}))
          hour_point_[{mi, sid, wi}] = auditor.add_point({names[sid]});
      }
    }
  }
  for (const auto& c : in_.earlier) {
    window w;
    const std::string kind = c.value("_kind", "");
    w.kind = kind == "month"          ? window_kind::month
             : kind == "year_to_date" ? window_kind::year_to_date
                                      : window_kind::week;
    w.key = c.value("_window", "");
    if (!parse_day(c.value("_first", ""), w.first) || !parse_day(c.value("_last", ""), w.last)) continue;
    const auto mit = std::find_if(s_.measures.begin(), s_.measures.end(),
                                  [&](const measure& m) { return m.name == c.value("measure", ""); });
    if (mit == s_.measures.end()) continue;  // a measure no longer configured: its students are not counted now
    group_def g;
    const std::string lvl = c.value("level", "school");
    g.lvl = lvl == "class" ? level::class_group : lvl == "leerjaar" ? level::leerjaar : level::school;
    if (c.contains("leerjaar")) g.leerjaar = std::stoi(c["leerjaar"].get<std::string>());
    g.klass = c.value("class", "");
    double ignored = 0;
    const auto mi = static_cast<std::size_t>(mit - s_.measures.begin());
    auditor.add_published(
        points_of(w, mi, members(w, mi, g, c.value("category", std::string(total_category)), ignored)));
  }
  auditor.set_combination_check(in_.combination_checks);
  counted_.assign(in_.windows.size(), std::vector<char>(students_, 0));
  unit_by_window_.assign(in_.windows.size(), {});
  for (const auto& [c, l] : class_leerjaar_) {
    units_.push_back({c, l});
    unit_size_.push_back(std::max<std::int64_t>(students_on(c, day_), 0));
  }
  for (std::size_t w = 0; w < in_.windows.size(); ++w) unit_in_window(w);  // before any check: units stay put

  std::vector<disclosure_auditor::candidate> cands;
  cands.reserve(out.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    disclosure_auditor::candidate cand;
    cand.points = points_of(out[i].win, order[i].measure, sets[i]);
    cand.denominator = out[i].denominator;
    cand.complement_rule = true;  // every kind: "all of 2B" says something about each of them
    cands.push_back(std::move(cand));
  }
  disclosure_auditor::gate_fn gate;
  if (in_.combination_checks) gate = [&](std::size_t i) { return block_check(order[i].window, order[i].g, sets[i]); };
  const auto decided = auditor.decide(cands, gate);
  for (std::size_t i = 0; i < out.size(); ++i) {
    auto& p = out[i];
    p.released = decided[i].released;
    p.hub_reason = decided[i].reason;
    if (p.released && p.m->kind == measure_kind::hours) p.value = round_to(p.value, 1);
    if (!p.released) p.value = 0;
  }
  if (s_.noise) {
    // The noise control of the attacker tests: decided on exact counts, then made noisy.
    for (auto& p : out) {
      if (!p.released) continue;
      p.value = in_.noise(cell_id(p.win, *p.m, p.g, p.category), p.m->kind, p.value, 1.0);
      p.noisy = true;
    }
  }
  return out;
}

}  // namespace

std::string group_id(const group_def& g) {
  switch (g.lvl) {
    case level::school:
      return "school";
    case level::leerjaar:
      return "leerjaar-" + std::to_string(g.leerjaar);
    case level::class_group:
      return "class-" + g.klass;
  }
  return "school";
}

std::string cell_id(const window& w, const measure& m, const group_def& g, const std::string& category) {
  return std::string(to_string(w.kind)) + "/" + w.key + "/" + m.name + "/" + group_id(g) +
         (category.empty() ? "" : "/" + category);
}

std::vector<planned_cell> plan_release(const release_input& in) {
  if (in.config == nullptr) throw std::invalid_argument("plan_release: no settings given");
  return planner(in).run();
}

}  // namespace schakel::trends
