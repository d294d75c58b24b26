#include "attacker.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>

namespace schakel::trends::attack {

using nlohmann::json;

settings test_settings(int k) {
  settings s;
  s.k = k;
  measure a;
  a.name = absent;
  a.kind = measure_kind::students;
  a.domain = "attendance";
  a.types = {"nl.schakel.attendance.absence"};
  measure h = a;
  h.name = absence_hours;
  h.kind = measure_kind::hours;
  measure r = a;
  r.name = reason_measure;
  r.kind = measure_kind::distribution;
  r.field = "reason";
  r.categories = {"sick", "authorised", "unauthorised"};
  s.measures = {a, h, r};
  return s;
}

// ---------------------------------------------------------------------------------------------
// Ground truth

int school_history::enrol(const std::string& klass, days from) {
  placements.push_back({{from, klass}});
  return static_cast<int>(placements.size()) - 1;
}

std::vector<int> school_history::enrol_many(const std::string& klass, days from, int count) {
  std::vector<int> ids;
  for (int i = 0; i < count; ++i) ids.push_back(enrol(klass, from));
  return ids;
}

void school_history::place(int student, const std::string& klass, days from) {
  auto& p = placements.at(static_cast<std::size_t>(student));
  p.emplace_back(from, klass);
  std::stable_sort(p.begin(), p.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

std::string school_history::class_on(int student, days d) const {
  std::string klass;
  for (const auto& [from, c] : placements.at(static_cast<std::size_t>(student)))
    if (from <= d) klass = c;
  return klass;
}

std::set<int> school_history::roster(const std::string& klass, days d) const {
  std::set<int> out;
  for (std::size_t s = 0; s < placements.size(); ++s)
    if (class_on(static_cast<int>(s), d) == klass) out.insert(static_cast<int>(s));
  return out;
}

json school_history::enrolment() const {
  std::set<days> changes;
  for (const auto& p : placements)
    for (const auto& [from, c] : p) changes.insert(from);
  json out = json::object();
  for (const auto& [klass, lj] : class_leerjaar) {
    json hist = json::array();
    std::int64_t last = -1;
    for (const days d : changes) {
      const auto n = static_cast<std::int64_t>(roster(klass, d).size());
      if (n != last) hist.push_back({{"from", format_day(d)}, {"students", n}});
      last = n;
    }
    out[klass] = {{"leerjaar", lj}, {"history", hist}};
  }
  return out;
}

std::string moment(days d, int minute) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "T%02d:%02d:00Z", minute / 60 % 24, minute % 60);
  return format_day(d) + buf;
}

days day_of(const std::string& observed) {
  days d{};
  if (!parse_day(observed.substr(0, 10), d)) throw std::invalid_argument("bad moment " + observed);
  return d;
}

namespace {
const measure& measure_named(const settings& s, const std::string& name) {
  for (const auto& m : s.measures)
    if (m.name == name) return m;
  throw std::invalid_argument("no measure " + name);
}
}  // namespace

json school_history::week_data(std::size_t i, const settings& s) const {
  const days monday = weeks.at(i);
  json m = json::object();
  for (const auto& mm : s.measures) m[mm.name] = json::array();
  for (const auto& sig : signals) {
    const days d = day_of(sig.observed);
    if (d < monday || d > monday + days::duration{6}) continue;
    const std::string klass = class_on(sig.student, d);
    const int lj = class_leerjaar.at(klass);
    const std::string ref = "s" + std::to_string(sig.student);
    const measure& mm = measure_named(s, sig.measure);
    switch (mm.kind) {
      case measure_kind::students:
        m[mm.name].push_back(json::array({klass, lj, ref, 1, sig.observed}));
        break;
      case measure_kind::hours:
        m[mm.name].push_back(json::array({klass, lj, ref, sig.hours, sig.observed}));
        break;
      case measure_kind::distribution:
        m[mm.name].push_back(json::array({klass, lj, ref, sig.category, sig.observed}));
        break;
    }
  }
  return json{{"m", m}};
}

// ---------------------------------------------------------------------------------------------
// The driver

json earlier_cell(const planned_cell& c) {
  json out = {{"measure", c.m->name},           {"level", std::string(to_string(c.g.lvl))},
              {"status", "released"},           {"value", c.value},
              {"denominator", c.denominator},   {"_kind", std::string(to_string(c.win.kind))},
              {"_window", c.win.key},           {"_first", format_day(c.win.first)},
              {"_last", format_day(c.win.last)}};
  if (c.m->kind == measure_kind::distribution) out["category"] = c.category;
  if (c.g.lvl != level::school) out["leerjaar"] = std::to_string(c.g.leerjaar);
  if (c.g.lvl == level::class_group) out["class"] = c.g.klass;
  if (c.noisy) out["noisy"] = true;
  return out;
}

release_log run_releases(const school_history& h, const settings& s, const run_options& o) {
  release_log log;
  const json enrolment = h.enrolment();
  std::vector<json> week_data;
  std::vector<json> earlier;
  for (std::size_t i = 0; i < h.weeks.size(); ++i) {
    week_data.push_back(h.week_data(i, s));
    release_input in;
    in.config = &s;
    in.weeks.assign(h.weeks.begin(), h.weeks.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    in.week_data = week_data;
    in.enrolment = enrolment;
    in.earlier = earlier;
    in.windows = windows_closing(h.weeks[i], s.windows, s.school_year_start);
    in.noise = o.noise;
    in.combination_checks = o.combination_checks;
    in.noise_decides_on_exact = o.noise_decides_on_exact;
    auto cells = plan_release(in);
    for (const auto& c : cells)
      if (c.released) earlier.push_back(earlier_cell(c));
    log.releases.push_back({h.weeks[i], std::move(cells)});
  }
  return log;
}

// ---------------------------------------------------------------------------------------------
// Ground truth of one window: who counts where (docs/trends.md; release_plan.hpp)

namespace {

struct in_window {
  std::string latest;  ///< the moment of the student's latest row of any measure: it names their class
  std::string klass;
  int leerjaar = 0;
  struct of_measure {
    double hours = 0;
    std::string latest;  ///< distribution: the latest row's moment and category
    std::string category;
  };
  std::map<std::string, of_measure> measures;
};

std::map<int, in_window> window_view(const school_history& h, const window& w) {
  std::map<int, in_window> out;
  for (const auto& sig : h.signals) {
    const days d = day_of(sig.observed);
    if (d < w.first || d > w.last) continue;
    auto& s = out[sig.student];
    if (sig.observed > s.latest) {
      s.latest = sig.observed;
      s.klass = h.class_on(sig.student, d);
      s.leerjaar = h.class_leerjaar.at(s.klass);
    }
    auto& m = s.measures[sig.measure];
    m.hours += sig.hours;
    if (sig.observed > m.latest) {
      m.latest = sig.observed;
      m.category = sig.category;
    }
  }
  return out;
}

bool in_group(const in_window& s, const group_def& g) {
  switch (g.lvl) {
    case level::school:
      return true;
    case level::leerjaar:
      return s.leerjaar == g.leerjaar;
    case level::class_group:
      return s.klass == g.klass;
  }
  return false;
}

struct cell_truth {
  std::set<int> members;
  double value = 0;
};

cell_truth truth_of(const std::map<int, in_window>& view, const measure& m, const group_def& g,
                    const std::string& category) {
  cell_truth t;
  for (const auto& [id, s] : view) {
    if (!in_group(s, g)) continue;
    const auto it = s.measures.find(m.name);
    if (it == s.measures.end()) continue;
    switch (m.kind) {
      case measure_kind::students:
        t.members.insert(id);
        break;
      case measure_kind::hours:
        t.value += it->second.hours;
        if (it->second.hours > 0) t.members.insert(id);
        break;
      case measure_kind::distribution:
        if (category == "total" || it->second.category == category) t.members.insert(id);
        break;
    }
  }
  if (m.kind != measure_kind::hours) t.value = static_cast<double>(t.members.size());
  return t;
}

std::int64_t enrolled_in(const school_history& h, const group_def& g, days d) {
  std::int64_t n = 0;
  for (const auto& [klass, lj] : h.class_leerjaar) {
    if (g.lvl == level::leerjaar && lj != g.leerjaar) continue;
    if (g.lvl == level::class_group && klass != g.klass) continue;
    n += static_cast<std::int64_t>(h.roster(klass, d).size());
  }
  return n;
}

}  // namespace

std::set<int> cell_members(const school_history& h, const window& w, const measure& m, const group_def& g,
                           const std::string& category) {
  return truth_of(window_view(h, w), m, g, category).members;
}

school_history with_hypothetical_students(const school_history& h) {
  school_history world = h;
  std::map<int, std::vector<signal>> own;
  for (const auto& sig : h.signals) own[sig.student].push_back(sig);
  const auto add = [&](const std::vector<std::pair<days, std::string>>& placement, std::vector<signal> signals) {
    const int id = static_cast<int>(world.placements.size());
    world.placements.push_back(placement);
    for (auto& sig : signals) {
      sig.student = id;
      world.signals.push_back(std::move(sig));
    }
  };
  static const char* const categories[] = {"sick", "authorised", "unauthorised"};
  for (std::size_t s = 0; s < h.placements.size(); ++s) {
    const auto& placement = h.placements[s];
    const auto& signals = own[static_cast<int>(s)];
    add(placement, {});                                 // silent
    for (const auto& [klass, lj] : h.class_leerjaar) {  // the same, in another class throughout
      auto moved = placement;
      bool other = false;
      for (auto& [from, c] : moved)
        if (!c.empty()) {
          other = other || c != klass;
          c = klass;
        }
      if (other) add(moved, signals);
    }
    for (const days monday : h.weeks) {
      // Moved to another class from this Monday on, with or without an absence there that week: a
      // student counted in one class can turn up counted in another.
      const std::string then = h.class_on(static_cast<int>(s), monday);
      for (const auto& [klass, lj] : h.class_leerjaar) {
        if (then.empty() || klass == then) continue;
        auto moved = placement;
        moved.emplace_back(monday, klass);
        add(moved, signals);
        auto more = signals;
        more.push_back({static_cast<int>(s), moment(monday + days::duration{2}, 23 * 60 + 59), absent, 0, ""});
        add(moved, more);
      }
      const days sunday = monday + days::duration{6};
      std::vector<signal> without;  // that week's absences left out
      for (const auto& sig : signals)
        if (day_of(sig.observed) < monday || day_of(sig.observed) > sunday) without.push_back(sig);
      if (without.size() != signals.size()) add(placement, without);
      // One more absence that week (late on Wednesday, after any real one), if enrolled then.
      const days wednesday = monday + days::duration{2};
      const int student = static_cast<int>(s);
      if (h.class_on(student, wednesday).empty()) continue;
      const std::string at = moment(wednesday, 23 * 60 + 59);
      auto plain = signals;
      plain.push_back({student, at, absent, 0, ""});
      add(placement, plain);
      for (const char* category : categories) {
        auto more = plain;
        more.push_back({student, at, absence_hours, 2, ""});
        more.push_back({student, at, reason_measure, 0, category});
        add(placement, more);
      }
    }
  }
  return world;
}

observed_run observe(const school_history& h, const settings& s, const release_log& log, exposure e) {
  observed_run out;
  out.oracle.k = s.k;
  const school_history world = with_hypothetical_students(h);
  const int real = static_cast<int>(h.placements.size());
  for (int i = 0; i < static_cast<int>(world.placements.size()); ++i)
    (i < real ? out.oracle.students : out.oracle.hypothetical).push_back(i);
  const auto real_only = [&](const std::set<int>& members) {
    return std::set<int>(members.begin(), members.lower_bound(real));
  };
  for (const auto& r : log.releases) {
    const days last = r.monday + days::duration{6};
    for (const auto& [klass, lj] : h.class_leerjaar) {
      oracle_roster ro;
      ro.name = "roster " + klass + " on " + format_day(last);
      ro.members = world.roster(klass, last);
      ro.enrolled = static_cast<std::int64_t>(real_only(ro.members).size());
      out.oracle.rosters.push_back(std::move(ro));
    }
    std::map<std::string, std::map<int, in_window>> views, real_views;
    for (const auto& c : r.cells) {
      const std::string wkey = std::string(to_string(c.win.kind)) + "/" + c.win.key;
      if (!views.contains(wkey)) {
        views[wkey] = window_view(world, c.win);
        real_views[wkey] = window_view(h, c.win);
      }
      const auto t = truth_of(real_views[wkey], *c.m, c.g, c.category);
      oracle_cell oc;
      oc.name = cell_id(c.win, *c.m, c.g, c.category);
      oc.released = c.released;
      oc.counts_students = c.m->kind != measure_kind::hours;
      oc.value = c.value;
      oc.members = truth_of(views[wkey], *c.m, c.g, c.category).members;
      oc.enrolled = enrolled_in(h, c.g, c.win.last);
      if (!c.released)
        oc.partner_reason = e == exposure::hub_reason ? std::string(c.hub_reason) : std::string("suppressed");
      if (c.released && !c.noisy) {
        if (std::abs(c.value - t.value) > 1e-9)
          out.disagreements.push_back(oc.name + ": released " + std::to_string(c.value) + ", ground truth " +
                                      std::to_string(t.value));
        if (c.denominator != oc.enrolled)
          out.disagreements.push_back(oc.name + ": denominator " + std::to_string(c.denominator) + ", enrolled " +
                                      std::to_string(oc.enrolled));
      }
      out.oracle.cells.push_back(std::move(oc));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The oracle

namespace {

/** Exact linear algebra modulo the Mersenne prime 2^61-1: the equations have 0/1 coefficients and
 *  small integer values, so a vector lies in their row space over the rationals exactly when it does
 *  modulo this prime, barring a minor divisible by it (none is anywhere near that size here). */
constexpr std::uint64_t prime = (std::uint64_t{1} << 61) - 1;

std::uint64_t mul(std::uint64_t a, std::uint64_t b) {
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  std::uint64_t r = static_cast<std::uint64_t>(p & prime) + static_cast<std::uint64_t>(p >> 61);
  if (r >= prime) r -= prime;
  return r;
}

std::uint64_t inverse(std::uint64_t a) {
  std::uint64_t result = 1, base = a, e = prime - 2;
  while (e) {
    if (e & 1) result = mul(result, base);
    base = mul(base, base);
    e >>= 1;
  }
  return result;
}

/** A row space, kept so that each row is 1 at its pivot and 0 at the pivots of the rows before it. */
class row_space {
 public:
  explicit row_space(std::size_t width) : width_(width) {}

  /** Adds `v` to the space; no-op when it is already in it. */
  void add(std::vector<std::uint64_t> v) {
    reduce(v);
    const auto it = std::find_if(v.begin(), v.end(), [](std::uint64_t x) { return x != 0; });
    if (it == v.end()) return;
    const std::size_t pivot = static_cast<std::size_t>(it - v.begin());
    const std::uint64_t inv = inverse(v[pivot]);
    for (auto& x : v) x = mul(x, inv);
    rows_.push_back({pivot, std::move(v)});
  }

  bool contains(std::vector<std::uint64_t> v) const {
    reduce(v);
    return std::all_of(v.begin(), v.end(), [](std::uint64_t x) { return x == 0; });
  }

  std::size_t width() const { return width_; }

 private:
  void reduce(std::vector<std::uint64_t>& v) const {
    for (const auto& [pivot, row] : rows_) {
      if (v[pivot] == 0) continue;
      const std::uint64_t f = prime - v[pivot];
      for (std::size_t j = 0; j < width_; ++j)
        if (row[j]) v[j] = (v[j] + mul(f, row[j])) % prime;
    }
  }

  std::size_t width_;
  std::vector<std::pair<std::size_t, std::vector<std::uint64_t>>> rows_;
};

using bits = std::vector<std::uint64_t>;

bool test_bit(const bits& b, std::size_t i) {
  return (b[i / 64] >> (i % 64)) & 1;
}
void set_bit(bits& b, std::size_t i) {
  b[i / 64] |= std::uint64_t{1} << (i % 64);
}

/** An equation: the atoms (by index) whose sizes add up to `value`. */
struct equation {
  std::string name;
  bits atoms;
  std::int64_t value = 0;
};

std::string plural(std::int64_t n) {
  return std::to_string(n) + (n == 1 ? " student" : " students");
}

}  // namespace

std::vector<leak> find_leaks(const oracle_input& in) {
  std::vector<leak> leaks;
  const int k = in.k;

  // Atoms. Fine atoms separate students by every set the oracle knows of (all cells, rosters), so
  // that every cell, released or not, is a union of them; the partner's own atoms are coarser
  // (by released cells and rosters, or by released cells alone), each a union of fine atoms.
  const std::size_t n_sets = in.cells.size() + in.rosters.size();
  const std::size_t words = (n_sets + 63) / 64;
  std::map<int, bits> signature_of;  // student -> the sets they are in
  for (const int s : in.students) signature_of[s].assign(words, 0);
  for (const int s : in.hypothetical) signature_of[s].assign(words, 0);
  const auto mark = [&](int s, std::size_t set) {
    if (const auto it = signature_of.find(s); it != signature_of.end()) set_bit(it->second, set);
  };
  for (std::size_t c = 0; c < in.cells.size(); ++c)
    for (const int s : in.cells[c].members) mark(s, c);
  for (std::size_t r = 0; r < in.rosters.size(); ++r)
    for (const int s : in.rosters[r].members) mark(s, in.cells.size() + r);
  std::map<bits, std::int64_t> fine;  // signature over all sets -> students with it (ground truth)
  for (const int s : in.students) ++fine[signature_of.at(s)];
  // Hypothetical students: nobody has their patterns, but the partner cannot rule them out.
  for (const int s : in.hypothetical) fine.try_emplace(signature_of.at(s), 0);
  std::vector<bits> signature;
  std::vector<std::int64_t> size;  // ground truth
  for (const auto& [sig, n] : fine) {
    signature.push_back(sig);
    size.push_back(n);
  }
  const std::size_t n_atoms = signature.size();
  const std::size_t atom_words = (n_atoms + 63) / 64;
  // The atoms in set `i` (a cell's index, or cells.size() + a roster's).
  const auto atoms_in = [&](std::size_t i) {
    bits b(atom_words, 0);
    for (std::size_t a = 0; a < n_atoms; ++a)
      if (test_bit(signature[a], i)) set_bit(b, a);
    return b;
  };

  // The equations the partner holds.
  std::vector<equation> eqs;
  for (std::size_t c = 0; c < in.cells.size(); ++c) {
    const auto& cell = in.cells[c];
    if (!cell.released) continue;
    if (cell.counts_students)
      eqs.push_back({cell.name, atoms_in(c), static_cast<std::int64_t>(cell.value)});
    else if (cell.value == 0)  // no hours at all: nobody in the group has any
      eqs.push_back({cell.name, atoms_in(c), 0});
  }
  for (std::size_t r = 0; r < in.rosters.size(); ++r)
    eqs.push_back({in.rosters[r].name, atoms_in(in.cells.size() + r), in.rosters[r].enrolled});

  // Non-negativity: the atoms of a zero equation are empty; an equation whose atoms include another's
  // with the same value has its other atoms empty. Repeat until nothing changes. This is what rules
  // out hypothetical patterns: a class released with 0 has nobody counted in it.
  bits zero(atom_words, 0);
  const auto live = [&](const bits& b) {
    bits out = b;
    for (std::size_t w = 0; w < atom_words; ++w) out[w] &= ~zero[w];
    return out;
  };
  for (bool changed = true; changed;) {
    changed = false;
    std::vector<bits> lives;
    for (const auto& e : eqs) lives.push_back(live(e.atoms));
    const auto mark_zero = [&](const bits& b) {
      for (std::size_t w = 0; w < atom_words; ++w)
        if (b[w] & ~zero[w]) {
          zero[w] |= b[w];
          changed = true;
        }
    };
    for (std::size_t a = 0; a < eqs.size(); ++a) {
      if (eqs[a].value == 0) mark_zero(lives[a]);
      for (std::size_t b = 0; b < eqs.size(); ++b) {
        if (a == b || eqs[a].value != eqs[b].value) continue;
        bool subset = true;
        for (std::size_t w = 0; w < atom_words && subset; ++w) subset = (lives[a][w] & ~lives[b][w]) == 0;
        if (!subset) continue;
        bits rest = lives[b];
        for (std::size_t w = 0; w < atom_words; ++w) rest[w] &= ~lives[a][w];
        mark_zero(rest);
      }
    }
  }

  // The row space of the equations over the atoms not known to be empty (the others are 0, so they
  // drop out of every equation and every question). Equal equations are added once.
  std::vector<std::size_t> column(n_atoms, n_atoms);
  std::size_t n_live = 0;
  for (std::size_t i = 0; i < n_atoms; ++i)
    if (!test_bit(zero, i)) column[i] = n_live++;
  row_space space(n_live);
  const auto vec = [&](const bits& b) {
    std::vector<std::uint64_t> v(n_live, 0);
    for (std::size_t i = 0; i < n_atoms; ++i)
      if (column[i] < n_live && test_bit(b, i)) v[column[i]] = 1;
    return v;
  };
  std::set<bits> added;
  for (const auto& e : eqs)
    if (added.insert(live(e.atoms)).second) space.add(vec(e.atoms));

  const auto truth = [&](const bits& b) {
    std::int64_t n = 0;
    for (std::size_t i = 0; i < n_atoms; ++i)
      if (test_bit(b, i)) n += size[i];
    return n;
  };

  // 1. The partner's atoms that lie in a released cell: by released cells and rosters, and by
  // released cells alone (their unions over rosters: who was counted where, whatever their class).
  std::map<bits, bits> partner_atoms;  // signature over released cells (and rosters) -> fine atoms
  for (const bool with_rosters : {true, false})
    for (std::size_t i = 0; i < n_atoms; ++i) {
      bits coarse(words, 0);
      bool in_released = false;
      for (std::size_t c = 0; c < in.cells.size(); ++c)
        if (in.cells[c].released && test_bit(signature[i], c)) {
          set_bit(coarse, c);
          in_released = true;
        }
      if (!in_released) continue;
      for (std::size_t r = 0; r < in.rosters.size() && with_rosters; ++r)
        if (test_bit(signature[i], in.cells.size() + r)) set_bit(coarse, in.cells.size() + r);
      coarse.push_back(with_rosters);  // the two kinds of atoms never merge
      auto& fine = partner_atoms[coarse];
      if (fine.empty()) fine.assign(atom_words, 0);
      set_bit(fine, i);
    }
  std::set<bits> reported;  // the same students, found both ways, are one leak
  for (const auto& [coarse, fine] : partner_atoms) {
    const std::int64_t n = truth(fine);
    if (n < 1 || n >= k || reported.contains(fine) || !space.contains(vec(fine))) continue;
    reported.insert(fine);
    std::string where;
    for (std::size_t c = 0; c < in.cells.size(); ++c)
      if (test_bit(coarse, c)) where += (where.empty() ? "" : ", ") + in.cells[c].name;
    leak l{leak::kind::atom, where, ""};
    l.text = "atom of " + plural(n) + " determined: exactly the students in {" + where + "}" +
             (coarse.back() ? " and their rosters" : "");
    leaks.push_back(std::move(l));
  }

  // 2. Every cell, released or not.
  for (std::size_t i = 0; i < in.cells.size(); ++i) {
    const auto& c = in.cells[i];
    const bits b = atoms_in(i);
    const std::int64_t n = truth(b);
    if (n < 1) continue;
    const bool few = n < k;
    const bool nearly_all = c.enrolled >= 0 && c.enrolled - n < k;
    if (!few && !nearly_all) continue;
    if (!space.contains(vec(b))) continue;
    const std::string what = c.counts_students ? "" : " (students with hours)";
    if (few)
      leaks.push_back({leak::kind::few, c.name,
                       c.name + what + " determined: " + plural(n) + (c.released ? "" : " (suppressed cell)")});
    else
      leaks.push_back({leak::kind::complement, c.name,
                       c.name + what + " determined: " + plural(n) + " of " + std::to_string(c.enrolled) + " enrolled" +
                           (c.released ? "" : " (suppressed cell)")});
  }

  // 3. Reasons that state a range.
  for (const auto& c : in.cells) {
    if (c.released) continue;
    if (c.partner_reason == reason::below_k)
      leaks.push_back({leak::kind::reason, c.name, c.name + " shows \"below_k\": 1.." + std::to_string(k - 1)});
    else if (c.partner_reason == reason::complement_below_k)
      leaks.push_back({leak::kind::reason, c.name,
                       c.name + " shows \"complement_below_k\": all but fewer than " + std::to_string(k)});
  }
  return leaks;
}

std::string describe(const std::vector<leak>& leaks, std::size_t at_most) {
  std::ostringstream out;
  out << leaks.size() << " leak(s)";
  for (std::size_t i = 0; i < leaks.size() && i < at_most; ++i) out << "\n  - " << leaks[i].text;
  if (leaks.size() > at_most) out << "\n  ...";
  return out.str();
}

std::string describe(const release_log& log) {
  std::ostringstream out;
  for (const auto& r : log.releases)
    for (const auto& c : r.cells) {
      out << "\n  " << cell_id(c.win, *c.m, c.g, c.category) << ": ";
      if (c.released)
        out << c.value << " of " << c.denominator;
      else
        out << "suppressed (" << c.hub_reason << ")";
    }
  return out.str();
}

}  // namespace schakel::trends::attack
