"""Blueprints: pages (auth, assignments, submissions, staff, instructor, account), the JSON
API and the health check."""
