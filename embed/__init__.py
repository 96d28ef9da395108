"""Records → passages → terms and vectors: segmentation, embeddings, FAISS and TF-IDF indexes."""
