"""The peer for the browser timings: a bare Streamlit page with three metrics and one plotly
chart, no data behind them. What the framework alone costs a browser on this machine."""

import plotly.graph_objects as go
import streamlit as st

st.title("Bare page")
left, middle, right = st.columns(3)
left.metric("Reactions", "12,345", "+5%")
middle.metric("Views", "678,901", "-2%")
right.metric("Reaction rate", "1.8%", "+0.1 pp")
figure = go.Figure(go.Scatter(x=list(range(48)), y=[(i * 7) % 23 for i in range(48)]))
figure.update_layout(title="Reactions per hour", xaxis_title="hour", yaxis_title="reactions")
st.plotly_chart(figure)
