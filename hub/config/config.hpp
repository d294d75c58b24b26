#pragma once
/**
 * The daemon's configuration, validated once into immutable typed values. Nothing else in the hub
 * reads raw configuration text.
 */
#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "trends/settings.hpp"

#include "common/destination_guard.hpp"
#include "common/signal.hpp"

namespace schakel::config {

/** A configuration problem; what() is "<path>: <problem>", e.g. `connectors[1].token: too short`. */
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/** Whether a TLS listener asks its clients for a certificate (mutual TLS). */
enum class client_certificate_mode {
  off,       ///< no certificate is asked for
  optional,  ///< asked for; a client without one still connects (and authenticates by token)
  required,  ///< a client without a valid certificate is refused in the handshake
};

struct tls_settings {
  std::string cert_file;       ///< PEM certificate chain
  std::string key_file;        ///< PEM private key
  std::string client_ca_file;  ///< the CA (PEM) that signs client certificates; required for any mode but off
  std::string crl_file;        ///< PEM revocation list(s) of that CA; a revoked certificate fails the handshake
  client_certificate_mode client_certificates = client_certificate_mode::off;
};

struct listener {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;  ///< 0 = any free port (tests); the bound port is logged and written to data_dir/port
  std::optional<tls_settings> tls;  ///< required unless address is loopback
};

struct limit_settings {
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds read_timeout{15000};
  std::size_t max_connections = 1024;
  std::size_t max_connections_per_address = 256;  ///< so one client cannot take every connection
  std::int64_t max_outbox_depth = 1'000'000;      ///< above this ingest answers 503 + Retry-After
};

/** A watched folder of one connector instance (docs/drop-folder.md). */
struct drop_folder_settings {
  std::string path;
  std::chrono::milliseconds poll_interval{1000};
  std::chrono::milliseconds settle{2000};
  std::uint64_t max_file_bytes = 16ull << 20;  // ~10 school-years of one school; ingest needs ~60x in memory
  std::int64_t retention_days = 14;            ///< archive/ and quarantine/ keep raw exports this long
};

/**
 * BSN handling of one connector instance (docs/privacy.md). A value that is a BSN is refused at ingest
 * unless its field is declared here as a key: `pseudonymise` replaces it by the hub's keyed hash (so the
 * student is still followed), `link` does the same and marks the field as a linking key (JGZ reports).
 * Fields in `bsn_exempt` hold identifiers that merely look like a BSN (e.g. a record number).
 */
struct bsn_settings {
  std::vector<std::pair<std::string, std::string>> keys;  ///< dotted field path -> pseudonymise | link
  std::vector<std::string> exempt;                        ///< dotted field paths not scanned
};

/**
 * Which verified client certificate speaks for a connector instance: its whole subject (canonical
 * RFC 2253 form, e.g. "CN=somtoday-export,O=School"), or one of its subjectAltName DNS names
 * (lower case) or URIs.
 */
struct certificate_match {
  enum class field { subject, san_dns, san_uri };
  field by = field::subject;
  std::string value;
  bool operator==(const certificate_match&) const = default;
};

struct connector_instance {
  std::string name;    ///< instance name, used in URLs and metrics
  std::string plugin;  ///< plugin file stem, e.g. generic-json
  std::string token;   ///< bearer token for ingest (>= 24 characters); empty when a certificate is its only key
  std::optional<certificate_match> client_certificate;  ///< a certificate that authenticates it instead of the token
  nlohmann::json settings = nlohmann::json::object();   ///< handed to the plugin as JSON text
  std::optional<drop_folder_settings> drop_folder;
  bsn_settings bsn;
};

/** A processor plugin instance: reads stored signals, derives new ones (alerts). */
struct processor_instance {
  std::string name;                                    ///< unique among connectors and processors
  std::string plugin;                                  ///< plugin file stem, e.g. attendance-rules
  std::vector<std::string> inputs;                     ///< connector instances it reads; empty = all
  nlohmann::json settings = nlohmann::json::object();  ///< handed to the plugin as JSON text
};

struct subscription_filter {
  std::vector<std::string> types;    ///< exact types or prefix patterns ending in '*'; empty = all
  std::vector<std::string> domains;  ///< empty = all
  std::optional<severity> min_severity;
  std::vector<std::string> schools;    ///< BRIN (4 chars) or BRIN+vestiging (6); empty = all
  std::vector<std::string> instances;  ///< connector instances; empty = all
};

struct webhook_delivery {
  std::string url;                      ///< https://… (verified) or http:// to a loopback address only
  std::string secret;                   ///< Standard Webhooks secret, "whsec_" + base64
  std::string ca_file;                  ///< extra CA bundle for verifying the partner
  std::string client_certificate_file;  ///< PEM chain the hub presents when the partner asks (mutual TLS)
  std::string client_key_file;          ///< its private key; a private file (0600)
  /// Non-public address blocks this subscription may be delivered to (net::check_destination);
  /// the hub's own listener stays refused whatever is listed.
  std::vector<net::cidr> allow_destinations;
  bool batched = false;
  std::size_t batch_max_events = 100;
  std::chrono::milliseconds batch_linger{200};
  std::uint32_t max_attempts = 12;
  std::chrono::seconds max_age{24 * 3600};
  std::chrono::milliseconds initial_backoff{500};
  std::chrono::milliseconds max_backoff{300000};
  std::chrono::milliseconds request_timeout{10000};
  std::uint32_t lanes = 4;  ///< parallel ordered lanes; one student's events always share a lane
};

/** One pseudonym key of a partner; two may overlap while a partner moves to a new key. */
struct pseudonym_key {
  std::string id;            ///< named in events (subject.pseudonym_key), e.g. 2026
  std::string file;          ///< 32+ random bytes (raw, hex or base64), readable by the hub only
  std::string active_from;   ///< YYYY-MM-DD; "" = always
  std::string retire_after;  ///< YYYY-MM-DD, last day it is used; "" = never
};

/**
 * What a subscription may receive and why (docs/privacy.md). The privacy gate applies it to every
 * event; check-config refuses unsafe combinations before anything runs.
 */
struct privacy_policy {
  std::string identity;         ///< identified | pseudonymous | aggregate
  std::string purpose;          ///< what the partner uses it for, e.g. "M@ZL: sick-leave follow-up by the JGZ doctor"
  std::string legal_basis;      ///< AVG art. 6: consent | legal_obligation | public_task | vital_interest
  std::string health_ground;    ///< AVG art. 9 (2): "" | explicit_consent | vital_interest | health_care |
                                ///< substantial_public_interest
  std::string basis_reference;  ///< the law or agreement, e.g. "Leerplichtwet 1969 art. 21"
  std::string consent_framework = "avg";      ///< avg | wgbo: who must consent, by age (privacy/consent.hpp)
  std::vector<pseudonym_key> pseudonym_keys;  ///< required for pseudonymous
  /// partner | school: only the school's own staff systems may receive school-internal free text (content.note)
  std::string audience = "partner";
};

struct subscription {
  std::string name;
  std::string partner;
  subscription_filter filter;
  std::vector<std::string> fields;  ///< allowlist of signal field paths ("subject.class"); deny by default
  privacy_policy privacy;
  webhook_delivery delivery;
  std::string pull_token;  ///< aggregate only: the partner reads its released trends with it (GET /v1/trends)
};

/** How long the hub keeps signals (per type) and the audit trail. */
struct retention_settings {
  std::vector<std::pair<std::string, std::int64_t>> signal_days;  ///< type pattern -> days; first match wins
  std::int64_t default_signal_days = 0;                           ///< 0 = keep signals no pattern matches
  std::int64_t audit_days = 1826;                                 ///< NEN 7513: five years
};

struct privacy_settings {
  /// The hub's own key: subject references in the audit trail and consent registry, BSN hashes. Empty =
  /// <keys_dir>/hub.key, created (0600, 32 random bytes) on first start, or moved there from
  /// <data_dir>/hub.key where earlier versions kept it.
  std::string hub_key_file;
  retention_settings retention;
};

/**
 * Roles of the HTTP API (docs/access.md). `ingest` belongs to a connector instance's own token and
 * `partner` to an aggregate subscription's pull_token; the others are given to `access.tokens`.
 */
inline constexpr std::array<const char*, 5> admin_roles{"operator", "privacy_officer", "linker", "trends", "metrics"};

/** One named bearer token of the admin API; only its SHA-256 digest is kept. */
struct access_token {
  std::string name;                ///< names the holder in the audit trail
  std::vector<std::string> roles;  ///< from admin_roles
  std::string sha256;              ///< 32 raw bytes: the digest of the token
  std::optional<std::chrono::system_clock::time_point> expires;
  std::string at;  ///< where it was configured (e.g. access.tokens[1]), for messages
};

struct access_settings {
  /// Host (and Origin) names the admin API answers to, host or host:port. Empty: the listener's own
  /// names (localhost, 127.0.0.1, [::1], listen.address), with and without the bound port.
  std::vector<std::string> public_hosts;
  std::vector<std::string> trusted_proxies;  ///< CIDRs whose Forwarded / X-Forwarded-For is believed
  bool metrics_open = false;                 ///< /metrics without a token (it carries no personal data)
  std::vector<access_token> tokens;
};

/** Signed checkpoints of the audit chain (docs/privacy.md). */
struct audit_settings {
  std::int64_t checkpoint_interval_seconds = 300;
  std::string checkpoint_file;  ///< empty = <keys_dir>/audit-checkpoints.log
  /// Deprecated: overrides the node name in checkpoints only (hub_config::node is the one node name).
  std::string node;
  /// A partner that receives every signed checkpoint (only url, secret, TLS and allow_destinations
  /// apply; the timeout is request_timeout's default).
  std::optional<webhook_delivery> witness;
};

/** Which engine keeps the signal log, outbox and state (docs/storage.md). */
enum class storage_engine {
  sqlite,    ///< the embedded default: one file in data_dir
  postgres,  ///< PostgreSQL 15+; in this version only `schakel storage migrate|status` use it
};

/**
 * The `storage` section. A URL never carries a password (URLs end up in logs and process lists):
 * the password comes from a private file, read once when the configuration is loaded.
 */
struct storage_settings {
  storage_engine engine = storage_engine::sqlite;
  std::string url;            ///< postgres: postgresql://user@host:port/db?sslmode=verify-full&sslrootcert=…
  std::string password_file;  ///< where `password` came from: storage.password_file or $SCHAKEL_DATABASE_PASSWORD_FILE
  std::string password;       ///< a secret: never logged, never printed; empty = none (trust, peer, certificate)
  std::size_t pool_size = 4;  ///< connections the hub keeps open at most
};

struct hub_config {
  std::string source_file;
  /// This node's name (docs/cluster.md): `schakel serve --node`, else `node`, else the host name.
  /// Empty after loading when not configured; settle_node_name fills it in before serving.
  std::string node;
  listener listen;
  std::string data_dir;
  /// Where the hub's keys live (docs/privacy.md, "Keeping keys apart from data"): never empty after
  /// loading. Default default_keys_dir(data_dir); neither inside data_dir nor containing it, so a
  /// backup of the data directory never holds the key that reverses its BSN hashes.
  std::string keys_dir;
  std::string plugin_dir;  ///< empty = <dir of executable>/../lib/schakel/plugins
  /// Deprecated: a token named "admin_token" holding every admin role (not ingest, not partner).
  std::string admin_token;
  access_settings access;
  audit_settings audit;
  std::string log_level = "info";
  limit_settings limits;
  std::vector<connector_instance> connectors;
  std::vector<processor_instance> processors;
  std::vector<subscription> subscriptions;
  privacy_settings privacy;
  /// The `schools` section as given (schema-checked); calendar::registry_from_config reads it, with
  /// relative calendar files resolved against config_dir.
  nlohmann::json schools = nlohmann::json::array();
  std::string config_dir;                  ///< folder of the configuration file ("" for text without a file)
  std::optional<trends::settings> trends;  ///< the `trends` section, when present (docs/trends.md)
  storage_settings storage;
};

/**
 * The keys directory a config without `keys_dir` gets: a sibling of the data directory named after it,
 * "/var/lib/schakel" -> "/var/lib/schakel-keys". A sibling rather than a fixed system path, so a hub
 * (or a demo, or a test) running as an ordinary user can create it, and it is outside every backup of
 * the data directory. A relative data_dir is made absolute first ("." has no name to extend).
 * Empty when data_dir has no parent ("/"): such a config must name keys_dir itself.
 */
std::string default_keys_dir(const std::string& data_dir);

/**
 * What an operator should hear about access.tokens at `now`: expired ones (refused, like an unknown
 * token) and ones expiring within 14 days. One line each. A warning, not an error: a hub must not stop
 * taking in signals because one person's token ran out.
 */
std::vector<std::string> access_warnings(const hub_config& cfg, std::chrono::system_clock::time_point now);

/** Why `name` cannot name a node ("" when it can): 1 to 64 characters of [A-Za-z0-9._-]. */
std::string node_name_problem(std::string_view name);

/**
 * Fills in cfg.node: `flag` (from --node) when given, else the configured `node`, else the host
 * name. Returns "" when it is a valid name, else one line saying where it came from and why not.
 */
std::string settle_node_name(hub_config& cfg, const std::string& flag);

/** How to move from the deprecated admin_token to access.tokens (logged as config.admin_token_deprecated). */
extern const char* const admin_token_hint;

/** Signal types known to carry health data (AVG art. 9), as exact types or prefixes ending in '*'. */
const std::vector<std::string>& health_signal_types();

/**
 * Whether some signal type could match both `a` and `b`, each an exact type or a prefix pattern
 * ending in '*' ("nl.schakel.attendance.*", "nl.schakel.attendance.sick*", "*").
 */
bool types_may_overlap(const std::string& a, const std::string& b);

/** Whether a subscription filter may match a health-category type (no types: yes, it matches all). */
bool may_carry_health_data(const subscription_filter& filter);

/** The socket a listener binds; empty for port 0 (known only once bound: pass the bound port then). */
std::vector<net::listen_endpoint> listen_endpoints(const listener& listen);

/** The destination policy of one subscription: its allowlist and the hub's own listeners. */
net::destination_policy destination_policy_of(const webhook_delivery& delivery,
                                              std::vector<net::listen_endpoint> own_listeners);

/** What check_destination_names found: refused destinations (errors) and names that did not resolve. */
struct destination_report {
  std::vector<std::string> errors;    ///< "subscriptions[0].delivery.webhook.url: …"
  std::vector<std::string> warnings;  ///< resolution failures: DNS at deploy time may differ
};

/**
 * check-config's look at webhook host names (literal addresses are checked at load already): each
 * name is resolved (blocking, getaddrinfo) and every address is held against the subscription's
 * destination policy. serve does not do this at start: its delivery client checks each resolved
 * address at connect time instead, with the DNS of that moment.
 */
destination_report check_destination_names(const hub_config& cfg);

/**
 * Reads YAML or JSON (by content), substitutes `${VAR}` from the environment and `${file:/path}` with
 * a file's contents (trailing newline stripped), validates against schemas/config.v1.schema.json and
 * then the rules a schema cannot express. Throws config_error naming the path and the problem.
 */
hub_config load_config_file(const std::filesystem::path& file);

/** As load_config_file, from text; `origin` names the source in messages. */
hub_config load_config_text(const std::string& text, const std::string& origin);

}  // namespace schakel::config
