"""Hardened autograding of the course homework around nbgrader."""
