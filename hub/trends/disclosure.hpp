#pragma once
/**
 * Disclosure control for regional trends (issue 7): decides which cells of a release may be published
 * so that no partner can learn anything about fewer than k students — not from one cell, not by
 * subtracting cells of one release (a class from its leerjaar or school), and not by subtracting
 * releases (year to date at week n minus year to date at week n-1).
 *
 * The releaser (release_plan.hpp) makes every student a point of their own, so atoms are sets of
 * students across all measures and window kinds; the class also works with coarser points.
 *
 * Model. Every measure is a family of *base points*; each point is a set of students (the hub's
 * pseudonyms) who contribute to it, and every cell is a union of points whose value is the sum over
 * them. A reader who knows the published cells can form any linear combination of them, so the finest
 * thing they can learn is the total of an *atom*: the points that belong to exactly the same published
 * cells. The rule: every atom (of points in at least one published cell) has 0 distinct contributors
 * or at least k. The atoms are a conservative bound — not every atom's total is always recoverable —
 * which is the side to err on.
 *
 * Cost. Each point carries a 128-bit signature: the XOR over the published cells containing it of a
 * random-looking value derived (splitmix64) from the cell's ordinal, so it does not depend on the order
 * in which cells arrive. Points with equal signatures form an atom (two different cell sets collide
 * with probability 2^-128). A candidate only splits the atoms it touches, so deciding it costs about
 * the contributor entries of those atoms, not of the whole history.
 */
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace schakel::trends {

/**
 * Decides, cell by cell, what a release may publish. One auditor per (partner, school, measure) family
 * of points: the caller adds the points, then the cells published in earlier releases, then decides
 * the candidates of this release. Not thread-safe; copyable (a copy is an independent what-if).
 */
class disclosure_auditor {
 public:
  /** `k` >= 1 (config enforces >= 5); throws std::invalid_argument otherwise. */
  explicit disclosure_auditor(int k);

  /**
   * Adds a base point and returns its index (0, 1, 2, … in order of adding). Contributors are opaque
   * student keys; duplicates in the list count once. Points may be added between decide() calls.
   */
  std::size_t add_point(std::vector<std::string> contributors);

  /**
   * Records a cell released earlier: part of what readers already know. Duplicate indices count once;
   * an index that is not a point throws std::out_of_range. No check is made: history is a fact.
   */
  void add_published(const std::vector<std::size_t>& points);

  /** A cell this release would like to publish. */
  struct candidate {
    std::vector<std::size_t> points;
    std::int64_t denominator = -1;  ///< enrolled students of the group; -1 = unknown
    bool needs_denominator = true;  ///< false: no enrolment rules (then denominator may be -1)
    bool complement_rule = false;   ///< a count "students with X": if fewer than k lack X, it tells about all
  };

  struct decision {
    bool released = false;
    std::string_view reason;    ///< one of model.hpp's reason:: constants when suppressed; empty when released
    std::int64_t students = 0;  ///< distinct contributors of the cell (internal; never published when suppressed)
  };

  /**
   * Decides candidates IN ORDER (the caller orders coarse first: school, leerjaar, class); one decision
   * per candidate, same order. Each candidate sees the cells published earlier plus the candidates
   * released before it in this call; released ones stay published for later calls. Rules, the first
   * that fails gives the reason:
   *  1. needs_denominator and denominator < 0 → no_enrolment; denominator < k → group_below_k;
   *     (complement_rule without a denominator is also no_enrolment: the rule cannot be checked)
   *  2. students > denominator (when a denominator is given) → enrolment_inconsistent;
   *  3. 0 < students < k → below_k;
   *  4. complement_rule, students > 0 and denominator - students < k → complement_below_k;
   *  5. combination check (if on): publishing it would leave an atom with 1..k-1 contributors →
   *     `secondary` when the cells of this call alone already expose such an atom (a suppressed sibling
   *     would be recoverable), otherwise `difference` (only together with earlier releases).
   * Only atoms the candidate changes are judged: an atom that was already too small in the history
   * (e.g. data corrected after a release) is not made worse by a cell that leaves it whole.
   * `gate`, when given, is asked last about each candidate that passed rules 1-5 (by its index): a
   * non-empty answer suppresses it with that reason; an empty one releases it (the gate then counts it
   * as released). It carries checks the auditor cannot see, such as the release's blocks.
   * Throws std::out_of_range for a point index that does not exist (before deciding anything).
   */
  using gate_fn = std::function<std::string_view(std::size_t candidate)>;
  std::vector<decision> decide(const std::vector<candidate>& cells, const gate_fn& gate = {});

  /**
   * Whether rule 5 is applied (default true). With noise the caller turns it off: every released value
   * is noisy then, and differences of noisy values are protected by the noise and the budget.
   * Released cells are still recorded as published, so turning it back on stays sound.
   */
  void set_combination_check(bool on);

  /** Atoms of the published cells that have 1..k-1 contributors; 0 for a sound history. O(all points). */
  std::size_t failing_atoms() const;

  int k() const { return k_; }
  std::size_t point_count() const { return points_.size(); }
  std::size_t published_count() const { return next_cell_; }

 private:
  /** 128-bit signature of a point: which published cells contain it, hashed. {0,0} = in none. */
  struct signature {
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    friend bool operator==(const signature&, const signature&) = default;
  };
  struct signature_hash {
    std::size_t operator()(const signature& s) const noexcept {
      return static_cast<std::size_t>(s.a ^ (s.b * 0x9E3779B97F4A7C15ULL));
    }
  };

  /** Points grouped into atoms by the cells of one view (all published, or only this call's). */
  class partition {
   public:
    void resize(std::size_t points) { sig_.resize(points); }
    void clear();
    /** Whether adding a cell (deduplicated points) leaves every atom it splits at 0 or >= k contributors. */
    bool admits(const std::vector<std::uint32_t>& cell, disclosure_auditor& a);
    void commit(const std::vector<std::uint32_t>& cell, signature h, disclosure_auditor& a);
    std::size_t failing(const disclosure_auditor& a) const;

   private:
    /** The cell's points sorted by their current signature, so each run is one touched atom. */
    void group(const std::vector<std::uint32_t>& cell);

    std::vector<signature> sig_;                                                       // per point
    std::unordered_map<signature, std::vector<std::uint32_t>, signature_hash> atoms_;  // covered only
    std::vector<std::pair<signature, std::uint32_t>> scratch_;
  };

  signature cell_value(std::uint64_t ordinal) const;
  std::vector<std::uint32_t> to_cell(const std::vector<std::size_t>& points);
  // Distinct counting: begin_count(), then count_point() for each point; counted_ is the result.
  void begin_count() const;
  void count_point(std::uint32_t point) const;
  void mark_cell(const std::vector<std::uint32_t>& cell);  // point_mark_: which points are in the cell
  bool in_cell(std::uint32_t point) const { return point_mark_[point] == point_gen_; }
  bool viable(std::size_t contributors) const {
    return contributors == 0 || contributors >= static_cast<std::size_t>(k_);
  }

  int k_;
  bool combination_check_ = true;
  std::uint64_t next_cell_ = 0;  // ordinal of the next published cell
  std::unordered_map<std::string, std::uint32_t> students_;
  std::vector<std::vector<std::uint32_t>> points_;  // sorted, unique student ids per point
  partition all_;                                   // every published cell
  partition this_call_;                             // only cells released in the current decide()
  // Scratch for distinct counting and cell membership: a slot holds the generation that last marked it,
  // so clearing is one increment. Mutable: counting is logically const.
  mutable std::vector<std::uint32_t> student_mark_;
  mutable std::uint32_t student_gen_ = 0;
  mutable std::size_t counted_ = 0;
  std::vector<std::uint32_t> point_mark_;
  std::uint32_t point_gen_ = 0;
};

}  // namespace schakel::trends
