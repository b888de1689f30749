"""The Streamlit UI. The only package (with app.py) that imports streamlit."""
