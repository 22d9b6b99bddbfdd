"""The Gradio UI (the only place bot/ imports gradio), its static assets and the rate limiter."""
