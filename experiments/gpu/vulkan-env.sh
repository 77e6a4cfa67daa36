# Sourced by run.sh, word2vec.sh and memory.sh: makes a Vulkan driver reachable. A GPU machine
# may have the NVIDIA driver (its ICD, libGLX_nvidia) but neither the Vulkan loader nor
# libglvnd's dispatch library, and then every run stops with "no GPU adapter found" (seen on
# the first H200 lent here). build.sh carries those as Debian packages in bin/debs; this
# unpacks them into a private folder (not into /) and points the loader at NVIDIA's ICD.
# (grep without -q: under pipefail, -q can make ldconfig die of SIGPIPE and the test lie.)
if ! ldconfig -p 2> /dev/null | grep 'libvulkan.so.1 ' > /dev/null \
    && ls "$HERE"/bin/debs/*.deb > /dev/null 2>&1; then
    _root="${TMPDIR:-/tmp}/train-vulkan-root"
    mkdir -p "$_root"
    for _deb in "$HERE"/bin/debs/*.deb; do dpkg -x "$_deb" "$_root"; done
    export LD_LIBRARY_PATH="$_root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$_icd" ]; then
    export VK_DRIVER_FILES="$_icd"
fi
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
