"""Curricula: courses, hub accreditations, offerings and enrolments, completions and their bulk import."""
