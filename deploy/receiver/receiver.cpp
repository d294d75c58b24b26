// schakel-receiver: a partner-side webhook endpoint for the demo and for integration tests.
#include <cstdlib>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "receiver_core.hpp"

int main(int argc, char** argv) {
  CLI::App app{"schakel-receiver: verifies and prints webhooks sent by a Schakel hub"};
  schakel::receiver::options opts;
  opts.keep_requests = false;  // the process reports through --out and stdout, not requests()
  std::string status_sequence;
  long delay_ms = 0;
  app.add_option("--listen", opts.listen, "host:port to listen on (port 0 = any free port)")->capture_default_str();
  app.add_option(
      "--secret", opts.secret,
      "Signing secret: whsec_<base64>, or any other value used as raw key bytes; default $SCHAKEL_WEBHOOK_SECRET");
  app.add_option("--tls-cert", opts.tls_cert, "PEM certificate chain: serve HTTPS");
  app.add_option("--tls-key", opts.tls_key, "PEM private key for --tls-cert");
  app.add_option("--client-ca", opts.client_ca,
                 "PEM CA: with --tls-cert, refuse any client (hub) without a certificate it signs");
  app.add_option("--fail-first", opts.fail_first, "answer 500 to the first N verified requests");
  app.add_option("--status-sequence", status_sequence, "statuses to answer in order after --fail-first, e.g. 500,200");
  app.add_option("--fail-rate", opts.fail_rate,
                 "then answer 500 to this fraction of verified requests, at random (a flaky partner)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--fail-seed", opts.fail_seed, "seed of --fail-rate's choice, so a run can be repeated")
      ->capture_default_str();
  app.add_option("--retry-after", opts.retry_after, "Retry-After value sent with non-2xx answers");
  app.add_option("--delay-ms", delay_ms, "wait this long before each answer (slow partner)");
  app.add_option("--ok-body-bytes", opts.ok_body_bytes, "answer 2xx with a body of this many bytes");
  app.add_option("--out", opts.out_file, "append each accepted event as one JSON line");
  app.add_option("--raw-out", opts.raw_out_file,
                 "append each request as one JSON line: every header, the body and the status answered");
  app.add_flag("--quiet", opts.quiet, "no line per event on stdout");
  app.add_option("--port-file", opts.port_file, "write the bound port to this file");
  app.add_option("--max-events", opts.max_events, "exit after this many distinct events");
  CLI11_PARSE(app, argc, argv);

  if (opts.secret.empty()) {
    if (const char* env = std::getenv("SCHAKEL_WEBHOOK_SECRET")) opts.secret = env;
  }
  if (delay_ms < 0) {
    std::cerr << "schakel-receiver: --delay-ms must be >= 0\n";
    return 2;
  }
  opts.delay = std::chrono::milliseconds(delay_ms);
  std::stringstream seq(status_sequence);
  for (std::string item; std::getline(seq, item, ',');) {
    try {
      const int status = std::stoi(item);
      if (status < 100 || status > 599) throw std::out_of_range("status");
      opts.status_sequence.push_back(static_cast<unsigned>(status));
    } catch (const std::exception&) {
      std::cerr << "schakel-receiver: --status-sequence: not an HTTP status: " << item << "\n";
      return 2;
    }
  }

  try {
    boost::asio::io_context ioc(1);
    schakel::receiver::receiver rx(ioc.get_executor(), opts);
    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int) {
      if (!ec) ioc.stop();
    });
    rx.on_max_events([&] { ioc.stop(); });
    rx.start();
    if (!opts.quiet) std::cout << "schakel-receiver listening on port " << rx.port() << std::endl;
    ioc.run();
    if (!opts.quiet) std::cout << "schakel-receiver: " << rx.distinct_events() << " distinct events" << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "schakel-receiver: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
