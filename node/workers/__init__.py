"""Background work of the node: the batcher and the indexer follower, each a thread."""
