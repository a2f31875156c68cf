#!/usr/bin/env bash
# Kontor's AppImage packer: target/release/bundle/appimage/Kontor_<version>_amd64.AppImage from the release
# binaries `tauri build` made (target/release/kontor-app and the CLI target/release/kontor).
#
# Why our own: tauri's AppImage step runs linuxdeploy and AppImageKit's AppRun, which it downloads from GitHub,
# and no package registry carries them. Everything used here comes from a registry: the AppImage runtime from
# the crates.io crate `appimage` 0.4.0 (fetched by cargo, checked against RUNTIME_SHA256 below), mksquashfs
# and patchelf from Debian.
#
# An AppImage is the runtime (an ELF program) followed by a squashfs image of an AppDir. Started, the runtime
# mounts the image through FUSE (libfuse.so.2; or extracts it to $TMPDIR with APPIMAGE_EXTRACT_AND_RUN=1)
# and runs its AppRun. The AppDir:
#
#   AppRun                      packaging/appimage/AppRun: sets GTK's lookup paths, cd usr/, runs the app
#   kontor.desktop, kontor-app.png, .DirIcon   what desktops show for the image (desktop entry with the
#                               kontor:// scheme, rendered from packaging/kontor.desktop like the .deb's)
#   usr/bin/kontor-app, usr/bin/kontor         the app and the CLI (`Kontor.AppImage cli …`)
#   usr/lib/*.so*               every library the app, the CLI, WebKit's helper processes, the GDK-Pixbuf
#                               loaders and the GIO modules need (their ldd closure on this machine), except
#                               the host's own (excludelist); RUNPATH $ORIGIN
#   usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/   WebKitWebProcess, WebKitNetworkProcess, WebKitGPUProcess
#                               (started for some features only), injected-bundle/
#   usr/lib/gdk-pixbuf-loaders.cache, usr/lib/libpixbufloader-*.so    image loaders (bare names in the
#                               cache: libgmodule, bundled with RUNPATH $ORIGIN, finds them in usr/lib)
#   usr/lib/gio/modules/        GIO's TLS (glib-networking) and dconf GSettings backend
#   usr/share/glib-2.0/schemas/ the GSettings schemas, compiled (GTK's file chooser needs them)
#   usr/share/icons/hicolor/…   the app's icons
#
# Libraries left to the host (excludelist, after the AppImage project's excludelist): glibc, libstdc++ and
# libgcc_s (the host's GL driver needs the host's newest C++ runtime), GL/EGL/DRM/GBM/Vulkan, the X11, xcb,
# Wayland and xkbcommon client libraries, fontconfig/FreeType/HarfBuzz/expat, zlib, ALSA, libfuse, p11-kit.
# So the image runs on x86_64 hosts with glibc >= this machine's (Debian 12: 2.36) and a desktop with GTK 3.
#
# WebKitGTK starts its helper processes from a directory compiled into libwebkit2gtk-4.1.so
# (/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1; its WEBKIT_EXEC_PATH override exists only in developer builds).
# As tauri's AppImage step does, the bundled copy of the library gets that string rewritten in place to the
# equally long relative path ././/lib/x86_64-linux-gnu/webkit2gtk-4.1, and AppRun runs the app in
# $APPDIR/usr, where that path leads to the bundled helpers. Only this directory string is rewritten.
#
# Usage: packaging/appimage/pack.sh   (after `tauri build`; `make bundle` runs both). Needs mksquashfs,
# patchelf, cargo, node, and the WebKitGTK/GTK runtime libraries of the build (libwebkit2gtk-4.1-dev).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/packaging/appimage"
RELEASE="$ROOT/target/release"
OUT_DIR="$RELEASE/bundle/appimage"
APPDIR="$OUT_DIR/Kontor.AppDir"
RUNTIME_SHA256=328e0d745c5c6817048c27bc3e8314871703f8f47ffa81a37cb06cd95a94b323
HOST_LIB=/usr/lib/x86_64-linux-gnu
WEBKIT_DIR="$HOST_LIB/webkit2gtk-4.1"
WEBKIT_DIR_IN_IMAGE="././/lib/x86_64-linux-gnu/webkit2gtk-4.1"
PIXBUF_DIR="$HOST_LIB/gdk-pixbuf-2.0"
GIO_MODULES=(libgiognutls.so libdconfsettings.so)

die() {
  echo "pack.sh: $*" >&2
  exit 1
}

[ "$(uname -m)" = x86_64 ] || die "builds x86_64 images only (this machine is $(uname -m))"
for tool in mksquashfs patchelf cargo node ldd glib-compile-schemas perl sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is missing (make bundle installs squashfs-tools and patchelf)"
done
for file in "$RELEASE/kontor-app" "$RELEASE/kontor"; do
  [ -x "$file" ] || die "$file is missing: run tauri build first (make bundle)"
done
[ -x "$WEBKIT_DIR/WebKitWebProcess" ] || die "WebKitGTK 4.1 is missing ($WEBKIT_DIR)"

version=$(node -p 'require(process.argv[1]).version' "$ROOT/tauri.conf.json")
OUT="$OUT_DIR/Kontor_${version}_amd64.AppImage"

# The runtime: cargo downloads and unpacks the crate (checked against the crates.io index); its file must
# still be the one this packer was written for.
runtime_manifest=$(cargo metadata --locked --format-version 1 --manifest-path "$HERE/runtime/Cargo.toml" |
  grep -o '"manifest_path":"[^"]*/appimage-0\.4\.0/Cargo\.toml"' | cut -d'"' -f4) ||
  die "cargo did not fetch the crate appimage 0.4.0"
RUNTIME="$(dirname "$runtime_manifest")/assets/runtime-x86_64"
echo "$RUNTIME_SHA256  $RUNTIME" | sha256sum --check --quiet ||
  die "$RUNTIME does not have the sha256 $RUNTIME_SHA256; refusing to use it"

EXCLUDED=()
while IFS= read -r line; do
  case $line in '' | '#'*) ;; *) EXCLUDED+=("$line") ;; esac
done <"$HERE/excludelist"

is_excluded() {
  local pattern
  for pattern in "${EXCLUDED[@]}"; do
    # shellcheck disable=SC2053 # the patterns are globs
    [[ $1 == $pattern ]] && return 0
  done
  return 1
}

declare -A BUNDLED=() HOST=()

# Copies into usr/lib every library `ldd` resolves for the given programs and libraries, except the excluded.
bundle_closure() {
  local elf line name path
  for elf in "$@"; do
    while IFS= read -r line; do
      case $line in
        *'not found'*) die "$elf needs a library this machine lacks: $line" ;;
        *' => /'*) ;;
        *) continue ;;
      esac
      path=${line#* => }
      path=${path% (*}
      name=${line%% => *}
      name=${name//[[:space:]]/}
      if is_excluded "$name"; then
        HOST[$name]=1
      elif [ -z "${BUNDLED[$name]:-}" ]; then
        BUNDLED[$name]=1
        cp -L "$path" "$APPDIR/usr/lib/$name"
        chmod 0755 "$APPDIR/usr/lib/$name"
      fi
    done < <(ldd "$elf")
  done
}

# Every program and library in the AppDir.
elf_files() {
  find "$APPDIR/usr/bin" "$APPDIR/usr/lib" -type f \( -name '*.so' -o -name '*.so.*' -o -perm -u+x \) -print0
}

# RUNPATH $ORIGIN/<way to usr/lib>, so each file finds the bundled libraries wherever the image is mounted.
set_runpath() {
  local file=$1 way
  way=$(realpath --relative-to="$(dirname "$file")" "$APPDIR/usr/lib")
  if [ "$way" = . ]; then way='$ORIGIN'; else way="\$ORIGIN/$way"; fi
  patchelf --set-rpath "$way" "$file"
}

echo "== AppDir $APPDIR"
rm -rf "$APPDIR" "$OUT"
mkdir -p "$APPDIR/usr/bin" "$APPDIR/usr/lib/gio/modules" "$APPDIR/usr/share/applications" \
  "$APPDIR/usr/share/glib-2.0/schemas" "$APPDIR/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/injected-bundle"
install -m 0755 "$HERE/AppRun" "$APPDIR/AppRun"
install -m 0755 "$RELEASE/kontor-app" "$RELEASE/kontor" "$APPDIR/usr/bin/"

# The desktop entry: packaging/kontor.desktop (tauri's template for the .deb) filled in as tauri fills it.
category=$(node -p 'require(process.argv[1]).bundle.category' "$ROOT/tauri.conf.json")
comment=$(node -p 'require(process.argv[1]).bundle.shortDescription' "$ROOT/tauri.conf.json")
sed -e '/^{{[#/]if/d' -e "s|{{categories}}|$category;|" -e "s|{{comment}}|$comment|" -e 's|{{exec}}|kontor-app|g' \
  -e 's|{{icon}}|kontor-app|' -e 's|{{name}}|Kontor|' -e 's|{{mime_type}}|x-scheme-handler/kontor|' \
  "$ROOT/packaging/kontor.desktop" >"$APPDIR/usr/share/applications/kontor.desktop"
grep -q '{{' "$APPDIR/usr/share/applications/kontor.desktop" && die "packaging/kontor.desktop has a field pack.sh does not fill"
cp "$APPDIR/usr/share/applications/kontor.desktop" "$APPDIR/kontor.desktop"
for size in 32 64 128 256; do
  install -D -m 0644 "$ROOT/icons/${size}x${size}.png" "$APPDIR/usr/share/icons/hicolor/${size}x${size}/apps/kontor-app.png"
done
install -m 0644 "$ROOT/icons/256x256.png" "$APPDIR/kontor-app.png"
ln -s kontor-app.png "$APPDIR/.DirIcon"

# WebKit's helper processes at the path the rewritten library looks for them (relative to usr/).
webkit_in_image="$APPDIR/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1"
install -m 0755 "$WEBKIT_DIR/WebKitWebProcess" "$WEBKIT_DIR/WebKitNetworkProcess" "$WEBKIT_DIR/WebKitGPUProcess" \
  "$webkit_in_image/"
install -m 0644 "$WEBKIT_DIR/injected-bundle/libwebkit2gtkinjectedbundle.so" "$webkit_in_image/injected-bundle/"

# GDK-Pixbuf's loaders, straight into usr/lib (see above).
pixbuf_loaders=("$PIXBUF_DIR"/2.10.0/loaders/*.so)
install -m 0755 "${pixbuf_loaders[@]}" "$APPDIR/usr/lib/"
gio_modules=()
for module in "${GIO_MODULES[@]}"; do
  gio_modules+=("$HOST_LIB/gio/modules/$module")
done
install -m 0755 "${gio_modules[@]}" "$APPDIR/usr/lib/gio/modules/"

echo "== libraries"
bundle_closure "$RELEASE/kontor-app" "$RELEASE/kontor" "$WEBKIT_DIR/WebKitWebProcess" \
  "$WEBKIT_DIR/WebKitNetworkProcess" "$WEBKIT_DIR/WebKitGPUProcess" \
  "$WEBKIT_DIR/injected-bundle/libwebkit2gtkinjectedbundle.so" \
  "${pixbuf_loaders[@]}" "${gio_modules[@]}"
echo "bundled ${#BUNDLED[@]}: $(printf '%s\n' "${!BUNDLED[@]}" | sort | tr '\n' ' ')"
echo "from the host ${#HOST[@]}: $(printf '%s\n' "${!HOST[@]}" | sort | tr '\n' ' ')"

while IFS= read -r -d '' elf; do
  set_runpath "$elf"
done < <(elf_files)

# The helper directory compiled into libwebkit2gtk, rewritten to the same number of bytes.
webkit_lib="$APPDIR/usr/lib/libwebkit2gtk-4.1.so.0"
[ ${#WEBKIT_DIR} -eq ${#WEBKIT_DIR_IN_IMAGE} ] || die "the rewritten WebKit path must keep its length"
before=$(grep -c -a -F "$WEBKIT_DIR" "$webkit_lib" || true)
[ "$before" -gt 0 ] || die "$webkit_lib does not contain $WEBKIT_DIR: cannot relocate WebKit's helper processes"
LC_ALL=C perl -pi -e "s{\Q$WEBKIT_DIR\E}{$WEBKIT_DIR_IN_IMAGE}g" "$webkit_lib"
if grep -q -a -F "$WEBKIT_DIR" "$webkit_lib"; then die "$WEBKIT_DIR is still in $webkit_lib"; fi

# The loaders cache names each loader by its file name alone.
"$PIXBUF_DIR/gdk-pixbuf-query-loaders" "$APPDIR"/usr/lib/libpixbufloader-*.so |
  sed -e "s|\"$APPDIR/usr/lib/|\"|" -e '/^#/d' >"$APPDIR/usr/lib/gdk-pixbuf-loaders.cache"
grep -q '^"libpixbufloader-png.so"\|^"libpixbufloader-svg.so"' "$APPDIR/usr/lib/gdk-pixbuf-loaders.cache" ||
  die "gdk-pixbuf-query-loaders wrote no usable cache"
if [ -x "$HOST_LIB/glib-2.0/gio-querymodules" ]; then "$HOST_LIB/glib-2.0/gio-querymodules" "$APPDIR/usr/lib/gio/modules"; fi

cp /usr/share/glib-2.0/schemas/*.xml "$APPDIR/usr/share/glib-2.0/schemas/"
cp /usr/share/glib-2.0/schemas/*.gschema.override "$APPDIR/usr/share/glib-2.0/schemas/" 2>/dev/null || true
glib-compile-schemas "$APPDIR/usr/share/glib-2.0/schemas"

# Every program and library in the image must find each library it needs, in the image or from the host.
while IFS= read -r -d '' elf; do
  if ldd "$elf" | grep -q 'not found'; then die "$elf: $(ldd "$elf" | grep 'not found')"; fi
done < <(elf_files)

echo "== image"
# gzip: the runtime also reads xz, which makes the image about 18 % smaller (98 instead of 119 MB for 0.1.0) but
# costs more CPU each time a page of the image is first read, at every start. Fixed times keep the image
# reproducible: packing the same binaries again gives the same bytes.
squashfs="$OUT_DIR/Kontor.squashfs"
mksquashfs "$APPDIR" "$squashfs" -root-owned -noappend -comp gzip -all-time 0 -mkfs-time 0 -quiet >/dev/null
cat "$RUNTIME" "$squashfs" >"$OUT"
chmod 0755 "$OUT"
rm -rf "$squashfs" "$APPDIR"
ls -l "$OUT"
