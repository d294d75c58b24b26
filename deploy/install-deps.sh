#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing and running the Schakel demo need.
# Idempotent: safe to re-run; apt-get skips what is already there.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  ca-certificates build-essential cmake ninja-build pkg-config ccache git
  clang-14 libclang-rt-14-dev lld-14 clang-format-14 clang-tidy-14
  libboost1.81-dev libboost-url1.81-dev
  nlohmann-json3-dev libvalijson-dev libssl-dev openssl libsqlite3-dev sqlite3
  libspdlog-dev libfmt-dev libyaml-cpp-dev libcli11-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  curl procps jq librsvg2-bin libpng-dev
  postgresql-15 libpq-dev  # libpq for the PostgreSQL engine; the server for its tests' throw-away clusters
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
