"""Cases (办件): the life of one application at a center."""
