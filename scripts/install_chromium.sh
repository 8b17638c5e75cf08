#!/bin/sh
# Install Debian's Chromium for tests/test_gallery.py (headless, driven over the DevTools protocol).
# Idempotent: does nothing when /usr/bin/chromium exists. Needs root (CI runs as root); otherwise it
# says what to run and exits 0, and the gallery test skips with the reason.
set -eu
if [ -x /usr/bin/chromium ]; then
    echo "chromium: already installed ($(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium))"
    exit 0
fi
if [ "$(id -u)" != "0" ]; then
    echo "chromium: not installed and not root; run: sudo apt-get install -y chromium" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium: not installed and apt-get is not available; install Chromium at /usr/bin/chromium" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium
echo "chromium: installed ($(/usr/bin/chromium --version 2>/dev/null || true))"
