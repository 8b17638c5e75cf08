#!/usr/bin/env bash
# Print the path of a working Python 3.12 interpreter, or fail with what to do.
#
#   scripts/find_python.sh            -> e.g. /usr/bin/python3.12
#
# Tries, in order: $PYTHON (if set), `python3.12` on PATH when it actually runs (a pyenv shim
# without a selected version does not), pyenv's installed 3.12.x interpreters (newest first), and
# the pyenv shim with PYENV_VERSION set to the newest installed 3.12.x. Used by `make venv`.
set -uo pipefail

works() {  # works CMD...: the command runs Python 3.12
    "$@" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1
}

if [[ -n "${PYTHON:-}" ]]; then
    if works "$PYTHON"; then
        command -v "$PYTHON" 2>/dev/null || echo "$PYTHON"
        exit 0
    fi
    echo "find_python.sh: PYTHON=$PYTHON is not a working Python 3.12" >&2
    exit 1
fi

if command -v python3.12 >/dev/null 2>&1 && works python3.12; then
    # resolve a shim to the real interpreter, so the venv does not depend on pyenv's state
    python3.12 -c 'import sys; print(sys.executable)'
    exit 0
fi

pyenv_root=""
if command -v pyenv >/dev/null 2>&1; then
    pyenv_root="$(pyenv root 2>/dev/null)"
fi
pyenv_root="${pyenv_root:-${PYENV_ROOT:-$HOME/.pyenv}}"
if [[ -d "$pyenv_root/versions" ]]; then
    for dir in $(ls -d "$pyenv_root"/versions/3.12* 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/bin/python3.12" ]] && works "$dir/bin/python3.12"; then
            echo "$dir/bin/python3.12"
            exit 0
        fi
    done
    for dir in $(ls -d "$pyenv_root"/versions/3.12* 2>/dev/null | sort -V -r); do
        version="$(basename "$dir")"
        if command -v python3.12 >/dev/null 2>&1 && PYENV_VERSION="$version" works python3.12; then
            PYENV_VERSION="$version" python3.12 -c 'import sys; print(sys.executable)'
            exit 0
        fi
    done
fi

echo "python3.12 not found: install Python 3.12 (e.g. apt-get install python3.12 or pyenv install 3.12) and re-run" >&2
exit 1
