"""The catalogue (topics, courses, certifications) and learning progress."""
