"""Staff tools: lecture rehearsal, evals and their report, the gap store, the content desk, uploads."""
