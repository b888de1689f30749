"""The topics page (a file so AppTest can switch to it; the code is in reactions.ui.topics_page)."""

from reactions.ui.topics_page import render

render()
