"""Records → passages → tokens and vectors: segmentation, embeddings, FAISS and BM25 indexes."""
