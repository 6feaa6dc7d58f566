#!/usr/bin/env bash
# A screenshot of the weekly digest as a browser renders it, to check the layout by eye
# (Arabic right to left, charts visible, tables aligned).
#
#   scripts/digest-screenshot.sh [WEEK] [OUT_DIR]       # default: 2026-W47, ./digest-screenshot
#
# 1. installs Debian's chromium (and fonts for Arabic and emoji) if it is missing (apt, as root);
# 2. writes the preview with `sada digest --week WEEK --preview OUT_DIR/digest.html`, reading the
#    Elasticsearch of SADA_ES_URL under SADA_INDEX_PREFIX (for the bundled sample, index it first:
#    SADA_INDEX_PREFIX=digestdemo- .venv/bin/sada index --input data/sample/mentions.jsonl);
# 3. runs headless chromium on it and saves OUT_DIR/digest.png (the whole e-mail).
set -euo pipefail

WEEK="${1:-2026-W47}"
OUT="${2:-digest-screenshot}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${ROOT}/.venv/bin/python"
WIDTH="${DIGEST_SCREENSHOT_WIDTH:-720}"
# Chromium's --screenshot captures the window, not the page: take a tall window, then cut the
# empty background below the e-mail (Pillow comes with matplotlib, a dependency of the digest).
HEIGHT="${DIGEST_SCREENSHOT_MAX_HEIGHT:-14000}"

find_chromium() {
  command -v chromium || command -v chromium-browser || command -v google-chrome || true
}

CHROMIUM="$(find_chromium)"
if [[ -z "${CHROMIUM}" ]]; then
  if [[ "$(id -u)" -ne 0 ]]; then
    echo "chromium is missing: install it (apt-get install chromium) or run this script as root" >&2
    exit 1
  fi
  echo "installing chromium (Debian package)…" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core fonts-noto-core \
    fonts-noto-color-emoji >/dev/null
  CHROMIUM="$(find_chromium)"
fi

mkdir -p "${OUT}"
OUT="$(cd "${OUT}" && pwd)"
HTML="${OUT}/digest.html"
PNG="${OUT}/digest.png"

# `sada digest` once sada/cli.py wires sada.cli_digest; the module runs alone meanwhile.
if "${ROOT}/.venv/bin/sada" digest --help >/dev/null 2>&1; then
  "${ROOT}/.venv/bin/sada" digest --week "${WEEK}" --preview "${HTML}" --text "${OUT}/digest.txt"
else
  (cd "${ROOT}" && "${PY}" -m sada.cli_digest digest --week "${WEEK}" --preview "${HTML}" --text "${OUT}/digest.txt")
fi

PROFILE="$(mktemp -d)"
trap 'rm -rf "${PROFILE}"' EXIT
"${CHROMIUM}" --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --hide-scrollbars --user-data-dir="${PROFILE}" \
  --window-size="${WIDTH},${HEIGHT}" --screenshot="${PNG}" "file://${HTML}" 2>/dev/null

"${PY}" - "${PNG}" <<'PYTHON'
import sys
from PIL import Image, ImageChops

path = sys.argv[1]
image = Image.open(path).convert("RGB")
background = Image.new("RGB", image.size, image.getpixel((0, image.height - 1)))
box = ImageChops.difference(image, background).getbbox()
bottom = min(image.height, box[3] + 16) if box else image.height
image.crop((0, 0, image.width, bottom)).save(path)
if bottom >= image.height:
    print(f"{path}: the e-mail may be longer than {image.height} px: raise DIGEST_SCREENSHOT_MAX_HEIGHT",
          file=sys.stderr)
PYTHON
echo "${PNG}"
