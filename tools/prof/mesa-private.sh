#!/bin/sh
# mesa-private.sh: run vkclr under a newer lavapipe than the system's, without installing anything.
#
#   tools/prof/mesa-private.sh DIR SUITE [VERSION]       # once: fetch and unpack into DIR
#   DIR/run bin/vkclr bench step ...                     # then: any command under that driver
#
# SUITE is a Debian suite whose mesa-vulkan-drivers to take (trixie-backports, sid, ...; VERSION: that
# suite's current one if not given). The driver comes with the suite's own glibc, LLVM and Vulkan loader
# (tools/prof/debroot.py), and DIR/run starts the command with that tree's dynamic loader, libraries,
# ICD and layers only, so nothing of the host's Mesa is mixed in. Needs network access to deb.debian.org,
# python3 and dpkg; about 300 MB a tree. BENCHMARKS.md (2026-12-01, 14:16 UTC on) has what Mesa 26.1 and
# 26.2 gave against Debian 12's 22.3. A developer tool for measurements, not a way to run vkclr.
set -eu
[ $# -ge 2 ] || { sed -n '2,12p' "$0"; exit 2; }
dir=$(mkdir -p "$1" && cd "$1" && pwd) suite=$2 ver=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
url=http://deb.debian.org/debian/dists
idx=""
# The release first, its backports after (as apt prefers them: backports only where a version needs it).
for s in "${suite%-backports}" "$suite"; do
	[ -f "$dir/$s.xz" ] || curl -fsS -o "$dir/$s.xz" "$url/$s/main/binary-amd64/Packages.xz"
	case " $idx " in *" $dir/$s.xz "*) ;; *) idx="$idx $dir/$s.xz" ;; esac
done
if [ -z "$ver" ]; then
	ver=$(xzcat "$dir/$suite.xz" | awk '/^Package: mesa-vulkan-drivers$/ { p = 1 } p && /^Version:/ { print $2; exit }')
fi
[ -n "$ver" ] || { echo "mesa-private: no mesa-vulkan-drivers in $suite" >&2; exit 1; }
/usr/bin/python3 "$here/debroot.py" "$dir" "mesa-vulkan-drivers=$ver" $idx
R=$dir/root
lib=$(ls "$R"/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so)
api=$(sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p' "$R"/usr/share/vulkan/icd.d/lvp_icd*.json | head -n 1)
printf '{ "file_format_version": "1.0.1", "ICD": { "library_path": "%s", "api_version": "%s" } }\n' "$lib" "$api" >"$dir/lvp_icd.json"
# Merged-/usr suites (trixie, sid) ship the dynamic loader and libc under /usr/lib; bookworm's libc6 under
# /lib64 and /lib.
ld=$R/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
[ -e "$ld" ] || ld=$R/lib64/ld-linux-x86-64.so.2
[ -e "$ld" ] || { echo "mesa-private: no dynamic loader in $R" >&2; exit 1; }
cat >"$dir/run" <<RUN
#!/bin/sh
# Runs a command under mesa-vulkan-drivers $ver (Debian $suite) from $R only.
export VK_ICD_FILENAMES=$dir/lvp_icd.json VK_DRIVER_FILES=$dir/lvp_icd.json
export VK_IMPLICIT_LAYER_PATH=$R/usr/share/vulkan/implicit_layer.d VK_LAYER_PATH=$R/usr/share/vulkan/explicit_layer.d
exec $ld --library-path $R/usr/lib/x86_64-linux-gnu:$R/lib/x86_64-linux-gnu "\$@"
RUN
chmod +x "$dir/run"
echo "mesa-private: $dir/run COMMAND runs COMMAND under Mesa $ver"
