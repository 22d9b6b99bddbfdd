"""Knowledge: course files -> validated lessons -> chunks."""
