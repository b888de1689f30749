"""The synthetic newsroom: articles, reading-shaped reaction events, planted bursts and the
views of the bar, seeded and reproducible."""
