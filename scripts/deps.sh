# Installs the Debian packages the build, the tests and the benchmark need,
# only when one is missing. Sourced by run-tests.sh and run-bench.sh.
DF_PACKAGES="cmake make gcc pkg-config libcunit1-dev valgrind python3-twisted
  libuv1-dev libc-ares-dev dnsmasq-base libsqlite3-dev nats-server libnats-dev
  doxygen clang-format clang libclang-rt-14-dev"

df_install_deps() {
  local missing=""
  for pkg in $DF_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" ||
      missing="$missing $pkg"
  done
  [ -z "$missing" ] && return 0
  echo "installing:$missing"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing
}
