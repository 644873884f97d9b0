# Shared by scripts/run and scripts/test: make .venv and install the project when it changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11 or newer is needed (found: $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv"
  "$PYTHON" -m venv .venv
fi
ensure_installed() {
  # $1: the extras to install ("" or "[dev]"); reinstall only when pyproject.toml changed.
  local extras="$1" stamp=".venv/.installed${1//[^a-z]/}"
  local want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing the project${extras} into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extras}" \
      2> >(grep -v -E "^WARNING: Location .* is ignored" >&2)
    echo "$want" > "$stamp"
  fi
}
