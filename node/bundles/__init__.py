"""一件事 bundle cases: one application, one number, a part case per matter."""
