#!/usr/bin/env bash
# Build the sandbox images without any registry: `dlgrader-sandbox:cpu` (the "torch"
# environment: NumPy and PyTorch) and `dlgrader-sandbox:numpy` (the "numpy" environment: the
# same tree with NumPy as the only installed package, so torch, scipy, sklearn, sympy... are
# absent and a ban on them holds whatever route the code takes to import them).
#
# The root filesystem is made from this machine's Python: a copy of the interpreter prefix
# (sys.base_prefix, minus its own site-packages and dev/test parts) relocated to /usr/local,
# `pip install --target` of numpy and torch (pip finds torch on local disk), the shared
# libraries they need (resolved with ldd, dynamic loader included), and a minimal /etc.
# The tree is imported with `docker import`. The image carries a label with a hash of its
# inputs; when an image with that label exists the build is skipped (CI calls this every time).
#
# Usage: grader/images/build_local.sh [--force]      (works from any directory)
# Env:   PYTHON (default: the repo's .venv python), IMAGE (default dlgrader-sandbox:cpu),
#        TORCH_VERSION (default 2.13.0), NUMPY_VERSION (default: the version PYTHON has).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PYTHON="${PYTHON:-$REPO/.venv/bin/python}"
[[ -x "$PYTHON" ]] || PYTHON="$(command -v python3)"
IMAGE="${IMAGE:-dlgrader-sandbox:cpu}"
NUMPY_IMAGE="${NUMPY_IMAGE:-dlgrader-sandbox:numpy}"
TORCH_VERSION="${TORCH_VERSION:-2.13.0}"
NUMPY_VERSION="${NUMPY_VERSION:-$("$PYTHON" -c 'import numpy; print(numpy.__version__)')}"
FORCE="${1:-}"

log() { printf '[build_local] %s\n' "$*" >&2; }

PREFIX="$("$PYTHON" -c 'import sys; print(sys.base_prefix)')"
PYVER="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"

# Everything that changes the image goes into its label; same inputs -> no rebuild.
input_hash() {
    {
        cat "${BASH_SOURCE[0]}"
        "$PYTHON" -VV
        echo "$PREFIX numpy=$NUMPY_VERSION torch=$TORCH_VERSION"
        ldd --version 2>&1 | sed -n 1p  # not head: a SIGPIPE in ldd fails the pipeline
    } | sha256sum | cut -c1-32
}
HASH="$(input_hash)"

# Builds from several processes (CI jobs, helpers) must not race on the same tag.
exec 9>"${TMPDIR:-/tmp}/dlgrader-build-local.lock"
flock 9

up_to_date() { [[ -n "$(docker images -q --filter "label=dlgrader.inputs=$HASH" "$1")" ]]; }
if [[ "$FORCE" != "--force" ]] && up_to_date "$IMAGE" && up_to_date "$NUMPY_IMAGE"; then
    log "$IMAGE and $NUMPY_IMAGE are up to date (inputs $HASH)"
    exit 0
fi

START=$(date +%s)
STAGE="$(mktemp -d "${TMPDIR:-/tmp}/dlgrader-rootfs.XXXXXX")"
trap 'rm -rf "$STAGE"' EXIT
ROOT="$STAGE/rootfs"
LOCAL="$ROOT/usr/local"
SITE="$LOCAL/lib/python$PYVER/site-packages"

copy_interpreter() {
    log "copying the interpreter from $PREFIX"
    mkdir -p "$LOCAL/bin" "$LOCAL/lib"
    cp -a "$PREFIX/bin/python$PYVER" "$LOCAL/bin/"
    ln -s "python$PYVER" "$LOCAL/bin/python3"
    ln -s "python$PYVER" "$LOCAL/bin/python"
    cp -a "$PREFIX"/lib/libpython*.so* "$LOCAL/lib/"
    # The stdlib without what a sandbox never needs (tests, GUI, build config, site-packages).
    tar -C "$PREFIX/lib" -cf - \
        --exclude="python$PYVER/site-packages" --exclude="python$PYVER/test" \
        --exclude="python$PYVER/idlelib" --exclude="python$PYVER/tkinter" \
        --exclude="python$PYVER/turtledemo" --exclude="python$PYVER/ensurepip" \
        --exclude="python$PYVER/lib2to3" --exclude="python$PYVER/config-*" \
        --exclude="_tkinter*.so" "python$PYVER" | tar -C "$LOCAL/lib" -xf -
    mkdir -p "$SITE"
}

install_packages() {
    log "pip install --target numpy==$NUMPY_VERSION torch==$TORCH_VERSION"
    "$PYTHON" -m pip install --quiet --no-warn-script-location --target "$SITE" \
        "numpy==$NUMPY_VERSION" "torch==$TORCH_VERSION"
    rm -rf "$SITE/bin" "$SITE"/torch/include "$SITE"/torch/share/cmake
}

# Print the host paths of the shared libraries every ELF file under the rootfs needs.
needed_libs() {
    local missing=0
    while IFS= read -r -d '' f; do
        [[ "$(head -c4 "$f" | od -An -c | tr -d ' ')" == '177ELF' ]] || continue
        while read -r line; do
            case "$line" in
            *"not found"*)
                log "missing for $f: $line"
                missing=1
                ;;
            *"=> /"*) echo "$line" | sed -E 's/.*=> ([^ ]+) .*/\1/' ;;
            /*) echo "$line" | awk '{print $1}' ;;
            esac
        done < <(LD_LIBRARY_PATH="$LOCAL/lib" ldd "$f" 2>/dev/null || true)
    done < <(find "$ROOT" -type f \( -name '*.so*' -o -path "$LOCAL/bin/*" \) -print0)
    return $missing
}

copy_libraries() {
    log "resolving shared libraries with ldd"
    local libs
    libs="$(needed_libs | sort -u)" || { log "some libraries cannot be resolved"; exit 1; }
    for lib in $libs; do
        case "$lib" in "$ROOT"/* | "$PREFIX"/*) continue ;; esac
        # Same path inside the image (merged /usr: /lib -> usr/lib), symlinks dereferenced.
        local real="${lib#/}"
        real="usr/${real#usr/}"
        mkdir -p "$ROOT/$(dirname "$real")"
        cp -L "$lib" "$ROOT/$real"
    done
}

make_skeleton() {
    log "writing /etc and the mount points"
    for d in bin sbin lib lib64; do ln -s "usr/$d" "$ROOT/$d"; done
    mkdir -p "$ROOT/usr/bin" "$ROOT/usr/sbin" "$ROOT/usr/lib64" "$ROOT/etc" "$ROOT/job" \
        "$ROOT/tmp" "$ROOT/proc" "$ROOT/sys" "$ROOT/dev"
    chmod 1777 "$ROOT/job" "$ROOT/tmp"
    printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/job:/usr/sbin/nologin\n' \
        >"$ROOT/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOT/etc/group"
    printf '/usr/local/lib\n/usr/lib/x86_64-linux-gnu\n/usr/lib\n' >"$ROOT/etc/ld.so.conf"
    ldconfig -r "$ROOT"
}

copy_interpreter
install_packages
copy_libraries
make_skeleton

# import_tree IMAGE [tar --exclude options]: the rootfs as an image.
import_tree() {
    local image="$1"
    shift
    log "importing into docker as $image"
    tar -C "$ROOT" --numeric-owner --owner=0 --group=0 "$@" -cf - . | docker import \
        --change "ENV PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8" \
        --change "LABEL dlgrader.inputs=$HASH" \
        --change "USER 65534:65534" \
        --change "WORKDIR /job" \
        --change 'CMD ["python3"]' \
        - "$image" >/dev/null
}

# The sandbox starts python3 -I -S and adds the site-packages itself: check exactly that.
check_imports() {
    docker run --rm --network none "$1" python3 -I -S -c \
        "import site, sys; sys.path += site.getsitepackages(); $2" ||
        { log "$1 fails its import check: $2"; exit 1; }
}

import_tree "$IMAGE"
check_imports "$IMAGE" "import numpy, torch"

# Everything in site-packages but NumPy is left out of the numpy image.
excludes=()
for entry in "$SITE"/*; do
    name="$(basename "$entry")"
    case "$name" in numpy | numpy.libs | numpy-*.dist-info) continue ;; esac
    excludes+=("--exclude=./${SITE#"$ROOT"/}/$name")
done
import_tree "$NUMPY_IMAGE" "${excludes[@]}"
check_imports "$NUMPY_IMAGE" "import numpy
for banned in ('torch', 'scipy', 'sklearn', 'sympy', 'jax', 'tensorflow'):
    try:
        __import__(banned)
    except ImportError:
        continue
    raise SystemExit(banned + ' is importable')"

# Earlier builds of this script that lost the tag: remove them (one in use by a container stays).
for old in $(docker images -q --filter dangling=true --filter label=dlgrader.inputs); do
    docker rmi "$old" >/dev/null 2>&1 || true
done

SIZE="$(docker image inspect -f '{{.Size}}' "$IMAGE")"
NUMPY_SIZE="$(docker image inspect -f '{{.Size}}' "$NUMPY_IMAGE")"
log "built $IMAGE ($((SIZE / 1024 / 1024)) MiB) and $NUMPY_IMAGE ($((NUMPY_SIZE / 1024 / 1024)) MiB)" \
    "in $(($(date +%s) - START)) s (inputs $HASH)"
