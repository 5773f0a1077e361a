"""The applicant's voice: evaluations (好差评), their rectifications (整改), complaints (投诉),
and the rate limiter that guards the public endpoints."""
