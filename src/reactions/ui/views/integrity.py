"""The integrity page (a file so AppTest can switch to it; the code is in reactions.ui.integrity_page)."""

from reactions.ui.integrity_page import render

render()
