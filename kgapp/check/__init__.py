"""The claim check: a claim line in, findings out, each backed by the graph and its sources (rules as data)."""
