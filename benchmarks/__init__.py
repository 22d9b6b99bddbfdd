"""Dev tools, not shipped in the wheel: the benchmark against the LangChain baseline, a synthetic corpus."""
