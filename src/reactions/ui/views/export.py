"""The export page (a file so AppTest can switch to it; the code is in reactions.ui.export_page)."""

from reactions.ui.export_page import render

render()
