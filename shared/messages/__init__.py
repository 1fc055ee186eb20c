"""What the app tells people, apart from how it looks.

model (the plain data), coverage, health and digest (the builders, pure; enforcement holds the
words for MFA enforcement), adaptive_card and
text (the renderers). Senders (shared/notify) scrub secrets before rendering.
"""
