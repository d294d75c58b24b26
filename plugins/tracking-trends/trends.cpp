#include "trends.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

namespace schakel::plugins::tracking_trends {
namespace {

using ojson = nlohmann::ordered_json;

// Raw scores are integers in every known instrument; the margin only absorbs binary fractions.
constexpr double epsilon = 1e-9;

/** A score as JSON: whole numbers as integers, so evidence reads 15, not 15.0. */
ojson number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return static_cast<long long>(v);
  return v;
}

void put_series(ojson& ev, const series_key& k) {
  ev["instrument"] = k.instrument;
  ev["respondent"] = k.respondent;
  ev["scale"] = k.scale;
}

derived_alert at_risk(const series_key& k, const std::string& date, const measurement& m, const scale_rule& rule,
                      const settings& s) {
  derived_alert a;
  a.key = "at_risk|" + k.joined() + "|" + date;
  a.type = type_at_risk;
  a.date = date;
  a.domain = m.domain;
  a.indicator = "tracking.at_risk";
  a.severity = s.severity_at_risk();
  a.value = number(m.score);
  put_series(a.evidence, k);
  a.evidence["date"] = date;
  a.evidence["score"] = number(m.score);
  a.evidence["band"] = m.band;
  a.evidence["band_rank"] = m.band_rank;
  a.evidence["risk_rank"] = rule.risk_rank;
  if (!m.round.empty()) a.evidence["round"] = m.round;
  a.derived_from = {m.id};
  return a;
}

std::optional<derived_alert> declined(const series_key& k, const std::string& prev_date, const measurement& prev,
                                      const std::string& date, const measurement& m, const scale_rule& rule,
                                      const settings& s) {
  // A raw score and a norm score are on different scales (the export changed shape between rounds):
  // points say nothing then, so only the band, which both carry, is compared.
  const bool comparable = prev.norm_scored == m.norm_scored;
  const double worsened = !comparable ? 0 : rule.higher_is_better ? prev.score - m.score : m.score - prev.score;
  const bool by_points = comparable && worsened >= rule.decline_by - epsilon;
  // A worse band with an equal or better raw score is a change of norm group, not of the student.
  const bool by_band = m.band_rank > prev.band_rank && (worsened > epsilon || !comparable);
  if (!by_points && !by_band) return std::nullopt;
  derived_alert a;
  a.key = "declined|" + k.joined() + "|" + date;
  a.type = type_declined;
  a.date = date;
  a.domain = m.domain;
  a.indicator = "tracking.declined";
  a.severity = s.severity_declined();
  a.value = number(worsened);
  put_series(a.evidence, k);
  a.evidence["previous_date"] = prev_date;
  a.evidence["date"] = date;
  a.evidence["previous_score"] = number(prev.score);
  a.evidence["score"] = number(m.score);
  a.evidence["previous_band"] = prev.band;
  a.evidence["band"] = m.band;
  a.evidence["previous_band_rank"] = prev.band_rank;
  a.evidence["band_rank"] = m.band_rank;
  if (comparable) a.evidence["worsened_by"] = number(worsened);
  if (m.norm_scored || prev.norm_scored) {
    a.evidence["previous_value_kind"] = prev.norm_scored ? "norm_score" : "raw_score";
    a.evidence["value_kind"] = m.norm_scored ? "norm_score" : "raw_score";
  }
  a.evidence["decline_by"] = number(rule.decline_by);
  a.evidence["reason"] = by_points && by_band ? "drop_and_band" : by_points ? "drop" : "band";
  a.derived_from = {prev.id, m.id};
  return a;
}

/** One series' measurement inside a round. */
struct in_round {
  const series_key* key;
  const measurement* m;
};

struct round_group {
  std::string label;                       ///< evidence.round, or "" for a round made by its date
  std::string date;                        ///< the round's latest measurement date
  std::map<std::string, in_round> latest;  ///< per series, the latest measurement in the round
};

bool counts_as(const std::set<std::string>& listed, std::string_view domain, const series_key& k,
               const measurement& m) {
  return listed.empty() ? m.domain == domain : listed.count(k.scale) > 0;
}

/** The worst (highest band_rank) of `items`; ties go to the first in series order. */
const in_round* worst(const std::vector<const in_round*>& items) {
  const in_round* w = nullptr;
  for (const in_round* i : items) {
    if (w == nullptr || i->m->band_rank > w->m->band_rank) w = i;
  }
  return w;
}

void put_side(ojson& ev, const char* side, const in_round& i) {
  const std::string p(side);
  ev[p + side_keys[0]] = i.key->instrument;
  ev[p + side_keys[1]] = i.key->respondent;
  ev[p + side_keys[2]] = i.key->scale;
  ev[p + side_keys[3]] = number(i.m->score);
  ev[p + side_keys[4]] = i.m->band;
  ev[p + side_keys[5]] = i.m->band_rank;
}

std::optional<derived_alert> withdrawn(const std::string& round_id, const round_group& g, const settings& s) {
  const withdrawn_rule& w = s.withdrawn();
  std::vector<const in_round*> emotional;
  std::vector<const in_round*> social;
  std::vector<const in_round*> behavioural;
  for (const auto& [key, i] : g.latest) {
    if (w.respondents.count(i.key->respondent) == 0) continue;
    if (counts_as(w.emotional_scales, "emotional", *i.key, *i.m) && i.m->band_rank >= w.emotional_rank) {
      emotional.push_back(&i);
    }
    if (counts_as(w.social_scales, "social", *i.key, *i.m) && i.m->band_rank >= w.social_rank) social.push_back(&i);
    if (counts_as(w.behavioural_scales, "behavioural", *i.key, *i.m)) behavioural.push_back(&i);
  }
  if (emotional.empty() || social.empty()) return std::nullopt;
  const in_round* top_behavioural = worst(behavioural);
  if (w.behavioural_must_be_measured && top_behavioural == nullptr) return std::nullopt;
  if (w.behavioural_must_be_normal && top_behavioural != nullptr &&
      top_behavioural->m->band_rank >= w.behavioural_rank) {
    return std::nullopt;
  }
  const in_round* e = worst(emotional);
  const in_round* so = worst(social);
  derived_alert a;
  a.key = "withdrawn|" + round_id;
  a.type = type_withdrawn;
  a.date = g.date;
  a.domain = "emotional";
  a.indicator = "tracking.withdrawn";
  a.severity = s.severity_withdrawn();
  a.value = true;
  if (!g.label.empty()) a.evidence["round"] = g.label;
  a.evidence["date"] = g.date;
  put_side(a.evidence, "emotional", *e);
  put_side(a.evidence, "social", *so);
  a.evidence["behavioural_measured"] = static_cast<int>(behavioural.size());
  if (top_behavioural != nullptr) a.evidence["behavioural_band_rank"] = top_behavioural->m->band_rank;
  // What the pattern rests on: the two elevated scales and the behavioural ones found normal.
  a.derived_from = {e->m->id, so->m->id};
  for (const in_round* b : behavioural) a.derived_from.push_back(b->m->id);
  std::sort(a.derived_from.begin(), a.derived_from.end());
  a.derived_from.erase(std::unique(a.derived_from.begin(), a.derived_from.end()), a.derived_from.end());
  return a;
}

}  // namespace

std::string round_of(const std::string& date, const measurement& m) {
  return m.round.empty() ? "d:" + date : "r:" + m.round;
}

evaluation evaluate(const student_state& st, const settings& s) {
  evaluation out;
  std::vector<series_key> keys;
  keys.reserve(st.series_by_key.size());
  for (const auto& [joined, ser] : st.series_by_key) {
    auto k = series_key::split(joined);
    keys.push_back(k ? *k : series_key{});
  }

  std::map<std::string, round_group> rounds;
  std::size_t n = 0;
  for (const auto& [joined, ser] : st.series_by_key) {
    const series_key& k = keys[n++];
    if (ser.empty() || k.scale.empty()) continue;
    const scale_rule& rule = s.rule_for(k.instrument, k.scale);
    const std::string& last = ser.rbegin()->first;
    const std::string* prev_date = nullptr;
    const measurement* prev = nullptr;
    for (const auto& [date, m] : ser) {
      derived_alert r = at_risk(k, date, m, rule, s);
      out.known.insert(r.key);
      if (m.band_rank >= rule.risk_rank) {
        r.latest = date == last;
        out.holding.emplace(r.key, std::move(r));
      }
      if (prev != nullptr) {
        out.known.insert("declined|" + k.joined() + "|" + date);
        if (auto d = declined(k, *prev_date, *prev, date, m, rule, s)) {
          d->latest = date == last;
          out.holding.emplace(d->key, std::move(*d));
        }
      }
      prev_date = &date;
      prev = &m;

      round_group& g = rounds[round_of(date, m)];
      g.label = m.round;
      g.date = std::max(g.date, date);
      auto [it, fresh] = g.latest.try_emplace(joined, in_round{&k, &m});
      if (!fresh) it->second = in_round{&k, &m};  // series are in date order: the later one wins
    }
  }

  if (s.withdrawn().enabled && !rounds.empty()) {
    const auto latest = std::max_element(rounds.begin(), rounds.end(), [](const auto& a, const auto& b) {
      return a.second.date < b.second.date || (a.second.date == b.second.date && a.first < b.first);
    });
    for (const auto& [id, g] : rounds) {
      out.known.insert("withdrawn|" + id);
      if (auto w = withdrawn(id, g, s)) {
        w->latest = &g == &latest->second;
        out.holding.emplace(w->key, std::move(*w));
      }
    }
  }
  return out;
}

}  // namespace schakel::plugins::tracking_trends
