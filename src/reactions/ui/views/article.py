"""The article page (a file so AppTest can switch to it; the code is in reactions.ui.article_page)."""

from reactions.ui.article_page import render

render()
