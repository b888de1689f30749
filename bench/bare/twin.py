"""The peer each page is timed against in the browser (issue 19: "the bare Streamlit page with
the same elements"): a Streamlit page with no data behind it that draws the elements a
product page drew — the same navigation, the same widgets in the sidebar and the same
metrics, charts, tables, buttons and text in the main area, as many of each — from the recipe
in its query string (bench.browser_pages.recipe reads it off the loaded product page). What
Streamlit itself needs to show those elements in a browser; the product's time beyond it is
what its queries, reruns and figures add.

The recipe: `?nav=6&side=stSelectbox:1,stMultiSelect:4&main=kpi:7,stPlotlyChart:2` (kpi: the
product's KPI tiles, reactions.ui.kpis), and
`at=article` when the product page is not at the root (the twin is then opened at /article)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from reactions.ui.kpis import Kpi, kpi_row

HOURS = list(range(48))


def counts(param: str) -> dict[str, int]:
    """`stMetric:7,stPlotlyChart:2` -> {"stMetric": 7, "stPlotlyChart": 2}."""
    recipe = {}
    for part in filter(None, st.query_params.get(param, "").split(",")):
        name, _, n = part.partition(":")
        recipe[name] = int(n)
    return recipe


def widgets(where: str, recipe: dict[str, int]) -> None:
    """The inputs, each with its own key (two widgets may not share one)."""
    choices = ["Politics", "World", "Sport", "Culture"]
    for i in range(recipe.get("stSelectbox", 0)):
        st.selectbox(f"Choice {i + 1}", choices, key=f"{where}-select-{i}")
    for i in range(recipe.get("stMultiSelect", 0)):
        st.multiselect(f"Several {i + 1}", choices, key=f"{where}-multi-{i}")
    for i in range(recipe.get("stTextInput", 0)):
        st.text_input(f"Text {i + 1}", key=f"{where}-text-{i}")
    for i in range(recipe.get("stRadio", 0)):
        st.radio(f"One of {i + 1}", ["Hour", "Day", "Week"], horizontal=True, key=f"{where}-r-{i}")
    for i in range(recipe.get("stCheckbox", 0)):
        st.toggle(f"Switch {i + 1}", key=f"{where}-toggle-{i}")
    for i in range(recipe.get("stButton", 0)):
        st.button(f"Button {i + 1}", key=f"{where}-button-{i}")


def figure(n: int) -> go.Figure:
    fig = go.Figure(go.Scatter(x=HOURS, y=[(i * (7 + n)) % 23 for i in HOURS], name="series"))
    fig.update_layout(title=f"Chart {n + 1}", xaxis_title="hour", yaxis_title="reactions")
    return fig


def main_area(recipe: dict[str, int]) -> None:
    for i in range(recipe.get("stHeading", 0)):
        st.header(f"Heading {i + 1}")
    for i in range(recipe.get("stCaptionContainer", 0)):
        st.caption(f"A caption {i + 1}")
    figures = recipe.get("kpi", 0)  # the product's KPI tiles
    if figures:
        kpi_row(
            [Kpi(f"Figure {i + 1}", f"{12_345 + i:,}", "+5.0%", "A figure") for i in range(figures)]
        )
    metrics = recipe.get("stMetric", 0)
    for start in range(0, metrics, 4):  # st.metric, in rows of up to four
        row = st.columns(min(4, metrics - start))
        for j, column in enumerate(row):
            column.metric(f"Figure {start + j + 1}", f"{12_345 + j:,}", "+5%", help="A figure")
    widgets("main", recipe)
    for i in range(recipe.get("stPlotlyChart", 0)):
        st.plotly_chart(figure(i), key=f"chart-{i}")
    table = pd.DataFrame({"article": [f"Article {i}" for i in range(20)], "reactions": range(20)})
    for i in range(recipe.get("stDataFrame", 0)):
        st.dataframe(table, key=f"table-{i}")
    for i in range(recipe.get("stDownloadButton", 0)):
        st.download_button(f"Download {i + 1}", "a,b\n1,2\n", f"f{i}.csv", key=f"download-{i}")
    for i in range(recipe.get("stMarkdown", 0)):
        st.markdown(f"Some text, paragraph {i + 1}.")


def page() -> None:
    with st.sidebar:
        widgets("side", counts("side"))
    main_area(counts("main"))


def other_page() -> None:
    st.write("Another page")


nav = int(st.query_params.get("nav", "0"))
# Opened where the product page is (`at`, e.g. "article" for /article): a page's address
# costs the browser something of its own — at /article, Streamlit's frontend first looks for
# the server under /article/_stcore/ and retries at / ~0.1 s later — so the twin pays it too.
at = st.query_params.get("at", "")
if nav:
    others = [
        st.Page(other_page, title=f"Page {i + 2}", url_path=f"p{i + 2}") for i in range(nav - 1)
    ]
    if at:  # the first of the others is the default page then, as the Overview is
        others[0] = st.Page(other_page, title="Page 2", default=True)
        recipe_page = st.Page(page, title="Page 1", url_path=at)
    else:
        recipe_page = st.Page(page, title="Page 1", default=True)
    st.navigation([recipe_page, *others]).run()
else:
    page()
