#include "trends/disclosure.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "trends/model.hpp"

namespace schakel::trends {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  std::uint64_t z = x + 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Bumps a generation counter; on wrap-around the marks are reset so an old mark never matches.
void next_generation(std::uint32_t& gen, std::vector<std::uint32_t>& marks) {
  if (++gen == 0) {
    std::fill(marks.begin(), marks.end(), 0);
    gen = 1;
  }
}

}  // namespace

disclosure_auditor::disclosure_auditor(int k) : k_(k) {
  if (k < 1) throw std::invalid_argument("disclosure_auditor: k must be at least 1");
}

std::size_t disclosure_auditor::add_point(std::vector<std::string> contributors) {
  std::vector<std::uint32_t> ids;
  ids.reserve(contributors.size());
  for (auto& c : contributors) {
    auto [it, inserted] = students_.try_emplace(std::move(c), static_cast<std::uint32_t>(students_.size()));
    ids.push_back(it->second);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  student_mark_.resize(students_.size(), 0);
  points_.push_back(std::move(ids));
  point_mark_.push_back(0);
  all_.resize(points_.size());
  this_call_.resize(points_.size());
  return points_.size() - 1;
}

void disclosure_auditor::add_published(const std::vector<std::size_t>& points) {
  const auto cell = to_cell(points);
  all_.commit(cell, cell_value(next_cell_), *this);
  ++next_cell_;
}

void disclosure_auditor::set_combination_check(bool on) {
  combination_check_ = on;
}

std::size_t disclosure_auditor::failing_atoms() const {
  return all_.failing(*this);
}

std::vector<disclosure_auditor::decision> disclosure_auditor::decide(const std::vector<candidate>& cells,
                                                                     const gate_fn& gate) {
  // Validate every candidate first, so a bad index leaves the auditor exactly as it was.
  std::vector<std::vector<std::uint32_t>> resolved;
  resolved.reserve(cells.size());
  for (const auto& c : cells) resolved.push_back(to_cell(c.points));

  this_call_.clear();
  const auto k = static_cast<std::int64_t>(k_);
  std::vector<decision> out(cells.size());
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const auto& c = cells[i];
    const auto& cell = resolved[i];
    auto& d = out[i];
    begin_count();
    for (auto p : cell) count_point(p);
    d.students = static_cast<std::int64_t>(counted_);

    const bool has_denominator = c.denominator >= 0;
    if ((c.needs_denominator || c.complement_rule) && !has_denominator) {
      d.reason = reason::no_enrolment;
    } else if (c.needs_denominator && c.denominator < k) {
      d.reason = reason::group_below_k;
    } else if (has_denominator && d.students > c.denominator) {
      d.reason = reason::enrolment_inconsistent;
    } else if (d.students > 0 && d.students < k) {
      d.reason = reason::below_k;
    } else if (c.complement_rule && d.students > 0 && c.denominator - d.students < k) {
      d.reason = reason::complement_below_k;
    }
    if (!d.reason.empty()) continue;

    const auto h = cell_value(next_cell_);
    // A zero cell skips the combination check: all its points are empty, so subtracting it from any
    // published sum leaves the same value, and it says of each student only "none here" about a
    // group of at least k enrolled (rule 1). It is still recorded, like any released cell.
    if (combination_check_ && d.students > 0 && !all_.admits(cell, *this)) {
      // Would the cells of this call alone expose a small atom? Then a sibling suppressed in this
      // release would become recoverable; otherwise only earlier releases make the difference.
      d.reason = this_call_.admits(cell, *this) ? reason::difference : reason::secondary;
      continue;
    }
    if (gate) {
      d.reason = gate(i);
      if (!d.reason.empty()) continue;
    }
    all_.commit(cell, h, *this);
    if (combination_check_) this_call_.commit(cell, h, *this);
    ++next_cell_;
    d.released = true;
  }
  return out;
}

disclosure_auditor::signature disclosure_auditor::cell_value(std::uint64_t ordinal) const {
  // Two independent 64-bit halves; splitmix64 is a bijection, so distinct ordinals never share a value.
  return {splitmix64(2 * ordinal), splitmix64(2 * ordinal + 1)};
}

std::vector<std::uint32_t> disclosure_auditor::to_cell(const std::vector<std::size_t>& points) {
  next_generation(point_gen_, point_mark_);
  std::vector<std::uint32_t> cell;
  cell.reserve(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto p = points[i];
    if (p >= points_.size()) {
      throw std::out_of_range("disclosure_auditor: cell point #" + std::to_string(i) + " is index " +
                              std::to_string(p) + " but only " + std::to_string(points_.size()) + " points exist");
    }
    // A point listed twice must count once: XOR-ing its cell value twice would cancel it out.
    if (point_mark_[p] == point_gen_) continue;
    point_mark_[p] = point_gen_;
    cell.push_back(static_cast<std::uint32_t>(p));
  }
  return cell;
}

void disclosure_auditor::begin_count() const {
  next_generation(student_gen_, student_mark_);
  counted_ = 0;
}

void disclosure_auditor::count_point(std::uint32_t point) const {
  for (auto s : points_[point]) {
    if (student_mark_[s] != student_gen_) {
      student_mark_[s] = student_gen_;
      ++counted_;
    }
  }
}

void disclosure_auditor::mark_cell(const std::vector<std::uint32_t>& cell) {
  next_generation(point_gen_, point_mark_);
  for (auto p : cell) point_mark_[p] = point_gen_;
}

// ---- partition ---------------------------------------------------------------------------------

void disclosure_auditor::partition::clear() {
  std::fill(sig_.begin(), sig_.end(), signature{});
  atoms_.clear();
}

void disclosure_auditor::partition::group(const std::vector<std::uint32_t>& cell) {
  scratch_.clear();
  scratch_.reserve(cell.size());
  for (auto p : cell) scratch_.emplace_back(sig_[p], p);
  std::sort(scratch_.begin(), scratch_.end(), [](const auto& x, const auto& y) {
    if (x.first.a != y.first.a) return x.first.a < y.first.a;
    if (x.first.b != y.first.b) return x.first.b < y.first.b;
    return x.second < y.second;
  });
}

// The cell's value is new, so the moved points never merge into another atom: only splits matter.
bool disclosure_auditor::partition::admits(const std::vector<std::uint32_t>& cell, disclosure_auditor& a) {
  group(cell);
  a.mark_cell(cell);
  for (std::size_t i = 0; i < scratch_.size();) {
    const auto s = scratch_[i].first;
    std::size_t j = i;
    a.begin_count();
    for (; j < scratch_.size() && scratch_[j].first == s; ++j) a.count_point(scratch_[j].second);
    // The part of the atom inside the cell becomes an atom of its own…
    if (!a.viable(a.counted_)) return false;
    if (s != signature{}) {
      // …and so does the part outside it, unless the cell takes the whole atom.
      const auto& atom = atoms_.at(s);
      if (atom.size() > j - i) {
        a.begin_count();
        for (auto p : atom) {
          if (!a.in_cell(p)) a.count_point(p);
        }
        if (!a.viable(a.counted_)) return false;
      }
    }
    i = j;
  }
  return true;
}

void disclosure_auditor::partition::commit(const std::vector<std::uint32_t>& cell, signature h, disclosure_auditor& a) {
  group(cell);
  a.mark_cell(cell);
  for (std::size_t i = 0; i < scratch_.size();) {
    const auto s = scratch_[i].first;
    const signature moved{s.a ^ h.a, s.b ^ h.b};
    std::size_t j = i;
    while (j < scratch_.size() && scratch_[j].first == s) ++j;
    std::vector<std::uint32_t> pts;
    auto it = s == signature{} ? atoms_.end() : atoms_.find(s);
    if (it != atoms_.end() && it->second.size() == j - i) {
      pts = std::move(it->second);  // the whole atom moves: reuse its list
      atoms_.erase(it);
    } else {
      if (it != atoms_.end()) std::erase_if(it->second, [&](std::uint32_t p) { return a.in_cell(p); });
      pts.reserve(j - i);
      for (std::size_t x = i; x < j; ++x) pts.push_back(scratch_[x].second);
    }
    for (auto p : pts) sig_[p] = moved;
    auto& target = atoms_[moved];
    if (target.empty()) {
      target = std::move(pts);
    } else {
      target.insert(target.end(), pts.begin(), pts.end());  // a 2^-128 collision: stay consistent
    }
    i = j;
  }
}

std::size_t disclosure_auditor::partition::failing(const disclosure_auditor& a) const {
  std::size_t n = 0;
  for (const auto& [sig, pts] : atoms_) {
    a.begin_count();
    for (auto p : pts) a.count_point(p);
    if (!a.viable(a.counted_)) ++n;
  }
  return n;
}

}  // namespace schakel::trends
