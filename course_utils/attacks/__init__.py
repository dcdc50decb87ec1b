"""Privacy attacks: membership inference, model inversion, extraction, reconstruction."""
