"""The overview page (a file so AppTest can switch to it; the code is in reactions.ui.overview_page)."""

from reactions.ui.overview_page import render

render()
