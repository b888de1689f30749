"""The page for visitors without newsroom roles (code in reactions.ui.access)."""

from reactions.ui.access import render_welcome

render_welcome()
