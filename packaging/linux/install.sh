#!/bin/sh
# Install Galileio Desktop for this user, from the folder this script is in:
#
#     ./install.sh            (into ~/.local)
#     PREFIX=DIR ./install.sh (into DIR instead)
#
# The program goes to PREFIX/lib/galileio-desktop, with PREFIX/bin/galileio-desktop
# linked to it; the menu entry, the icon and the AppStream metainfo go to
# PREFIX/share. Installing again replaces the program and keeps your accounts and
# chats, which live in the usual folders (~/.config, ~/.local/share). No root needed.
set -eu

here="$(cd "$(dirname "$0")" && pwd)"
prefix="${PREFIX:-$HOME/.local}"
app_dir="$prefix/lib/galileio-desktop"
bin="$prefix/bin/galileio-desktop"
share="$prefix/share"
resources="$here/_internal/galileio_desktop/resources"
metainfo_name="org.galileio.Desktop.metainfo.xml"
marker=".galileio-desktop-bundle"

if [ ! -x "$here/galileio-desktop" ] || [ ! -d "$resources" ]; then
    echo "install.sh: run it from the unpacked galileio-desktop folder (galileio-desktop and _internal beside it)" >&2
    exit 1
fi
case "$prefix" in
    /*) ;;
    *) echo "install.sh: PREFIX must be an absolute path, not $prefix" >&2; exit 1 ;;
esac
case "$prefix" in
    *[!A-Za-z0-9_./\ -]*)
        echo "install.sh: choose a PREFIX of letters, digits, spaces and . _ - / only" >&2
        exit 1
        ;;
esac
if [ "$here" = "$app_dir" ]; then
    echo "install.sh: this copy is already the installed one ($app_dir)" >&2
    exit 1
fi
if [ -e "$app_dir" ] && [ ! -e "$app_dir/$marker" ]; then
    echo "install.sh: $app_dir exists and is not an earlier install of this app; nothing was changed" >&2
    exit 1
fi

# The program: a fresh copy next to the old one, then swapped in.
mkdir -p "$prefix/lib" "$prefix/bin" "$share/applications" "$share/metainfo" \
    "$share/icons/hicolor/scalable/apps" "$share/icons/hicolor/256x256/apps"
staging="$(mktemp -d "$prefix/lib/.galileio-desktop.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
cp -R "$here/." "$staging/"
touch "$staging/$marker"
chmod 755 "$staging"
if [ -e "$app_dir" ]; then
    rm -rf "$app_dir"
fi
mv "$staging" "$app_dir"
trap - EXIT
ln -sfn "$app_dir/galileio-desktop" "$bin"

# The menu entry runs the program by its full path: ~/.local/bin is not on every
# desktop session's PATH. A path with spaces is quoted, as Desktop Entry files want.
exec_path="$app_dir/galileio-desktop"
case "$exec_path" in
    *" "*) exec_quoted="\"$exec_path\"" ;;
    *) exec_quoted="$exec_path" ;;
esac
sed -e "s|^Exec=galileio-desktop |Exec=$exec_quoted |" -e "s|^TryExec=.*|TryExec=$exec_path|" \
    "$resources/galileio-desktop.desktop" >"$share/applications/galileio-desktop.desktop"
cp "$resources/icon.svg" "$share/icons/hicolor/scalable/apps/galileio-desktop.svg"
cp "$resources/icon-256.png" "$share/icons/hicolor/256x256/apps/galileio-desktop.png"
cp "$resources/$metainfo_name" "$share/metainfo/$metainfo_name"
chmod 644 "$share/applications/galileio-desktop.desktop" "$share/metainfo/$metainfo_name" \
    "$share/icons/hicolor/scalable/apps/galileio-desktop.svg" "$share/icons/hicolor/256x256/apps/galileio-desktop.png"

# Menus, icon caches and galileio-desktop:// links pick the new files up (when the tools exist).
if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$share/applications" || true
fi
if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$share/icons/hicolor/index.theme" ]; then
    gtk-update-icon-cache -q -t "$share/icons/hicolor" || true
fi

version="$("$app_dir/galileio-desktop" --version 2>/dev/null || echo galileio-desktop)"
echo "Installed $version in $app_dir"
echo "  command:    $bin"
echo "  menu entry: $share/applications/galileio-desktop.desktop"
echo "Start it from the menu, or try the demo: galileio-desktop --demo"
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "Note: $prefix/bin is not on your PATH; run $bin, or add the folder to PATH." ;;
esac
echo "To remove it: $app_dir/uninstall.sh"
