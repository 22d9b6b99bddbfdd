"""Staff tools: practice scoring, drills, class plans, the term schedule, evals, gaps, the desk."""
