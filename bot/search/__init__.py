"""Search: tokens, encoders, the on-disk index generations, Chroma, hot reload, hybrid search."""
