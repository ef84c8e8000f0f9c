"""A kgapp build kept on a SPARQL 1.1 server: protocol client, dataset rules, upload, build and the store."""
