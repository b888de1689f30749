"""How this machine's browser is launched: Debian's Chromium (nothing is downloaded) with the
flags it needs headless as root, without reaching the network. Shared by the browser tests
and the screenshot tool."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
