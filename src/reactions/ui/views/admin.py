"""The admin page (a file so AppTest can switch to it; the code is in reactions.ui.admin_page)."""

from reactions.ui.admin_page import render

render()
