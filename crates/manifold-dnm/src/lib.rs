//! manifold-dnm
