"""The reader's stages, one module each: load, binarize, lines, segment, normalize, classify."""
