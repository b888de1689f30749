"""The reader page (a file so AppTest can switch to it; the code is in reactions.ui.reader_page)."""

from reactions.ui.reader_page import render

render()
