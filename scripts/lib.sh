# Sourced by the scripts: install Debian packages and a Go toolchain when missing.
# Only the Go module proxy and Debian's archive are needed.

SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

# need_pkgs PKG...: apt-get install the packages that are not installed yet.
need_pkgs() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
}

GO_WANT=1.26
GO_TOOLCHAIN=go1.26.8

# need_go: put a Go >= $GO_WANT on PATH, fetching the toolchain from the Go
# module proxy (golang.org/toolchain) when the machine has none.
need_go() {
  if command -v go >/dev/null 2>&1; then
    local v; v=$(go env GOVERSION 2>/dev/null | sed 's/^go//')
    if [ "$(printf '%s\n%s\n' "$GO_WANT" "$v" | sort -V | head -1)" = "$GO_WANT" ]; then return 0; fi
  fi
  local arch; arch=$(dpkg --print-architecture)
  local dir="${XDG_CACHE_HOME:-$HOME/.cache}/mailsneaker/$GO_TOOLCHAIN"
  if [ ! -x "$dir/bin/go" ]; then
    need_pkgs ca-certificates curl unzip
    local proxy; proxy=$(echo "${GOPROXY:-https://proxy.golang.org}" | cut -d, -f1)
    [ "$proxy" = direct ] || [ "$proxy" = off ] && proxy=https://proxy.golang.org
    local zip; zip=$(mktemp)
    echo "fetching $GO_TOOLCHAIN from the Go module proxy" >&2
    curl -fsSL "$proxy/golang.org/toolchain/@v/v0.0.1-$GO_TOOLCHAIN.linux-$arch.zip" -o "$zip"
    rm -rf "$dir.tmp"; mkdir -p "$dir.tmp"
    unzip -q "$zip" -d "$dir.tmp"; rm -f "$zip"
    mv "$dir.tmp/golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN.linux-$arch" "$dir"; rm -rf "$dir.tmp"
    chmod +x "$dir/bin/"* "$dir/pkg/tool/"*/* 2>/dev/null || true
  fi
  export PATH="$dir/bin:$PATH"
}
