"""kgapp: a knowledge graph of US procedure-billing knowledge, served as SPARQL, Linked Data and exports.

The pipeline reads like the package: ``sources`` → ``load`` → ``validate`` → ``reason`` → ``store``,
orchestrated by ``build``; ``web`` serves a built store and ``cli`` drives all of it.
"""

__version__ = "0.1.0"
