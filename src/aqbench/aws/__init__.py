"""Real AWS: the Lambda runtime image, the REPORT lines of its calls, and the budget guard."""
