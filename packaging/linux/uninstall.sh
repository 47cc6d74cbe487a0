#!/bin/sh
# Remove what install.sh placed (PREFIX as given to it, ~/.local by default).
# Your accounts, chats and logs stay; the last lines say where, to delete them too.
set -eu

prefix="${PREFIX:-$HOME/.local}"
app_dir="$prefix/lib/galileio-desktop"
share="$prefix/share"
marker=".galileio-desktop-bundle"

if [ -e "$app_dir" ] && [ ! -e "$app_dir/$marker" ]; then
    echo "uninstall.sh: $app_dir is not an install of this app; nothing was removed" >&2
    exit 1
fi
if [ -L "$prefix/bin/galileio-desktop" ]; then
    case "$(readlink "$prefix/bin/galileio-desktop")" in
        "$app_dir"/*) rm -f "$prefix/bin/galileio-desktop" ;;
    esac
fi
rm -f "$share/applications/galileio-desktop.desktop" \
    "$share/metainfo/org.galileio.Desktop.metainfo.xml" \
    "$share/icons/hicolor/scalable/apps/galileio-desktop.svg" \
    "$share/icons/hicolor/256x256/apps/galileio-desktop.png"
rm -rf "$app_dir"
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$share/applications" 2>/dev/null || true
fi
echo "Removed Galileio Desktop from $prefix."
echo "Your accounts, chats and logs are still in ${XDG_CONFIG_HOME:-$HOME/.config}/galileio-desktop,"
echo "${XDG_DATA_HOME:-$HOME/.local/share}/galileio-desktop and ${XDG_STATE_HOME:-$HOME/.local/state}/galileio-desktop; delete those folders to remove them too."
echo "Secrets of accounts stay in the system keyring: run 'galileio-desktop logout' (with --account NAME for each account) before uninstalling to remove them."
