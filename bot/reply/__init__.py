"""Reply: read the question, check the input, compose the grounded answer."""
