"""HTTP: the reactions API, the export API, request reading, limits, identities, roles, tokens
and signed download links. No Streamlit."""
